"""Tekton manifests stay in step with the code: step order, paths, commands, kustomization."""

import re
from pathlib import Path

import yaml

from {{ cookiecutter.package_name }}.cli import cli
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


def test_every_step_has_a_task_and_the_pipeline_runs_them_in_order():
    pipeline = load(TEKTON / "pipeline.yaml")[0]
    order = [task["taskRef"].get("name") for task in pipeline["spec"]["tasks"]]
    steps = [step.name for step in STEPS]
    assert set(steps) <= set(tasks()), f"steps without a Task: {set(steps) - set(tasks())}"
    ran = [name for name in order if name in steps]
    assert ran == steps, f"the pipeline runs {ran}, the steps are {steps}"


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
