"""Evaluate: score the model on the held-out split; write metrics and predictions."""

from pathlib import Path
from typing import TypedDict

import joblib
from sklearn import metrics as skm

from ..errors import ProjectError
from ..features import labels
from ..files import atomic_path, write_json
from ..governance.sensitive import shareable_predictions
from ..settings import DataSettings
from ..tables import read_csv, split


class Metrics(TypedDict):
    """What evaluate writes to metrics.json; the performance gates read these names."""

    accuracy: float
    roc_auc: float
    f1: float
    precision: float
    recall: float
    test_rows: int


def load_model(path: Path):
    """Load a model written by train, with one clear error when it is not one."""
    try:
        model = joblib.load(path)
    except FileNotFoundError:
        raise ProjectError(f"{path} not found: run train first") from None
    except Exception as exc:  # joblib raises many types for a damaged file
        raise ProjectError(f"{path} is not a readable model: {type(exc).__name__}") from exc
    if not hasattr(model, "predict_proba"):
        raise ProjectError(f"{path} does not hold a classifier")
    return model


# The positive class is predicted at this probability or above, here and by the server.
THRESHOLD = 0.5


def score_metrics(truth, score) -> dict[str, float]:
    """The performance metrics of scores against labels, as metrics.json records them."""
    predicted = (score >= THRESHOLD).astype("int64")
    return {
        "accuracy": round(float(skm.accuracy_score(truth, predicted)), 6),
        "roc_auc": round(float(skm.roc_auc_score(truth, score)), 6),
        "f1": round(float(skm.f1_score(truth, predicted)), 6),
        "precision": round(float(skm.precision_score(truth, predicted, zero_division=0)), 6),
        "recall": round(float(skm.recall_score(truth, predicted)), 6),
    }


def evaluate(
    raw: Path,
    model_path: Path,
    metrics_out: Path,
    predictions_out: Path,
    data: DataSettings,
    share_sensitive: bool = False,
) -> Metrics:
    """Score the test split; write metrics JSON and per-row predictions CSV.

    The predictions carry each test row's number in the raw data, not its
    sensitive attributes, unless the policy allows sharing them.
    """
    frame = read_csv(raw)
    model = load_model(model_path)
    _, test_rows = split(frame, data)
    truth = labels(test_rows, data)
    score = model.predict_proba(test_rows)[:, 1]
    predicted = (score >= THRESHOLD).astype("int64")
    result: Metrics = score_metrics(truth, score) | {"test_rows": len(test_rows)}
    predictions = shareable_predictions(
        test_rows,
        {"y_true": truth.to_numpy(), "y_pred": predicted, "y_score": score.round(6)},
        data.sensitive_features,
        share_sensitive,
    )
    with atomic_path(predictions_out) as tmp:
        predictions.to_csv(tmp, index=False)
    write_json(metrics_out, result)
    return result
