"""The right to be forgotten: a register, releases marked through lineage, rows dropped at ingest."""

import json

import pandas as pd
from click.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import cli
from {{ cookiecutter.package_name }}.features import feature_columns
from {{ cookiecutter.package_name }}.release import champion

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
