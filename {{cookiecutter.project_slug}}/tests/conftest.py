"""Each test runs in its own folder with a copy of params.yaml and the policy, and none
of the caller's lineage{% if cookiecutter.experiment_tracking == "mlflow" %} or tracking{% endif %} settings.

Two kinds of test: tests of the code (every file but test_contract.py) run on
the embedded sample, explicitly: `workdir` puts the sample's data lines and
schema into the copies, whatever data the project adopted with init-data.
Contract tests (test_contract.py) run on whatever params.yaml points at.
"""

import functools
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }} import sample_data{% if cookiecutter.experiment_tracking == "mlflow" %}, tracking{% endif %}
from {{ cookiecutter.package_name }}.context import ORCHESTRATOR_ENV, PARENT_RUN_ENV, RunContext
from {{ cookiecutter.package_name }}.governance.policy import load_policy
from {{ cookiecutter.package_name }}.pipelines.local import run_pipeline
from {{ cookiecutter.package_name }}.settings import PARAMS_ENV, load_settings, read_yaml
from {{ cookiecutter.package_name }}.steps import run_step

PROJECT = Path(__file__).resolve().parents[1]
# Variables that would send a test's runs to the caller's servers or change what runs.
CALLER_PREFIXES = ("OPENLINEAGE",{% if cookiecutter.experiment_tracking == "mlflow" %} "MLFLOW_"{% endif %})
CALLER_NAMES = {ORCHESTRATOR_ENV, PARAMS_ENV, PARENT_RUN_ENV}


def drop_caller_settings(patch: pytest.MonkeyPatch) -> None:
    """Unset, through `patch`, every variable of CALLER_PREFIXES and CALLER_NAMES."""
    for name in list(os.environ):
        if name.startswith(CALLER_PREFIXES) or name in CALLER_NAMES:
            patch.delenv(name)


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch):
    """A shell with OPENLINEAGE_URL{% if cookiecutter.experiment_tracking == "mlflow" %} or MLFLOW_TRACKING_URI{% endif %} set gets no test runs on its server."""
    drop_caller_settings(monkeypatch)


{% if cookiecutter.experiment_tracking == "mlflow" -%}
@pytest.fixture(scope="session")
def empty_mlflow_store(tmp_path_factory) -> Path:
    """A local MLflow store with its tables made, once a session: making them takes seconds."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture(scope="session", autouse=True)
def new_local_stores_are_copies(empty_mlflow_store):
    """A local store the project makes in this session starts as a copy of empty_mlflow_store:
    the same tables MLflow's migrations would make, without running them each time. For the
    whole session, so the session's own runs (released) get it too."""
    uri_of = tracking.tracking_uri

    def tracking_uri() -> str:
        store = tracking.LOCAL_DATABASE
        if not os.environ.get(tracking.URI_ENV) and store.parent.is_dir() and not store.exists():
            shutil.copyfile(empty_mlflow_store, store)
        return uri_of()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tracking, "tracking_uri", tracking_uri)
        yield


{% endif -%}
def copy_project(into: Path) -> Path:
    """params.yaml and governance/ copied into `into`, as they are; lineage to a file there.

    A test never sends events to the server openlineage.yml may name.
    """
    shutil.copy(PROJECT / "params.yaml", into / "params.yaml")
    shutil.copytree(PROJECT / "governance", into / "governance")
    transport = {"type": "file", "log_file_path": "artifacts/lineage/events.jsonl", "append": True}
    (into / "openlineage.yml").write_text(yaml.safe_dump({"transport": transport}))
    return into


def sample_project(into: Path) -> Path:
    """The project's settings and policy copied into `into`, set up for the embedded sample.

    The sample's data lines and schema, and the profile's own limits, so the
    tests that use it check the code, not the data the project adopted.
    """
    copy_project(into)
    params, policy = sample_settings_and_policy()
    (into / "params.yaml").write_text(params)
    (into / "governance/policy.yaml").write_text(policy)
    return into


@functools.cache
def sample_settings_and_policy() -> tuple[str, str]:
    """params.yaml and governance/policy.yaml as sample_project writes them (once a session)."""
    params = read_yaml((PROJECT / "params.yaml").read_text())
    params["data"].update(sample_data.SETTINGS)
    policy = read_yaml((PROJECT / "governance/policy.yaml").read_text())
    policy.update(data=sample_data.SCHEMA, performance={}, fairness={"gates": {}, "attributes": {}})
    return yaml.safe_dump(params, sort_keys=False), yaml.safe_dump(policy, sort_keys=False)


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """A scratch project root set up for the embedded sample (sample_project), cwd set to it."""
    sample_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    commit_if_required(tmp_path)
    return tmp_path


def commit_if_required(root: Path) -> None:
    """Commit `root` where its policy's provenance gate wants the source commit (strict)."""
    if load_policy(root / "governance/policy.yaml").provenance.source_commit_required and shutil.which("git"):
        commit_all(root)


def commit_all(root: Path) -> str:
    """Make `root` a git work tree with one commit of everything in it; return the commit."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout

    git("init", "-q")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--allow-empty", "-qm", "init")
    return git("rev-parse", "HEAD").strip()


def prepare(settings, policy) -> None:
    """Run every step up to govern."""
    for name in ("ingest", "validate-data", "train", "evaluate"):
        run_step(name, settings, policy)


def edit_policy(workdir: Path, change) -> None:
    """Rewrite the scratch policy through `change(policy_dict)`."""
    path = workdir / "governance/policy.yaml"
    policy = yaml.safe_load(path.read_text())
    change(policy)
    path.write_text(yaml.safe_dump(policy))


@pytest.fixture
def settings(workdir):
    return load_settings()


@pytest.fixture
def policy(workdir):
    return load_policy()


@contextmanager
def in_sample_project(folder: Path) -> Iterator[Path]:
    """What workdir does, for a fixture wider than one test: `folder` set up for the sample
    (sample_project), with none of the caller's settings, the working directory inside the block."""
    sample_project(folder)
    with pytest.MonkeyPatch.context() as patch:
        drop_caller_settings(patch)
        patch.chdir(folder)
        commit_if_required(folder)
        yield folder


@contextmanager
def released_in(folder: Path) -> Iterator[Path]:
    """`folder` set up for the sample (in_sample_project) and the pipeline run there once: one
    release, the champion. The working directory inside the block."""
    with in_sample_project(folder):
        settings = load_settings()
        run_pipeline(settings, load_policy(), RunContext.from_environment(settings))
        yield folder


@pytest.fixture(scope="session")
def released(tmp_path_factory) -> Path:
    """A project where the pipeline ran once per session on the default sample (released_in)."""
    with released_in(tmp_path_factory.mktemp("released")) as folder:
        return folder


@pytest.fixture
def project(released, tmp_path, monkeypatch) -> Path:
    """A private copy of the released project, as the working directory."""
    copy = tmp_path / "project"
    shutil.copytree(released, copy)
    monkeypatch.chdir(copy)
    return copy
{%- if cookiecutter.orchestrators != "tekton" %}
{%- if cookiecutter.experiment_tracking == "mlflow" %}


# The experiment kfp_local_run's kfp.local tasks track into (MLFLOW_EXPERIMENT_NAME).
KFP_EXPERIMENT = "kfp-experiment"
{%- endif %}


@pytest.fixture(scope="session")
def kfp_local_run(released, tmp_path_factory):
    """A copy of the released project (the local runner's run), where the same pipeline then
    runs through kfp.local: the folder and kfp.local's click Result. Once a session, since
    kfp.local starts a process per task; the tests of its run share it and only read it."""
    from click.testing import CliRunner

    from {{ cookiecutter.package_name }}.cli import cli

    folder = Path(shutil.copytree(released, tmp_path_factory.mktemp("kfp-local") / "project"))
    with pytest.MonkeyPatch.context() as patch:
        drop_caller_settings(patch)
        patch.chdir(folder)
{%- if cookiecutter.experiment_tracking == "mlflow" %}
        patch.setenv(tracking.EXPERIMENT_ENV, KFP_EXPERIMENT)
{%- endif %}
        return folder, CliRunner().invoke(cli, ["run", "--engine", "kfp-local"])
{%- endif %}
