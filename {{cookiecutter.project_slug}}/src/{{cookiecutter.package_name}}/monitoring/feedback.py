"""Feedback: ground truth that arrives after the prediction, joined to the inference log.

A feedback file (CSV or JSON lines) has an `id` column (the logged row's id) or
a `request_id` column (every row of that request), the label column
(data.target) and, optionally, the sensitive attributes, which the log leaves
out. `record` joins it with the log and keeps the result, one row per logged
row with its features, prediction and truth, in `labelled.csv`: the live
labelled data that monitoring's performance and fairness gates read. It is
data this model's predictions shaped, so training on it goes through the
feedback-loop guard (guard.py).
"""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import ProjectError
from ..files import atomic_path
from .inference_log import read_log
from .reference import Reference

LABELLED_FILE = "labelled.csv"
SHOWN_UNKNOWN = 5


@dataclass(frozen=True)
class FeedbackResult:
    received: int
    matched: int
    unknown: list[str]  # ids the log does not hold (the first few)
    unknown_count: int
    labelled_rows: int  # rows in labelled.csv after the join
    output: Path

    def summary(self) -> dict:
        return {
            "received": self.received,
            "matched": self.matched,
            "unknown_ids": self.unknown_count,
            "unknown_sample": self.unknown,
            "rows": self.labelled_rows,
            "output": str(self.output),
        }


def read_feedback(path: Path, target: str) -> pd.DataFrame:
    """The feedback file as a frame with a key column and the label."""
    path = Path(path)
    try:
        if path.suffix in (".jsonl", ".json"):
            frame = pd.read_json(path, lines=path.suffix == ".jsonl", dtype={"id": str, "request_id": str})
        else:
            frame = pd.read_csv(path, dtype={"id": str, "request_id": str})
    except FileNotFoundError:
        raise ProjectError(f"{path} not found") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise ProjectError(f"{path} is not a readable feedback file: {exc}") from None
    if "id" not in frame and "request_id" not in frame:
        raise ProjectError(f"{path} has neither an id nor a request_id column to join on")
    if target not in frame:
        raise ProjectError(f"{path} has no {target} column (the label, data.target in params.yaml)")
    labels = pd.to_numeric(frame[target], errors="coerce")
    bad = frame.index[labels.isna() | ~labels.isin([0, 1])]
    if len(bad):
        raise ProjectError(
            f"{path}: {len(bad)} row(s) have a {target} that is not 0 or 1 (first at data row {bad[0] + 1})"
        )
    return frame.assign(**{target: labels.astype("int64")})


def record(
    feedback: Path, log: Path, reference: Reference, attributes: tuple[str, ...], folder: Path
) -> FeedbackResult:
    """Join `feedback` to the inference log by id; merge the result into folder/labelled.csv."""
    target = reference.target
    truth = read_feedback(feedback, target)
    key = "id" if "id" in truth else "request_id"
    logged = read_log(log, reference, attributes=attributes, ids=True).frame
    keep = [key, target, *(a for a in attributes if a in truth)]
    truth = truth[keep].drop_duplicates(subset=key, keep="last")
    known = truth[key].isin(logged[key])
    unknown = truth.loc[~known, key].astype(str).tolist()
    joined = logged.drop(columns=[c for c in keep if c != key and c in logged]).merge(truth[known], on=key)
    output = Path(folder) / LABELLED_FILE
    if output.is_file():
        earlier = pd.read_csv(output, dtype={"id": str, "request_id": str})
        joined = pd.concat([earlier[~earlier["id"].isin(joined["id"])], joined], ignore_index=True)
    with atomic_path(output) as tmp:
        joined.to_csv(tmp, index=False)
    return FeedbackResult(
        received=len(truth),
        matched=int(known.sum()),
        unknown=unknown[:SHOWN_UNKNOWN],
        unknown_count=len(unknown),
        labelled_rows=len(joined),
        output=output,
    )


def attach(frame: pd.DataFrame, folder: Path, target: str, attributes: tuple[str, ...]) -> pd.DataFrame:
    """`frame` (logged rows) with the truth and sensitive attributes feedback recorded, by id."""
    path = Path(folder) / LABELLED_FILE
    if not path.is_file() or "id" not in frame:
        return frame
    labelled = pd.read_csv(path, dtype={"id": str})
    extra = [c for c in (target, *attributes) if c in labelled and c not in frame]
    if not extra:
        return frame
    return frame.merge(labelled[["id", *extra]].drop_duplicates("id", keep="last"), on="id", how="left")
