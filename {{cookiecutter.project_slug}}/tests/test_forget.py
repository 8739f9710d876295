"""The right to be forgotten: a register, releases marked through lineage, rows dropped at ingest."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import released_in
from {{ cookiecutter.package_name }}.cli import cli
from {{ cookiecutter.package_name }}.features import feature_columns
from {{ cookiecutter.package_name }}.release import champion, history
from {{ cookiecutter.package_name }}.serving.server import V2Server
from {{ cookiecutter.package_name }}.supply_chain import release_log

RAW = "artifacts/data/raw.csv"
REGISTER = "governance/erasure_register.json"
RELEASES = "artifacts/releases"


def run_pipeline(monkeypatch) -> None:
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", "artifacts/lineage/events.jsonl")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 0, result.output


def test_forget_records_marks_the_release_and_the_next_ingest_drops_the_rows(workdir, monkeypatch):
    # given a released model trained on the sample
    run_pipeline(monkeypatch)
    ids = list(pd.read_csv(RAW)["row_id"][:2])
    # when two applicants withdraw consent
    result = CliRunner().invoke(cli, ["forget", *ids, "--reason", "consent withdrawn"])
    # then the register holds the request with its date and reason
    assert result.exit_code == 0, result.output
    request = json.loads((workdir / REGISTER).read_text())["requests"][0]
    assert request["ids"] == ids and request["reason"] == "consent withdrawn" and request["date"], request
    # and the release trained on those rows, found through lineage, needs retraining
    trained_on_them = workdir / RELEASES / champion(workdir / RELEASES)
    revoked = trained_on_them / "revoked.json"
    assert revoked.is_file(), f"release not marked:\n{result.output}"
    assert json.loads(revoked.read_text())["status"] == "needs retraining"
    # when the pipeline runs again, then the rows are gone and the new release is not marked
    run_pipeline(monkeypatch)
    remaining = set(pd.read_csv(RAW)["row_id"])
    assert not remaining & set(ids), "erased rows came back at ingest"
    retrained = workdir / RELEASES / champion(workdir / RELEASES)
    assert retrained != trained_on_them, "the pipeline did not release a retrained model"
    assert not (retrained / "revoked.json").exists(), "the retrained release is marked"
    assert revoked.is_file(), "the old release lost its mark"


def test_forgetting_an_unknown_id_is_one_line_and_changes_nothing(workdir, monkeypatch):
    # given a released model
    run_pipeline(monkeypatch)
    before = sorted(p.relative_to(workdir).as_posix() for p in (workdir / RELEASES).rglob("*"))
    # when an id the data does not hold is named
    result = CliRunner().invoke(cli, ["forget", "A000000", "nobody-42", "--reason", "request"])
    # then one line naming it, exit 2, no register and no mark
    assert result.exit_code == 2, result.output
    assert "nobody-42" in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert not (workdir / REGISTER).exists(), "a register was written"
    after = sorted(p.relative_to(workdir).as_posix() for p in (workdir / RELEASES).rglob("*"))
    assert after == before, "a release changed"


def test_the_row_id_is_never_a_model_input(settings):
    # given the sample's columns, then the id is not among the model's inputs
    frame = pd.DataFrame(columns=["row_id", "age", "sex", "default"])
    assert feature_columns(frame, settings.data).columns == ["age"], "row_id would be learned"


@pytest.fixture(scope="module")
def forgotten(tmp_path_factory) -> Path:
    """A project whose one release was trained on a row withdrawn by forget (marked revoked.json)."""
    with released_in(tmp_path_factory.mktemp("forgotten")) as folder:
        row = str(pd.read_csv(RAW)["row_id"][0])
        result = CliRunner().invoke(cli, ["forget", row, "--reason", "consent withdrawn"])
        assert result.exit_code == 0 and "marked" in result.output, result.output
    return folder


@pytest.fixture
def revoked(forgotten, tmp_path, monkeypatch) -> str:
    """A private copy of `forgotten`, as the working directory, where a clean copy of the revoked
    release (version 000000000000) is the champion now; returns the revoked release's version."""
    copy = tmp_path / "project"
    shutil.copytree(forgotten, copy)
    monkeypatch.chdir(copy)
    root = Path(RELEASES)
    version = champion(root)
    assert (root / version / "revoked.json").is_file(), "forget did not mark the release"
    shutil.copytree(root / version, root / CLEAN, ignore=shutil.ignore_patterns("revoked.json"))
    result = CliRunner().invoke(cli, ["promote", CLEAN, "-m", "retrained stand-in"])
    assert result.exit_code == 0, result.output
    return version


CLEAN = "0" * 12


def one_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


@pytest.mark.parametrize(
    "command",
    [
        ["promote", "{version}", "-m", "back"],
        ["rollback", "-m", "back"],
        ["serve", "--release", "{version}", "--port", "0"],
    ],
)
def test_a_release_forget_revoked_is_refused_in_one_line_naming_it_and_the_override(revoked, command):
    # given a release trained on a withdrawn row, no longer the champion
    # when a command would put it (back) in service
    result = CliRunner().invoke(cli, [arg.format(version=revoked) for arg in command])
    # then one line names the release and how to override, exit 2, and the alias stays
    line = one_line(result)
    assert revoked in line and "revoked" in line and "--allow-revoked REASON" in line, line
    assert champion(Path(RELEASES)) == CLEAN, "the alias moved"


def test_allow_revoked_with_a_reason_promotes_and_the_release_log_keeps_the_reason(revoked):
    # given a revoked release; when it is promoted with an override
    why = "retrained model fails the fairness gate; legal approved 48h"
    result = CliRunner().invoke(cli, ["promote", revoked, "-m", "back", "--allow-revoked", why])
    # then it is the champion, a warning says so, and the log entry records the reason, chained
    assert result.exit_code == 0 and why in result.output, result.output
    assert champion(Path(RELEASES)) == revoked
    last = history(Path(RELEASES))[-1]
    assert (last["action"], last["version"], last["allow_revoked"]) == ("promote", revoked, why), last
    assert release_log.verify_chain(Path(RELEASES) / "release-log.jsonl")[-1]["allow_revoked"] == why


def test_allow_revoked_with_a_reason_rolls_back_to_a_revoked_release_and_logs_it(revoked):
    # when the champion is rolled back to the revoked release with an override
    result = CliRunner().invoke(cli, ["rollback", "-m", "stand-in broke", "--allow-revoked", "incident 42"])
    # then it is the champion again and the log says why
    assert result.exit_code == 0, result.output
    assert champion(Path(RELEASES)) == revoked
    last = history(Path(RELEASES))[-1]
    assert (last["action"], last["allow_revoked"]) == ("rollback", "incident 42"), last


def test_allow_revoked_with_a_reason_serves_with_a_warning_naming_it(revoked, monkeypatch):
    # given a server that returns at once instead of serving until interrupted
    monkeypatch.setattr(V2Server, "serve_forever", lambda self, *args, **kwargs: None)
    # when serve starts on the revoked release with an override
    args = ["serve", "--release", revoked, "--port", "0", "--allow-revoked", "audit replay only"]
    result = CliRunner().invoke(cli, args)
    # then it serves it, with one warning line naming the release and the reason
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if "warning" in line and revoked in line]
    assert len(warnings) == 1 and "audit replay only" in warnings[0], result.output


@pytest.mark.parametrize("command", ["promote {version} -m x", "rollback -m x", "serve --release {version}"])
def test_allow_revoked_with_an_empty_reason_is_one_line_and_exit_2(revoked, command):
    # when the override is given without a reason
    result = CliRunner().invoke(cli, [*command.format(version=revoked).split(), "--allow-revoked", "  "])
    # then one line says a reason is needed, and the alias stays
    assert "--allow-revoked needs a reason" in one_line(result)
    assert champion(Path(RELEASES)) == CLEAN, "the alias moved"
