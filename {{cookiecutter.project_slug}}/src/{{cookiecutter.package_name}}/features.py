"""Features: which columns feed the model, and how each kind is prepared.

Every column of the data set is a model input except the label
(`data.target`), the sensitive attributes (`data.sensitive_features`, kept
out so fairness is measured on outcomes, not inputs) and the columns listed in
`data.exclude` (IDs, free text, leaks). Numeric columns are imputed with their
median and scaled; the others are imputed with their most frequent value and
one-hot encoded, ignoring categories unseen in training. Both preparations are
part of the saved sklearn Pipeline, so serving prepares rows the same way.

To change what the model sees, edit `feature_columns`; to change how a kind of
column is prepared, edit `preprocessor` (docs/extending.md shows both).
"""

from dataclasses import dataclass

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .errors import ProjectError
from .settings import DataSettings


@dataclass(frozen=True)
class Features:
    """The model's input columns, split by how they are prepared."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]


def feature_columns(frame: pd.DataFrame, data: DataSettings) -> Features:
    """The columns that feed the model: all but the label, sensitive, excluded ones and the row id."""
    left_out = {data.target, *data.sensitive_features, *data.exclude} | ({data.id_column} - {None})
    columns = [column for column in frame.columns if column not in left_out]
    if not columns:
        raise ProjectError(
            f"no column is left for the model once {', '.join(sorted(left_out))} are left out: "
            "check data.target, data.sensitive_features and data.exclude in params.yaml"
        )
    numeric = tuple(column for column in columns if frame[column].dtype.kind in "biuf")
    categorical = tuple(column for column in columns if column not in numeric)
    return Features(numeric, categorical)


def preprocessor(features: Features) -> ColumnTransformer:
    """Imputation, scaling and encoding for each kind of column, as one transformer."""
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("encode", OneHotEncoder(handle_unknown="ignore")),
        ]
    )
    return ColumnTransformer(
        [
            ("numeric", numeric, list(features.numeric)),
            ("categorical", categorical, list(features.categorical)),
        ]
    )


def labels(frame: pd.DataFrame, data: DataSettings) -> pd.Series:
    """The label as 0/1: 1 where the target equals data.positive_label (or is 1 without one)."""
    target = frame[data.target]
    if target.isna().any():
        raise ProjectError(f"column {data.target} (the label) has {int(target.isna().sum())} empty value(s)")
    if data.positive_label is not None:
        positive = target.astype(str) == str(data.positive_label)
        if not positive.any():
            raise ProjectError(
                f"no row of {data.target} equals the positive label {data.positive_label!r}: "
                "check data.positive_label in params.yaml"
            )
        return positive.astype("int64")
    values = set(pd.unique(target))
    if not values <= {0, 1}:
        shown = ", ".join(repr(v) for v in sorted(values, key=str)[:4])
        raise ProjectError(
            f"column {data.target} (the label) holds {shown}, not 0/1: "
            "set data.positive_label in params.yaml to the value that means positive"
        )
    return target.astype("int64")
