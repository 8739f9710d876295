"""Reading the data set and splitting it the same way in every step."""

from pathlib import Path

import pandas as pd

from .errors import ProjectError
from .settings import DataSettings


def read_csv(path: Path) -> pd.DataFrame:
    """Load a CSV written by ingest, with one clear error when it cannot be read."""
    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise ProjectError(f"{path} not found: run ingest first") from None
    except pd.errors.EmptyDataError:
        raise ProjectError(f"{path} is empty") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ProjectError(f"{path} is not a readable CSV: {exc}") from exc


def split(frame: pd.DataFrame, data: DataSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deterministic, stratified train/test split shared by train and evaluate."""
    if data.target not in frame:
        raise ProjectError(f"the data has no column {data.target} (data.target in params.yaml)")
    # imported here: ingest and validate-data read tables too, and scikit-learn takes seconds to load
    from sklearn.model_selection import train_test_split

    return train_test_split(
        frame, test_size=data.test_size, random_state=data.seed, stratify=frame[data.target]
    )
