"""Each ML step on its own: inputs, outputs, and the errors a user can cause."""

import json
import os

import pandas as pd
import pytest

from {{ cookiecutter.package_name }} import sample_data
from {{ cookiecutter.package_name }}.errors import ProjectError
from {{ cookiecutter.package_name }}.steps.evaluate import evaluate
from {{ cookiecutter.package_name }}.steps.ingest import ingest
from {{ cookiecutter.package_name }}.steps.train import train
from {{ cookiecutter.package_name }}.steps.validate_data import validate_data


def test_sample_data_is_deterministic_for_a_seed():
    # given two generations with one seed, and one with another
    first, second = sample_data.generate(300, seed=7), sample_data.generate(300, seed=7)
    other = sample_data.generate(300, seed=8)
    # then the same seed gives the same rows and another seed does not
    pd.testing.assert_frame_equal(first, second)
    assert not first.equals(other), "a different seed should give different rows"


def test_ingest_writes_the_sample_as_csv(settings):
    # when ingest runs on the default settings
    result = ingest(settings.data, settings.paths.raw_data)
    # then the CSV holds the configured number of rows and the label column
    frame = pd.read_csv(settings.paths.raw_data)
    assert len(frame) == settings.data.rows == result["rows"], "row count differs from params.yaml"
    assert settings.data.target in frame.columns, "label column missing"


def test_ingest_copies_a_csv_source(settings, workdir):
    # given a CSV of our own as data.source
    source = workdir / "mine.csv"
    sample_data.generate(120, seed=1).to_csv(source, index=False)
    data = settings.data.model_copy(update={"source": str(source)})
    # when ingest runs
    ingest(data, settings.paths.raw_data)
    # then the raw file is that CSV
    assert settings.paths.raw_data.read_bytes() == source.read_bytes(), "raw data is not a copy of the source"


def test_validate_data_accepts_the_sample(settings, policy):
    ingest(settings.data, settings.paths.raw_data)
    report = validate_data(settings.paths.raw_data, settings.paths.validation_report, policy.data)
    assert report["valid"] and report["failures"] == [], f"sample should be valid: {report['failures']}"
    assert json.loads(settings.paths.validation_report.read_text())["rows"] == settings.data.rows


@pytest.mark.parametrize(
    ("corrupt", "column"),
    [
        (lambda f: f.drop(columns=["income"]), "income"),
        (lambda f: f.assign(age=f["age"].astype("float").where(f.index % 7 != 0)), "age"),
        (lambda f: f.assign(late_payments="many"), "late_payments"),
        (lambda f: f.assign(sex="unknown"), "sex"),
    ],
    ids=["missing-column", "nulls", "wrong-type", "unknown-category"],
)
def test_validate_data_rejects_corrupt_data_naming_the_column(settings, policy, corrupt, column):
    # given a corrupted raw file
    settings.paths.raw_data.parent.mkdir(parents=True)
    corrupt(sample_data.generate(200, seed=3)).to_csv(settings.paths.raw_data, index=False)
    # when it is validated, then one error names the column and the report says invalid
    with pytest.raises(ProjectError, match=column):
        validate_data(settings.paths.raw_data, settings.paths.validation_report, policy.data)
    assert json.loads(settings.paths.validation_report.read_text())["valid"] is False


def test_train_and_evaluate_write_model_metrics_and_predictions(settings):
    ingest(settings.data, settings.paths.raw_data)
    train(
        settings.paths.raw_data, settings.paths.model, settings.paths.footprint, settings.data, settings.model
    )
    assert settings.paths.model.stat().st_size > 0, "no model written"
    metrics = evaluate(
        settings.paths.raw_data,
        settings.paths.model,
        settings.paths.metrics,
        settings.paths.predictions,
        settings.data,
    )
    assert 0.7 < metrics["roc_auc"] <= 1.0, f"model should beat chance clearly: {metrics}"
    assert json.loads(settings.paths.metrics.read_text()) == metrics, "metrics file differs from result"
    predictions = pd.read_csv(settings.paths.predictions)
    assert len(predictions) == metrics["test_rows"], "one prediction per test row"
    assert {"row", "y_true", "y_pred", "y_score"} <= set(predictions.columns), list(predictions.columns)
    assert "sex" not in predictions.columns, "a sensitive attribute leaked into predictions.csv"


def test_train_records_its_cpu_time_and_an_energy_estimate_from_it(settings):
    # given the data, when train runs (CPU time of this process measured around it too)
    ingest(settings.data, settings.paths.raw_data)
    before = sum(os.times()[:4])
    summary = train(
        settings.paths.raw_data, settings.paths.model, settings.paths.footprint, settings.data, settings.model
    )
    outer = sum(os.times()[:4]) - before
    # then the footprint holds the fit's CPU time, within what the whole call took
    cost = json.loads(settings.paths.footprint.read_text())
    assert 0 < cost["cpu_seconds"] <= outer + 0.01, (cost, outer)
    # and the energy estimate is that time at the stated power per core
    assert cost["energy_wh"] == pytest.approx(cost["cpu_seconds"] * cost["watts_per_core"] / 3600, rel=1e-3)
    assert summary["energy_wh"] == cost["energy_wh"] and cost["method"].startswith("estimate")


def test_evaluate_rejects_a_corrupt_model_file(settings):
    ingest(settings.data, settings.paths.raw_data)
    settings.paths.model.parent.mkdir(parents=True, exist_ok=True)
    settings.paths.model.write_bytes(b"not a model")
    with pytest.raises(ProjectError, match="not a readable model"):
        evaluate(
            settings.paths.raw_data,
            settings.paths.model,
            settings.paths.metrics,
            settings.paths.predictions,
            settings.data,
        )
    assert not settings.paths.metrics.exists(), "metrics written for a corrupt model"
