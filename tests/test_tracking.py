"""Experiment tracking (MLflow) and data versioning (DVC): real tools on the embedded defaults."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import run_project

OFF = {"experiment_tracking": "none", "data_versioning": "none"}
TRACES = {
    "experiment_tracking": re.compile(r"mlflow|mlruns", re.I),
    "data_versioning": re.compile(r"dvc", re.I),
}


@pytest.mark.parametrize("off", ["experiment_tracking", "data_versioning"])
def test_a_switched_off_option_leaves_no_file_dependency_or_mention(bake, off):
    # given every other option on, and this one off
    project = bake(**{"experiment_tracking": "mlflow", "data_versioning": "dvc", off: "none"})
    # then no file names the tool, nor mentions it
    mentions = [
        f"{path.relative_to(project)}:{n}"
        for path in project.rglob("*")
        if path.is_file()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if TRACES[off].search(line)
    ]
    named = [p.relative_to(project) for p in project.rglob("*") if TRACES[off].search(p.name)]
    assert not mentions and not named, f"{off}=none left {named + mentions}"


def test_both_off_bake_has_no_tracking_or_versioning_files(bake):
    project = bake(**OFF)
    for rel in ("dvc.yaml", ".dvc", ".dvcignore", "tests/test_dvc.py", "src/mlops_demo/tracking.py"):
        assert not (project / rel).exists(), f"{rel} left behind"


def test_pipeline_run_is_read_back_through_mlflow(bake):
    # given a project with MLflow tracking, run with no server configured
    from mlflow import MlflowClient

    project = bake(experiment_tracking="mlflow")
    env_uri = os.environ.pop("MLFLOW_TRACKING_URI", None)
    try:
        output = run_project(project, "run").stdout
    finally:
        if env_uri is not None:
            os.environ["MLFLOW_TRACKING_URI"] = env_uri
    # when MLflow's own client reads the project's local store
    client = MlflowClient(f"sqlite:///{project / 'mlruns/mlflow.db'}")
    experiment = client.get_experiment_by_name("mlops-demo")
    (run,) = client.search_runs([experiment.experiment_id])
    # then params (params.yaml, flattened), metrics (metrics.json) and artifacts are there
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert run.data.params["model.C"] == str(params["model"]["C"]), run.data.params
    assert run.data.params["data.seed"] == str(params["data"]["seed"]), run.data.params
    metrics = json.loads((project / "artifacts/metrics/metrics.json").read_text())
    assert {k: run.data.metrics[k] for k in metrics} == metrics, run.data.metrics
    artifacts = {a.path for d in ("model", "governance") for a in client.list_artifacts(run.info.run_id, d)}
    assert {"model/model.joblib", "governance/governance.json", "governance/model_card.md"} <= artifacts
    assert run.info.run_id in output, output
    # and the lineage events name that run in a project-prefixed run facet (all but the
    # pipeline's START, sent before the first step opens the MLflow run)
    events = [json.loads(x) for x in (project / "artifacts/lineage/events.jsonl").read_text().splitlines()]
    linked = [e["run"]["facets"].get("mlops_demo_mlflow", {}).get("runId") for e in events[1:]]
    assert set(linked) == {run.info.run_id}, linked


def git(project: Path, *args: str) -> None:
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", *identity, *args], cwd=project, check=True, capture_output=True)


def dvc(project: Path, *args: str, env: dict) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "dvc", *args], cwd=project, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, f"dvc {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def stages(output: str) -> tuple[set[str], set[str]]:
    ran = set(re.findall(r"Running stage '([^']+)'", output))
    skipped = set(re.findall(r"Stage '([^']+)' didn't change", output))
    return ran, skipped


@pytest.mark.slow
def test_dvc_repro_reruns_only_the_stages_a_param_change_affects(bake, tmp_path):
    # given a baked project in a fresh git repository, its CLI command on PATH
    project = bake(data_versioning="dvc")
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "mlops-demo").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mlops_demo "$@"\n')
    (shim / "mlops-demo").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(project / "src"),
        "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(tmp_path / "dvc-site"),
    }
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "baked")
    # when the whole pipeline is reproduced
    ran, _ = stages(dvc(project, "repro", env=env))
    assert ran == {"ingest", "validate-data", "train", "evaluate", "govern", "package"}, ran
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    git(project, "add", "dvc.lock")
    git(project, "commit", "-qm", "reproduced")
    # then the data version DVC recorded is the version lineage reported for the sample data
    (raw,) = lock["stages"]["ingest"]["outs"]
    events = [json.loads(x) for x in (project / "artifacts/lineage/events.jsonl").read_text().splitlines()]
    versions = {
        d["facets"]["version"]["datasetVersion"]
        for e in events
        for d in e.get("inputs", []) + e.get("outputs", [])
        if d["name"].endswith("artifacts/data/raw.csv") and "version" in d["facets"]
    }
    assert versions == {raw["md5"]}, (versions, raw)
    # when a model param changes, only the stages downstream of it rerun
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["model"]["C"] = 0.5
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    ran, skipped = stages(dvc(project, "repro", env=env))
    assert ran == {"train", "evaluate", "govern", "package"}, ran
    assert skipped == {"ingest", "validate-data"}, skipped
    relocked = yaml.safe_load((project / "dvc.lock").read_text())["stages"]
    assert relocked["ingest"] == lock["stages"]["ingest"], "ingest's lock entry changed"
    assert relocked["train"]["params"]["params.yaml"]["model"]["C"] == 0.5
    # and the example remote (a folder beside the repository) takes the data
    dvc(project, "push", env=env)
    store = project.parent / "mlops-demo-dvc-store"
    assert any(p.is_file() for p in store.rglob("*")), "nothing pushed to the example remote"
