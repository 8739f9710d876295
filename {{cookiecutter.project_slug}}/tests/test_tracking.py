"""Experiment tracking: a pipeline run is one MLflow run, read back here through MLflow's own API."""

import json
import shutil

import pytest
import yaml
from click.testing import CliRunner
from mlflow import MlflowClient

from {{ cookiecutter.package_name }} import lineage, sample_data, tracking
from {{ cookiecutter.package_name }}.cli import cli
from {{ cookiecutter.package_name }}.context import ORCHESTRATOR_ENV, PARENT_RUN_ENV
from {{ cookiecutter.package_name }}.release import champion
from {{ cookiecutter.package_name }}.settings import load_settings
from {{ cookiecutter.package_name }}.steps import STEPS

ORCHESTRATOR = "{{ 'KFP' if cookiecutter.orchestrators == 'kfp' else 'TEKTON' }}"  # one that runs a pod per step


@pytest.fixture(autouse=True)
def local_store(workdir, monkeypatch):
    """The default local store (conftest unsets the caller's), lineage to a file."""
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", "artifacts/lineage/events.jsonl")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    return workdir


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def recorded_runs(experiment: str = tracking.DEFAULT_EXPERIMENT):
    client = MlflowClient(tracking.tracking_uri())
    found = client.get_experiment_by_name(experiment)
    return client, client.search_runs([found.experiment_id]) if found else []


def test_run_records_params_metrics_and_artifacts_in_mlflow(workdir):
    # when the pipeline runs with no tracking server configured
    result = run("run")
    assert result.exit_code == 0, result.output
    # then the local store holds one run with the settings, the metrics and the evidence
    client, (recorded,) = recorded_runs()
    assert recorded.info.status == "FINISHED"
    assert recorded.data.params["model.C"] == "1.0" and recorded.data.params["data.rows"] == "5000"
    metrics = json.loads((workdir / "artifacts/metrics/metrics.json").read_text())
    assert recorded.data.metrics["roc_auc"] == metrics["roc_auc"], recorded.data.metrics
    assert recorded.data.tags[tracking.VERDICT_TAG] == "pass"
    assert recorded.data.tags["orchestrator"] == "LOCAL"
    logged = {
        a.path
        for folder in ("data", "model", "governance")
        for a in client.list_artifacts(recorded.info.run_id, folder)
    }
    assert {
        "data/data_validation.json",
        "model/model.joblib",
        "governance/governance.json",
        "governance/model_card.md",
        "governance/provenance.json",
    } <= logged, logged
    assert f"MLflow run {recorded.info.run_id}" in result.output


def test_lineage_and_mlflow_name_each_other(workdir):
    assert run("run").exit_code == 0
    events = [
        json.loads(line) for line in (workdir / "artifacts/lineage/events.jsonl").read_text().splitlines()
    ]
    _, (recorded,) = recorded_runs()
    # every step event, and the pipeline run's end, name the MLflow run
    naming = [e for e in events if e["job"]["name"] != lineage.PIPELINE_JOB or e["eventType"] == "COMPLETE"]
    assert len(naming) == 2 * len(STEPS) + 1
    facets = [event["run"]["facets"].get(tracking.MLFLOW_FACET) for event in naming]
    assert all(f and f["runId"] == recorded.info.run_id for f in facets), "an event lacks the MLflow run"
    # and the MLflow run names the pipeline's lineage run
    pipeline_runs = {e["run"]["runId"] for e in events if e["job"]["name"] == lineage.PIPELINE_JOB}
    assert pipeline_runs == {recorded.data.tags[tracking.LINEAGE_RUN_TAG]}


def test_steps_in_separate_processes_of_one_pipeline_run_share_one_mlflow_run(workdir, monkeypatch):
    # given an orchestrator running each step in its own pod (each CLI call builds a fresh
    # run context, knowing no MLflow run yet), all under one pipeline run
    monkeypatch.setenv(ORCHESTRATOR_ENV, ORCHESTRATOR)
    monkeypatch.setenv(PARENT_RUN_ENV, "6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f")
    statuses = []
    for step in STEPS:
        result = run(step.name)
        assert result.exit_code == 0, result.output
        statuses.append(recorded_runs()[1][0].info.status)
    # then they found one another's run: one run, RUNNING until the last step ended it
    client, (recorded,) = recorded_runs()
    assert statuses == ["RUNNING"] * (len(STEPS) - 1) + ["FINISHED"]
    assert recorded.data.tags["orchestrator"] == ORCHESTRATOR
    assert recorded.data.tags[tracking.LINEAGE_RUN_TAG] == "6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f"
    assert recorded.data.tags[tracking.VERDICT_TAG] == "pass"
    assert "roc_auc" in recorded.data.metrics and "model.C" in recorded.data.params
    assert [a.path for a in client.list_artifacts(recorded.info.run_id, "model")] == ["model/model.joblib"]


def test_a_failed_gate_fails_the_mlflow_run_with_its_evidence(workdir):
    # given data with a strong bias against one group
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    sample_data.generate(params["data"]["rows"], seed=params["data"]["seed"], bias=1.0).to_csv(
        workdir / "biased.csv", index=False
    )
    params["data"]["source"] = "biased.csv"
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    # when the pipeline runs, the gate stops it
    assert run("run").exit_code == 2
    # then the MLflow run failed, says why, and keeps the governance report
    client, (recorded,) = recorded_runs()
    assert recorded.info.status == "FAILED"
    assert recorded.data.tags[tracking.VERDICT_TAG] == "fail"
    logged = {a.path for a in client.list_artifacts(recorded.info.run_id, "governance")}
    assert "governance/governance.json" in logged, logged


def test_a_step_run_on_its_own_is_not_tracked(workdir):
    assert run("ingest").exit_code == 0
    assert not (workdir / "mlruns").exists()


def test_tracking_server_and_experiment_from_the_environment(workdir, monkeypatch, empty_mlflow_store):
    # given a store elsewhere (its tables made, as for every local store in these tests)
    shutil.copyfile(empty_mlflow_store, workdir / "elsewhere.db")
    monkeypatch.setenv(tracking.URI_ENV, f"sqlite:///{workdir / 'elsewhere.db'}")
    monkeypatch.setenv(tracking.EXPERIMENT_ENV, "team-experiment")
    assert run("run").exit_code == 0
    # then the run is in that store and experiment, and the project's own database was never made
    assert len(recorded_runs("team-experiment")[1]) == 1
    assert not (workdir / "mlruns/mlflow.db").exists()


def test_tracking_outage_is_one_warning_and_the_run_goes_on(workdir, monkeypatch):
    (workdir / "not-a-folder").write_text("")
    monkeypatch.setenv(tracking.URI_ENV, f"sqlite:///{workdir / 'not-a-folder' / 'mlflow.db'}")
    result = run("run")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "experiment tracking" in line]
    assert len(warnings) == 1, result.stderr
    assert (workdir / "artifacts/releases").is_dir()


def test_tracking_outage_fails_the_run_when_tracking_is_required(workdir, monkeypatch):
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params["tracking"]["required"] = True
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    (workdir / "not-a-folder").write_text("")
    monkeypatch.setenv(tracking.URI_ENV, f"sqlite:///{workdir / 'not-a-folder' / 'mlflow.db'}")
    result = run("run")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: tracking: could not start a run"), result.stderr
{%- if cookiecutter.orchestrators != "tekton" %}


@pytest.mark.slow  # kfp.local: a subprocess per step (make test-all, CI)
def test_kfp_local_tasks_track_into_one_run_of_the_experiment_their_env_names(kfp_local_run, monkeypatch):
    # given the session's kfp.local run, whose tasks had MLFLOW_EXPERIMENT_NAME set
    from conftest import KFP_EXPERIMENT

    folder, result = kfp_local_run
    assert result.exit_code == 0, result.output
    monkeypatch.chdir(folder)
    # then its tasks tracked into one run of that experiment
    client, (recorded,) = recorded_runs(KFP_EXPERIMENT)
    assert recorded.info.status == "FINISHED" and recorded.data.tags["orchestrator"] == "KFP"
    assert recorded.data.tags[tracking.VERDICT_TAG] == "pass" and "roc_auc" in recorded.data.metrics
    # artifacts keep their usual names, though KFP names the files after the outputs
    assert [a.path for a in client.list_artifacts(recorded.info.run_id, "model")] == ["model/model.joblib"]
{%- endif %}


def test_the_model_registry_follows_the_champion_alias(workdir):
    # given a pipeline run (which promotes its release) and a second release, promoted by hand
    assert run("run").exit_code == 0
    root = load_settings().paths.release
    first = champion(root)
    client = MlflowClient(tracking_uri=tracking.tracking_uri())

    def registry_champion() -> str:
        version = client.get_model_version_by_alias(tracking.REGISTERED_MODEL, tracking.CHAMPION_ALIAS)
        return version.tags[tracking.RELEASE_TAG]

    # then the registry's champion alias names the same release
    assert registry_champion() == first, "the registry's champion differs from champion.json"
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params["model"]["C"] = 0.5
    params["release"] = {"auto_promote": False}
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    for step in ("train", "evaluate", "govern", "package"):
        assert run(step).exit_code == 0, step
    (second,) = [p.name for p in root.iterdir() if p.is_dir() and p.name != first]
    # when it is promoted and then rolled back, the registry follows each move
    assert run("promote", second, "-m", "try").exit_code == 0
    assert registry_champion() == second
    assert run("rollback", "-m", "back").exit_code == 0
    assert registry_champion() == first
