"""Lineage events of a baked project conform to the OpenLineage spec (checked by ../shared's oracle)."""

import subprocess
import sys

import yaml
from conftest import run_in, run_project, shared_tool


def conformance(events_file):
    return subprocess.run(
        [sys.executable, str(shared_tool("openlineage_conformance.py")), str(events_file)],
        capture_output=True,
        text=True,
    )


def test_events_of_a_run_pass_the_openlineage_schemas(bake):
    project = bake()
    run_project(project, "run")
    result = conformance(project / "artifacts/lineage/events.jsonl")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "14 events" in result.stdout, result.stdout


def test_events_of_a_failed_run_pass_the_openlineage_schemas(bake):
    # given a run that fails its governance gate (FAIL events with error and governance facets)
    project = bake()
    run_project(project, "ingest")
    biased = "from mlops_demo import sample_data as s; s.generate(bias=1.0).to_csv('biased.csv', index=False)"
    run_in(project, sys.executable, "-c", biased)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["data"]["source"] = "biased.csv"
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    failed = run_project(project, "run", check=False)
    assert failed.returncode == 2 and "fairness gate failed" in failed.stderr, failed.stderr
    result = conformance(project / "artifacts/lineage/events.jsonl")
    assert result.returncode == 0, result.stdout + result.stderr
    assert run_project(project, "lineage", "check", check=False).returncode == 1
