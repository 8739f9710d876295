"""The command line, end to end: the pipeline runs and mistakes are one line, exit 2."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from {{ cookiecutter.package_name }} import sample_data
from {{ cookiecutter.package_name }}.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_help_lists_every_step():
    result = invoke("--help")
    for command in ("ingest", "validate-data", "train", "evaluate", "govern", "package", "run"):
        assert command in result.output, f"{command} missing from --help"


def test_run_executes_the_pipeline_end_to_end(workdir):
    # when the whole pipeline runs on the defaults
    result = invoke("run")
    # then it succeeds and says where the model and metrics went
    assert result.exit_code == 0, result.output
    assert "[6/6] package" in result.output
    assert (workdir / "artifacts/model/model.joblib").is_file(), "no model"
    metrics = json.loads((workdir / "artifacts/metrics/metrics.json").read_text())
    assert metrics["roc_auc"] > 0.7, metrics


def test_single_steps_take_explicit_paths(workdir):
    assert invoke("ingest", "--raw-data", "in/raw.csv").exit_code == 0
    result = invoke("train", "--raw-data", "in/raw.csv", "--model", "out/m.joblib")
    assert result.exit_code == 0, result.output
    assert (workdir / "out/m.joblib").is_file(), "train ignored --model"


def test_unknown_setting_is_one_line_and_exit_2(workdir):
    # given a typo in params.yaml
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params["model"]["n_estimator"] = 5
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    # when any step runs, then it is refused with one line naming the key
    result = CliRunner().invoke(cli, ["ingest"])
    assert result.exit_code == 2, result.output
    assert "model.n_estimator" in result.output and "Traceback" not in result.output


def test_missing_input_is_one_line_and_exit_2(workdir):
    result = CliRunner().invoke(cli, ["train"])
    assert result.exit_code == 2, result.output
    assert "run ingest first" in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


@pytest.mark.parametrize(
    ("corrupt", "column"),
    [
        (lambda f: f.drop(columns=["age"]), "age"),
        (lambda f: f.assign(income=f["income"].where(f.index % 5 != 0)), "income"),
        (lambda f: f.assign(late_payments="many"), "late_payments"),
    ],
    ids=["missing-column", "nulls", "wrong-type"],
)
def test_bad_data_stops_the_pipeline_before_training(workdir, corrupt, column):
    # given a data source with a corrupted column
    corrupt(sample_data.generate(200)).to_csv(workdir / "bad.csv", index=False)
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params["data"]["source"] = "bad.csv"
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    # when the pipeline runs, then it fails at validate-data naming the column, and writes no model
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 2, result.output
    assert "validate-data ... failed" in result.output and f"column {column}" in result.output, result.output
    assert not (workdir / "artifacts/model/model.joblib").exists(), "a model was trained on bad data"
    assert not (workdir / "artifacts/releases").exists(), "something was released from bad data"


@pytest.mark.slow  # a fresh interpreter (make test-all, CI)
def test_the_repository_validator_finds_nothing_in_the_project():
    # given the validator this project pins (`make validate` installs it; see .pre-commit-config.yaml)
    pytest.importorskip("mlops_validator", reason="the repository validator is not installed: make validate")
    root = Path(__file__).resolve().parents[1]
    # when it checks the project, then it finds nothing
    command = [sys.executable, "-m", "mlops_validator", str(root)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
