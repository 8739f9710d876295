"""The baked project's CI files are valid for their CI system, and only the chosen one is there."""

import subprocess
import sys
from pathlib import Path

import pytest

CI_FILES = {
    "github-actions": (".github/workflows/ci.yml", "vendor.github-workflows"),
    "gitlab-ci": (".gitlab-ci.yml", "vendor.gitlab-ci"),
}


@pytest.mark.parametrize("ci", sorted(CI_FILES))
def test_ci_file_passes_its_schema(bake, ci):
    project = bake(ci=ci)
    path, schema = CI_FILES[ci]
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", schema, str(project / path)], capture_output=True, text=True
    )
    assert result.returncode == 0, f"{path} is not valid {ci}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("ci", ["github-actions", "gitlab-ci", "none"])
def test_only_the_chosen_ci_system_leaves_files(bake, ci):
    project = bake(ci=ci)
    present = {name for name, (path, _) in CI_FILES.items() if (project / path).exists()}
    assert present == ({ci} if ci in CI_FILES else set()), f"ci={ci} left {present}"
    assert (project / ".github").exists() == (ci == "github-actions"), ".github folder left behind"
