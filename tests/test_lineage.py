"""Lineage events of a baked project conform to the OpenLineage spec (checked by ../shared's oracle)."""

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import copy_of, package_of, run_in, run_project, shared_tool
from referencing import Registry, Resource


def conformance(events_file):
    return subprocess.run(
        [sys.executable, str(shared_tool("openlineage_conformance.py")), str(events_file)],
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def ran(baked_once, tmp_path_factory) -> Path:
    """A default bake whose pipeline has run once (govern passes), with no OPENLINEAGE_* from this shell."""
    project = copy_of(baked_once(), tmp_path_factory.mktemp("ran"))
    assert run_clean(project, "run").returncode == 0
    return project


def test_events_of_a_run_pass_the_openlineage_schemas(ran):
    result = conformance(ran / "artifacts/lineage/events.jsonl")
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


@pytest.mark.parametrize("transport", ["file", "http", "console"])
def test_openlineage_yml_names_the_chosen_transport(bake, transport):
    project = bake(lineage_transport=transport)
    config = yaml.safe_load((project / "openlineage.yml").read_text())
    assert config["transport"]["type"] == transport, config


def test_http_transport_from_openlineage_yml_delivers_every_event(bake, tmp_path):
    # given a project baked for http, its openlineage.yml pointed at a real local endpoint
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    project = bake(lineage_transport="http")
    config = yaml.safe_load((project / "openlineage.yml").read_text())
    config["transport"]["url"] = f"http://127.0.0.1:{server.server_port}"
    (project / "openlineage.yml").write_text(yaml.safe_dump(config))
    try:
        # when the pipeline runs with no OPENLINEAGE_* variable set
        result = run_clean(project, "run")
    finally:
        server.shutdown()
        server.server_close()
    # then it ran without a lineage warning and every event arrived, valid against the spec
    assert result.returncode == 0 and "warning" not in result.stderr, result.stderr
    events = [json.loads(body) for body in received]
    assert len(events) == 14, [(e["job"]["name"], e["eventType"]) for e in events]
    (tmp_path / "received.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    check = conformance(tmp_path / "received.jsonl")
    assert check.returncode == 0, check.stdout
    assert not (project / "artifacts/lineage").exists(), "http events also went to a file"


def test_console_transport_prints_valid_events_on_stderr_only(bake, tmp_path):
    project = bake(lineage_transport="console")
    result = run_clean(project, "ingest")
    assert result.returncode == 0, result.stderr
    assert "{" not in result.stdout, f"events leaked onto stdout: {result.stdout}"
    lines = [line[line.index("{") :] for line in result.stderr.splitlines() if '"eventType"' in line]
    assert len(lines) == 2, result.stderr
    (tmp_path / "console.jsonl").write_text("\n".join(lines) + "\n")
    check = conformance(tmp_path / "console.jsonl")
    assert check.returncode == 0, check.stdout


def test_governance_facet_matches_the_schema_shipped_in_the_project(ran):
    # given a default run (govern passes), the govern COMPLETE event's custom facet
    project = ran
    events = [
        json.loads(line) for line in (project / "artifacts/lineage/events.jsonl").read_text().splitlines()
    ]
    package = package_of(project)
    govern = next(e for e in events if e["job"]["name"] == "govern" and e["eventType"] == "COMPLETE")
    facet = govern["run"]["facets"][f"{package}_governance"]
    # then its _schemaURL names the shipped schema, and the facet is valid against it
    schema = json.loads((project / "src" / package / "schemas/GovernanceRunFacet.json").read_text())
    assert facet["_schemaURL"].split("#")[0] == schema["$id"], facet["_schemaURL"]
    core = json.loads(
        (
            shared_tool("openlineage_conformance.py").parents[1] / "oracles/openlineage/OpenLineage.json"
        ).read_text()
    )
    registry = Registry().with_resources(
        [(schema["$id"], Resource.from_contents(schema)), (core["$id"], Resource.from_contents(core))]
    )
    validator = jsonschema.Draft202012Validator(
        {"$ref": f"{schema['$id']}#/$defs/GovernanceRunFacet"}, registry=registry
    )
    errors = [error.message for error in validator.iter_errors(facet)]
    assert not errors, errors
    assert facet["verdict"] == "pass" and facet["gates"], facet


def run_clean(project: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the baked CLI with no OPENLINEAGE_* setting from this shell leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENLINEAGE")}
    env["PYTHONPATH"] = str(project / "src")
    command = [sys.executable, "-m", package_of(project), *args]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
