"""Bake the template and run what it made.

Baked projects are not installed one by one: their `src/` goes on PYTHONPATH
and they run with this session's interpreter, which already holds the union of
every optional dependency (pyproject.toml, `test` extra). One slow test does a
real `pip install` of a baked project.
"""

import itertools
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

TEMPLATE = Path(__file__).resolve().parents[1]
CONTEXT = json.loads((TEMPLATE / "cookiecutter.json").read_text())
CHOICES = {k: v for k, v in CONTEXT.items() if isinstance(v, list) and not k.startswith("_")}


# A whole baked suite is the slowest thing in this suite, so whole suites run for
# three configurations that between them take every choice of every option but the
# licence (it changes the LICENSE file alone; the pairwise bakes cover it), each
# where a promise needs the suite anyway.
WHOLE_SUITES = {
    # tests/test_generated_project.py, with the baked slow tests (kfp.local, serve as a process)
    "options": {
        "orchestrators": "tekton-and-kfp",
        "lineage_transport": "http",
        "experiment_tracking": "mlflow",
        "data_versioning": "dvc",
        "ci": "github-actions",
        "governance_profile": "strict",
    },
    # tests/test_own_data.py: the suite on a table the project adopted
    "own data": {
        "orchestrators": "kfp",
        "lineage_transport": "console",
        "experiment_tracking": "mlflow",
        "data_versioning": "none",
        "ci": "gitlab-ci",
        "governance_profile": "standard",
    },
    # tests/test_docs.py: the workshop lab runs `make test` as the guide says
    "workshop": {
        key: value
        for key, value in yaml.safe_load(
            (TEMPLATE / "reference-docs" / "presets" / "workshop-minimal.yaml").read_text()
        )["default_context"].items()
        if key in CHOICES
    },
}


def option_matrix() -> list[dict[str, str]]:
    """Few configurations in which every choice of every option appears once or more."""
    size = max(len(values) for values in CHOICES.values())
    cycles = {key: itertools.cycle(values) for key, values in CHOICES.items()}
    return [{key: next(cycle) for key, cycle in cycles.items()} for _ in range(size)]


def pairwise_matrix() -> list[dict[str, str]]:
    """Configurations in which every pair of values of any two options appears (greedy all-pairs)."""
    options = {**CHOICES, "python_version": ["3.10", "3.11", "3.12", "3.13"]}
    key_pairs = list(itertools.combinations(options, 2))

    def pairs(config: dict) -> set:
        return {(a, config[a], b, config[b]) for a, b in key_pairs}

    candidates = [dict(zip(options, values, strict=True)) for values in itertools.product(*options.values())]
    uncovered = set().union(*(pairs(config) for config in candidates))
    chosen = []
    while uncovered:
        best = max(candidates, key=lambda config: len(pairs(config) & uncovered))
        chosen.append(best)
        uncovered -= pairs(best)
    return chosen


def pytest_configure(config):
    # `make test` keeps both cores busy with a test each (-n 2), so every process the suite
    # starts keeps its numerical libraries to one thread (OpenBLAS, OpenMP and Arrow read
    # OMP_NUM_THREADS), and a baked `make test` (-n auto) starts one worker, not one per
    # core: more threads would only take turns on the same cores. This machine sets
    # PYTHONDONTWRITEBYTECODE, a user's does not: without bytecode every process of a baked
    # project would compile the project's modules again.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("PYTEST_XDIST_AUTO_NUM_WORKERS", "1")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def pytest_addoption(parser):
    parser.addoption("--fast", action="store_true", help="bake only the default configuration")


def pytest_generate_tests(metafunc):
    if "config" in metafunc.fixturenames:
        configs = [{}] if metafunc.config.getoption("--fast") else option_matrix()
        ids = ["-".join(c.values()) or "defaults" for c in configs]
        metafunc.parametrize("config", configs, ids=ids)


def pytest_collection_modifyitems(items):
    # The slow tests (whole baked suites, installs) first, and `make test` has xdist hand
    # tests out one at a time (--maxschedchunk 1), so the workers end together on short
    # tests, not one on a long one while the other waits.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session", autouse=True)
def temp_files_in_pytest_tmp(tmp_path_factory):
    """Temp files of this session go under pytest's tmp, which pytest prunes: cookiecutter
    writes each rendered hook to a temp file it never removes (cookiecutter#886), two a bake."""
    import tempfile

    folder = str(tmp_path_factory.mktemp("tempfiles"))
    previous, saved = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir, os.environ["TMPDIR"] = folder, folder
    yield
    tempfile.tempdir = previous
    if saved is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = saved


def bake_with(cookies, **context: str) -> Path:
    """Bake with `context` over the defaults; fail the test if the bake fails."""
    result = cookies.bake(template=str(TEMPLATE), extra_context=context)
    assert result.exit_code == 0, f"bake failed: {result.exception}"
    return Path(result.project_path)


@pytest.fixture(scope="session")
def baked_once(cookies_session):
    """The bake of each set of answers, made once a session (a worker's, under xdist)."""
    bakes: dict[tuple, Path] = {}

    def baked(**context: str) -> Path:
        key = tuple(sorted(context.items()))
        if key not in bakes:
            bakes[key] = bake_with(cookies_session, **context)
        return bakes[key]

    return baked


@pytest.fixture
def bake(baked_once, tmp_path):
    """A fresh copy of the bake with these answers, the test's own to change.

    Rendering is deterministic, so a copy is the bake; the bake itself (hooks,
    pruning, the validator) runs once per answers and session, not per test.
    """
    copies = itertools.count()
    return lambda **context: copy_of(baked_once(**context), tmp_path / f"bake-{next(copies)}")


def copy_of(baked: Path, into: Path) -> Path:
    """A copy of the baked project `baked` in folder `into`, under the project's own name."""
    return Path(shutil.copytree(baked, into / baked.name, symlinks=True))


@pytest.fixture(scope="session")
def default_project(cookies_session) -> Path:
    return bake_with(cookies_session)


def shared_tool(name: str) -> Path:
    """A checker from ../shared/tools (independent oracles; never copied into the project)."""
    for shared in (TEMPLATE.parent / "shared", Path("/work/shared")):
        if (shared / "tools" / name).is_file():
            return shared / "tools" / name
    pytest.fail(f"../shared/tools/{name} not found beside the template")


def overlay_venv(where: Path) -> Path:
    """A virtualenv that sees this test session's packages, so installing into it is quick and offline."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    site = next(where.glob("lib/python*/site-packages"))
    (site / "parent.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    for tool in ("cookiecutter", "pytest", "ruff", "bandit"):
        shim = where / "bin" / tool
        shim.write_text(f'#!/bin/sh\nexec "{where / "bin" / "python"}" -m {tool} "$@"\n')
        shim.chmod(0o755)
    return where


def package_of(project: Path) -> str:
    return json.loads((project / ".cookiecutter.json").read_text())["package_name"]


def run_project(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run `python -m <package> ARGS` inside a baked project, with its src/ on the path."""
    return run_in(project, sys.executable, "-m", package_of(project), *args, check=check)


def run_in(project: Path, *command: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    if check:
        assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result
