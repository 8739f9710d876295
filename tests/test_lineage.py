"""OpenLineage in a baked project, checked against the OpenLineage spec's own schemas.

The conformance tool is an independent oracle beside the template repository
(`../shared/tools/openlineage_conformance.py`); these tests skip when it is absent.
"""

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from conftest import TEMPLATE, package_of

SHARED = next((p for p in (TEMPLATE.parent / "shared", Path("/work/shared")) if p.is_dir()), None)
CONFORMANCE = SHARED / "tools" / "openlineage_conformance.py" if SHARED else None
needs_oracle = pytest.mark.skipif(
    CONFORMANCE is None or not CONFORMANCE.is_file(),
    reason="../shared/tools/openlineage_conformance.py not found beside the template",
)
STEPS = 4  # ingest, validate-data, train, evaluate; more when governance lands, so counted from events


def run_clean(project: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the baked CLI with no lineage settings from this shell leaking in."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENLINEAGE")}
    clean.update(env or {}, PYTHONPATH=str(project / "src"))
    command = [sys.executable, "-m", package_of(project), *args]
    return subprocess.run(command, cwd=project, env=clean, capture_output=True, text=True)


def conformance(events_file: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(CONFORMANCE), str(events_file)], capture_output=True, text=True
    )


def small(project: Path) -> Path:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["data"]["rows"] = 400
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    return project


@pytest.mark.parametrize("transport", ["file", "http", "console"])
def test_openlineage_yml_names_the_chosen_transport(bake, transport):
    project = bake(lineage_transport=transport)
    config = yaml.safe_load((project / "openlineage.yml").read_text())
    assert config["transport"]["type"] == transport, config
    schema_file = project / "src" / package_of(project) / "schemas/GovernanceRunFacet.json"
    schema = json.loads(schema_file.read_text())
    assert schema["$defs"]["GovernanceRunFacet"]["required"], "governance facet schema not rendered"


@needs_oracle
def test_events_file_after_run_conforms_to_the_openlineage_spec(bake):
    # given a default project (file transport) that ran its pipeline
    project = small(bake())
    result = run_clean(project, "run")
    assert result.returncode == 0, result.stderr
    events_file = project / "artifacts/lineage/events.jsonl"
    # then every event and facet is valid against the spec's schemas, and every run ended
    check = conformance(events_file)
    assert check.returncode == 0, check.stdout + check.stderr
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    assert len(events) >= 2 * (STEPS + 1), f"want START and COMPLETE for the pipeline and each step: {events}"
    # and the project's own check agrees
    lineage_check = run_clean(project, "lineage", "check")
    assert lineage_check.returncode == 0, lineage_check.stdout + lineage_check.stderr


@needs_oracle
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
    project = small(bake(lineage_transport="http"))
    config = yaml.safe_load((project / "openlineage.yml").read_text())
    assert config["transport"]["type"] == "http", config
    config["transport"]["url"] = f"http://127.0.0.1:{server.server_port}"
    (project / "openlineage.yml").write_text(yaml.safe_dump(config))
    try:
        # when the pipeline runs
        result = run_clean(project, "run")
    finally:
        server.shutdown()
        server.server_close()
    # then it ran without a lineage warning and every event arrived, valid
    assert result.returncode == 0 and "warning" not in result.stderr, result.stderr
    events = [json.loads(body) for body in received]
    assert len(events) >= 2 * (STEPS + 1), [(e["job"]["name"], e["eventType"]) for e in events]
    (tmp_path / "received.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    check = conformance(tmp_path / "received.jsonl")
    assert check.returncode == 0, check.stdout
    assert not (project / "artifacts/lineage").exists(), "http events also went to a file"


@needs_oracle
def test_console_transport_prints_valid_events_on_stderr(bake, tmp_path):
    project = small(bake(lineage_transport="console"))
    result = run_clean(project, "ingest")
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and "{" not in result.stdout, "events leaked onto stdout"
    lines = [line for line in result.stderr.splitlines() if line.startswith("{")]
    assert len(lines) == 2, result.stderr
    (tmp_path / "console.jsonl").write_text("\n".join(lines) + "\n")
    check = conformance(tmp_path / "console.jsonl")
    assert check.returncode == 0, check.stdout


def test_a_lineage_outage_does_not_fail_the_step(bake):
    # given a project whose lineage endpoint is down (a closed port)
    project = bake(lineage_transport="http")
    env = {
        "OPENLINEAGE__TRANSPORT__TYPE": "http",
        "OPENLINEAGE__TRANSPORT__URL": "http://127.0.0.1:9",
        "OPENLINEAGE__TRANSPORT__RETRY": '{"total": 0}',
    }
    # when a step runs, then it succeeds with one warning
    result = run_clean(project, "ingest", env=env)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: lineage")]
    assert len(warnings) == 1 and "Traceback" not in result.stderr, result.stderr
