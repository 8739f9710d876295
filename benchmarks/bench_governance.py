"""Governance cost: the govern step against the pipeline before it, as the data grows.

At each size the core steps (ingest, validate-data, train, evaluate) run once
with lineage off; then govern runs twice on their outputs: "before" with the
group metrics computed by fairlearn's MetricFrame (how govern computed them
until 2026-12-02), "after" with the project's vectorised ones
(governance/fairness.py, checked against fairlearn by the baked tests). The
sample has one sensitive attribute; the cost is per attribute.
Usage: python benchmarks/bench_governance.py [ROWS ...]
"""

import importlib
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
SIZES = [int(n) for n in sys.argv[1:]] or [10_000, 100_000, 1_000_000]
CORE = ("ingest", "validate-data", "train", "evaluate")


def fairlearn_assess(predictions, attributes):
    """The group metrics through fairlearn's MetricFrame: the reference, and the old cost."""
    from fairlearn.metrics import MetricFrame, count, false_positive_rate, selection_rate, true_positive_rate
    from sklearn.metrics import accuracy_score

    metrics = {
        "count": count,
        "selection_rate": selection_rate,
        "true_positive_rate": true_positive_rate,
        "false_positive_rate": false_positive_rate,
        "accuracy": accuracy_score,
    }
    results = {}
    for attribute in attributes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = MetricFrame(
                metrics=metrics,
                y_true=predictions["y_true"],
                y_pred=predictions["y_pred"],
                sensitive_features=predictions[attribute].astype(str),
            )
            difference = frame.difference(method="between_groups")
            ratio = frame.ratio(method="between_groups")
        results[attribute] = {
            "groups": sorted(str(g) for g in frame.by_group.index),
            "by_group": {str(g): dict(row) for g, row in frame.by_group.iterrows()},
            "overall": dict(frame.overall),
            "disparities": {
                "demographic_parity_difference": float(difference["selection_rate"]),
                "equalized_odds_difference": float(
                    max(difference["true_positive_rate"], difference["false_positive_rate"])
                ),
                "equal_opportunity_difference": float(difference["true_positive_rate"]),
                "disparate_impact_ratio": float(ratio["selection_rate"]),
                "smallest_group_size": float(frame.by_group["count"].min()),
            },
        }
    return results


def timed(steps, name: str, settings, policy) -> float:
    started = time.perf_counter()
    try:
        steps.run_step(name, settings, policy)
    except Exception as exc:  # a failed gate still measures the work done
        if type(exc).__name__ != "GateFailed":
            raise
    return time.perf_counter() - started


def main() -> list[tuple[str, str]]:
    scratch = Path(tempfile.mkdtemp())
    rows_out = []
    cwd = os.getcwd()
    os.environ["OPENLINEAGE_DISABLED"] = "true"
    try:
        project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(scratch)))
        package = project.name.replace("-", "_")
        sys.path.insert(0, str(project / "src"))
        for module in [m for m in sys.modules if m.split(".")[0] == package]:
            del sys.modules[module]  # another benchmark's bake of the same package
        os.chdir(project)
        settings_mod = importlib.import_module(f"{package}.settings")
        policy_mod = importlib.import_module(f"{package}.governance.policy")
        fairness = importlib.import_module(f"{package}.governance.fairness")
        steps = importlib.import_module(f"{package}.steps")
        vectorised = fairness.assess
        policy = policy_mod.load_policy(project / "governance" / "policy.yaml")
        for rows in [5000, *SIZES]:  # the first size only warms imports (fairlearn's included)
            settings = settings_mod.load_settings(project / "params.yaml")
            settings = settings.model_copy(update={"data": settings.data.model_copy(update={"rows": rows})})
            core = sum(timed(steps, name, settings, policy) for name in CORE)
            fairness.assess = fairlearn_assess
            before = timed(steps, "govern", settings, policy)
            fairness.assess = vectorised
            after = timed(steps, "govern", settings, policy)
            if rows == 5000 and rows not in SIZES:
                continue
            rows_out.append(
                (
                    f"governance at {rows:,} rows: before / after",
                    f"{before:.2f} s / {after:.2f} s = {before / core:.0%} / {after / core:.0%} "
                    f"of the {core:.2f} s pipeline (target <= 10% at 100k)",
                )
            )
    finally:
        os.chdir(cwd)
        os.environ.pop("OPENLINEAGE_DISABLED", None)
        shutil.rmtree(scratch)
    return rows_out


if __name__ == "__main__":
    for name, value in main():
        print(f"{name:<45} {value}")
