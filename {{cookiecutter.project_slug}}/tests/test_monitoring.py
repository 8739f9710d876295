"""Monitoring: drift statistics against known distributions, the monitor and feedback commands,
the report, lineage, and the feedback-loop guard."""

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from scipy import stats as scipy_stats

from {{ cookiecutter.package_name }} import sample_data
from {{ cookiecutter.package_name }}.cli import cli
from {{ cookiecutter.package_name }}.monitoring import stats
from {{ cookiecutter.package_name }}.monitoring.reference import SAMPLE_SIZE

PROJECT = Path(__file__).resolve().parents[1]


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# --- statistics, against closed forms and plain reference implementations ---


def psi_by_hand(expected: list[float], actual: list[float]) -> float:
    """The textbook formula, one bin at a time, with the same floor for empty bins."""
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, stats.EPSILON), max(a, stats.EPSILON)
        total += (a - e) * math.log(a / e)
    return total


def test_psi_of_shifted_normals_matches_the_binned_closed_form():
    # given a standard normal reference and a sample shifted by half a standard deviation
    rng = np.random.default_rng(0)
    reference, current = rng.normal(0, 1, 200_000), rng.normal(0.5, 1, 200_000)
    # when PSI is computed on the reference's decile bins
    edges = stats.bin_edges(reference)
    measured = stats.psi(stats.bin_fractions(reference, edges), stats.bin_fractions(current, edges))
    # then it matches the exact PSI of the two normals on the true deciles
    deciles = scipy_stats.norm.ppf(stats.DECILES)
    cdf = lambda mu: np.diff(np.concatenate([[0.0], scipy_stats.norm.cdf(deciles - mu), [1.0]]))  # noqa: E731
    exact = psi_by_hand(list(cdf(0.0)), list(cdf(0.5)))
    assert measured == pytest.approx(exact, abs=0.01), f"PSI {measured} vs closed form {exact}"
    assert stats.psi([0.2, 0.3, 0.5], [0.1, 0.6, 0.3]) == pytest.approx(
        psi_by_hand([0.2, 0.3, 0.5], [0.1, 0.6, 0.3])
    )


def test_ks_on_the_quantile_sample_matches_the_closed_form_and_the_full_sample_test():
    # given two normals one standard deviation apart
    rng = np.random.default_rng(1)
    reference, current = rng.normal(0, 1, 100_000), rng.normal(1, 1, 5_000)
    edges = stats.bin_edges(reference)
    # when drift is measured against the small quantile sample the release keeps
    drift = stats.numeric_drift(
        edges,
        list(stats.bin_fractions(reference, edges)),
        stats.quantile_sample(reference, SAMPLE_SIZE),
        current,
    )
    # then the KS statistic is the exact sup-distance 2*Phi(1/2) - 1, as scipy finds on the full samples
    exact = 2 * scipy_stats.norm.cdf(0.5) - 1
    full = scipy_stats.ks_2samp(reference, current).statistic
    assert drift.statistic == pytest.approx(exact, abs=0.03), f"KS {drift.statistic} vs closed form {exact}"
    assert drift.statistic == pytest.approx(full, abs=0.01), f"KS {drift.statistic} vs full-sample {full}"
    assert drift.p_value < 1e-10, f"a one-sigma shift is not significant: p = {drift.p_value}"


def test_same_distribution_is_neither_large_nor_significant():
    # given a second draw from the reference's own distribution
    rng = np.random.default_rng(2)
    reference, current = rng.lognormal(3.9, 0.45, 50_000), rng.lognormal(3.9, 0.45, 2_000)
    edges = stats.bin_edges(reference)
    drift = stats.numeric_drift(
        edges,
        list(stats.bin_fractions(reference, edges)),
        stats.quantile_sample(reference, SAMPLE_SIZE),
        current,
    )
    # then PSI is small and the test does not reject
    assert drift.psi < 0.02, f"PSI {drift.psi} on an undrifted sample"
    assert drift.p_value > 0.01, f"KS rejects an undrifted sample: p = {drift.p_value}"


def test_chi_squared_matches_pearson_by_hand_and_counts_a_new_category():
    # given reference counts and a current batch with a category the reference never saw
    reference = {"a": 600, "b": 300, "c": 100}
    current = {"a": 50, "b": 30, "c": 10, "new": 10}
    # when categorical drift is measured
    drift = stats.categorical_drift(reference, current)
    # then the statistic is Pearson's, computed by hand over the 2 x 4 table
    table = np.array([[600, 300, 100, 0], [50, 30, 10, 10]], dtype=float)
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    pearson = float(((table - expected) ** 2 / expected).sum())
    assert drift.statistic == pytest.approx(pearson), f"chi2 {drift.statistic} vs by hand {pearson}"
    assert drift.p_value == pytest.approx(scipy_stats.chi2.sf(pearson, 3)), "p-value is not chi2(3)'s tail"
    shares = [0.6, 0.3, 0.1, 0.0], [0.5, 0.3, 0.1, 0.1]
    assert drift.psi == pytest.approx(psi_by_hand(*shares)), "PSI does not count the new category"


# --- a released model to monitor ---


@pytest.fixture
def project(released, tmp_path, monkeypatch) -> Path:
    """A copy of the released project, lineage to a file in it, cwd set to it."""
    root = tmp_path / "project"
    shutil.copytree(released, root)
    (root / "artifacts/lineage/events.jsonl").unlink(missing_ok=True)  # the release run's own events
    monkeypatch.chdir(root)
    return root


def batch(path: Path, **knobs) -> Path:
    sample_data.generate(rows=1000, seed=knobs.pop("seed", 7), **knobs).to_csv(path, index=False)
    return path


def test_package_stores_a_small_reference_without_training_rows(project):
    # given a packaged release
    releases = project / "artifacts/releases"
    champion = json.loads((releases / "champion.json").read_text())["version"]
    reference = releases / champion / "reference.json"
    # then it holds a reference profile that stays small and lists every model input
    assert reference.is_file(), "package wrote no reference.json"
    assert reference.stat().st_size < 100_000, f"reference is {reference.stat().st_size} bytes"
    profile = json.loads(reference.read_text())
    assert set(profile["columns"]) == {
        "age",
        "income",
        "loan_amount",
        "credit_history_months",
        "late_payments",
        "employment",
    }, "reference does not profile exactly the model's inputs"
    assert "sex" not in profile["columns"], "the sensitive attribute is profiled as a model input"
    manifest = json.loads((releases / champion / "manifest.json").read_text())
    assert "reference.json" in manifest["sha256"], "the manifest does not cover the reference"


def test_monitor_passes_a_batch_from_the_training_distribution(project):
    # given a day of requests drawn like the training data
    result = invoke("monitor", "--batch", str(batch(project / "day.csv")))
    # then every gate passes and the reports are written
    assert result.exit_code == 0, result.output
    assert "verdict: pass" in result.output, result.output
    report = json.loads((project / "artifacts/monitoring/monitoring.json").read_text())
    assert report["verdict"] == "pass" and report["rows"] == 1000, report["failed"]


@pytest.mark.parametrize(
    ("knobs", "gate", "column", "statistic", "limit"),
    [
        ({"income_shift": -0.3}, "feature_drift", "income", "ks", 0.2),
        ({"new_category": 0.15}, "feature_drift", "employment", "chi2", 0.2),
        ({"base_rate_shift": 1.2}, "label_drift", "default", "chi2", 0.1),
    ],
    ids=["shifted-income", "new-category", "base-rate"],
)
def test_monitor_fails_a_drifted_batch_naming_gate_column_statistic_value_and_limit(
    project, knobs, gate, column, statistic, limit
):
    # given a day of requests where one thing about the world moved
    result = invoke("monitor", "--batch", str(batch(project / "day.csv", **knobs)))
    # then monitor fails (exit 1) and names the gate, the column, the statistic, its value and its limit
    assert result.exit_code == 1, result.output
    assert "verdict: fail" in result.output, result.output
    line = next(
        (x for x in result.output.splitlines() if x.startswith(f"{gate} gate failed for {column}")), None
    )
    assert line is not None, f"no failed {gate} for {column}: {result.output}"
    assert "psi = " in line and f"is above the max {limit:g}" in line, line
    assert f"{statistic} p = " in line, f"the two-sample test is not named: {line}"


def test_monitor_rejects_a_batch_missing_a_column_in_one_line(project):
    # given a batch without the income column
    frame = sample_data.generate(rows=200, seed=3).drop(columns=["income"])
    frame.to_csv(project / "day.csv", index=False)
    # when it is monitored
    result = invoke("monitor", "--batch", "day.csv")
    # then the mistake is one line naming the column, exit 2
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "income" in lines[0], result.output


def test_monitor_reads_the_log_since_a_time_and_skips_a_half_written_line(project):
    # given two replayed days in the inference log, the second drifted, and a line cut short
    invoke("replay", str(batch(project / "d1.csv")), "--day", "2026-12-01")
    invoke("replay", str(batch(project / "d2.csv", seed=8, drift=1.0)), "--day", "2026-12-02")
    log = project / "artifacts/serving/inference.jsonl"
    with log.open("a") as handle:
        handle.write('{"id": "cut-short", "features": {"age": 4')
    # when the first day alone is monitored, then both days
    first = invoke("monitor", "--since", "2026-12-01T00:00:00Z")
    # then --since picks the window and the half line is ignored
    assert first.exit_code == 1, first.output  # both days: the drifted one fails
    report = json.loads((project / "artifacts/monitoring/monitoring.json").read_text())
    assert report["rows"] == 2000, f"read {report['rows']} rows, not the 2,000 whole ones"
    second = invoke("monitor", "--since", "2026-12-02")
    report = json.loads((project / "artifacts/monitoring/monitoring.json").read_text())
    assert report["rows"] == 1000 and report["verdict"] == "fail", (report["rows"], report["verdict"])
    assert second.exit_code == 1, second.output


def test_feedback_joins_labels_and_reports_unknown_ids_without_failing(project):
    # given a replayed day and its ground truth, plus two ids the log never saw
    invoke("replay", str(batch(project / "d1.csv")), "--day", "2026-12-01", "--truth", "truth.csv")
    truth = pd.read_csv(project / "truth.csv")
    extra = pd.DataFrame({"id": ["nope-1", "nope-2"], "default": [0, 1], "sex": ["female", "male"]})
    pd.concat([truth, extra]).to_csv(project / "truth.csv", index=False)
    # when the feedback arrives
    result = invoke("feedback", "truth.csv")
    # then the known ids are joined and the unknown ones are reported, not crashed on
    assert result.exit_code == 0, result.output
    assert "1000 of 1002 label(s) matched" in result.output, result.output
    assert "2 id(s) are not in the inference log: nope-1, nope-2" in result.output, result.output
    # and monitor now judges live performance and fairness on the labelled rows
    monitored = invoke("monitor")
    report = json.loads((project / "artifacts/monitoring/monitoring.json").read_text())
    assert report["labelled_rows"] == 1000, report["notes"]
    judged = {gate["gate"] for gate in report["gates"]}
    assert {"performance", "fairness", "label_drift"} <= judged, f"{judged}; {monitored.output}"


def test_fairness_uses_the_sensitive_attribute_when_the_log_holds_it(project):
    # given a log whose rows carry the sensitive attribute (policy let serve log it) and labels without it
    invoke("replay", str(batch(project / "d1.csv")), "--day", "2026-12-01", "--truth", "truth.csv")
    log = project / "artifacts/serving/inference.jsonl"
    sexes = pd.read_csv(project / "d1.csv")["sex"].tolist()
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    for row, sex in zip(rows, sexes, strict=True):
        row["features"]["sex"] = sex
    log.write_text("".join(json.dumps(row) + "\n" for row in rows))
    pd.read_csv(project / "truth.csv").drop(columns=["sex"]).to_csv(project / "truth.csv", index=False)
    assert invoke("feedback", "truth.csv").exit_code == 0
    # when monitor runs, then the fairness gates are judged per group of that attribute
    invoke("monitor")
    report = json.loads((project / "artifacts/monitoring/monitoring.json").read_text())
    assert list(report["fairness"]) == ["sex"], report["notes"]
    assert any(gate["gate"] == "fairness" for gate in report["gates"]), report["gates"]


def test_feedback_without_a_label_column_is_one_line(project):
    invoke("replay", str(batch(project / "d1.csv")), "--day", "2026-12-01")
    (project / "truth.csv").write_text("id,outcome\nx,1\n")
    result = invoke("feedback", "truth.csv")
    assert result.exit_code == 2 and "no default column" in result.output, result.output


def test_report_is_self_contained_with_charts_gates_and_a_trend(project):
    # given two monitoring runs, the second drifted
    invoke("monitor", "--batch", str(batch(project / "a.csv")))
    invoke("monitor", "--batch", str(batch(project / "b.csv", drift=1.0)))
    html = (project / "artifacts/monitoring/monitoring.html").read_text()
    # then the report charts the shifted columns, tables the gates, draws the trend, and loads nothing
    assert "<svg" in html and "income" in html and "employment" in html, "no charts of shifted columns"
    assert "<table>" in html and "FAIL" in html, "no gate table"
    assert "<polyline" in html, "no trend over the two runs"
    for external in ("http://", "https://", "<script", "<link", "src="):
        assert external not in html, f"the report is not self-contained: {external}"
    history = (project / "artifacts/monitoring/history.jsonl").read_text().splitlines()
    assert [json.loads(x)["verdict"] for x in history] == ["pass", "fail"], history


def test_monitoring_run_is_a_lineage_job_from_log_and_release_to_report(project):
    # given a monitored batch with lineage going to a file
    invoke("monitor", "--batch", str(batch(project / "day.csv")))
    events = [json.loads(x) for x in (project / "artifacts/lineage/events.jsonl").read_text().splitlines()]
    complete = [e for e in events if e["job"]["name"] == "monitor" and e["eventType"] == "COMPLETE"]
    # then the run's inputs are the batch and the release, and its outputs the reports
    assert len(complete) == 1, [e["eventType"] for e in events]
    inputs = {Path(d["name"]).relative_to(project).as_posix() for d in complete[0]["inputs"]}
    outputs = {Path(d["name"]).name for d in complete[0]["outputs"]}
    champion = json.loads((project / "artifacts/releases/champion.json").read_text())["version"]
    assert inputs == {"day.csv", f"artifacts/releases/{champion}"}, inputs
    assert outputs == {"monitoring.json", "monitoring.html"}, outputs
    verdict = complete[0]["run"]["facets"]["{{ cookiecutter.package_name }}_governance"]["verdict"]
    assert verdict == "pass", verdict


def test_ingest_refuses_data_derived_from_the_inference_log_naming_the_lineage_path(project):
    # given labelled live data (the inference log joined with feedback), copied under a new name
    invoke("replay", str(batch(project / "d1.csv")), "--day", "2026-12-01", "--truth", "truth.csv")
    assert invoke("feedback", "truth.csv").exit_code == 0
    shutil.copy(project / "artifacts/monitoring/labelled.csv", project / "fresh.csv")
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["data"]["source"] = "fresh.csv"
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    # when it is ingested for training
    refused = invoke("ingest")
    # then ingest refuses in one line that names the path through the lineage
    assert refused.exit_code == 2, refused.output
    assert "fresh.csv <- artifacts/monitoring/labelled.csv (same sha256) <- feedback <- " in refused.output
    assert "artifacts/serving/inference.jsonl" in refused.output, refused.output
    # and with the policy switch on, it passes and the lineage records the path
    policy = yaml.safe_load((project / "governance/policy.yaml").read_text())
    policy["monitoring"]["allow_training_on_own_predictions"] = True
    (project / "governance/policy.yaml").write_text(yaml.safe_dump(policy))
    allowed = invoke("ingest")
    assert allowed.exit_code == 0, allowed.output
    events = [json.loads(x) for x in (project / "artifacts/lineage/events.jsonl").read_text().splitlines()]
    last = [e for e in events if e["job"]["name"] == "ingest"][-1]
    gate = last["run"]["facets"]["{{ cookiecutter.package_name }}_governance"]["gates"][0]
    assert gate["gate"] == "feedback_loop" and "inference.jsonl" in gate["attribute"], gate
    source = next(d for d in last["inputs"] if d["name"].endswith("fresh.csv"))
    assert source["facets"]["version"]["datasetVersion"].startswith("sha256:"), source


def test_ingest_of_an_unrelated_file_records_its_digest_and_passes(project):
    batch(project / "own.csv")
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["data"]["source"] = "own.csv"
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    assert invoke("ingest").exit_code == 0
    events = [json.loads(x) for x in (project / "artifacts/lineage/events.jsonl").read_text().splitlines()]
    last = [e for e in events if e["job"]["name"] == "ingest"][-1]
    assert [Path(d["name"]).name for d in last["inputs"]] == ["own.csv"], last["inputs"]


def test_monitor_retrain_runs_the_pipeline_when_a_retrain_gate_fails(project):
    # given drifted data as data.source (the world moved) and a drifted day to monitor
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["data"]["drift"] = 1.0
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    # when monitor --retrain judges the drifted day
    result = invoke("monitor", "--batch", str(batch(project / "day.csv", drift=1.0)), "--retrain")
    # then the failing drift gates start the pipeline, and governance decides on the new model
    assert "retrain: " in result.output and "running the pipeline" in result.output, result.output
    assert "governance verdict" in result.output or result.exit_code == 2, result.output
