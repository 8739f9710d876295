"""The training reference: what monitoring compares live data with, stored in the release.

A few kilobytes per column, never the training rows: numeric columns keep
their decile bins and shares plus SAMPLE_SIZE evenly spaced order statistics
(enough for the KS test and for charts), categorical columns keep their counts.
The predictions on the held-out split give the reference for prediction drift.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ProjectError
from ..features import feature_columns
from ..files import read_json, write_json
from ..settings import DataSettings
from ..tables import read_csv, split
from . import stats

REFERENCE_FILE = "reference.json"
SAMPLE_SIZE = 500
FORMAT = 1


@dataclass(frozen=True)
class Reference:
    """A loaded reference profile."""

    columns: dict[str, dict]  # model inputs, by name
    prediction: dict  # "probability" (numeric profile) and "label" (counts)
    label: dict  # counts of the true label in the training split
    target: str
    rows: int
    path: Path

    def numeric(self) -> list[str]:
        return [name for name, column in self.columns.items() if column["kind"] == "numeric"]


def profile(values: pd.Series) -> dict:
    """One column's profile: bins, shares and a quantile sample, or category counts."""
    if values.dtype.kind in "ifub":
        array = values.to_numpy(dtype=float, na_value=np.nan)
        edges = stats.bin_edges(array)
        return {
            "kind": "numeric",
            "edges": edges,
            "fractions": [round(float(f), 6) for f in stats.bin_fractions(array, edges)],
            "sample": stats.quantile_sample(array, SAMPLE_SIZE),
            "mean": _round(np.nanmean(array)) if array.size else None,
            "std": _round(np.nanstd(array)) if array.size else None,
            "missing": round(float(np.isnan(array).mean()), 6) if array.size else 0.0,
        }
    return {"kind": "categorical", "counts": stats.value_counts(values)}


def _round(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 6)


def build(frame: pd.DataFrame, predictions: Path, data: DataSettings) -> dict:
    """The reference profile of the training split of raw data `frame` and of held-out `predictions`."""
    train_rows, _ = split(frame, data)
    held_out = read_csv(predictions)
    missing = [column for column in ("y_score", "y_pred") if column not in held_out]
    if missing:
        raise ProjectError(f"{predictions} lacks column(s) {', '.join(missing)}: run evaluate again")
    return {
        "format": FORMAT,
        "target": data.target,
        "rows": len(train_rows),
        "columns": {column: profile(train_rows[column]) for column in feature_columns(frame, data).columns},
        "label": stats.value_counts(train_rows[data.target]),
        "prediction": {
            "probability": profile(held_out["y_score"].astype(float)),
            "label": stats.value_counts(held_out["y_pred"]),
        },
    }


def write(raw: Path, predictions: Path, data: DataSettings, target: Path) -> Path:
    """Profile the training data and write it to `target` (atomically)."""
    return write_json(target, build(read_csv(raw), predictions, data))


def load(path: Path) -> Reference:
    """Read a release's reference profile."""
    path = Path(path)
    if path.is_dir():
        path = path / REFERENCE_FILE
    if not path.is_file():
        raise ProjectError(f"{path} not found: the release has no training reference (package a model again)")
    raw = read_json(path)
    if raw.get("format") != FORMAT:
        raise ProjectError(f"{path}: reference format {raw.get('format')!r} is not {FORMAT}")
    return Reference(
        columns=raw["columns"],
        prediction=raw["prediction"],
        label=raw["label"],
        target=raw["target"],
        rows=int(raw["rows"]),
        path=path,
    )
