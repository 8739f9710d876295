"""Governance: gates, fairness, model card, provenance, report and release."""

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import commit_all, edit_policy, prepare
from {{ cookiecutter.package_name }} import sample_data
from {{ cookiecutter.package_name }}.cli import cli
from {{ cookiecutter.package_name }}.context import ORCHESTRATOR_ENV
from {{ cookiecutter.package_name }}.errors import GateFailed, ProjectError
from {{ cookiecutter.package_name }}.governance.model_card import SECTIONS
from {{ cookiecutter.package_name }}.governance.policy import load_policy
from {{ cookiecutter.package_name }}.steps import run_step
from {{ cookiecutter.package_name }}.steps.govern import model_card_json


def use_biased_sample(workdir, settings):
    """A data source where the label depends on `sex`: the model learns it through income."""
    sample_data.generate(settings.data.rows, seed=settings.data.seed, bias=1.0).to_csv(
        workdir / "biased.csv", index=False
    )
    return settings.model_copy(update={"data": settings.data.model_copy(update={"source": "biased.csv"})})


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_default_sample_passes_every_gate(settings, policy):
    # given the embedded sample and the policy this project was generated with
    prepare(settings, policy)
    # when govern runs
    summary = run_step("govern", settings, policy)
    # then every gate passes, fairness included, and package releases the model
    failed = [gate for gate in summary["gates"] if not gate["passed"]]
    assert summary["verdict"] == "pass" and not failed, f"default sample failed gates: {failed}"
    kinds = {gate["gate"] for gate in summary["gates"]}
    assert {"data", "performance", "fairness", "model_card", "provenance", "licence"} <= kinds, kinds
    assert {g["attribute"] for g in summary["gates"] if g["gate"] == "fairness"} == {"sex"}
    release = run_step("package", settings, policy)
    assert (Path(release["release"]) / settings.paths.model.name).read_bytes() == (
        settings.paths.model.read_bytes()
    ), "released model differs from the governed one"
    assert "provenance.json" in release["files"] and "model_card.md" in release["files"], release


def test_govern_fails_when_the_data_is_biased_naming_attribute_metric_value_and_limit(
    workdir, settings, policy
):
    # given a model trained on the deliberately unfair variant of the sample
    biased = use_biased_sample(workdir, settings)
    prepare(biased, policy)
    # when govern runs from the command line
    result = CliRunner().invoke(cli, ["govern"])
    # then it exits 2 with one line per failed fairness gate naming attribute, metric, value, limit
    assert result.exit_code == 2, result.output
    report = json.loads(biased.paths.governance_report.read_text())
    assert report["verdict"] == "fail", "the report should record the failure"
    failed = [g for g in report["gates"] if not g["passed"]]
    assert failed and all(g["gate"] == "fairness" for g in failed), failed
    parity = next(g for g in failed if g["metric"] == "demographic_parity_difference")
    expected = (
        f"sex: demographic_parity_difference = {parity['value']:g} is above the max {parity['limit']:g}"
    )
    assert expected in result.output, result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(error_lines) == len(failed), f"want one line per failed gate:\n{result.output}"
    # and the evidence is written all the same, but nothing is released
    assert biased.paths.governance_html.is_file() and biased.paths.model_card.is_file()
    with pytest.raises(ProjectError, match="verdict is 'fail'"):
        run_step("package", biased, policy)
    assert not biased.paths.release.exists(), "a failing model was released"


def test_gate_failure_carries_the_summary(workdir, settings, policy):
    biased = use_biased_sample(workdir, settings)
    prepare(biased, policy)
    with pytest.raises(GateFailed) as failure:
        run_step("govern", biased, policy)
    assert failure.value.summary["verdict"] == "fail" and failure.value.summary["gates"], "no summary"
    assert str(failure.value).count("\n") == len(failure.value.summary["failed"]) - 1


def test_local_run_stops_before_package_when_a_gate_fails(workdir):
    # given params.yaml pointing at the biased sample
    sample_data.generate(2000, seed=1, bias=1.0).to_csv(workdir / "biased.csv", index=False)
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params["data"]["source"] = "biased.csv"
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    # when the pipeline runs
    result = CliRunner().invoke(cli, ["run"])
    # then it goes through govern, says where the report is, and releases nothing
    assert result.exit_code == 2, result.output
    assert "govern ... failed" in result.output and "governance.html" in result.output, result.output
    assert "package" not in result.output.replace("nothing released", ""), result.output
    assert not (workdir / "artifacts/releases").exists(), "released despite a failed gate"


def test_performance_gate_fails_below_the_policy_minimum(workdir, settings):
    # given a policy asking for a ROC AUC this model cannot reach
    edit_policy(workdir, lambda p: p["performance"].update(roc_auc={"min": 0.99}))
    policy = load_policy()
    prepare(settings, policy)
    # when govern runs, then the performance gate fails and names the metric and limit
    with pytest.raises(
        GateFailed, match=r"performance gate failed: roc_auc = [0-9.]+ is below the min 0\.99"
    ):
        run_step("govern", settings, policy)


def test_model_card_gate_fails_when_a_required_field_is_empty(workdir, settings):
    edit_policy(workdir, lambda p: p["model_card"]["model_details"].update(owners=[]))
    policy = load_policy()
    prepare(settings, policy)
    with pytest.raises(GateFailed, match=r"model_card gate failed.*empty: model_details\.owners"):
        run_step("govern", settings, policy)


def test_policy_rejects_an_unknown_gate(workdir):
    edit_policy(workdir, lambda p: p["fairness"]["gates"].update(demographic_parity_diff={"max": 0.1}))
    with pytest.raises(ProjectError, match="demographic_parity_diff"):
        load_policy()


def test_provenance_digests_match_the_files(settings, policy, monkeypatch):
    # given the pipeline run under an orchestrator that says who it is
    monkeypatch.setenv(ORCHESTRATOR_ENV, "ci-runner")
    prepare(settings, policy)
    run_step("govern", settings, policy)
    statement = json.loads(settings.paths.provenance.read_text())
    # then it is an in-toto statement with a SLSA provenance predicate
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    # and the digests recomputed from the files match
    assert statement["subject"] == [
        {"name": settings.paths.model.as_posix(), "digest": {"sha256": sha256(settings.paths.model)}}
    ], "model digest does not match the model file"
    build = statement["predicate"]["buildDefinition"]
    files = {
        d["name"]: d["digest"]["sha256"]
        for d in build["resolvedDependencies"]
        if "sha256" in d["digest"] and "sbom" not in d.get("annotations", {})
    }
    assert files == {settings.paths.raw_data.as_posix(): sha256(settings.paths.raw_data)}, files
    for byproduct in statement["predicate"]["runDetails"]["byproducts"]:
        assert byproduct["digest"]["sha256"] == sha256(
            settings.paths.raw_data.parent.parent.parent / byproduct["name"]
        )
    assert statement["predicate"]["runDetails"]["builder"]["id"].endswith(":ci-runner"), (
        "builder is not the orchestrator"
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_provenance_records_the_source_commit(workdir, settings, policy):
    # given the project is a git work tree with a commit
    head = commit_all(workdir)
    prepare(settings, policy)
    run_step("govern", settings, policy)
    # then the statement names that commit among its dependencies
    build = json.loads(settings.paths.provenance.read_text())["predicate"]["buildDefinition"]
    commits = [d["digest"]["gitCommit"] for d in build["resolvedDependencies"] if "gitCommit" in d["digest"]]
    assert commits == [head], build["resolvedDependencies"]
    assert build["internalParameters"]["sourceCommit"] == head, build["internalParameters"]


def test_model_card_has_every_section(settings, policy):
    prepare(settings, policy)
    run_step("govern", settings, policy)
    card = json.loads(model_card_json(settings.paths.model_card).read_text())
    assert list(card) == list(SECTIONS), f"model card sections: {list(card)}"
    markdown = settings.paths.model_card.read_text()
    for title in SECTIONS.values():
        assert f"## {title}\n" in markdown, f"model card lacks the section {title!r}"
    assert card["model_details"]["sha256"] == sha256(settings.paths.model)
    sex = card["quantitative_analyses"]["by_attribute"]["sex"]
    assert sex["disparities"]["demographic_parity_difference"] is not None, "card lacks the disparities"


def test_html_report_is_self_contained_escaped_and_shows_each_gate(workdir, settings):
    # given a project name with markup in it
    edit_policy(workdir, lambda p: p["model_card"]["model_details"].update(name="<script>x</script> & co"))
    policy = load_policy()
    prepare(settings, policy)
    summary = run_step("govern", settings, policy)
    page = settings.paths.governance_html.read_text()
    # then nothing is fetched from the network and no script runs
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I), "external reference"
    assert "url(" not in page and "<script" not in page.lower() and "@import" not in page, "page loads things"
    assert "&lt;script&gt;x&lt;/script&gt; &amp; co" in page, "user text not escaped"
    # and every gate and a chart per group metric are shown
    for gate in summary["gates"]:
        assert gate["metric"] in page, f"{gate['metric']} missing from the report"
    assert page.count("<svg") >= 4 and "PASS" in page


def test_package_refuses_without_a_pass_verdict(settings, policy):
    prepare(settings, policy)
    # given no governance report at all
    with pytest.raises(ProjectError, match="not found"):
        run_step("package", settings, policy)
    # given a passing report whose model was swapped afterwards
    run_step("govern", settings, policy)
    settings.paths.model.write_bytes(settings.paths.model.read_bytes() + b"\0")
    with pytest.raises(ProjectError, match="changed after govern"):
        run_step("package", settings, policy)
    # given a report edited to say fail
    report = json.loads(settings.paths.governance_report.read_text())
    settings.paths.governance_report.write_text(json.dumps(report | {"verdict": "fail"}))
    with pytest.raises(ProjectError, match="verdict is 'fail'"):
        run_step("package", settings, policy)
    assert not settings.paths.release.exists(), "something was released"


def test_model_card_carries_the_training_footprint_train_recorded(settings, policy):
    # given a run up to evaluate, when govern runs
    prepare(settings, policy)
    run_step("govern", settings, policy)
    # then the card holds train's CPU time and energy estimate as train wrote them, and says it is an estimate
    cost = json.loads(settings.paths.footprint.read_text())
    card = json.loads(model_card_json(settings.paths.model_card).read_text())
    assert card["quantitative_analyses"]["training_footprint"] == cost
    markdown = settings.paths.model_card.read_text()
    assert "Training footprint (estimated energy, not metered)" in markdown, markdown
    assert "Energy wh" in markdown, markdown
