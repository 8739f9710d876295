"""Train: fit a scikit-learn model on the training split."""

from pathlib import Path

import joblib
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ..files import atomic_path
from ..settings import DataSettings, ModelSettings
from ..tables import feature_columns, read_csv, split


def build_model(features: list[str], numeric: list[str], model: ModelSettings) -> Pipeline:
    """Preprocessing plus the configured classifier, as one sklearn Pipeline."""
    categorical = [column for column in features if column not in numeric]
    preprocess = ColumnTransformer(
        [
            ("numeric", StandardScaler(), numeric),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
        ]
    )
    if model.algorithm == "random_forest":
        classifier = RandomForestClassifier(
            n_estimators=model.n_estimators, max_depth=model.max_depth, random_state=model.random_state
        )
    else:
        classifier = LogisticRegression(C=model.C, max_iter=model.max_iter, random_state=model.random_state)
    return Pipeline([("preprocess", preprocess), ("classifier", classifier)])


def train(raw: Path, model_out: Path, data: DataSettings, model: ModelSettings) -> dict:
    """Fit the model on the training split of `raw` and save it to `model_out`."""
    frame = read_csv(raw)
    train_rows, _ = split(frame, data)
    features = feature_columns(frame, data)
    numeric = [column for column in features if frame[column].dtype.kind in "if"]
    pipeline = build_model(features, numeric, model)
    pipeline.fit(train_rows[features], train_rows[data.target])
    with atomic_path(model_out) as tmp:
        joblib.dump(pipeline, tmp)
    return {"algorithm": model.algorithm, "train_rows": len(train_rows), "features": features}
