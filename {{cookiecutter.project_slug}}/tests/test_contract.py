"""Contract tests: the data params.yaml points at, through the policy's gates.

These run on whatever the project has adopted (the embedded sample, or your
own table after `init-data`), in a scratch copy of params.yaml and the policy.
A failure names the gate or the data problem; fix the data, the model or, in
review, the policy, not this file. The tests of the code use the sample
explicitly (see conftest.py).
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from conftest import PROJECT, commit_if_required, copy_project
from {{ cookiecutter.package_name }}.errors import GateFailed, ProjectError
from {{ cookiecutter.package_name }}.governance.policy import load_policy, mismatches
from {{ cookiecutter.package_name }}.settings import load_settings
from {{ cookiecutter.package_name }}.steps import run_step


class Adopted:
    """The project's own settings in a scratch folder; each step runs once, on demand."""

    def __init__(self, root: Path):
        self.root = root
        self.summaries: dict = {}

    def run(self, *names: str) -> dict:
        settings = load_settings(self.root / "params.yaml")
        policy = load_policy(self.root / "governance/policy.yaml")
        cwd = os.getcwd()
        os.chdir(self.root)
        try:
            for name in names:
                if name not in self.summaries:
                    self.summaries[name] = run_step(name, settings, policy)
        finally:
            os.chdir(cwd)
        return self.summaries


@pytest.fixture(scope="module")
def adopted(tmp_path_factory) -> Adopted:
    root = copy_project(tmp_path_factory.mktemp("contract"))
    params = yaml.safe_load((root / "params.yaml").read_text())
    source = str(params["data"]["source"])
    if source != "sample" and not urlsplit(source).scheme and not Path(source).is_absolute():
        params["data"]["source"] = str(PROJECT / source)  # relative to the project, not the scratch copy
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    commit_if_required(root)
    return Adopted(root)


def test_params_and_policy_agree_on_the_columns():
    # given the project's params.yaml and policy
    settings, policy = load_settings(PROJECT / "params.yaml"), load_policy(PROJECT / "governance/policy.yaml")
    # then target, sensitive and excluded columns are in the schema, and gates name known attributes
    assert mismatches(policy, settings.data) == [], "params.yaml and governance/policy.yaml disagree"


def test_the_data_passes_its_schema(adopted):
    # when the adopted data is ingested and validated
    try:
        summary = adopted.run("ingest", "validate-data")["validate-data"]
    except ProjectError as exc:
        pytest.fail(f"the data fails validate-data:\n{exc}", pytrace=False)
    # then it is valid
    assert summary["valid"], summary["failures"]


def test_the_model_passes_every_governance_gate(adopted):
    # when the model is trained, evaluated and governed on the adopted data
    try:
        summary = adopted.run("ingest", "validate-data", "train", "evaluate", "govern")["govern"]
    except GateFailed as exc:
        pytest.fail(f"governance gate(s) failed:\n{exc}", pytrace=False)
    except ProjectError as exc:
        pytest.fail(f"the pipeline stopped before govern:\n{exc}", pytrace=False)
    # then the verdict is pass
    assert summary["verdict"] == "pass", summary["failed"]


def test_a_governed_model_is_released(adopted):
    # given a model that passed governance
    try:
        adopted.run("ingest", "validate-data", "train", "evaluate", "govern")
    except ProjectError:
        pytest.skip("governance did not pass: see test_the_model_passes_every_governance_gate")
    # when package runs, then the release holds the governed model
    release = adopted.run("package")["package"]
    assert "model.joblib" in release["files"], release
