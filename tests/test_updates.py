"""Template updates reach existing projects: cruft create/check/update, cookiecutter --replay."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEMPLATE

BIN = Path(sys.executable).parent
GIT = ["git", "-c", "user.email=test@example.com", "-c", "user.name=test", "-c", "init.defaultBranch=main"]


def sh(*command, cwd):
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(map(str, command))}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture
def template_repo(tmp_path) -> Path:
    """A git copy of this template, which a test can change and commit."""
    repo = tmp_path / "template"
    shutil.copytree(
        TEMPLATE, repo, ignore=shutil.ignore_patterns(".venv", ".git", "build", "__pycache__", ".*cache")
    )
    sh(*GIT, "init", "-q", cwd=repo)
    sh(*GIT, "add", "-A", cwd=repo)
    sh(*GIT, "commit", "-qm", "template", cwd=repo)
    return repo


@pytest.mark.slow
def test_cruft_update_brings_template_changes_and_keeps_user_edits(template_repo, tmp_path):
    # given a project made with cruft, committed, with a user edit
    work = tmp_path / "work"
    work.mkdir()
    sh(str(BIN / "cruft"), "create", "--no-input", str(template_repo), cwd=work)
    project = work / "mlops-demo"
    sh(*GIT, "init", "-q", cwd=project)
    sh(*GIT, "add", "-A", cwd=project)
    sh(*GIT, "commit", "-qm", "baked", cwd=project)
    with (project / "params.yaml").open("a") as handle:
        handle.write("# tuned by the team\n")
    sh(*GIT, "commit", "-qam", "user edit", cwd=project)
    # when the template changes
    readme = template_repo / "{{cookiecutter.project_slug}}" / "README.md"
    readme.write_text(readme.read_text() + "\nA line the template added later.\n")
    sh(*GIT, "commit", "-qam", "template change", cwd=template_repo)
    stale = subprocess.run([str(BIN / "cruft"), "check"], cwd=project, capture_output=True, text=True)
    assert stale.returncode != 0, "cruft check did not notice the template change"
    # then cruft update applies it and the user edit survives
    sh(str(BIN / "cruft"), "update", "--skip-apply-ask", "--allow-untracked-files", cwd=project)
    assert "A line the template added later." in (project / "README.md").read_text(), (
        "template change not applied"
    )
    assert "# tuned by the team" in (project / "params.yaml").read_text(), "user edit lost"
    sh(str(BIN / "cruft"), "check", cwd=project)


def test_cookiecutter_replay_rebakes_the_same_answers(tmp_path, monkeypatch):
    # cookiecutter keeps replay files in ~/.cookiecutter_replay; keep them in the test's folder
    monkeypatch.setenv("HOME", str(tmp_path))
    first, second = tmp_path / "first", tmp_path / "second"
    cookiecutter = [sys.executable, "-m", "cookiecutter"]
    sh(
        *cookiecutter,
        "--no-input",
        "-o",
        str(first),
        str(TEMPLATE),
        "project_name=Replay Me",
        "license=MIT",
        cwd=tmp_path,
    )
    sh(*cookiecutter, "--replay", "-o", str(second), str(TEMPLATE), cwd=tmp_path)
    baked = (first / "replay-me" / ".cookiecutter.json").read_text()
    assert (second / "replay-me" / ".cookiecutter.json").read_text() == baked, "replay gave other answers"
