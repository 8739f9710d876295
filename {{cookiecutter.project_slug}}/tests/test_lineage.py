"""OpenLineage: every step run is a run with datasets and facets, whatever runs it."""

import json
import shutil
import subprocess
import threading
from contextlib import nullcontext
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from openlineage.client.serde import Serde
from openlineage.client.transport import Transport

from {{ cookiecutter.package_name }} import lineage, sample_data
from {{ cookiecutter.package_name }}.cli import cli
from {{ cookiecutter.package_name }}.errors import ProjectError
from {{ cookiecutter.package_name }}.pipelines.local import run_pipeline
from {{ cookiecutter.package_name }}.steps import STEPS, Step, run_step

EVENTS = Path("artifacts/lineage/events.jsonl")


class ListTransport(Transport):
    """Keeps every event, as the JSON a real transport would send."""

    kind = "list"

    def __init__(self) -> None:
        self.events: list[dict] = []

    def emit(self, event) -> None:
        self.events.append(json.loads(Serde.to_json(event)))


class DownTransport(Transport):
    """A lineage backend that is down."""

    kind = "down"

    def emit(self, event) -> None:
        raise ConnectionError("connection refused")


@pytest.fixture(autouse=True)
def local_orchestrator(monkeypatch):
    for name in (lineage.ORCHESTRATOR_ENV, lineage.PARENT_RUN_ID_ENV, lineage.PARENT_JOB_NAME_ENV):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sent(monkeypatch) -> list[dict]:
    transport = ListTransport()
    monkeypatch.setattr(lineage, "TRANSPORT", transport)
    return transport.events


@pytest.fixture
def small(workdir):
    """params.yaml with a small sample, so whole pipelines run fast."""
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params["data"]["rows"] = 400
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    return workdir


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def by_job(events: list[dict]) -> dict[str, list[dict]]:
    jobs: dict[str, list[dict]] = {}
    for event in events:
        jobs.setdefault(event["job"]["name"], []).append(event)
    return jobs


def test_pipeline_run_is_the_parent_of_a_start_and_complete_per_step(small, settings, policy, sent):
    # when the local runner runs the pipeline
    run_pipeline(settings, policy)
    # then the pipeline run opens and closes around one START and one COMPLETE per step
    assert [sent[0]["eventType"], sent[-1]["eventType"]] == ["START", "COMPLETE"], "pipeline run not around"
    pipeline = sent[0]["run"]["runId"]
    jobs = by_job(sent[1:-1])
    assert list(jobs) == [step.name for step in STEPS], "one job per step, in pipeline order"
    for name, events in jobs.items():
        assert [e["eventType"] for e in events] == ["START", "COMPLETE"], name
        facets = events[-1]["run"]["facets"]
        assert facets["parent"]["run"]["runId"] == pipeline, f"{name} does not name the pipeline run"
        assert events[-1]["job"]["namespace"] == "{{ cookiecutter.project_slug }}"
        job_type = events[-1]["job"]["facets"]["jobType"]
        assert (job_type["integration"], job_type["processingType"]) == ("LOCAL", "BATCH"), job_type
        assert {"nominalTime", "processing_engine"} <= set(facets), f"{name}: {sorted(facets)}"


def test_datasets_carry_schema_quality_and_output_statistics(small, settings, policy, sent):
    run_pipeline(settings, policy)
    jobs = by_job(sent)
    raw = str(settings.paths.raw_data.resolve())
    # the raw CSV has a schema with every column
    ingest_out = jobs["ingest"][-1]["outputs"][0]
    assert ingest_out["name"] == raw and ingest_out["namespace"] == "file"
    columns = {field["name"] for field in ingest_out["facets"]["schema"]["fields"]}
    assert {"age", "sex", settings.data.target} <= columns, columns
    assert ingest_out["outputFacets"]["outputStatistics"]["rowCount"] == settings.data.rows
    # validate-data's input carries the data quality it measured
    quality = jobs["validate-data"][-1]["inputs"][0]["inputFacets"]["dataQualityMetrics"]
    assert quality["rowCount"] == settings.data.rows, quality
    assert quality["columnMetrics"]["age"]["nullCount"] == 0, quality
    # every output of evaluate has its size; the docstring is the job's documentation
    evaluate = jobs["evaluate"][-1]
    assert all(out["outputFacets"]["outputStatistics"]["size"] > 0 for out in evaluate["outputs"])
    assert "Score the model" in evaluate["job"]["facets"]["documentation"]["description"]


def test_a_failing_step_emits_fail_and_later_steps_do_not_run(small):
    # given a data source with a column missing
    sample_data.generate(200).drop(columns=["age"]).to_csv(small / "bad.csv", index=False)
    params = yaml.safe_load((small / "params.yaml").read_text())
    params["data"]["source"] = "bad.csv"
    (small / "params.yaml").write_text(yaml.safe_dump(params))
    # when the pipeline runs (lineage to the events file)
    assert invoke("run").exit_code == 2
    # then validate-data FAILs with the error, and train never starts
    events = [json.loads(line) for line in EVENTS.read_text().splitlines()]
    jobs = by_job(events)
    assert [e["eventType"] for e in jobs["validate-data"]] == ["START", "FAIL"]
    error = jobs["validate-data"][-1]["run"]["facets"]["errorMessage"]
    assert "age" in error["message"] and error["programmingLanguage"] == "python", error
    assert "train" not in jobs and "evaluate" not in jobs, f"later steps ran: {sorted(jobs)}"
    assert jobs["pipeline"][-1]["eventType"] == "FAIL"
    # and lineage check says what went wrong
    check = invoke("lineage", "check")
    assert check.exit_code == 1, check.output
    assert "validate-data" in check.output and "FAIL" in check.output, check.output
    assert "artifacts/model/model.joblib" in check.output, "the missing model is not reported"


def test_check_passes_after_a_good_run_and_show_draws_the_graph(small):
    assert invoke("run").exit_code == 0
    check = invoke("lineage", "check")
    assert check.exit_code == 0, check.output
    text = invoke("lineage", "show").output
    assert "train [COMPLETE]" in text and "-> artifacts/model/model.joblib" in text, text
    mermaid = invoke("lineage", "show", "--format", "mermaid").output
    assert mermaid.startswith("flowchart LR") and mermaid.count("-->") >= 8, mermaid
    dot = invoke("lineage", "show", "--format", "dot").output
    assert dot.startswith("digraph lineage {") and dot.rstrip().endswith("}"), dot


def test_check_reports_a_run_that_never_ended(small):
    # given an events file where train started and nothing more came
    assert invoke("run").exit_code == 0
    events = [json.loads(line) for line in EVENTS.read_text().splitlines()]
    kept = [e for e in events if not (e["job"]["name"] == "train" and e["eventType"] == "COMPLETE")]
    EVENTS.write_text("".join(json.dumps(e) + "\n" for e in kept))
    # when checked, then train is named as never ended
    check = invoke("lineage", "check")
    assert check.exit_code == 1 and "train" in check.output and "never ended" in check.output, check.output


def test_show_without_events_is_one_line_and_exit_2(workdir):
    result = invoke("lineage", "show")
    assert result.exit_code == 2 and "no lineage events" in result.output, result.output


def test_every_event_arrives_over_http(small, settings, policy, monkeypatch):
    # given a real HTTP endpoint on this machine, named by OPENLINEAGE_URL
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(
                {"path": self.path, "auth": self.headers.get("Authorization"), **json.loads(body)}
            )
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.delenv("OPENLINEAGE__TRANSPORT__TYPE")
    for key in ("TYPE", "URL", "AUTH", "ENDPOINT"):  # the client copies OPENLINEAGE_URL into these
        monkeypatch.delenv(f"OPENLINEAGE__TRANSPORT__TRANSPORTS__DEFAULT_HTTP__{key}", raising=False)
    monkeypatch.setenv("OPENLINEAGE_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("OPENLINEAGE_API_KEY", "s3cret")
    try:
        # when the pipeline runs
        run_pipeline(settings, policy)
    finally:
        server.shutdown()
        server.server_close()
    # then every event arrived, at the OpenLineage endpoint, with the key
    assert len(received) == 2 * (len(STEPS) + 1), [(e["job"]["name"], e["eventType"]) for e in received]
    assert {e["path"] for e in received} == {"/api/v1/lineage"}
    assert {e["auth"] for e in received} == {"Bearer s3cret"}
    assert not EVENTS.exists(), "events also went to the file"


def test_a_lineage_outage_warns_once_and_the_pipeline_goes_on(small, settings, policy, monkeypatch, capsys):
    monkeypatch.setattr(lineage, "TRANSPORT", DownTransport())
    results = run_pipeline(settings, policy)
    assert "evaluate" in results, "the pipeline stopped"
    warnings = [line for line in capsys.readouterr().err.splitlines() if "lineage" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning: lineage"), warnings


def test_required_lineage_fails_the_step_when_it_cannot_be_sent(workdir, settings, policy, monkeypatch):
    monkeypatch.setattr(lineage, "TRANSPORT", DownTransport())
    required = settings.model_copy(update={"lineage": settings.lineage.model_copy(update={"required": True})})
    with pytest.raises(ProjectError, match="lineage.required"):
        run_step("ingest", required, policy)
    assert not required.paths.raw_data.exists(), "the step ran without its lineage"


def test_openlineage_disabled_emits_nothing(workdir, settings, policy, monkeypatch):
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")
    run_step("ingest", settings, policy)
    assert settings.paths.raw_data.exists() and not EVENTS.exists(), "events written while disabled"


def test_an_orchestrator_names_the_parent_run_and_a_retry_is_the_same_run(
    workdir, settings, policy, monkeypatch, sent
):
    # given a Tekton task passing its PipelineRun's UID (not a UUID)
    monkeypatch.setenv(lineage.ORCHESTRATOR_ENV, "tekton")
    monkeypatch.setenv(lineage.PARENT_RUN_ID_ENV, "pipelinerun-uid-1234")
    monkeypatch.setenv(lineage.PARENT_JOB_NAME_ENV, "train-and-gate")
    # when the same step runs twice (a retry)
    run_step("ingest", settings, policy)
    run_step("ingest", settings, policy)
    # then both runs are one run under one derived parent, reported as TEKTON
    parents = {e["run"]["facets"]["parent"]["run"]["runId"] for e in sent}
    assert len(parents) == 1 and len({e["run"]["runId"] for e in sent}) == 1, sent
    assert {e["run"]["facets"]["parent"]["job"]["name"] for e in sent} == {"train-and-gate"}
    assert {e["job"]["facets"]["jobType"]["integration"] for e in sent} == {"TEKTON"}


def test_source_code_location_is_the_git_commit_when_there_is_one(workdir, settings, policy, sent):
    # given a project that is not a git repository: no facet, no failure
    run_step("ingest", settings, policy)
    assert "sourceCodeLocation" not in sent[-1]["job"]["facets"]
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    # given the same project committed to git
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "params.yaml"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout
    # then the job names the commit
    run_step("ingest", settings, policy)
    assert sent[-1]["job"]["facets"]["sourceCodeLocation"]["version"] == head.strip()


class GateFailedLike(ProjectError):
    """What govern raises on a failed gate: the summary rides on the exception."""

    def __init__(self, summary: dict) -> None:
        super().__init__("fairness gate failed")
        self.summary = summary


GOVERN_SUMMARY = {
    "verdict": "fail",
    "policy_version": "1.0.0",
    "gates": [
        {"gate": "performance", "metric": "roc_auc", "value": 0.81, "limit": 0.7, "passed": True},
        {
            "gate": "fairness",
            "metric": "disparate_impact",
            "value": 0.62,
            "limit": [0.8, 1.25],
            "passed": False,
            "attribute": "sex",
        },
    ],
}


@pytest.mark.parametrize("fails", [False, True], ids=["pass", "gate-failed"])
def test_govern_runs_carry_the_governance_facet_valid_against_its_schema(workdir, settings, sent, fails):
    # given a govern step whose summary is the governance contract's
    def govern(s, p):
        """Apply the policy's gates."""
        if fails:
            raise GateFailedLike(GOVERN_SUMMARY)
        return {**GOVERN_SUMMARY, "verdict": "pass"}

    step = Step("govern", ("metrics",), (), govern)
    # when it runs under lineage
    with pytest.raises(GateFailedLike) if fails else nullcontext():
        with lineage.step_run(step, settings) as run:
            run.summary = govern(settings, None)
    # then the last event carries the facet, and it matches the schema shipped with the project
    last = sent[-1]
    assert last["eventType"] == ("FAIL" if fails else "COMPLETE")
    facet = last["run"]["facets"][lineage.GOVERNANCE_FACET]
    assert facet["verdict"] == ("fail" if fails else "pass") and facet["policyVersion"] == "1.0.0"
    assert facet["metrics"] == {"roc_auc": 0.81, "disparate_impact[sex]": 0.62}, facet
    schema = json.loads(lineage.GOVERNANCE_SCHEMA.read_text())
    assert facet["_schemaURL"].split("#")[0] == schema["$id"], "the facet points at another schema"
    definition = {**schema["$defs"]["GovernanceRunFacet"], "$defs": schema["$defs"]}
    jsonschema.validate(facet, definition)
