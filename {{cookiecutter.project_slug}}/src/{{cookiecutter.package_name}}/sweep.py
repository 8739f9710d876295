"""Sweep: train and judge a small grid of model settings side by side, to choose one.

Each variant runs the pipeline's own train and evaluate steps (`STEPS` in
steps/__init__.py) with its model settings, in a scratch folder under
`sweep.folder`, and is judged by govern's performance and fairness gates; the
sweep adds what a choice also weighs: the saved model's size and how long it
takes to predict one row. Nothing is released: a person reads variants.md and
sets the chosen settings in params.yaml `model:`, then runs the pipeline, whose
govern checks every gate (robustness and the champion comparison included).
"""

import itertools
import shutil
import statistics
import time
from collections.abc import Callable
from typing import TypedDict

import numpy as np
import pandas as pd

from .context import RunContext
from .errors import ProjectError
from .features import feature_columns
from .files import atomic_path, write_json
from .governance import gates
from .governance.policy import Policy
from .settings import GridValue, ModelSettings, Settings, check_model
from .steps import BY_NAME
from .steps.evaluate import load_model
from .steps.govern import measure_fairness
from .tables import read_csv, split

# The chosen variant: the passing one with the highest of this metric; a tie goes to the smaller model.
PRIMARY = "roc_auc"
METRICS = ("roc_auc", "accuracy", "f1", "precision", "recall")
# The disparities the table shows per sensitive attribute (variants.json has them all), and their short names.
DISPARITIES = {
    "demographic_parity_difference": "parity",
    "equalized_odds_difference": "odds",
    "equal_opportunity_difference": "opportunity",
    "disparate_impact_ratio": "impact",
}


class Variant(TypedDict):
    name: str  # v1, v2 ... in grid order
    settings: dict[str, GridValue]  # the grid's values for this variant
    model: dict  # every model setting it was trained with
    folder: str
    metrics: dict[str, float]
    fairness: dict[str, dict[str, float | None]]  # disparities per sensitive attribute
    size_bytes: int  # the saved model (train's model.joblib)
    latency_ms: float  # median time to predict one row alone
    verdict: str  # pass or fail, by the performance and fairness gates
    failed: list[str]  # one line per failed gate, as govern words it


class SweepResult(TypedDict):
    """variants.json."""

    grid: dict[str, list[GridValue]]
    primary_metric: str
    policy_version: str
    profile: str
    latency_rows: int
    variants: list[Variant]
    chosen: str | None
    reason: str
    reports: dict[str, str]


def combinations(grid: dict[str, tuple[GridValue, ...]]) -> list[dict[str, GridValue]]:
    """Every combination of the grid's values, the first key varying slowest."""
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]


def label(settings: dict[str, GridValue]) -> str:
    """A variant's settings as `key=value, ...`, the way --grid takes them."""
    return ", ".join(f"{key}={'null' if value is None else value}" for key, value in settings.items())


def latency_ms(model, rows: pd.DataFrame, count: int) -> float:
    """Median milliseconds to predict one row alone, over `count` rows spread evenly over `rows`."""
    picks = np.unique(np.linspace(0, len(rows) - 1, num=min(count, len(rows))).round().astype("int64"))
    times = []
    for index in picks:
        row = rows.iloc[[int(index)]]
        started = time.perf_counter()
        model.predict_proba(row)
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 4)


def choose(variants: list[Variant]) -> tuple[str | None, str]:
    """The passing variant with the best primary metric (a tie: the smaller model), and why."""
    passing = [variant for variant in variants if variant["verdict"] == "pass"]
    if not passing:
        return None, f"no variant passes the gates ({len(variants)} of {len(variants)} failed)"
    best = min(passing, key=lambda variant: (-variant["metrics"][PRIMARY], variant["size_bytes"]))
    value = best["metrics"][PRIMARY]
    tied = [v["name"] for v in passing if v is not best and v["metrics"][PRIMARY] == value]
    reason = f"the best {PRIMARY} ({value:g}) of the {len(passing)} variant(s) that pass the gates"
    if tied:
        reason += f"; tied with {', '.join(tied)}, it is the smallest model ({best['size_bytes']} bytes)"
    return best["name"], reason


def run_sweep(
    settings: Settings,
    policy: Policy,
    context: RunContext,
    progress: Callable[[Variant], None] | None = None,
) -> SweepResult:
    """Train, evaluate and gate every variant of settings.sweep.grid; write variants.json and .md.

    Raises ProjectError, after writing both files, when no variant passes.
    """
    grid = settings.sweep.grid
    root = settings.sweep.folder
    if not grid:
        raise ProjectError("nothing to sweep: set sweep.grid in params.yaml or pass --grid KEY=V1,V2")
    # Every variant's settings are checked before anything is written.
    variants = combinations(grid)
    models = [
        check_model(settings.model.model_dump() | variant, ModelSettings, f"--grid {label(variant)}")
        for variant in variants
    ]
    for stale in (root / "variants").glob("v*"):  # a previous sweep's variants, which may have been more
        if stale.is_dir() and stale.name[1:].isdigit():
            shutil.rmtree(stale)
    data_paths = settings.paths.model_copy(
        update={"raw_data": root / "data/raw.csv", "validation_report": root / "data/data_validation.json"}
    )
    scratch = settings.model_copy(update={"paths": data_paths})
    for step in ("ingest", "validate-data"):  # once, for every variant
        BY_NAME[step].call(scratch, policy, context)
    frame = read_csv(data_paths.raw_data)
    _, test_rows = split(frame, settings.data)
    inputs = test_rows[feature_columns(frame, settings.data).columns]

    results: list[Variant] = []
    for index, (variant, model) in enumerate(zip(variants, models, strict=True), start=1):
        folder = root / "variants" / f"v{index}"
        paths = data_paths.model_copy(
            update={
                "model": folder / "model.joblib",
                "footprint": folder / "footprint.json",
                "metrics": folder / "metrics.json",
                "predictions": folder / "predictions.csv",
            }
        )
        trial = settings.model_copy(update={"paths": paths, "model": model})
        BY_NAME["train"].call(trial, policy, context)
        evaluated = BY_NAME["evaluate"].call(trial, policy, context)
        metrics = {metric: evaluated[metric] for metric in METRICS}
        fairness = measure_fairness(paths.predictions, frame, settings.data)
        checked = gates.performance_gates(metrics, policy) + gates.fairness_gates(fairness, policy)
        result: Variant = {
            "name": f"v{index}",
            "settings": variant,
            "model": model.model_dump(mode="json"),
            "folder": folder.as_posix(),
            "metrics": metrics,
            "fairness": {attribute: found["disparities"] for attribute, found in fairness.items()},
            "size_bytes": paths.model.stat().st_size,
            "latency_ms": latency_ms(load_model(paths.model), inputs, settings.sweep.latency_rows),
            "verdict": gates.verdict(checked),
            "failed": [gates.describe(gate) for gate in checked if not gate["passed"]],
        }
        results.append(result)
        if progress:
            progress(result)

    chosen, reason = choose(results)
    reports = {"json": (root / "variants.json").as_posix(), "markdown": (root / "variants.md").as_posix()}
    sweep: SweepResult = {
        "grid": {key: list(values) for key, values in grid.items()},
        "primary_metric": PRIMARY,
        "policy_version": policy.version,
        "profile": policy.profile,
        "latency_rows": settings.sweep.latency_rows,
        "variants": results,
        "chosen": chosen,
        "reason": reason,
        "reports": reports,
    }
    write_json(root / "variants.json", sweep)
    with atomic_path(root / "variants.md") as tmp:
        tmp.write_text(to_markdown(sweep), encoding="utf-8")
    if chosen is None:
        raise ProjectError(f"sweep: {reason}; {reports['markdown']} lists the gates each failed")
    return sweep


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def to_markdown(sweep: SweepResult) -> str:
    """variants.md: one row per variant, the chosen one and why, and what to do with it."""
    header = ["variant", "settings", *METRICS, "fairness", "size (bytes)", "latency (ms/row)", "verdict"]
    lines = [
        f"# Sweep: {len(sweep['variants'])} variants of `model:`",
        "",
        f"Gates: the performance and fairness gates of policy {sweep['policy_version']} "
        f"(profile {sweep['profile']}), as govern checks them. Latency: the median time to "
        f"predict one row alone, over {sweep['latency_rows']} rows of the test split.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + " --- |" * len(header),
    ]
    for variant in sweep["variants"]:
        fairness = "; ".join(
            f"{attribute}: "
            + ", ".join(f"{short} {_number(found.get(metric))}" for metric, short in DISPARITIES.items())
            for attribute, found in variant["fairness"].items()
        )
        verdict = "pass" if variant["verdict"] == "pass" else "fail: " + "; ".join(variant["failed"])
        name = f"**{variant['name']}** (chosen)" if variant["name"] == sweep["chosen"] else variant["name"]
        row = [
            name,
            label(variant["settings"]),
            *(_number(variant["metrics"][metric]) for metric in METRICS),
            fairness or "-",
            str(variant["size_bytes"]),
            f"{variant['latency_ms']:.3f}",
            verdict,
        ]
        lines.append("| " + " | ".join(_cell(cell) for cell in row) + " |")
    legend = ", ".join(f"{short} = {metric}" for metric, short in DISPARITIES.items())
    lines += ["", f"Fairness, per sensitive attribute: {legend}.", ""]
    by_name = {variant["name"]: variant for variant in sweep["variants"]}
    if sweep["chosen"] is None:
        lines += [f"**Chosen: none**: {sweep['reason']}.", ""]
    else:
        chosen = by_name[sweep["chosen"]]
        lines += [
            f"**Chosen: {chosen['name']}** ({label(chosen['settings'])}): {sweep['reason']}.",
            "",
            "Nothing was released. To use it, set these in params.yaml and run the pipeline "
            "(govern then checks every gate, the champion comparison included):",
            "",
            "```yaml",
            "model:",
            *(f"  {key}: {'null' if value is None else value}" for key, value in chosen["settings"].items()),
            "```",
            "",
        ]
    return "\n".join(lines)
