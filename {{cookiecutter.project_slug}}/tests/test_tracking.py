"""Experiment tracking: a pipeline run is one MLflow run, read back here through MLflow's own API."""

import json

import pytest
import yaml
from click.testing import CliRunner
from mlflow import MlflowClient

from {{ cookiecutter.package_name }} import lineage, tracking
from {{ cookiecutter.package_name }}.cli import cli


@pytest.fixture(autouse=True)
def local_store(workdir, monkeypatch):
    """The default local store, lineage to a file, whatever the environment says."""
    monkeypatch.delenv(tracking.URI_ENV, raising=False)
    monkeypatch.delenv(tracking.EXPERIMENT_ENV, raising=False)
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", "artifacts/lineage/events.jsonl")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    monkeypatch.setattr(lineage, "_broken", False)
    return workdir


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_run_records_params_metrics_and_artifacts_in_mlflow(workdir):
    # when the pipeline runs with no tracking server configured
    result = run("run")
    assert result.exit_code == 0, result.output
    # then the local store holds one run with the settings, the metrics and the evidence
    client = MlflowClient(tracking.tracking_uri())
    experiment = client.get_experiment_by_name(tracking.DEFAULT_EXPERIMENT)
    (recorded,) = client.search_runs([experiment.experiment_id])
    assert recorded.info.status == "FINISHED"
    assert recorded.data.params["model.C"] == "1.0" and recorded.data.params["data.rows"] == "5000"
    metrics = json.loads((workdir / "artifacts/metrics/metrics.json").read_text())
    assert recorded.data.metrics["roc_auc"] == metrics["roc_auc"], recorded.data.metrics
    assert recorded.data.tags["governance.verdict"] == "pass"
    logged = {
        a.path
        for folder in ("model", "governance")
        for a in client.list_artifacts(recorded.info.run_id, folder)
    }
    assert {"model/model.joblib", "governance/governance.json"} <= logged, logged
    assert f"MLflow run {recorded.info.run_id}" in result.output


def test_lineage_and_mlflow_name_each_other(workdir):
    assert run("run").exit_code == 0
    events = [
        json.loads(line) for line in (workdir / "artifacts/lineage/events.jsonl").read_text().splitlines()
    ]
    (recorded,) = MlflowClient(tracking.tracking_uri()).search_runs(
        [
            MlflowClient(tracking.tracking_uri())
            .get_experiment_by_name(tracking.DEFAULT_EXPERIMENT)
            .experiment_id
        ]
    )
    facets = [event["run"]["facets"].get(lineage.MLFLOW_FACET) for event in events]
    assert all(f and f["runId"] == recorded.info.run_id for f in facets), "an event lacks the MLflow run"
    pipeline_runs = {e["run"]["runId"] for e in events if e["job"]["name"] == lineage.PIPELINE_JOB}
    assert pipeline_runs == {recorded.data.tags[tracking.LINEAGE_RUN_TAG]}


def test_tracking_server_from_the_environment(workdir, monkeypatch):
    monkeypatch.setenv(tracking.URI_ENV, f"sqlite:///{workdir / 'elsewhere.db'}")
    assert run("run").exit_code == 0
    # then the run is in that store, and the project's own database was never made
    client = MlflowClient(f"sqlite:///{workdir / 'elsewhere.db'}")
    experiment = client.get_experiment_by_name(tracking.DEFAULT_EXPERIMENT)
    assert len(client.search_runs([experiment.experiment_id])) == 1
    assert not (workdir / "mlruns/mlflow.db").exists()


def test_tracking_outage_is_one_warning_and_the_run_goes_on(workdir, monkeypatch):
    (workdir / "not-a-folder").write_text("")
    monkeypatch.setenv(tracking.URI_ENV, f"sqlite:///{workdir / 'not-a-folder' / 'mlflow.db'}")
    result = run("run")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "experiment tracking" in line]
    assert len(warnings) == 1, result.stderr
    assert (workdir / "artifacts/release").is_dir()


def test_tracking_outage_fails_the_run_when_tracking_is_required(workdir, monkeypatch):
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params["tracking"]["required"] = True
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    (workdir / "not-a-folder").write_text("")
    monkeypatch.setenv(tracking.URI_ENV, f"sqlite:///{workdir / 'not-a-folder' / 'mlflow.db'}")
    result = run("run")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: tracking: could not start a run"), result.stderr
