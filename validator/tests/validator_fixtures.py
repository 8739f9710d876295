"""Fixtures and helpers for the validator's own tests: one default bake of the template.

Not a conftest.py: the template's tests/conftest.py is imported as `conftest`
by name, and a second module of that name would shadow it.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def default_project(tmp_path_factory) -> Path:
    """The template baked with its defaults (the post-generation hook validates it too)."""
    from cookiecutter.main import cookiecutter

    out = tmp_path_factory.mktemp("validator-bake")
    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(out)))


def package_of(project: Path) -> str:
    return json.loads((project / ".cookiecutter.json").read_text())["package_name"]


def run_validator(project: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m mlops_validator ARGS` in `project`, as `make validate` runs it."""
    return subprocess.run(
        [sys.executable, "-m", "mlops_validator", *args], cwd=project, capture_output=True, text=True
    )
