"""The baked project works: its own tests pass and its pipeline runs end to end."""

import json
import subprocess
import sys
from importlib import metadata

import pytest
import tomllib
from conftest import CHOICES, WHOLE_SUITES, overlay_venv, run_in, run_project
from packaging.requirements import Requirement


def test_the_whole_suites_take_every_choice_of_every_option_but_the_licence():
    for option, values in CHOICES.items():
        if option != "license":
            assert {answers[option] for answers in WHOLE_SUITES.values()} == set(values), option


@pytest.mark.slow
def test_baked_project_tests_pass(bake, monkeypatch):
    # given the bake whose whole suite runs here (the others: conftest.WHOLE_SUITES)
    project = bake(**WHOLE_SUITES["options"])
    # from a shell set up for real servers (nothing listens on port 9): the baked tests
    # must neither send to them nor depend on them
    for name in ("OPENLINEAGE_URL", "MLFLOW_TRACKING_URI"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.setenv(f"{project.name.replace('-', '_').upper()}_PARENT_RUN_ID", "someone-elses-run")
    # when every test runs, the slow ones included (network tests need the package
    # index's audit service: CI runs them, not this suite), then all pass
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not network"]
    result = run_in(project, *command, check=False)
    assert result.returncode == 0, f"baked tests failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"


def test_run_writes_model_and_metrics(default_project):
    result = run_project(default_project, "run")
    assert "model:" in result.stdout and "metrics:" in result.stdout, result.stdout
    metrics = json.loads((default_project / "artifacts/metrics/metrics.json").read_text())
    assert metrics["roc_auc"] > 0.7, metrics
    assert (default_project / "artifacts/model/model.joblib").stat().st_size > 0


def test_step_error_is_one_line_and_exit_2(default_project):
    result = run_project(default_project, "evaluate", "--model", "nowhere.joblib", check=False)
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_this_environment_holds_every_dependency_a_project_can_have(bake):
    # A baked project's dependency missing from the template's `test` extra would
    # only surface on a fresh machine; catch it here.
    project = bake(orchestrators="tekton-and-kfp", experiment_tracking="mlflow", data_versioning="dvc")
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in meta["dependencies"] + meta["optional-dependencies"]["dev"]]
    missing = []
    for requirement in wanted:
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            missing.append(str(requirement))
            continue
        if not requirement.specifier.contains(version, prereleases=True):
            missing.append(f"{requirement} (have {version})")
    assert not missing, f"add to pyproject.toml [test]: {missing}"


@pytest.mark.slow
def test_baked_project_installs_with_pip_and_its_command_runs(default_project, tmp_path):
    # given a virtualenv that sees this session's packages (pip and setuptools
    # included) but not the project
    venv = overlay_venv(tmp_path / "venv")
    # when the project is installed the way its README says (its own pyproject)
    pip = [str(venv / "bin/python"), "-m", "pip", "install", "--quiet", "--no-build-isolation", "--no-deps"]
    subprocess.run([*pip, "-e", str(default_project)], check=True, capture_output=True)
    # then its console command runs the pipeline
    command = venv / "bin" / "mlops-demo"
    result = subprocess.run([str(command), "run"], cwd=default_project, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "roc_auc=" in result.stdout
