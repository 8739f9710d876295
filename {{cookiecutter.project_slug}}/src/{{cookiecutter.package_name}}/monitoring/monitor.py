"""Monitor: compare live rows with the training reference and judge them by the policy.

Gates, each one result per column or metric (as govern's gates):
  feature_drift     every model input: PSI on the reference bins, plus KS
                    (numeric) or chi-squared (categorical)
  prediction_drift  the predicted probability (KS) and predicted label (chi-squared)
  label_drift       the true label's base rate, when labels are known
  performance       the policy's metrics on labelled live rows
  fairness          the policy's fairness gates on labelled live rows that
                    carry the sensitive attributes
A drift gate fails only when PSI is above its limit and the test's p-value is
below alpha: large enough to matter and more than sampling noise.
"""

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..governance import gates
from ..governance.policy import Bound, DriftPolicy, Policy
from . import stats
from .inference_log import Batch
from .reference import Reference


@dataclass
class Monitoring:
    """What one monitoring run found."""

    verdict: str  # "pass", "fail" or "insufficient_data"
    rows: int
    labelled_rows: int
    gates: list[dict]
    columns: dict[str, dict]  # per column: drift statistics and the shares charted in the report
    performance: dict[str, float] = field(default_factory=dict)
    fairness: dict[str, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def failed(self) -> list[str]:
        return [gates.describe(gate) for gate in self.gates if not gate["passed"]]

    def failed_gates(self) -> set[str]:
        return {gate["gate"] for gate in self.gates if not gate["passed"]}


def _round(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(f"{value:.6g}")


def _drift_gate(gate: str, column: str, drift: stats.Drift, policy: DriftPolicy) -> list[dict]:
    results = gates._check(gate, "psi", _round(drift.psi), policy.psi, attribute=column)
    significant = not math.isnan(drift.p_value) and drift.p_value < policy.alpha
    for result in results:
        result.update(test=drift.test, statistic=_round(drift.statistic), p_value=_round(drift.p_value))
        result["detail"] = f"{drift.test} p = {drift.p_value:.3g}, alpha {policy.alpha:g}"
        if not result["passed"] and not significant:
            result["passed"] = True  # a large PSI that sampling noise explains
            result["detail"] += ": not significant"
    return results


def _compare(name: str, profile: dict, values) -> tuple[stats.Drift, dict]:
    """Drift of one column and what the report charts: reference and current shares per bin."""
    if profile["kind"] == "numeric":
        array = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        drift = stats.numeric_drift(profile["edges"], profile["fractions"], profile["sample"], array)
        shown = {
            "bins": _bin_labels(profile["edges"]),
            "reference": profile["fractions"],
            "current": [round(float(f), 6) for f in stats.bin_fractions(array, profile["edges"])],
            "missing": round(float(np.isnan(array).mean()), 6) if array.size else 0.0,
        }
    else:
        counts = stats.value_counts(values)
        drift = stats.categorical_drift(profile["counts"], counts)
        categories = sorted(set(profile["counts"]) | set(counts))
        ref_total, cur_total = sum(profile["counts"].values()) or 1, sum(counts.values()) or 1
        shown = {
            "bins": categories,
            "reference": [round(profile["counts"].get(c, 0) / ref_total, 6) for c in categories],
            "current": [round(counts.get(c, 0) / cur_total, 6) for c in categories],
            "new": sorted(set(counts) - set(profile["counts"])),
        }
    statistics = {
        "kind": drift.kind,
        "psi": _round(drift.psi),
        "test": drift.test,
        "statistic": _round(drift.statistic),
        "p_value": _round(drift.p_value),
    }
    return drift, statistics | shown


def _bin_labels(edges: list[float]) -> list[str]:
    if not edges:
        return ["all"]
    bounds = [f"{edge:g}" for edge in edges]
    return (
        [f"<= {bounds[0]}"]
        + [f"{a}..{b}" for a, b in zip(bounds, bounds[1:], strict=False)]
        + [f"> {bounds[-1]}"]
    )


def check(batch: Batch, reference: Reference, policy: Policy, attributes: tuple[str, ...]) -> Monitoring:
    """Every monitoring gate of `policy` on `batch` against `reference`."""
    rules = policy.monitoring
    frame = batch.frame
    if len(frame) < rules.min_rows:
        note = f"{len(frame)} rows, fewer than monitoring.min_rows ({rules.min_rows}): nothing judged"
        return Monitoring("insufficient_data", len(frame), 0, [], {}, notes=[note])
    results: list[dict] = []
    columns: dict[str, dict] = {}
    for name, profile in reference.columns.items():
        drift, columns[name] = _compare(name, profile, frame[name])
        results += _drift_gate("feature_drift", name, drift, rules.features)
    for name, profile, values in (
        ("prediction.probability", reference.prediction["probability"], frame["probability"]),
        (
            "prediction.label",
            {"kind": "categorical", "counts": reference.prediction["label"]},
            frame["prediction"],
        ),
    ):
        drift, columns[name] = _compare(name, profile, values)
        results += _drift_gate("prediction_drift", name, drift, rules.prediction)

    target = reference.target
    labelled = frame[frame[target].notna()] if target in frame else frame.iloc[0:0]
    monitoring = Monitoring("pass", len(frame), len(labelled), results, columns)
    if len(labelled) == 0:
        monitoring.notes.append("no labels yet: performance, fairness and label drift wait for `feedback`")
    elif len(labelled) < rules.min_labelled_rows:
        monitoring.notes.append(
            f"{len(labelled)} labelled rows, fewer than monitoring.min_labelled_rows "
            f"({rules.min_labelled_rows}): performance and fairness not judged"
        )
    if len(labelled):
        truth = labelled[target].astype("int64").to_numpy()
        drift, columns[f"label.{target}"] = _compare(
            target, {"kind": "categorical", "counts": reference.label}, truth
        )
        results += _drift_gate("label_drift", target, drift, rules.label)
    if len(labelled) >= rules.min_labelled_rows:
        _live_quality(monitoring, labelled, truth, policy, attributes)
    monitoring.verdict = gates.verdict(results)
    return monitoring


def _live_quality(monitoring: Monitoring, labelled: pd.DataFrame, truth, policy: Policy, attributes) -> None:
    # Imported here: sklearn and fairlearn cost a second of start-up that a run without labels skips.
    from ..governance import fairness
    from ..steps.evaluate import score_metrics

    score = labelled["probability"].to_numpy(dtype=float)
    predicted = labelled["prediction"].to_numpy(dtype="int64")
    if len(set(truth.tolist())) < 2:
        # roc_auc is undefined on one class: judge the rest, say so.
        monitoring.notes.append("labelled rows hold one class only: roc_auc is undefined")
        monitoring.performance = _one_class_metrics(truth, predicted)
    else:
        monitoring.performance = score_metrics(truth, score)
    limits: dict[str, Bound] = policy.monitoring.performance or {
        metric: limit.bound for metric, limit in policy.performance_limits().items()
    }
    for metric, bound in limits.items():
        value = monitoring.performance.get(metric)
        if value is None:  # roc_auc of a window with one class: undefined, not failed
            monitoring.notes.append(f"performance {metric} not judged: undefined on these labels")
            continue
        monitoring.gates += gates._check("performance", metric, value, bound)
    present = tuple(a for a in attributes if a in labelled and labelled[a].notna().all())
    if not policy.monitoring.fairness:
        return
    if len(present) < len(attributes):
        absent = ", ".join(a for a in attributes if a not in present)
        monitoring.notes.append(f"fairness not judged for {absent}: the labelled rows do not carry it")
    if present:
        rows = labelled[list(present)].assign(y_true=truth, y_pred=predicted)
        monitoring.fairness = fairness.assess(rows, present)
        monitoring.gates += gates.fairness_gates(monitoring.fairness, policy)


def _one_class_metrics(truth, predicted) -> dict:
    from sklearn import metrics as skm

    return {
        "accuracy": round(float(skm.accuracy_score(truth, predicted)), 6),
        "roc_auc": None,
        "f1": round(float(skm.f1_score(truth, predicted, zero_division=0)), 6),
        "precision": round(float(skm.precision_score(truth, predicted, zero_division=0)), 6),
        "recall": round(float(skm.recall_score(truth, predicted, zero_division=0)), 6),
    }
