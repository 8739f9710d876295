"""Tekton manifests stay in step with the code: step order, paths, commands, kustomization."""

import re
from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }}.cli import cli
from {{ cookiecutter.package_name }}.pipelines.tekton_step import RESULTS
from {{ cookiecutter.package_name }}.steps import STEPS

ROOT = Path(__file__).resolve().parents[1]
TEKTON = ROOT / "tekton"
# Applied by hand or by tkn, not by `kubectl apply -k tekton/`.
NOT_APPLIED = {"kustomization.yaml", "pipelinerun.yaml", "rollback-run.yaml", "workspace-template.yaml"}


def load(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def tasks() -> dict[str, dict]:
    return {
        doc["metadata"]["name"]: doc
        for path in sorted((TEKTON / "tasks").glob("*.yaml"))
        for doc in load(path)
        if doc["kind"] == "Task"
    }


def scripts():
    for name, task in tasks().items():
        for step in task["spec"]["steps"]:
            if "script" in step:
                yield f"{name}/{step['name']}", step["script"]


def step_tasks(pipeline: dict) -> list[tuple[str, str]]:
    """(pipeline task name, step) for every pipeline task that runs the ml-step Task."""
    return [
        (task["name"], next(p["value"] for p in task["params"] if p["name"] == "step"))
        for task in pipeline["spec"]["tasks"]
        if task["taskRef"].get("name") == "ml-step"
    ]


def test_the_pipeline_runs_every_step_in_order_through_the_one_step_task():
    # given the steps in pipeline order
    steps = [step.name for step in STEPS]
    # then the Pipeline runs each once, in that order, through ml-step
    ran = [step for _, step in step_tasks(load(TEKTON / "pipeline.yaml")[0])]
    assert ran == steps, f"the pipeline runs {ran}, the steps are {steps}"


def test_the_step_task_declares_exactly_the_results_its_steps_write():
    # given the results tekton_step.py writes per step
    written = {result.name for results in RESULTS.values() for result in results}
    spec = tasks()["ml-step"]["spec"]
    declared = {result["name"] for result in spec["results"]}
    # then the Task declares exactly those, and passes each one's path in the env the code reads
    assert declared == written, f"declared only: {declared - written}; written only: {written - declared}"
    env = {item["name"]: item["value"] for item in spec["steps"][0]["env"]}
    for results in RESULTS.values():
        for result in results:
            assert env.get(result.env) == f"$(results.{result.name}.path)", f"{result.env} not passed"
    assert set(RESULTS) == {step.name for step in STEPS}, "a step has no entry in RESULTS"


def test_the_pipeline_reads_only_results_the_step_writes():
    # given which step each pipeline task runs
    pipeline = load(TEKTON / "pipeline.yaml")[0]
    step_of = dict(step_tasks(pipeline))
    # when the Pipeline references a result of one of them
    text = (TEKTON / "pipeline.yaml").read_text(encoding="utf-8")
    for task, result in re.findall(r"\$\(tasks\.([a-z-]+)\.results\.([a-z-]+)\)", text):
        if task in step_of:
            # then that step writes it
            names = {r.name for r in RESULTS[step_of[task]]}
            assert result in names, f"the pipeline reads {task}.{result}; {step_of[task]} writes {names}"


def test_task_scripts_use_the_paths_in_params_yaml():
    # Given the output paths in params.yaml, a path a Task script names itself
    # (a digest, the verdict, the release) is one of them: edit both together.
    paths = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))["paths"]
    known = {str(path).rstrip("/") for path in paths.values()}
{%- if cookiecutter.orchestrators == "tekton-and-kfp" %}
    known.add("artifacts/kfp/pipeline.yaml")  # where the submit Task compiles to
{%- endif %}
    for where, script in scripts():
        for path in re.findall(r"artifacts/[\w./-]*\w", script):
            assert path.removesuffix("/.") in known, f"{where}: {path} is not a path in params.yaml"


def test_task_scripts_call_commands_the_cli_has():
    for where, script in scripts():
        for command in re.findall(r"\b{{ cookiecutter.project_slug }} ([a-z][a-z-]*)", script):
            assert command in cli.commands, f"{where}: the CLI has no command {command!r}"


def test_kustomization_lists_every_manifest():
    listed = set(load(TEKTON / "kustomization.yaml")[0]["resources"])
    present = {
        path.relative_to(TEKTON).as_posix() for path in TEKTON.rglob("*.yaml") if path.name not in NOT_APPLIED
    }
    assert listed == present, f"missing: {sorted(present - listed)}; stale: {sorted(listed - present)}"


def test_every_loop_event_has_a_trigger_and_the_cronjob_sends_monitor():
    from {{ cookiecutter.package_name }}.pipelines.trigger import EVENTS

    # given the EventListener and the monitoring CronJob
    listener = load(TEKTON / "triggers/eventlistener.yaml")[0]
    accepted = {}
    for trigger in listener["spec"]["triggers"]:
        for interceptor in trigger["interceptors"]:
            if interceptor["ref"]["name"] == "github":
                types = {p["name"]: p["value"] for p in interceptor["params"]}["eventTypes"]
                accepted.update(dict.fromkeys(types, trigger["template"]["ref"]))
        kinds = {i["ref"]["name"] for i in trigger["interceptors"]}
        assert "cel" in kinds, f"{trigger['name']}: no branch filter"
    # then each event the trigger command sends starts a pipeline, checked against the webhook secret
    assert set(EVENTS) <= set(accepted), accepted
    assert accepted["retrain"] == accepted["push"], "retrain does not start the training pipeline"
    (cronjob,) = load(TEKTON / "monitor-cronjob.yaml")
    (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["command"][1:] == ["trigger", "monitor"], container["command"]
    assert cronjob["spec"]["suspend"] is True, "the CronJob runs before GIT_URL is set"


def test_trigger_signs_the_event_as_the_github_interceptor_checks():
    import hashlib
    import hmac
    import http.server
    import threading

    from {{ cookiecutter.package_name }}.pipelines.trigger import send

    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            length = int(self.headers["Content-Length"])
            headers = self.headers
            seen.append((headers["X-GitHub-Event"], headers["X-Hub-Signature-256"], self.rfile.read(length)))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        # when a retrain event is sent
        url = f"http://127.0.0.1:{server.server_port}"
        status = send(url, "retrain", "https://git.example.com/x.git", "main", "tok")
    finally:
        server.shutdown()
    # then the listener gets the event type and an HMAC-SHA256 of the body under the shared token
    ((event, signature, body),) = seen
    assert status == 202 and event == "retrain"
    assert signature == "sha256=" + hmac.new(b"tok", body, hashlib.sha256).hexdigest(), signature


def test_only_package_is_given_the_signing_secret_and_only_deploy_the_trusted_key():
    from {{ cookiecutter.package_name }}.project import SLUG

    # given the Pipeline and the runs that start it (the example run, the trigger's)
    pipeline = load(TEKTON / "pipeline.yaml")[0]
    bound = {
        task["name"]: {b["workspace"] for b in task.get("workspaces", [])}
        for task in pipeline["spec"]["tasks"] + pipeline["spec"].get("finally", [])
    }
    # then the private key reaches package alone, the public one deploy alone
    assert [name for name, names in bound.items() if "signing-key" in names] == ["package"], bound
    assert [name for name, names in bound.items() if "signing-pub" in names] == ["deploy"], bound
    declared = {w["name"]: w for w in tasks()["ml-step"]["spec"]["workspaces"]}
    assert declared["signing-key"].get("optional") and declared["signing-key"].get("readOnly"), declared
    for name, task in tasks().items():
        if name != "ml-step":
            assert "signing-key" not in {w["name"] for w in task["spec"].get("workspaces", [])}, name
    # and every run binds them to the Secret and the ConfigMap make cluster-signing-key creates
    runs = (
        load(TEKTON / "pipelinerun.yaml")
        + load(TEKTON / "triggers/template.yaml")[0]["spec"]["resourcetemplates"]
    )
    for run in runs:
        workspaces = {w["name"]: w for w in run["spec"]["workspaces"]}
        assert workspaces["signing-key"]["secret"]["secretName"] == f"{SLUG}-signing", run["metadata"]
        assert workspaces["signing-pub"]["configMap"]["name"] == f"{SLUG}-signing-pub", run["metadata"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"create secret generic {SLUG}-signing " in makefile and f"{SLUG}-signing-pub" in makefile


def governed(settings, policy):
    from conftest import prepare
    from {{ cookiecutter.package_name }}.steps import run_step

    prepare(settings, policy)
    run_step("govern", settings, policy)


def test_package_step_signs_with_the_key_in_the_signing_workspace(settings, policy, tmp_path):
    from {{ cookiecutter.package_name }}.context import RunContext
    from {{ cookiecutter.package_name }}.errors import ProjectError
    from {{ cookiecutter.package_name }}.pipelines.tekton_step import SIGNING_KEY_FILE, run
    from {{ cookiecutter.package_name }}.supply_chain import verify_release
    from {{ cookiecutter.package_name }}.supply_chain.dsse import load_or_create_key

    # given a governed run and the Secret's folder (both halves), as the signing-key workspace
    governed(settings, policy)
    secret = tmp_path / "signing-key"
    load_or_create_key(secret / SIGNING_KEY_FILE)
    other = tmp_path / "other"
    load_or_create_key(other / SIGNING_KEY_FILE)
    environ = {"SIGNING_KEY_BOUND": "true", "SIGNING_KEY_PATH": str(secret)}
    # when the package step runs as the Task runs it
    summary = run("package", settings, policy, RunContext.from_environment(settings), environ)
    # then the release verifies with the Secret's public half and not with another key,
    # and no key was made in the checkout
    release = Path(summary["release"])
    verify_release(release, secret / "release-signing.pub")
    with pytest.raises(ProjectError, match="signature does not verify"):
        verify_release(release, other / "release-signing.pub")
    assert not settings.supply_chain.signing_key.exists(), "package made a key of its own"


def test_package_step_without_the_secret_warns_in_one_line_and_a_bound_empty_one_fails(
    settings, policy, tmp_path, capsys
):
    from {{ cookiecutter.package_name }}.context import RunContext
    from {{ cookiecutter.package_name }}.errors import ProjectError
    from {{ cookiecutter.package_name }}.pipelines.tekton_step import run

    governed(settings, policy)
    capsys.readouterr()
    context = RunContext.from_environment(settings)
    # when the Secret is bound but holds no key: one line naming what to do, nothing released
    with pytest.raises(ProjectError, match="make cluster-signing-key") as failed:
        run(
            "package",
            settings,
            policy,
            context,
            {"SIGNING_KEY_BOUND": "true", "SIGNING_KEY_PATH": str(tmp_path)},
        )
    assert "\n" not in str(failed.value)
    # when it is not bound: today's local key, and one warning line that says so
    run("package", settings, policy, context, {"SIGNING_KEY_BOUND": "false", "SIGNING_KEY_PATH": ""})
    warned = [line for line in capsys.readouterr().err.splitlines() if "signing-key" in line]
    assert len(warned) == 1 and "deploy will not trust" in warned[0], warned
    assert settings.supply_chain.signing_key.is_file()
