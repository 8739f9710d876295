"""Tekton manifests stay in step with the code: step order, path defaults, kustomization."""

from pathlib import Path

import yaml

from {{ cookiecutter.package_name }}.cli import cli
from {{ cookiecutter.package_name }}.steps import STEPS

ROOT = Path(__file__).resolve().parents[1]
TEKTON = ROOT / "tekton"


def load(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def tasks() -> dict[str, dict]:
    return {
        doc["metadata"]["name"]: doc
        for path in sorted((TEKTON / "tasks").glob("*.yaml"))
        for doc in load(path)
        if doc["kind"] == "Task"
    }


def test_every_step_has_a_task_and_the_pipeline_runs_them_in_order():
    pipeline = load(TEKTON / "pipeline.yaml")[0]
    order = [task["taskRef"].get("name") for task in pipeline["spec"]["tasks"]]
    steps = [step.name for step in STEPS]
    assert set(steps) <= set(tasks()), f"steps without a Task: {set(steps) - set(tasks())}"
    ran = [name for name in order if name in steps]
    assert ran == steps, f"the pipeline runs {ran}, the steps are {steps}"


def test_task_path_defaults_match_params_yaml():
    # Given the paths in params.yaml, when a Task passes a path param to its step,
    # then its default is the same path (so the cluster writes what make run writes).
    paths = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))["paths"]
    for step in STEPS:
        params = {p["name"]: p.get("default") for p in tasks()[step.name]["spec"]["params"]}
        for field in dict.fromkeys(step.inputs + step.outputs):
            name = field.replace("_", "-")
            assert params.get(name) == str(paths[field]), f"{step.name}: param {name} != params.yaml"


def test_task_scripts_call_options_the_cli_has():
    for step in STEPS:
        command = cli.commands[step.name]
        options = {opt for param in command.params for opt in param.opts}
        script = tasks()[step.name]["spec"]["steps"][0]["script"]
        used = {
            word for word in script.split() if word.startswith("--") and word not in ("--params", "--policy")
        }
        assert used <= options, f"{step.name}: the CLI has no {sorted(used - options)}"


def test_kustomization_lists_every_manifest():
    listed = set(load(TEKTON / "kustomization.yaml")[0]["resources"])
    present = {
        path.relative_to(TEKTON).as_posix()
        for path in TEKTON.rglob("*.yaml")
        if path.name not in ("kustomization.yaml", "pipelinerun.yaml")  # runs are created, not applied
    }
    assert listed == present, f"missing: {sorted(present - listed)}; stale: {sorted(listed - present)}"
