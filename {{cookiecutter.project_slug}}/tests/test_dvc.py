"""dvc.yaml stays in step with the pipeline: same commands, same files, real params.

`dvc repro` itself needs a git repository; these checks catch the drift that
would make it run the wrong thing (a renamed step, a moved output, a param
that no longer exists).
"""

from pathlib import Path

import yaml

from {{ cookiecutter.package_name }}.settings import Settings, load_settings
from {{ cookiecutter.package_name }}.steps import STEPS

PROJECT = Path(__file__).resolve().parents[1]
COMMAND = "{{ cookiecutter.project_slug }}"


def dvc_stages() -> dict:
    return yaml.safe_load((PROJECT / "dvc.yaml").read_text())["stages"]


def paths_of(entries) -> set[str]:
    return {next(iter(e)) if isinstance(e, dict) else e for e in entries or []}


def test_every_step_is_a_stage_that_runs_its_cli_command():
    stages = dvc_stages()
    assert list(stages) == [step.name for step in STEPS], "stages differ from the pipeline's steps"
    for name, stage in stages.items():
        assert stage["cmd"] == f"{COMMAND} {name}", f"stage {name} runs {stage['cmd']!r}"


def test_stage_outs_and_deps_are_the_steps_paths_in_params_yaml():
    paths = load_settings(PROJECT / "params.yaml").paths
    for step, stage in zip(STEPS, dvc_stages().values(), strict=True):
        outs = paths_of(stage.get("outs")) | paths_of(stage.get("metrics"))
        for field in step.outputs:
            assert getattr(paths, field).as_posix() in outs, f"{step.name}: {field} is not a DVC out"
        deps = paths_of(stage.get("deps"))
        for field in step.inputs:
            assert getattr(paths, field).as_posix() in deps, f"{step.name}: {field} is not a DVC dep"


def test_stage_params_name_keys_of_params_yaml():
    params = yaml.safe_load((PROJECT / "params.yaml").read_text())
    Settings.model_validate(params)
    for name, stage in dvc_stages().items():
        for key in stage.get("params") or []:
            node = params
            for part in key.split("."):
                assert isinstance(node, dict) and part in node, f"stage {name}: no {key} in params.yaml"
                node = node[part]
