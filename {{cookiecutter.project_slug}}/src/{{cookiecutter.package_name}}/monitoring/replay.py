"""Replay: append a CSV of requests to the inference log as `serve` would, scored by a release.

A stand-in for traffic in demos and tests: the rows go through the release's
model and are logged in serve's format (one object per row; sensitive
attributes left out), at times spread over the given day.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from ..steps.evaluate import load_model
from .reference import Reference


def log_lines(
    frame: pd.DataFrame, ref: Reference, model, model_version: str, start: datetime, batch_size: int = 10
) -> list[str]:
    """One log line per row; rows are grouped into requests of `batch_size`."""
    features = frame[list(ref.columns)]
    score = model.predict_proba(features)[:, 1]
    step = timedelta(seconds=86400 / max(len(frame), 1))
    records = features.to_dict(orient="records")
    lines = []
    for index, (row, probability) in enumerate(zip(records, score, strict=True)):
        request = f"req-{start:%Y%m%d}-{index // batch_size:06d}"
        lines.append(
            json.dumps(
                {
                    "id": f"{request}-{index % batch_size}",
                    "request_id": request,
                    "time": (start + index * step).isoformat(),
                    "model_version": model_version,
                    "features": {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()},
                    "prediction": int(probability >= 0.5),
                    "probability": round(float(probability), 6),
                }
            )
        )
    return lines


def replay(
    csv: Path,
    release: Path,
    ref: Reference,
    log: Path,
    model_version: str,
    day: str | None,
    truth: Path | None = None,
    attributes: tuple[str, ...] = (),
) -> dict:
    """Score `csv` with the release's model and append it to `log`; with `truth`, also write
    what feedback would later bring: each row's id, label and sensitive attributes."""
    from ..files import atomic_path
    from ..tables import read_csv

    frame = read_csv(Path(csv))
    start = datetime.fromisoformat(day).replace(tzinfo=UTC) if day else datetime.now(UTC)
    lines = log_lines(frame, ref, load_model(Path(release) / "model.joblib"), model_version, start)
    log = Path(log)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines))
    if truth is not None and ref.target in frame:
        ids = [json.loads(line)["id"] for line in lines]
        columns = [ref.target, *(a for a in attributes if a in frame)]
        with atomic_path(Path(truth)) as tmp:
            frame[columns].assign(id=ids)[["id", *columns]].to_csv(tmp, index=False)
    return {"rows": len(lines), "log": str(log), "first_id": json.loads(lines[0])["id"] if lines else None}
