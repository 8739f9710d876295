"""Reading what the model saw: the inference log `serve` appends to, or a batch CSV.

The log is JSON lines, one object per predicted row: id, request_id, time
(ISO-8601, UTC), model_version, features {column: value}, prediction and
probability. It is read column by column with pyarrow's JSON reader against a
schema taken from the reference, so a million rows take seconds, not minutes,
and a value of the wrong type is an error instead of a silently new dtype.
A last line cut short by a killed writer is skipped.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ProjectError
from ..tables import read_csv
from .reference import Reference

LOG_FIELDS = ("id", "request_id", "time", "model_version")


@dataclass(frozen=True)
class Batch:
    """Live rows to monitor: model inputs, the model's outputs and, when known, the truth."""

    frame: pd.DataFrame  # feature columns, "prediction", "probability", maybe the target and ids
    source: Path
    kind: str  # "log" or "batch"
    model_versions: tuple[str, ...]


def parse_since(text: str) -> datetime:
    """An ISO-8601 time (a date alone means midnight UTC); naive times are UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ProjectError(f"--since {text!r} is not an ISO-8601 time such as 2026-12-01T00:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _log_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and ".jsonl" in p.name)
    else:
        # Rotated pieces sit beside the live file (inference.jsonl.1, ...).
        files = sorted(
            p for p in path.parent.glob(f"{path.name}.*") if p.is_file() and not p.name.endswith(".tmp")
        )
        files += [path] if path.is_file() else []
    if not files:
        raise ProjectError(f"{path} not found: serve the model first, or pass --batch PATH")
    return files


def _schema(reference: Reference, attributes: tuple[str, ...]):
    import pyarrow as pa

    features = pa.struct(
        [
            pa.field(name, pa.float64() if column["kind"] == "numeric" else pa.string())
            for name, column in reference.columns.items()
        ]
        # Sensitive attributes are logged only where the policy allows it; then fairness can use them.
        + [pa.field(name, pa.string()) for name in attributes if name not in reference.columns]
    )
    return pa.schema(
        [
            *(pa.field(name, pa.string()) for name in LOG_FIELDS),
            pa.field("features", features),
            pa.field("prediction", pa.int64()),
            pa.field("probability", pa.float64()),
        ]
    )


def _read_one(path: Path, schema):
    import pyarrow as pa
    from pyarrow import json as pa_json

    # Mapped, not read: the parser works on the file's pages without a copy.
    data = pa.memory_map(str(path)).read_buffer()
    end = data.size
    tail = data.slice(max(0, end - (1 << 20))).to_pybytes()
    if tail and not tail.endswith(b"\n"):
        end -= len(tail) - (tail.rfind(b"\n") + 1)  # a killed writer's half line
    if end <= 0:
        return schema.empty_table()
    options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    try:
        return pa_json.read_json(pa.BufferReader(data.slice(0, end)), parse_options=options)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise ProjectError(f"{path} is not an inference log this model's reference can read: {exc}") from None


def _column(array) -> pd.Series | np.ndarray:
    """Numbers as a float array; text as pandas strings backed by the same Arrow buffers (no copy
    into a million Python objects)."""
    import pyarrow as pa

    if pa.types.is_string(array.type):
        return pd.Series(array.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get))
    return array.to_numpy(zero_copy_only=False)


def read_log(
    path: Path,
    reference: Reference,
    since: datetime | None = None,
    attributes: tuple[str, ...] = (),
    ids: bool = False,
) -> Batch:
    """The inference log's rows (those at or after `since`) as a Batch, with the sensitive
    `attributes` when the log holds them, and the row and request ids when `ids`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    schema = _schema(reference, attributes)
    table = pa.concat_tables([_read_one(file, schema) for file in _log_files(Path(path))])
    if since is not None and table.num_rows:
        times = pd.to_datetime(
            _column(table.column("time").combine_chunks()), utc=True, format="ISO8601", errors="coerce"
        )
        table = table.filter(pa.array((times >= pd.Timestamp(since)).to_numpy()))
    features = table.column("features").combine_chunks()
    logged = [name for name in attributes if name not in reference.columns]
    columns = {
        **{name: _column(features.field(name)) for name in reference.columns},
        **{
            name: _column(features.field(name))
            for name in logged
            if features.field(name).null_count < len(features)
        },
        "prediction": table.column("prediction").to_numpy(zero_copy_only=False),
        "probability": table.column("probability").to_numpy(zero_copy_only=False),
    }
    if ids:
        columns.update({name: _column(table.column(name).combine_chunks()) for name in ("id", "request_id")})
    frame = pd.DataFrame({name: pd.Series(values) for name, values in columns.items()})
    absent = [name for name in reference.columns if len(frame) and frame[name].isna().all()]
    if absent:
        raise ProjectError(f"{path}: no logged row has feature(s) {', '.join(absent)}, which the model needs")
    versions = tuple(sorted(str(v) for v in pc.unique(table.column("model_version")).to_pylist() if v))
    return Batch(frame, Path(path), "log", versions)


def read_batch(path: Path, reference: Reference, model, model_version: str) -> Batch:
    """A CSV of the model's input columns (the label too, if known), scored with `model`."""
    frame = read_csv(Path(path))
    missing = [name for name in reference.columns if name not in frame]
    if missing:
        raise ProjectError(f"{path} lacks column(s) {', '.join(missing)} that the model needs")
    try:
        score = model.predict_proba(frame[list(reference.columns)])[:, 1]
    except (ValueError, TypeError) as exc:
        raise ProjectError(f"{path}: the model cannot score these rows: {exc}") from None
    frame = frame.assign(probability=score, prediction=(score >= 0.5).astype("int64"))
    return Batch(frame, Path(path), "batch", (model_version,))
