"""Every command shown in README.md and reference-docs/ is run here, or marked as needing what tests lack.

A line ending in `# needs a cluster`, `# needs network...` or `(run by CI)` is
not run; every other command line of a ```bash block is, by the tests below.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEMPLATE, overlay_venv

DOCS = [TEMPLATE / "README.md", *sorted((TEMPLATE / "reference-docs").glob("*.md"))]
MARKED = re.compile(r"#\s*needs (a cluster|network)|\(run by CI\)")
BLOCK = re.compile(r"```bash\n(.*?)```", re.S)


def commands(path: Path) -> list[str]:
    """The command lines of a document's bash blocks (continuations joined, comments dropped)."""
    found = []
    for block in BLOCK.findall(path.read_text()):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.strip().startswith("#"):
                found.append(line.strip())
    return found


def to_run(path: Path) -> list[str]:
    """Unmarked command lines, without their trailing comments."""
    return [re.sub(r"\s+#.*$", "", line) for line in commands(path) if not MARKED.search(line)]


def user_env(**extra: str) -> dict[str, str]:
    """This environment as a user's shell has it, with `extra`: no virtualenv active, bytecode
    written as modules are first imported (conftest.pytest_configure unsets this machine's
    PYTHONDONTWRITEBYTECODE), so an install need not compile every module of every dependency
    up front (UV_COMPILE_BYTECODE=0: a project's install compiles nothing, and its first
    commands compile what they import)."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    return {**env, "UV_COMPILE_BYTECODE": "0", **extra}


def shell(line: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run(["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, (
        f"`{line}` failed in {cwd}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


def test_every_unmarked_command_is_run_by_a_test():
    run_here = {
        # the bare command asks questions: tests/test_command.py answers them through tmux
        "README.md": {"make demo", "cookiecutter-mlops-reference", *readme_bake_lines()},
        "workshop.md": set(to_run(TEMPLATE / "reference-docs" / "workshop.md")),
        "real-cluster.md": {"mlops-demo compile --output pipeline.yaml"},
    }
    for path in DOCS:
        unrun = set(to_run(path)) - run_here.get(path.name, set())
        assert not unrun, f"{path.name}: commands neither run by a test nor marked: {sorted(unrun)}"


def test_every_make_target_the_readme_names_has_a_recipe():
    makefile = (TEMPLATE / "Makefile").read_text()
    recipes = set(re.findall(r"^([a-z][\w-]*):[^\n=]*\n\t", makefile, re.M))
    named = set(re.findall(r"\bmake ([a-z][\w-]*)", (TEMPLATE / "README.md").read_text()))
    assert {"demo", "test"} <= named, named
    assert named <= recipes, f"README names make targets without a recipe: {sorted(named - recipes)}"


def readme_bake_lines() -> list[str]:
    """README's offline lines for baking from a clone: the address, the command, plain cookiecutter."""
    return [
        line
        for line in to_run(TEMPLATE / "README.md")
        if line.startswith(("TEMPLATE_REPO=", "cookiecutter-mlops-reference ", "cookiecutter "))
    ]


def test_readme_bakes_from_a_clone_as_written(tmp_path):
    # given a folder holding the clone, and the command and cookiecutter on the PATH
    (tmp_path / "cookiecutter-mlops-reference").symlink_to(TEMPLATE)
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "cookiecutter-mlops-reference").is_file(), "the command is not installed"
    env = {**os.environ, "HOME": str(tmp_path), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    lines = readme_bake_lines()
    assert len(lines) >= 5, f"README lost its bake examples: {lines}"
    # when README's lines run in order, in one shell
    result = shell("set -e\n" + "\n".join(lines), tmp_path, env)
    # then every project they name was baked, each with its next steps
    for project in ("workshop-kit", "credit-risk", "plain-cookiecutter"):
        assert (tmp_path / project / ".cookiecutter.json").is_file(), f"{project} not baked:\n{result.stdout}"
    assert result.stdout.count("Next steps:") == 3, result.stdout
    assert "workshop-minimal" in result.stdout, "--list-presets printed no presets"


@pytest.mark.slow
def test_workshop_labs_run_as_written(tmp_path):
    # given the template where the guide says to clone it, and cookiecutter on the PATH
    venv = overlay_venv(tmp_path / "tools")
    env = user_env(TEMPLATE=str(TEMPLATE), PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
    cwd = tmp_path
    lines = to_run(TEMPLATE / "reference-docs" / "workshop.md")
    # (the workshop preset's whole suite runs here, and only here: conftest.WHOLE_SUITES)
    assert "workshop-minimal.yaml" in lines[0] and "make test" in lines, lines
    # when every lab command runs in order (cd moves on, as in a terminal)
    for line in lines:
        if line.startswith("cd "):
            cwd = cwd / line[3:].strip()
            continue
        if line == "make install" and not (cwd / ".venv").exists():
            overlay_venv(cwd / ".venv")  # the kit's own virtualenv, seeing this session's packages
        shell(line, cwd, env)
    # then the labs left what they promise
    assert (cwd / "artifacts/reports/governance.html").is_file()
    assert (cwd / "artifacts/lineage/events.jsonl").is_file()


@pytest.mark.slow
def test_readme_make_demo_runs_as_written(tmp_path):
    # given a copy of the template whose .venv already holds the test tools (no reinstall)
    import shutil

    copy = tmp_path / "template"
    shutil.copytree(TEMPLATE, copy, ignore=shutil.ignore_patterns(".venv", ".git", "build", ".*cache"))
    overlay_venv(copy / ".venv")
    (copy / ".venv" / "bin" / ".installed").touch()
    env = user_env()
    # when `make demo` runs, then the default project is baked, installed and run end to end
    result = shell("make demo", copy, env)
    assert "demo project: build/demo/mlops-demo" in result.stdout, result.stdout[-2000:]
    released = copy / "build/demo/mlops-demo/artifacts/releases"
    assert list(released.glob("*/model.joblib")), "nothing released"


def test_cluster_page_offline_commands_run(default_project, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(default_project / "src")}
    shim = tmp_path / "mlops-demo"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mlops_demo "$@"\n')
    shim.chmod(0o755)
    env["PATH"] = f"{tmp_path}{os.pathsep}{env['PATH']}"
    shell("mlops-demo compile --output pipeline.yaml", default_project, env)
    assert (default_project / "pipeline.yaml").read_text().startswith("# PIPELINE DEFINITION")
