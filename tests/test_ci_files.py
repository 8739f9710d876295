"""The baked project's CI files are valid for their CI system, and only the chosen one is there."""

import re
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


def test_github_actions_are_pinned_by_commit_and_zizmor_finds_nothing(bake):
    # given the baked GitHub workflow
    project = bake(ci="github-actions")
    workflow = project / ".github/workflows/ci.yml"
    uses = re.findall(r"^\s*(?:-\s*)?uses:\s*(\S+)", workflow.read_text(), re.M)
    # then every action is pinned to a full commit SHA, not a tag that can move
    assert uses, "no actions found"
    unpinned = [ref for ref in uses if not re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref)]
    assert not unpinned, f"actions not pinned by commit: {unpinned}"
    # and zizmor's offline audits (the pedantic persona) report nothing above informational
    zizmor = Path(sys.executable).parent / "zizmor"
    options = ["--offline", "--persona=pedantic", "--min-severity=low", "--no-progress"]
    result = subprocess.run([str(zizmor), *options, str(workflow)], capture_output=True, text=True)
    assert result.returncode == 0, f"zizmor:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("ci", sorted(CI_FILES))
def test_ci_scans_for_secrets_and_verifies_the_release(bake, ci):
    project = bake(ci=ci)
    text = (project / CI_FILES[ci][0]).read_text()
    assert "trufflehog" in text or "Secret-Detection" in text, f"{ci}: no secret scan"
    assert "mlops-demo verify" in text and "make audit" in text, f"{ci}: release not verified or not audited"
