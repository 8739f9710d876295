"""Locked installs: the template's uv.lock and each baked dependency set's lock match their pyproject.toml."""

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEMPLATE

sys.path.insert(0, str(TEMPLATE / "scripts"))
from lock import components_of, dependency_sets, lock_name  # noqa: E402

UV = Path(sys.executable).parent / "uv"


def uv_lock_check(folder: Path) -> subprocess.CompletedProcess:
    # --offline: a lock that matches its pyproject.toml needs no resolution, so no network
    return subprocess.run(
        [str(UV), "lock", "--check", "--offline"], cwd=folder, capture_output=True, text=True, check=False
    )


def test_template_lock_matches_its_pyproject():
    result = uv_lock_check(TEMPLATE)
    assert result.returncode == 0, f"uv.lock is stale: run `make lock`\n{result.stderr}"


@pytest.mark.parametrize("answers", dependency_sets(), ids=lambda a: lock_name(components_of(a)))
def test_each_baked_dependency_set_gets_a_lock_in_step_with_its_pyproject(bake, answers):
    # given a bake with this set of optional components, under another name than the lock was made with
    project = bake(**{**answers, "project_name": "Credit Risk"})
    # then it holds exactly one lock, naming this project, and uv agrees it matches pyproject.toml
    assert (project / "uv.lock").is_file() and not (project / ".locks").exists(), "lock not chosen"
    assert 'name = "credit-risk"' in (project / "uv.lock").read_text(), "the lock names another project"
    result = uv_lock_check(project)
    stored = lock_name(components_of(answers))
    assert result.returncode == 0, f"{stored} is stale: run `make lock`\n{result.stderr}"
