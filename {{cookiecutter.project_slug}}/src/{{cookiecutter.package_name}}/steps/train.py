"""Train: fit the configured model (models.py) on the prepared features (features.py),
and record what the fit cost (footprint.py)."""

from pathlib import Path
from typing import TypedDict

import joblib

from ..errors import ProjectError
from ..features import feature_columns, labels
from ..files import atomic_path, write_json
from ..footprint import measured
from ..models import build_model
from ..settings import DataSettings, ModelSettings
from ..tables import read_csv, split


class TrainSummary(TypedDict):
    algorithm: str
    train_rows: int
    features: list[str]
    cpu_seconds: float
    energy_wh: float


def train(
    raw: Path, model_out: Path, footprint_out: Path, data: DataSettings, model: ModelSettings
) -> TrainSummary:
    """Fit the model on the training split of `raw`; save it to `model_out`, its cost to `footprint_out`."""
    frame = read_csv(raw)
    train_rows, _ = split(frame, data)
    features = feature_columns(frame, data)
    pipeline = build_model(features, model)
    try:
        with measured() as cost:
            pipeline.fit(train_rows[features.columns], labels(train_rows, data))
    except (TypeError, ValueError) as exc:  # a column of the wrong kind, an option the estimator lacks
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ProjectError(f"train could not fit {model.algorithm} on {raw}: {first}") from exc
    with atomic_path(model_out) as tmp:
        joblib.dump(pipeline, tmp)
    write_json(footprint_out, cost | {"train_rows": len(train_rows)})
    return {
        "algorithm": model.algorithm,
        "train_rows": len(train_rows),
        "features": features.columns,
        "cpu_seconds": cost["cpu_seconds"],
        "energy_wh": cost["energy_wh"],
    }
