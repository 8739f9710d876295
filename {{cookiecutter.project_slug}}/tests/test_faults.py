"""Faults a user will meet: each is one line and exit 2, leaves no partial output, and a rerun works."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import cli

SRC = Path(__file__).resolve().parents[1] / "src"


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def assert_one_line_error(result, *words):
    """One "Error:" line per problem (bad data lists each of its problems), no traceback."""
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.output}"
    lines = result.output.strip().splitlines()
    assert lines and all(line.startswith("Error: ") for line in lines), result.output
    for word in words:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, ["not found"]),
        ("", ["empty"]),
        ("age,income,loan_amount\n34,51.2,", ["data validation failed"]),
        ("name,colour\nx,blue\ny,red\n", ["data validation failed"]),
        (b"\xff\xfe\x00garbage", ["not a readable CSV"]),
    ],
    ids=["missing", "empty", "truncated", "wrong-schema", "binary"],
)
def test_bad_data_file_is_one_line_and_nothing_is_written(workdir, content, words):
    raw = workdir / "artifacts/data/raw.csv"
    if content is not None:
        raw.parent.mkdir(parents=True)
        raw.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = invoke("validate-data")
    assert_one_line_error(result, *words)
    assert not (workdir / "artifacts/model").exists(), "a model folder appeared"


def test_corrupt_model_is_one_line_and_no_metrics(workdir):
    assert invoke("ingest").exit_code == 0
    model = workdir / "artifacts/model/model.joblib"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"\x80\x04truncated pickle")
    assert_one_line_error(invoke("evaluate"), "not a readable model")
    assert not (workdir / "artifacts/metrics/metrics.json").exists(), "metrics written for a corrupt model"


def test_unwritable_output_folder_is_one_line(workdir):
    # A file where a folder should be: unwritable even for root.
    assert invoke("ingest").exit_code == 0
    assert_one_line_error(invoke("train", "--model", "params.yaml/model.joblib"), "cannot write")


@pytest.mark.slow  # a fresh interpreter (make test-all, CI)
def test_run_killed_mid_write_leaves_no_model_and_a_rerun_succeeds(workdir):
    assert invoke("ingest").exit_code == 0
    model = workdir / "artifacts/model/model.joblib"
    # given a train process killed (SIGKILL) halfway through writing the model
    killer = textwrap.dedent(
        """
        import os, signal, joblib
        from {{ cookiecutter.package_name }}.cli import main

        def dump_and_die(value, path):
            with open(path, "wb") as handle:
                handle.write(b"half a model")
            os.kill(os.getpid(), signal.SIGKILL)

        joblib.dump = dump_and_die
        main()
        """
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    killed = subprocess.run([sys.executable, "-c", killer, "train"], cwd=workdir, env=env, check=False)
    assert killed.returncode == -9, "the train process was not killed"
    # then no model is there, and a rerun writes one and cleans up
    assert not model.exists(), "a partial model was left at the target path"
    assert invoke("train").exit_code == 0
    assert model.stat().st_size > 100, "rerun wrote no model"
    assert list(model.parent.glob(".*.tmp")) == [], "temp files left after the rerun"
