"""reference-docs/sig-coverage.md: every SIG requirement graded, every claim backed by a command.

The page's tables are parsed here; every command in them runs in one baked
default project after `mlops-demo run`, so a Y that the code no longer
supports fails the suite instead of staying on the page.
"""

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import TEMPLATE, run_project

PAGE = TEMPLATE / "reference-docs" / "sig-coverage.md"
# How many rows each section of the roadmap (and the 2020 goals) has.
EXPECTED = {"G": 4, "T": 37, "C": 7}
HEADER = ["id", "grade", "command", "notes"]
CELL_SPLIT = re.compile(r"(?<!\\)\|")


@dataclass(frozen=True)
class Row:
    id: str
    name: str
    grade: str
    command: str
    notes: str


def parse(text: str) -> list[Row]:
    """The rows of every table whose columns are id, name, grade, command, notes."""
    rows = []
    in_table = False
    for line in text.splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        cells = [cell.strip().replace("\\|", "|") for cell in CELL_SPLIT.split(line.strip())[1:-1]]
        if [cells[0], *cells[2:]] == HEADER:
            in_table = True
            continue
        if not in_table or set(cells[0]) <= {"-", " "}:
            continue
        assert len(cells) == 5, f"{PAGE.name}: a row needs 5 cells: {line}"
        command = cells[3]
        if command:
            assert command.startswith("`") and command.endswith("`"), f"command not in backticks: {line}"
            command = command[1:-1]
        rows.append(Row(cells[0], cells[1], cells[2], command, cells[4]))
    return rows


ROWS = parse(PAGE.read_text(encoding="utf-8"))


def test_every_requirement_has_exactly_one_graded_row():
    # given the roadmap's sections and the 2020 goals
    ids = [row.id for row in ROWS]
    # then each has one row, numbered without gaps, and nothing else is in the tables
    for prefix, count in EXPECTED.items():
        wanted = [f"{prefix}{number}" for number in range(1, count + 1)]
        assert [i for i in ids if i.startswith(prefix)] == wanted, f"rows {prefix}1..{prefix}{count}: {ids}"
    assert len(ids) == sum(EXPECTED.values()), f"unexpected rows: {ids}"
    for row in ROWS:
        assert row.grade in {"Y", "P", "N"}, f"{row.id}: grade {row.grade!r} is not Y, P or N"
        assert row.name, f"{row.id}: no requirement name"


def test_every_claim_has_its_evidence():
    # then a Y names the command that shows it, and a P or N says what is missing or why
    for row in ROWS:
        if row.grade == "Y":
            assert row.command, f"{row.id} is graded Y without a command"
        else:
            assert len(row.notes) > 20, f"{row.id} is graded {row.grade} without saying why"
        assert not (row.grade == "N" and row.command), f"{row.id} is N but shows a command"


def test_the_kfp_with_tekton_goal_tells_the_backend_history():
    # given the 2020 goal of KFP on Tekton, whose v2 backend was removed in KFP 2.5
    goal = next(row for row in ROWS if row.id == "G2")
    text = PAGE.read_text(encoding="utf-8")
    # then it is not claimed as met, and the page says why
    assert goal.grade != "Y", "KFP no longer runs on Tekton: G2 cannot be Y"
    for fact in ("kfp-tekton", "2.5", "Argo"):
        assert fact in text, f"the KFP/Tekton history lacks {fact!r}"


def shims(folder: Path, project: Path) -> dict[str, str]:
    """An environment where the page's commands run as a user's shell would run them."""
    package = project.name.replace("-", "_")
    folder.mkdir(exist_ok=True)
    scripts = {
        project.name: f'exec "{sys.executable}" -m {package} "$@"',
        "python": f'exec "{sys.executable}" "$@"',
    }
    for name, body in scripts.items():
        (folder / name).write_text(f"#!/bin/sh\n{body}\n")
        (folder / name).chmod(0o755)
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("OPENLINEAGE", "MLFLOW_", package.upper() + "_"))
    }
    tools = Path(sys.executable).parent  # ruff, mlops-validate, check-jsonschema of this session
    env["PATH"] = os.pathsep.join([str(folder), str(tools), env.get("PATH", "")])
    env["PYTHONPATH"] = str(project / "src")
    return env


PYTEST = "python -m pytest "


def run_grouped_pytest(rows: list[Row], project: Path, env: dict[str, str]) -> list[str]:
    """Run the node ids every pytest row names in one session; the rows any failed test belongs to."""
    wanted = {row.id: row.command[len(PYTEST) :].split() for row in rows}
    nodes = list(dict.fromkeys(node for ids in wanted.values() for node in ids))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE", *nodes]
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    if result.returncode == 0:
        return []
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", result.stdout, re.M)
    rows_failed = [
        row_id
        for row_id, ids in wanted.items()
        if any(test.startswith(node) for test in failed for node in ids)
    ]
    tail = (result.stdout + result.stderr).strip()[-1500:]
    return [f"{', '.join(rows_failed) or 'pytest'}: the project's tests failed:\n{tail}"]


@pytest.mark.slow
def test_every_command_on_the_page_passes_in_a_baked_project(default_project, tmp_path):
    # given a default bake whose pipeline has run once
    run_project(default_project, "run")
    env = shims(tmp_path / "bin", default_project)
    # when the project's tests the page names run (one session) and then every other command
    failures = run_grouped_pytest([r for r in ROWS if r.command.startswith(PYTEST)], default_project, env)
    commands: dict[str, list[str]] = {}
    for row in ROWS:
        if row.command and not row.command.startswith(PYTEST):
            commands.setdefault(row.command, []).append(row.id)
    for command, ids in commands.items():
        result = subprocess.run(
            ["bash", "-c", command], cwd=default_project, env=env, capture_output=True, text=True
        )
        if result.returncode != 0:
            tail = (result.stdout + result.stderr).strip()[-800:]
            failures.append(f"{', '.join(ids)}: `{command}` exited {result.returncode}:\n{tail}")
    # then each exits 0 (all failures reported at once)
    assert not failures, "\n\n".join(failures)
