"""Lineage: every step run becomes an OpenLineage run, through whichever transport is configured."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from openlineage.client import OpenLineageClient
from openlineage.client.serde import Serde
from openlineage.client.transport.transport import Config, Transport

from conftest import in_sample_project
from {{ cookiecutter.package_name }} import context as context_module
from {{ cookiecutter.package_name }} import lineage, sample_data
from {{ cookiecutter.package_name }}.cli import cli

STEP_NAMES = ["ingest", "validate-data", "train", "evaluate", "govern", "package"]


class ListTransport(Transport):
    """Keeps every event, as the JSON a real transport would send."""

    kind = "list"
    config_class = Config

    def __init__(self) -> None:
        self.events: list[dict] = []

    def emit(self, event) -> None:
        self.events.append(json.loads(Serde.to_json(event)))


class Recorded(list):
    """The events a test's commands sent; `client` is what to hand the CLI (`obj=`)."""

    client: OpenLineageClient


@pytest.fixture
def events_file(workdir, monkeypatch):
    """Lineage to a JSON-lines file, whatever transport openlineage.yml names."""
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", "artifacts/lineage/events.jsonl")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    return workdir / "artifacts/lineage/events.jsonl"


def recorder() -> Recorded:
    """A list transport's events; its `client` is what to hand the CLI (`obj=`)."""
    transport = ListTransport()
    transport.events = recorded = Recorded()
    recorded.client = OpenLineageClient(transport=transport)
    return recorded


@pytest.fixture
def events(workdir):
    """A list transport injected into the CLI: pass `obj=events.client` to CliRunner.invoke."""
    return recorder()


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> tuple[Path, Recorded]:
    """One successful local run on the sample (in_sample_project) and the events it sent; the
    tests that only read them share it, as a run takes a second."""
    recorded = recorder()
    with in_sample_project(tmp_path_factory.mktemp("sample-run")) as folder:
        result = CliRunner().invoke(cli, ["run"], obj=recorded.client)
    assert result.exit_code == 0, result.output
    return folder, recorded


def by_job(events, state):
    return {e["job"]["name"]: e for e in events if e["eventType"] == state}


def set_params(workdir, **sections):
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    for section, values in sections.items():
        params[section].update(values)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))


def test_run_reports_every_step_as_a_child_of_the_pipeline_run(sample_run):
    # when the local pipeline runs (once for this module: sample_run)
    _, events = sample_run
    # then each step STARTs and COMPLETEs, with the pipeline run as its parent
    started, completed = by_job(events, "START"), by_job(events, "COMPLETE")
    assert set(STEP_NAMES) <= set(completed), f"missing COMPLETE for {set(STEP_NAMES) - set(completed)}"
    pipeline_id = completed["pipeline"]["run"]["runId"]
    for name in STEP_NAMES:
        facets = completed[name]["run"]["facets"]
        assert facets["parent"]["run"]["runId"] == pipeline_id, f"{name} is not a child of the pipeline run"
        assert started[name]["run"]["runId"] == completed[name]["run"]["runId"]
        assert completed[name]["job"]["facets"]["jobType"]["integration"] == "LOCAL"


def test_datasets_carry_schema_quality_and_statistics(sample_run):
    folder, events = sample_run
    completed = by_job(events, "COMPLETE")
    raw = str((folder / "artifacts/data/raw.csv").resolve())
    (ingested,) = completed["ingest"]["outputs"]
    assert ingested["name"] == raw and ingested["namespace"] == "file"
    assert ingested["outputFacets"]["outputStatistics"]["rowCount"] == 5000
    assert "sex" in [f["name"] for f in ingested["facets"]["schema"]["fields"]]
    (validated,) = completed["validate-data"]["inputs"]
    quality = validated["inputFacets"]["dataQualityMetrics"]
    assert quality["rowCount"] == 5000 and quality["columnMetrics"]["age"]["nullCount"] == 0


def test_govern_run_carries_the_governance_facet(sample_run):
    _, events = sample_run
    facet = by_job(events, "COMPLETE")["govern"]["run"]["facets"]["{{ cookiecutter.package_name }}_governance"]
    assert facet["verdict"] == "pass" and facet["gates"], facet
    assert facet["_schemaURL"].endswith("GovernanceRunFacet.json#/$defs/GovernanceRunFacet")


def test_failed_gate_is_a_fail_event_with_the_verdict(events, workdir):
    # given deliberately biased data
    sample_data.generate(5000, seed=42, bias=1.0).to_csv(workdir / "biased.csv", index=False)
    set_params(workdir, data={"source": "biased.csv"})
    # when the pipeline runs, then govern FAILs with verdict fail and package never starts
    assert CliRunner().invoke(cli, ["run"], obj=events.client).exit_code == 2
    failed = by_job(events, "FAIL")
    assert failed["govern"]["run"]["facets"]["{{ cookiecutter.package_name }}_governance"]["verdict"] == "fail"
    assert "package" not in by_job(events, "START"), "package ran after a failed gate"


def test_failing_step_emits_fail_stops_the_pipeline_and_lineage_check_reports_it(workdir, events_file):
    # given data with a column missing, lineage to the default events file
    sample_data.generate(500).drop(columns=["income"]).to_csv(workdir / "bad.csv", index=False)
    set_params(workdir, data={"source": "bad.csv"})
    # when the pipeline runs
    assert CliRunner().invoke(cli, ["run"]).exit_code == 2
    lines = events_file.read_text().splitlines()
    events = [json.loads(line) for line in lines]
    # then validate-data FAILs with its error, train never starts, and lineage check fails naming it
    failed = by_job(events, "FAIL")
    assert "income" in failed["validate-data"]["run"]["facets"]["errorMessage"]["message"]
    assert "train" not in by_job(events, "START"), "train ran after validation failed"
    check = CliRunner().invoke(cli, ["lineage", "check"])
    assert check.exit_code == 1 and "validate-data failed" in check.output, check.output


def test_lineage_show_draws_the_last_run(events_file):
    assert CliRunner().invoke(cli, ["run"]).exit_code == 0
    text = CliRunner().invoke(cli, ["lineage", "show"]).output
    assert "train          COMPLETE  artifacts/data/raw.csv -> artifacts/model/model.joblib" in text, text
    mermaid = CliRunner().invoke(cli, ["lineage", "show", "--format", "mermaid"]).output
    assert mermaid.startswith("flowchart LR") and "-->" in mermaid
    dot = CliRunner().invoke(cli, ["lineage", "show", "--format", "dot"]).output
    assert dot.startswith("digraph lineage {") and "->" in dot
    assert CliRunner().invoke(cli, ["lineage", "check"]).exit_code == 0


class Collector(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Collector.received.append((self.path, self.headers.get("Authorization"), json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_every_event_arrives_through_the_http_transport(workdir, monkeypatch):
    # given a real HTTP server on loopback and lineage pointed at it by environment
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Collector.received = []
    monkeypatch.setenv("OPENLINEAGE_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("OPENLINEAGE_API_KEY", "test-key")
    try:
        # when the pipeline runs
        assert CliRunner().invoke(cli, ["run"]).exit_code == 0
    finally:
        server.shutdown()
    # then every START and COMPLETE (7 runs: pipeline + 6 steps) arrived, authenticated
    kinds = sorted((body["job"]["name"], body["eventType"]) for _, _, body in Collector.received)
    assert len(kinds) == 14 and all(path == "/api/v1/lineage" for path, _, _ in Collector.received), kinds
    assert {auth for _, auth, _ in Collector.received} == {"Bearer test-key"}
    assert not (workdir / "artifacts/lineage/events.jsonl").exists(), (
        "env did not override the file transport"
    )


def test_lineage_outage_is_one_warning_unless_required(workdir, monkeypatch):
    # given an endpoint nobody listens on
    monkeypatch.setenv("OPENLINEAGE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__RETRY", '{"total": 0}')
    # then the pipeline still runs, with one warning
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 0, result.output
    assert result.output.count("warning: lineage is not being recorded") == 1, result.output
    # and when lineage is required, the first step fails with one line
    set_params(workdir, lineage={"required": True})
    required = CliRunner().invoke(cli, ["ingest"])
    assert required.exit_code == 2 and "lineage: could not send START of ingest" in required.output


def test_empty_lineage_variables_count_as_unset(workdir, events_file, monkeypatch):
    # given a cluster ConfigMap that lists keys it leaves empty
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__URL", "")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__ENDPOINT", "")
    # then the transport is the file one the other variables name, and it receives the run
    assert lineage.transport_config() == {
        "type": "file",
        "log_file_path": "artifacts/lineage/events.jsonl",
        "append": True,
    }
    assert CliRunner().invoke(cli, ["ingest"]).exit_code == 0
    assert events_file.is_file()


def test_lineage_can_be_disabled(workdir, events_file, monkeypatch):
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")
    assert CliRunner().invoke(cli, ["run"]).exit_code == 0
    assert not events_file.exists(), "events written although lineage is disabled"


def test_an_orchestrator_names_the_parent_run_and_a_retried_step_is_the_same_run(events, monkeypatch):
    # given an orchestrator's task passing its pipeline run's id (not a UUID)
    monkeypatch.setenv(context_module.ORCHESTRATOR_ENV, "{{ 'kfp' if cookiecutter.orchestrators == 'kfp' else 'tekton' }}")
    monkeypatch.setenv(context_module.PARENT_RUN_ENV, "pipelinerun-uid-1234")
    # when the same step runs twice (a retry)
    for _ in range(2):
        assert CliRunner().invoke(cli, ["ingest"], obj=events.client).exit_code == 0
    # then both are one run, under one parent derived from that id, reported as that orchestrator
    parents = {e["run"]["facets"]["parent"]["run"]["runId"] for e in events}
    assert len(events) == 4 and len(parents) == 1, events
    assert len({e["run"]["runId"] for e in events}) == 1, "a retried step reported a new run"
    assert {e["job"]["facets"]["jobType"]["integration"] for e in events} == {"{{ 'KFP' if cookiecutter.orchestrators == 'kfp' else 'TEKTON' }}"}
