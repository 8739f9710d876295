"""Kubeflow Pipelines: the IR compiles deterministically and loads back, kfp.local runs
the same steps to the same metrics, and submit fails in one line when no KFP answers."""

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from kfp import components

import {{ cookiecutter.package_name }}
from {{ cookiecutter.package_name }}.cli import cli
from {{ cookiecutter.package_name }}.governance.policy import load_policy
from {{ cookiecutter.package_name }}.pipelines.kfp import CLUSTER_ENV, IMAGE, RETRIES, pipeline_arguments
from {{ cookiecutter.package_name }}.settings import load_settings

SOURCE = Path({{ cookiecutter.package_name }}.__file__).resolve().parents[1]

# How the tasks are wired: what each waits for, where each input artifact comes
# from, and under which condition it runs. The golden spec, as a dict.
WIRING = {
    "ingest": {"after": [], "inputs": {}, "when": None},
    "validate-data": {"after": ["ingest"], "inputs": {"raw_data": "ingest.raw_data"}, "when": None},
    "train": {"after": ["ingest", "validate-data"], "inputs": {"raw_data": "ingest.raw_data"}, "when": None},
    "evaluate": {
        "after": ["ingest", "train"],
        "inputs": {"raw_data": "ingest.raw_data", "model": "train.model"},
        "when": None,
    },
    "govern": {
        "after": ["evaluate", "ingest", "train", "validate-data"],
        "inputs": {
            "raw_data": "ingest.raw_data",
            "validation_report": "validate-data.validation_report",
            "model": "train.model",
            "footprint": "train.footprint",
            "metrics": "evaluate.metrics",
            "predictions": "evaluate.predictions",
        },
        "when": None,
    },
    "package": {
        "after": [],
        "inputs": {
            "model": "train.model",
            "model_card": "govern.model_card",
            "model_card_json": "govern.model_card_json",
            "provenance": "govern.provenance",
            "governance_report": "govern.governance_report",
            "governance_html": "govern.governance_html",
            "datasheet": "govern.datasheet",
            "technical_file": "govern.technical_file",
            "raw_data": "ingest.raw_data",
            "predictions": "evaluate.predictions",
        },
        "when": "inputs.parameter_values['pipelinechannel--govern-Output'] == 'pass'",
    },
}

# The artifact types of every component's inputs and outputs.
TYPES = {
    "ingest": {"raw_data": "Dataset"},
    "validate-data": {"raw_data": "Dataset", "validation_report": "Artifact"},
    "train": {"raw_data": "Dataset", "model": "Model", "footprint": "Artifact"},
    "evaluate": {"raw_data": "Dataset", "model": "Model", "metrics": "Metrics", "predictions": "Dataset"},
    "govern": {
        "raw_data": "Dataset",
        "validation_report": "Artifact",
        "model": "Model",
        "footprint": "Artifact",
        "metrics": "Metrics",
        "predictions": "Dataset",
        "governance_report": "Artifact",
        "governance_html": "HTML",
        "model_card": "Markdown",
        "model_card_json": "Artifact",
        "provenance": "Artifact",
        "datasheet": "Markdown",
        "technical_file": "HTML",
    },
    "package": {
        "model": "Model",
        "model_card": "Markdown",
        "model_card_json": "Artifact",
        "provenance": "Artifact",
        "governance_report": "Artifact",
        "governance_html": "HTML",
        "datasheet": "Markdown",
        "technical_file": "HTML",
        "raw_data": "Dataset",
        "predictions": "Dataset",
        "release": "Artifact",
    },
}


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def run_cli(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """The CLI in a fresh process, with HOME in the scratch folder (kfp.Client writes there)."""
    env = {**os.environ, "HOME": str(workdir), "PYTHONPATH": str(SOURCE)}
    command = [sys.executable, "-m", "{{ cookiecutter.package_name }}", *args]
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)


def wiring(spec: dict) -> dict:
    """Each executor task of the IR: what it waits for, its input artifacts' producers, its condition."""
    tasks = {}

    def walk(dag: dict, channels: dict, when: str | None) -> None:
        for name, task in dag["tasks"].items():
            inputs = {}
            for key, source in task.get("inputs", {}).get("artifacts", {}).items():
                if "taskOutputArtifact" in source:
                    output = source["taskOutputArtifact"]
                    inputs[key] = f"{output['producerTask']}.{output['outputArtifactKey']}"
                else:
                    inputs[key] = channels[source["componentInputArtifact"]]
            component = spec["components"][task["componentRef"]["name"]]
            if "dag" in component:  # a dsl.If group: its tasks run under its condition
                walk(component["dag"], inputs, task["triggerPolicy"]["condition"])
            else:
                after = sorted(task.get("dependentTasks", []))
                tasks[name] = {"after": after, "inputs": inputs, "when": when}

    walk(spec["root"]["dag"], {}, None)
    return tasks


def artifact_types(spec: dict) -> dict:
    found = {}
    for name, component in spec["components"].items():
        if "executorLabel" not in component:
            continue
        types = {}
        for section in ("inputDefinitions", "outputDefinitions"):
            for key, value in component.get(section, {}).get("artifacts", {}).items():
                types[key] = value["artifactType"]["schemaTitle"].removeprefix("system.")
        found[name.removeprefix("comp-")] = types
    return found


@pytest.fixture
def compiled(workdir) -> Path:
    result = invoke("compile", "--output", "ir/pipeline.yaml")
    assert result.exit_code == 0, result.output
    return workdir / "ir/pipeline.yaml"


def documents(compiled: Path) -> tuple[dict, dict]:
    """The compiled file's pipeline spec and platform (Kubernetes) spec."""
    pipeline, platform = yaml.safe_load_all(compiled.read_text())
    return pipeline, platform


def test_compiled_ir_loads_back_with_kfp(compiled, settings, policy):
    # when kfp reads the IR it wrote
    loaded = components.load_component_from_file(str(compiled))
    # then it is the project's pipeline, and its parameters default to params.yaml and the policy
    assert loaded.name == "{{ cookiecutter.project_slug }}", loaded.name
    defaults = {name: spec.default for name, spec in loaded.component_spec.inputs.items()}
    assert defaults == pipeline_arguments(settings, policy), "parameters are not params.yaml + policy"
    assert json.loads(defaults["params"])["data"]["seed"] == settings.data.seed


def test_compiled_ir_matches_the_golden_wiring_and_types(compiled):
    spec, _ = documents(compiled)
    assert wiring(spec) == WIRING, "the pipeline's wiring changed"
    assert artifact_types(spec) == TYPES, "a component's artifact types changed"


def test_every_component_runs_the_project_image_with_the_pipeline_parameters(compiled):
    spec, _ = documents(compiled)
    executors = spec["deploymentSpec"]["executors"]
    assert len(executors) == 6, sorted(executors)
    for name, executor in executors.items():
        container = executor["container"]
        assert container["image"] == IMAGE, f"{name} runs {container['image']}"
        assert "pip install" not in " ".join(container["command"]), f"{name} installs packages at run time"
    for component in spec["components"].values():
        if "executorLabel" in component:
            assert set(component["inputDefinitions"]["parameters"]) == {"params", "policy", "run_id"}


def test_every_task_asks_for_requests_and_limits{% if cookiecutter.orchestrators != "kfp" %}_as_the_tekton_step_task_does{% endif %}(compiled):
    spec, _ = documents(compiled)
{%- if cookiecutter.orchestrators != "kfp" %}
    step = yaml.safe_load((SOURCE.parent / "tekton/tasks/ml-step.yaml").read_text())
    (tekton,) = [s["computeResources"] for s in step["spec"]["steps"] if "computeResources" in s]
    wanted = {
        "resourceCpuRequest": tekton["requests"]["cpu"],
        "resourceMemoryRequest": tekton["requests"]["memory"],
        "resourceCpuLimit": tekton["limits"]["cpu"],
        "resourceMemoryLimit": tekton["limits"]["memory"],
    }
{%- else %}
    wanted = {"resourceCpuRequest", "resourceMemoryRequest", "resourceCpuLimit", "resourceMemoryLimit"}
{%- endif %}
    for name, executor in spec["deploymentSpec"]["executors"].items():
        resources = executor["container"].get("resources", {})
{%- if cookiecutter.orchestrators != "kfp" %}
        assert {key: resources.get(key) for key in wanted} == wanted, f"{name}: {resources}"
{%- else %}
        assert wanted <= set(resources), f"{name} lacks requests or limits: {resources}"
{%- endif %}


def test_every_step_task_retries_a_failed_pod(compiled):
    spec, _ = documents(compiled)
    dags = [spec["root"]["dag"]] + [c["dag"] for c in spec["components"].values() if "dag" in c]
    steps = {
        name: task
        for dag in dags
        for name, task in dag["tasks"].items()
        if "executorLabel" in spec["components"][task["componentRef"]["name"]]
    }
    assert len(steps) == 6, sorted(steps)
    for name, task in steps.items():
        retry = task.get("retryPolicy", {})
        assert retry.get("maxRetryCount") == RETRIES, f"{name}: {retry}"


def test_every_task_reads_its_cluster_settings_as_env_from_optional_configmaps_and_secrets(compiled):
    _, platform = documents(compiled)
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert len(executors) == 6, sorted(executors)
    for name, config in executors.items():
        assert all(c.get("optional") for c in config["configMapAsEnv"] + config["secretAsEnv"]), name
        maps = {c["configMapName"]: {k["envVar"] for k in c["keyToEnv"]} for c in config["configMapAsEnv"]}
        secrets = {c["secretName"]: {k["envVar"] for k in c["keyToEnv"]} for c in config["secretAsEnv"]}
        assert maps == {n: set(keys) for n, (keys, _) in CLUSTER_ENV.items()}, name
        assert secrets == {n: set(keys) for n, (_, keys) in CLUSTER_ENV.items()}, name
        assert "OPENLINEAGE__TRANSPORT__URL" in maps["{{ cookiecutter.project_slug }}-lineage"]
{%- if cookiecutter.experiment_tracking == "mlflow" %}
        assert "MLFLOW_TRACKING_URI" in maps["{{ cookiecutter.project_slug }}-tracking"]
        assert "MLFLOW_TRACKING_TOKEN" in secrets["{{ cookiecutter.project_slug }}-tracking"]
{%- endif %}

{%- if cookiecutter.orchestrators == "tekton-and-kfp" %}


def test_kfp_tasks_ask_for_every_setting_the_tekton_configmaps_hold():
    # one set of ConfigMaps serves both orchestrators: a key only Tekton reads would be lost in KFP
    tekton = Path(__file__).resolve().parents[1] / "tekton"
    documents = (yaml.safe_load(path.read_text()) for path in tekton.glob("*-config.yaml"))
    held = {document["metadata"]["name"]: set(document["data"]) for document in documents}
    for name, (settings, _) in CLUSTER_ENV.items():
        assert held[name] <= set(settings), f"{name}: KFP tasks never read {held[name] - set(settings)}"
{%- endif %}


@pytest.mark.slow  # a fresh interpreter (make test-all, CI)
def test_compile_gives_the_same_bytes_every_time(workdir, compiled):
    # given the IR compiled in this process; when a fresh process compiles it again
    result = run_cli(workdir, "compile", "--output", "again.yaml")
    assert result.returncode == 0, result.stderr
    # then the files are identical, byte for byte
    assert (workdir / "again.yaml").read_bytes() == compiled.read_bytes(), "compile is not deterministic"


def test_compile_refuses_an_output_that_is_not_yaml(workdir):
    result = CliRunner().invoke(cli, ["compile", "--output", "pipeline.json"])
    assert result.exit_code == 2, result.output
    assert ".yaml" in result.output and "Traceback" not in result.output


@pytest.mark.slow  # kfp.local: a subprocess per step (make test-all, CI)
def test_kfp_local_run_gives_the_same_metrics_and_release_as_the_local_runner(kfp_local_run):
    # given the local runner's results for the default seed, and the same pipeline run
    # through kfp.local in the same folder (conftest)
    folder, result = kfp_local_run
    local_metrics = json.loads((folder / "artifacts/metrics/metrics.json").read_text())
    (local_version,) = [p for p in (folder / "artifacts/releases").iterdir() if p.is_dir()]
    local_release = sorted(p.name for p in local_version.iterdir())
    # then kfp.local says where its outputs went, and they match
    assert result.exit_code == 0, result.output
    assert "outputs:" in result.output and "artifacts/kfp/" in result.output, result.output
    run = next(p for p in (folder / "artifacts/kfp").iterdir() if p.is_dir())
    kfp_metrics = json.loads((run / "evaluate/metrics").read_text())
    assert kfp_metrics == local_metrics, "kfp-local metrics differ from the local runner's"
    logged = json.loads((run / "evaluate/executor_output.json").read_text())
    logged = logged["artifacts"]["metrics"]["artifacts"][0]["metadata"]
    assert logged["roc_auc"] == local_metrics["roc_auc"], "the Metrics artifact lacks the values"
    (kfp_version,) = [p for p in (run / "package/release").iterdir() if p.is_dir()]
    assert sorted(p.name for p in kfp_version.iterdir()) == local_release
    provenance = json.loads((kfp_version / "provenance.json").read_text())
    assert "KFP" in json.dumps(provenance), "provenance does not say KFP ran the steps"


@pytest.mark.slow  # kfp.local: a subprocess per step (make test-all, CI)
def test_kfp_local_skips_package_when_the_gate_fails(workdir):
    # given a policy no model can pass
    policy = yaml.safe_load((workdir / "governance/policy.yaml").read_text())
    policy["performance"]["roc_auc"] = {"min": 0.999}
    (workdir / "governance/policy.yaml").write_text(yaml.safe_dump(policy))
    # when the pipeline runs through kfp.local
    result = CliRunner().invoke(cli, ["run", "--engine", "kfp-local"])
    # then govern routes to "fail": package never runs, and the failed gate is one line, exit 2
    assert result.exit_code == 2, result.output
    assert "verdict=fail" in result.output and "roc_auc" in result.output, result.output
    run = next(p for p in (workdir / "artifacts/kfp").iterdir() if p.is_dir())
    assert (run / "govern/governance_html").is_file(), "the evidence of the failed gate is missing"
    assert not (run / "package").exists(), "package ran although the gate failed"


@pytest.mark.slow  # kfp.local: a subprocess per step (make test-all, CI)
def test_kfp_local_step_error_is_one_line(workdir):
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params["data"]["source"] = "missing.csv"
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    result = CliRunner().invoke(cli, ["run", "--engine", "kfp-local"])
    assert result.exit_code == 2, result.output
    assert "task ingest failed: data.source missing.csv is not a file" in result.output, result.output
    # a failure on this machine is not a lost pod: it is not retried (the cluster's RETRIES)
    log = (workdir / "artifacts" / "kfp" / "kfp-local.log").read_text()
    assert "Retrying in" not in log and log.count("Executing task") == 1, log[-2000:]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow  # a fresh interpreter (make test-all, CI)
def test_submit_to_a_closed_port_is_one_line_and_exit_2(workdir, compiled):
    host = f"http://127.0.0.1:{closed_port()}"
    result = run_cli(workdir, "submit", "--host", host, "--package", str(compiled))
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip() == f"Error: cannot reach Kubeflow Pipelines at {host}: Connection refused"


class FakeKfp(BaseHTTPRequestHandler):
    """Just enough of the KFP v2beta1 API for kfp.Client to submit a run; or, as_kfp=False, a 404 site."""

    as_kfp = True
    received: list = []

    def reply(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):  # noqa: N802 - the http.server API
        if not self.as_kfp:
            self.reply(404, {"error": "not found"})
        elif self.path.startswith("/apis/v2beta1/healthz"):
            self.reply(200, {"multi_user": False})
        else:
            self.reply(200, {"experiments": [], "total_size": 0})

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((self.path, body))
        if not self.as_kfp:
            self.reply(404, {"error": "not found"})
        elif self.path.startswith("/apis/v2beta1/experiments"):
            self.reply(200, {**body, "experiment_id": "exp-1"})
        else:
            self.reply(200, {**body, "run_id": "run-1", "experiment_id": "exp-1"})

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_kfp():
    def start(as_kfp: bool) -> str:
        handler = type("Handler", (FakeKfp,), {"as_kfp": as_kfp, "received": []})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append((server, handler))
        return f"http://127.0.0.1:{server.server_address[1]}"

    servers = []
    yield start, servers
    for server, _ in servers:
        server.shutdown()


@pytest.mark.slow  # a fresh interpreter (make test-all, CI)
def test_submit_sends_the_compiled_pipeline_to_the_kfp_api(workdir, compiled, fake_kfp):
    start, servers = fake_kfp
    host = start(as_kfp=True)
    result = run_cli(workdir, "submit", "--host", host, "--package", str(compiled), "--experiment", "demo")
    assert result.returncode == 0, result.stderr
    assert "run run-1 in experiment demo" in result.stdout, result.stdout
    runs = [body for path, body in servers[0][1].received if path.startswith("/apis/v2beta1/runs")]
    assert len(runs) == 1, servers[0][1].received
    sent = runs[0]["pipeline_spec"]  # with a platform spec, kfp sends both under this key
    assert sent["pipeline_spec"]["pipelineInfo"]["name"] == "{{ cookiecutter.project_slug }}"
    pipeline, platform = documents(compiled)
    assert sent["pipeline_spec"] == pipeline, "the submitted spec is not the compiled IR"
    assert sent["platform_spec"] == platform, "the tasks' env did not reach the KFP API"


@pytest.mark.slow  # a fresh interpreter (make test-all, CI)
def test_submit_to_something_that_is_not_kfp_is_one_line_and_exit_2(workdir, compiled, fake_kfp):
    start, _ = fake_kfp
    host = start(as_kfp=False)
    result = run_cli(workdir, "submit", "--host", host, "--package", str(compiled))
    assert result.returncode == 2, result
    assert result.stderr.strip().startswith(f"Error: {host} answered HTTP 404"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_task_rebuilds_settings_policy_and_run_context_from_the_parameters(settings, policy):
    from {{ cookiecutter.package_name }}.context import ORCHESTRATOR_ENV, PARENT_RUN_ENV
    from {{ cookiecutter.package_name }}.lineage import as_run_id
    from {{ cookiecutter.package_name }}.pipelines.kfp_task import task_inputs

    # given the pipeline parameters compiled from params.yaml and the policy
    arguments = pipeline_arguments(load_settings(), load_policy())
    # when a task rebuilds its inputs, inside pipeline run "run-1"
    rebuilt_settings, rebuilt_policy, context = task_inputs(arguments["params"], arguments["policy"], "run-1")
    # then settings and policy are the same, the context names KFP and the run, and no env was written
    assert rebuilt_settings.data == settings.data and rebuilt_settings.model == settings.model
    assert rebuilt_policy == policy
    assert (context.orchestrator, context.parent_run_id) == ("KFP", as_run_id("run-1")), context
    assert ORCHESTRATOR_ENV not in os.environ and PARENT_RUN_ENV not in os.environ, "a task wrote env"


# --- the retrain loop: the monitoring pipeline and its recurring run ---


def test_monitoring_pipeline_monitors_the_imported_release_and_log_then_trains_only_on_a_failed_gate(
    workdir, settings, policy
):
    from {{ cookiecutter.package_name }}.pipelines.kfp_monitoring import compile_monitoring

    # when the monitoring pipeline compiles
    spec, _ = documents(compile_monitoring(settings, policy, workdir / "monitor.yaml"))
    tasks = spec["root"]["dag"]["tasks"]
    # then it imports release and log, monitors them, and nests the training pipeline under a condition
    monitor = tasks["monitor"]
    sources = {n: a["taskOutputArtifact"]["producerTask"] for n, a in monitor["inputs"]["artifacts"].items()}
    assert sources == {"release": "importer", "inference_log": "importer-2"}, sources
    (condition,) = [t for t in tasks.values() if "triggerPolicy" in t]
    assert condition["triggerPolicy"]["condition"] == (
        "inputs.parameter_values['pipelinechannel--monitor-Output'] == 'true'"
    ), condition
    nested = spec["components"][condition["componentRef"]["name"]]["dag"]["tasks"]
    assert list(nested) == ["{{ cookiecutter.project_slug }}"], f"the condition runs {nested}, not training"


def test_schedule_monitor_creates_a_recurring_run_with_the_uris(workdir, settings, policy):
    from {{ cookiecutter.package_name }}.pipelines.kfp_monitoring import compile_monitoring, schedule

    class Client:
        def create_experiment(self, name):
            self.experiment = name
            return type("Experiment", (), {"experiment_id": "exp-1"})()

        def create_recurring_run(self, **kwargs):
            self.kwargs = kwargs
            return type("Job", (), {"recurring_run_id": "job-1"})()

    package = compile_monitoring(settings, policy, workdir / "monitor.yaml")
    client = Client()
    # when the monitoring pipeline is scheduled daily at 06:00
    uris = ("s3://models/current", "s3://logs/inference.jsonl")
    job = schedule(package, "http://kfp", "0 6 * * *", "exp", *uris, client)
    # then KFP gets a six-field cron, the package, the URIs, and one run at a time
    assert job == "job-1"
    assert client.kwargs["cron_expression"] == "0 0 6 * * *", client.kwargs
    assert client.kwargs["params"] == {
        "release_uri": "s3://models/current",
        "inference_log_uri": "s3://logs/inference.jsonl",
    }
    assert client.kwargs["max_concurrency"] == 1 and client.kwargs["experiment_id"] == "exp-1"


def test_schedule_monitor_refuses_a_local_path_as_a_uri(workdir):
    result = invoke(
        "schedule-monitor", "--host", "http://kfp", "--release-uri", "artifacts/release", "--log-uri", "x"
    )
    assert result.exit_code == 2 and "--release-uri" in result.output, result.output
