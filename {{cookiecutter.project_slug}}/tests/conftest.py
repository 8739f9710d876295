"""Each test runs in its own folder with a copy of params.yaml and the policy."""

import shutil
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.governance.policy import load_policy
from {{ cookiecutter.package_name }}.settings import load_settings

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """A scratch project root: params.yaml and governance/ copied, cwd set to it."""
    shutil.copy(PROJECT / "params.yaml", tmp_path / "params.yaml")
    shutil.copytree(PROJECT / "governance", tmp_path / "governance")
    monkeypatch.chdir(tmp_path)
    # lineage goes to a file inside the scratch root, whatever openlineage.yml says
    for name in ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG", "OPENLINEAGE_DISABLED", "OPENLINEAGE_NAMESPACE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", "artifacts/lineage/events.jsonl")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    return tmp_path


@pytest.fixture
def settings(workdir):
    return load_settings()


@pytest.fixture
def policy(workdir):
    return load_policy()
