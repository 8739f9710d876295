"""Releases: readable folders, the champion alias, the release log, and the champion/challenger gate."""

import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import cli
from {{ cookiecutter.package_name }}.errors import GateFailed
from {{ cookiecutter.package_name }}.files import append_line
from {{ cookiecutter.package_name }}.governance.policy import load_policy
from {{ cookiecutter.package_name }}.release import champion, history
from {{ cookiecutter.package_name }}.settings import load_settings
from {{ cookiecutter.package_name }}.steps import run_step

SRC = Path(__file__).resolve().parents[1] / "src"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_release_is_readable_by_another_user(project):
    # given the release the pipeline wrote
    root = load_settings().paths.release
    release = root / champion(root)
    # then its folders are 0755 and its files 0644, the alias and the log included
    folders = [root, release]
    files = [p for p in release.iterdir()] + [root / "champion.json", root / "release-log.jsonl"]
    assert all(mode(p) == 0o755 for p in folders), {p.name: oct(mode(p)) for p in folders}
    assert all(mode(p) == 0o644 for p in files), {p.name: oct(mode(p)) for p in files}


def test_a_release_manifest_names_every_file_with_its_sha256(project):
    # given the release the pipeline wrote
    root = load_settings().paths.release
    release = root / champion(root)
    manifest = json.loads((release / "manifest.json").read_text())
    # then every other file is listed with its digest, and the version is the model digest's start
    listed = set(manifest["sha256"])
    assert listed == {p.name for p in release.iterdir()} - {"manifest.json"}, listed
    for name, digest in manifest["sha256"].items():
        assert hashlib.sha256((release / name).read_bytes()).hexdigest() == digest, f"{name} differs"
    assert manifest["model_sha256"].startswith(release.name), manifest
    assert {"model.joblib", "signature.json", "model_card.md", "provenance.json"} <= listed


def test_first_release_passes_the_regression_gate_and_says_there_was_no_champion(project):
    # given the pipeline's first run on an empty project
    report = json.loads(Path(load_settings().paths.governance_report).read_text())
    # then the regression gate passed, saying why
    (gate,) = [g for g in report["gates"] if g["gate"] == "regression"]
    assert gate["passed"] and "no champion yet" in gate["detail"], gate
    assert report["champion"] is None, report["champion"]


def test_a_worse_model_fails_the_regression_gate_and_the_champion_stays(project):
    # given a released champion, and a candidate that is worse by construction (five stumps)
    settings, policy = load_settings(), load_policy()
    before = champion(settings.paths.release)
    worse = settings.model_copy(
        update={
            "model": settings.model.model_copy(
                update={"algorithm": "random_forest", "max_depth": 1, "n_estimators": 5}
            )
        }
    )
    run_step("train", worse, policy)
    run_step("evaluate", worse, policy)
    # when govern compares it with the champion
    with pytest.raises(GateFailed) as failed:
        run_step("govern", worse, policy)
    # then the gate names metric, champion value, candidate value and limit
    lines = [line for line in str(failed.value).splitlines() if line.startswith("regression gate")]
    roc = next((line for line in lines if "roc_auc" in line), "")
    champion_auc = failed.value.summary["champion"]["metrics"]["roc_auc"]
    candidate_auc = failed.value.summary["metrics"]["roc_auc"]
    limit = round(champion_auc - policy.regression.max_drop["roc_auc"], 6)
    assert f"roc_auc = {candidate_auc:g}" in roc and f"min {limit:g}" in roc, roc
    assert f"champion {before} = {champion_auc:g}" in roc, roc
    # and package refuses, so the champion alias does not move
    with pytest.raises(Exception, match="not 'pass'"):
        run_step("package", worse, policy)
    assert champion(settings.paths.release) == before, "the alias moved after a failed gate"
    html = Path(settings.paths.governance_html).read_text()
    assert "Candidate and champion" in html and before in html, "the report lacks the side-by-side table"


def test_promote_and_rollback_are_logged_with_who_when_and_why(project, monkeypatch):
    # given two releases: the champion and a second one, not promoted
    monkeypatch.setenv("RELEASE_ACTOR", "alice")
    root = load_settings().paths.release
    first = champion(root)
    params = yaml.safe_load(Path("params.yaml").read_text())
    params["model"]["C"] = 0.5
    params["release"] = {"auto_promote": False}
    Path("params.yaml").write_text(yaml.safe_dump(params))
    runner = CliRunner()
    for step in ("train", "evaluate", "govern", "package"):
        assert runner.invoke(cli, [step]).exit_code == 0, step
    (second,) = [p.name for p in root.iterdir() if p.is_dir() and p.name != first]
    # when it is promoted, then rolled back
    assert runner.invoke(cli, ["promote", second, "-m", "better recall"]).exit_code == 0
    assert runner.invoke(cli, ["rollback", "-m", "complaints"]).exit_code == 0
    # then the log has both moves, in order, with actor and reason, and the first is champion again
    moves = [(e["action"], e["version"], e["previous"], e["actor"], e["reason"]) for e in history(root)[-2:]]
    assert moves == [
        ("promote", second, first, "alice", "better recall"),
        ("rollback", first, second, "alice", "complaints"),
    ], moves
    assert champion(root) == first
    # and lineage has a run for each move
    events = [json.loads(line) for line in Path("artifacts/lineage/events.jsonl").read_text().splitlines()]
    jobs = {(e["job"]["name"], e["eventType"]) for e in events}
    assert {("promote", "COMPLETE"), ("rollback", "COMPLETE")} <= jobs, jobs


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["rollback", "-m", "why"], "no earlier champion"),
        (["promote", "0123456789ab", "-m", "why"], "not a release"),
        (["promote", "../../etc", "-m", "why"], "not 12 lowercase hex"),
        (["serve", "--release", "nope"], "not 12 lowercase hex"),
    ],
)
def test_release_mistakes_are_one_line_and_exit_2(project, args, expected):
    # given a project with one release; when a command is misused
    result = CliRunner().invoke(cli, args)
    # then it says why in one line and exits 2, and the alias stays
    assert result.exit_code == 2 and expected in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output, result.output


def test_a_writer_killed_mid_line_leaves_only_whole_lines_in_the_release_log(tmp_path):
    # given a process appending release log lines as fast as it can
    log = tmp_path / "release-log.jsonl"
    writer = (
        "import sys; from pathlib import Path\n"
        "from {{ cookiecutter.package_name }}.files import append_line\n"
        "print('ready', flush=True)\n"
        "while True: append_line(Path(sys.argv[1]), {'action': 'promote', 'reason': 'x' * 3000})\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    process = subprocess.Popen([sys.executable, "-c", writer, str(log)], env=env, stdout=subprocess.PIPE)
    assert process.stdout.readline().strip() == b"ready"
    while not log.exists() or log.stat().st_size < 100_000:
        pass
    # when it is killed mid-write, and the next move appends its line
    process.send_signal(signal.SIGKILL)
    process.wait()
    append_line(log, {"action": "promote", "reason": "after"})
    # then every line in the log is whole, the new one last
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert all(line["reason"] == "x" * 3000 for line in lines[:-1]), "a torn line"
    assert lines[-1]["reason"] == "after", lines[-1]


def test_serve_without_a_release_is_one_line_and_exit_2(workdir):
    # given a project where nothing was released yet; when serve starts
    result = CliRunner().invoke(cli, ["serve", "--port", "0"])
    # then it says so in one line and exits 2, listening on nothing
    assert result.exit_code == 2 and "no champion" in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
