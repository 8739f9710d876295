"""sweep: a small grid of model settings, each trained, gated and measured; one chosen, nothing released."""

import json

import pytest
import yaml
from click.testing import CliRunner

from conftest import edit_policy
from {{ cookiecutter.package_name }}.cli import cli
from {{ cookiecutter.package_name }}.settings import load_settings

COLUMNS = (
    "variant",
    "settings",
    "roc_auc",
    "accuracy",
    "f1",
    "precision",
    "recall",
    "fairness",
    "size (bytes)",
    "latency (ms/row)",
    "verdict",
)


def sweep_params(workdir, **sweep) -> None:
    """Few rows timed for latency, so a variant takes about a second; `sweep` changes the section."""
    path = workdir / "params.yaml"
    params = yaml.safe_load(path.read_text())
    params["sweep"] = {**params.get("sweep", {}), "latency_rows": 5, **sweep}
    path.write_text(yaml.safe_dump(params))


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def errors(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("Error:")]


def table_rows(markdown: str) -> list[dict[str, str]]:
    """The rows of variants.md's table, by column name."""
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split(" | ")]
    cells = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines[2:]]
    return [dict(zip(header, row, strict=True)) for row in cells]


def test_sweep_writes_a_row_per_variant_with_every_column_and_names_the_chosen_one(workdir):
    # given a two-variant grid in params.yaml
    sweep_params(workdir, grid={"C": [0.001, 1.0]})
    # when sweep runs
    result = invoke("sweep")
    # then it succeeds, says nothing was released, and writes the table and the JSON
    assert result.exit_code == 0, result.output
    assert "nothing released" in result.output and "params.yaml" in result.output, result.output
    folder = workdir / "artifacts/sweep"
    markdown = (folder / "variants.md").read_text()
    found = json.loads((folder / "variants.json").read_text())
    rows = table_rows(markdown)
    assert [row["settings"] for row in rows] == ["C=0.001", "C=1.0"], markdown
    assert all(set(COLUMNS) <= set(row) for row in rows), f"a column is missing: {rows}"
    assert all(row["fairness"].startswith("sex: parity ") for row in rows), rows
    assert all(int(row["size (bytes)"]) > 0 and float(row["latency (ms/row)"]) > 0 for row in rows), rows
    assert found["chosen"] in {"v1", "v2"} and f"**Chosen: {found['chosen']}**" in markdown, markdown
    assert found["reason"] in markdown, "the table does not say why"
    # and none of the pipeline's own artifacts (any path in params.yaml) is written
    for field, produced in load_settings().paths:
        assert not produced.exists(), f"sweep wrote the pipeline's {field}: {produced}"


def test_sweep_chooses_the_passing_variant_with_the_best_roc_auc(workdir):
    # given two variants, given on the command line over params.yaml's grid
    sweep_params(workdir)
    # when sweep runs
    result = invoke("sweep", "--grid", "C=0.001,1.0")
    # then the chosen variant passes and has the highest roc_auc of those that pass
    assert result.exit_code == 0, result.output
    found = json.loads((workdir / "artifacts/sweep/variants.json").read_text())
    assert [variant["settings"] for variant in found["variants"]] == [{"C": 0.001}, {"C": 1.0}]
    passing = [variant for variant in found["variants"] if variant["verdict"] == "pass"]
    best = max(passing, key=lambda variant: variant["metrics"]["roc_auc"])
    assert found["chosen"] == best["name"], found
    assert f"sweep: chosen {best['name']} (C=" in result.output, result.output


def test_a_variant_that_fails_a_gate_is_marked_failed_and_not_chosen(workdir):
    # given a first sweep, and then a policy whose roc_auc ceiling only its best variant breaks
    sweep_params(workdir, grid={"C": [0.001, 1.0]})
    assert invoke("sweep").exit_code == 0
    first = json.loads((workdir / "artifacts/sweep/variants.json").read_text())["variants"]
    best, other = sorted(first, key=lambda variant: -variant["metrics"]["roc_auc"])
    ceiling = (best["metrics"]["roc_auc"] + other["metrics"]["roc_auc"]) / 2
    edit_policy(workdir, lambda policy: policy.update(performance={"roc_auc": {"max": ceiling}}))
    # when sweep runs again
    result = invoke("sweep")
    # then the best variant is marked failed, with the gate that failed, and the other one is chosen
    assert result.exit_code == 0, result.output
    found = json.loads((workdir / "artifacts/sweep/variants.json").read_text())
    verdicts = {variant["name"]: variant for variant in found["variants"]}
    assert verdicts[best["name"]]["verdict"] == "fail", found
    assert "performance gate failed: roc_auc" in verdicts[best["name"]]["failed"][0], found
    assert found["chosen"] == other["name"], found
    rows = {row["variant"]: row for row in table_rows((workdir / "artifacts/sweep/variants.md").read_text())}
    assert rows[best["name"]]["verdict"].startswith("fail: performance gate failed: roc_auc"), rows


def test_no_passing_variant_exits_2_with_one_line_and_the_table_keeps_the_reasons(workdir):
    # given a policy no variant can meet
    sweep_params(workdir, grid={"C": [0.001, 1.0]})
    edit_policy(workdir, lambda policy: policy.update(performance={"roc_auc": {"min": 0.99}}))
    # when sweep runs
    result = invoke("sweep")
    # then it exits 2 with one error line, and the table still lists each variant and why it failed
    assert result.exit_code == 2, result.output
    assert len(errors(result.output)) == 1 and "no variant passes" in result.output, result.output
    markdown = (workdir / "artifacts/sweep/variants.md").read_text()
    rows = table_rows(markdown)
    assert len(rows) == 2, rows
    assert all(row["verdict"].startswith("fail: ") and "roc_auc" in row["verdict"] for row in rows), rows
    assert all("below the min 0.99" in row["verdict"] for row in rows), rows
    assert "**Chosen: none**" in markdown, markdown
    assert json.loads((workdir / "artifacts/sweep/variants.json").read_text())["chosen"] is None


@pytest.mark.parametrize(
    ("grid", "options", "named"),
    [
        ({"max_depth": [-1, 4]}, [], "max_depth=-1"),
        ({"depth": [4, 8]}, [], "depth is not a model setting (did you mean max_depth?)"),
        ({"C": [1.0]}, ["--grid", "max_depth=4,-1"], "max_depth=-1"),
        ({"C": [1.0]}, ["--grid", "colour=red"], "colour is not a model setting"),
        ({"C": [1.0]}, ["--grid", "max_depth"], "--grid 'max_depth': write KEY=VALUE"),
    ],
    ids=[
        "params-invalid-value",
        "params-unknown-key",
        "option-invalid-value",
        "option-unknown-key",
        "option-no-values",
    ],
)
def test_an_invalid_grid_is_one_line_exit_2_and_nothing_is_written(workdir, grid, options, named):
    # given a grid with a value or a key the model settings do not accept
    sweep_params(workdir, grid=grid)
    # when sweep runs
    result = invoke("sweep", *options)
    # then one line names the problem, the exit code is 2, and nothing is written under artifacts/sweep
    assert result.exit_code == 2, result.output
    assert len(errors(result.output)) == 1 and named in result.output, result.output
    assert "Traceback" not in result.output, result.output
    assert not (workdir / "artifacts/sweep").exists(), "sweep wrote files for an invalid grid"
