"""Each preset in reference-docs/presets bakes with `cookiecutter --config-file` and works."""

import json
import subprocess
import sys

import pytest
import yaml
from conftest import CHOICES, TEMPLATE, run_in

PRESETS = sorted((TEMPLATE / "reference-docs" / "presets").glob("*.yaml"))
# The workshop lab bakes workshop-minimal the same way and runs its whole suite
# (tests/test_docs.py), so it is not baked again below.
BAKED_HERE = [preset for preset in PRESETS if preset.stem != "workshop-minimal"]


def test_the_four_presets_exist():
    names = {path.stem for path in PRESETS}
    assert names == {"full-reference", "kfp-on-tekton", "workshop-minimal", "governance-strict"}, names


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.stem)
def test_preset_names_only_real_options_and_choices(preset):
    context = yaml.safe_load(preset.read_text())["default_context"]
    for key, value in context.items():
        assert key in json.loads((TEMPLATE / "cookiecutter.json").read_text()), (
            f"{preset.name}: unknown {key}"
        )
        if key in CHOICES:
            assert value in CHOICES[key], f"{preset.name}: {key}={value} is not a choice"


@pytest.mark.slow
@pytest.mark.parametrize("preset", BAKED_HERE, ids=lambda p: p.stem)
def test_preset_bakes_and_its_pipeline_passes_its_contract(preset, tmp_path):
    # when the preset is baked the way its comment says
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            "--config-file",
            str(preset),
            "-o",
            str(tmp_path),
            str(TEMPLATE),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    (project,) = tmp_path.iterdir()
    answers = json.loads((project / ".cookiecutter.json").read_text())
    expected = yaml.safe_load(preset.read_text())["default_context"]
    assert {key: answers[key] for key in expected} == expected, "preset answers not applied"
    # then its contract tests (the pipeline end to end through every gate, on its own slug
    # and package) pass; the command line's tests run in the whole baked suites
    # (conftest.WHOLE_SUITES), which take every choice of every option
    command = ["pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow and not network"]
    command += ["tests/test_contract.py"]
    tests = run_in(project, sys.executable, "-m", *command, check=False)
    assert tests.returncode == 0, tests.stdout[-3000:]
