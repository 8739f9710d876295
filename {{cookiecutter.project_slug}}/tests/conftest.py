"""Each test runs in its own folder with a copy of params.yaml and the policy."""

import shutil
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.governance.policy import load_policy
from {{ cookiecutter.package_name }}.settings import load_settings

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """A scratch project root: params.yaml, openlineage.yml and governance/ copied, cwd set to it."""
    shutil.copy(PROJECT / "params.yaml", tmp_path / "params.yaml")
    shutil.copy(PROJECT / "openlineage.yml", tmp_path / "openlineage.yml")
    shutil.copytree(PROJECT / "governance", tmp_path / "governance")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def settings(workdir):
    return load_settings()


@pytest.fixture
def policy(workdir):
    return load_policy()
