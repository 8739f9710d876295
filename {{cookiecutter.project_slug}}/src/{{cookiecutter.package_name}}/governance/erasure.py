"""Consent withdrawal and erasure: the register, the releases it affects, and the rows ingest drops.

`forget` records a request (ids, date, reason) in the register, follows
lineage from the training data to every release the pipeline built from it,
and marks each such release as needing retraining (revoked.json inside it).
The next `ingest` drops the registered rows. A release whose training data is
no longer on disk cannot be shown to be free of the rows, so it is marked too.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import ProjectError
from ..files import atomic_path, write_json
from ..governance.provenance import sha256_file, utc_now
from ..lineage_graph import load_events, runs
from ..release.revocation import REVOKED
from ..tables import read_csv


@dataclass(frozen=True)
class ForgetResult:
    request: str
    ids: tuple[str, ...]
    releases: tuple[str, ...]
    register: str


def read_register(path: Path) -> dict:
    """The register: every request so far (empty when there is none)."""
    path = Path(path)
    if not path.is_file():
        return {"requests": []}
    try:
        register = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ProjectError(f"{path} is not a readable erasure register: {exc}") from exc
    if not isinstance(register, dict) or not isinstance(register.get("requests"), list):
        raise ProjectError(f"{path} is not an erasure register (no 'requests' list)")
    return register


def erased_ids(path: Path) -> set[str]:
    """Every id whose use was withdrawn."""
    return {str(i) for request in read_register(path)["requests"] for i in request.get("ids", [])}


def drop_erased(frame: pd.DataFrame, id_column: str | None, register: Path) -> tuple[pd.DataFrame, int]:
    """The frame without the registered rows, and how many were dropped."""
    erased = erased_ids(register)
    if not erased or id_column is None:
        return frame, 0
    if id_column not in frame:
        raise ProjectError(f"the data has no {id_column!r} column, so erased rows cannot be dropped")
    keep = ~frame[id_column].astype(str).isin(erased)
    return frame[keep], int((~keep).sum())


def releases_trained_on(data_file: Path, events_file: Path) -> list[Path]:
    """Through lineage: the releases written by pipeline runs whose train step read `data_file`.

    A version's own training data is not kept, so it cannot be shown free of
    the rows: every version in a releases folder such a run wrote counts.
    """
    records = runs(load_events(events_file))
    wanted = str(Path(data_file).resolve())
    pipelines = {
        record.parent
        for record in records.values()
        if record.job == "train" and record.state == "COMPLETE" and wanted in record.inputs
    }
    releases = {
        output
        for record in records.values()
        if record.job == "package" and record.state == "COMPLETE" and record.parent in pipelines
        for output in record.outputs
    }
    found = set()
    for output in map(Path, releases):
        if (output / "manifest.json").is_file():
            found.add(output)
        elif output.is_dir():  # a releases folder: every version in it came from this data source
            found |= {version.parent for version in output.glob("*/manifest.json")}
    return sorted(found)


def forget(
    ids: tuple[str, ...],
    reason: str,
    data_file: Path,
    id_column: str | None,
    register: Path,
    events_file: Path,
    now: str | None = None,
) -> ForgetResult:
    """Record the withdrawal of `ids`, mark the releases trained on them; change nothing on an error."""
    ids = tuple(dict.fromkeys(str(i).strip() for i in ids if str(i).strip()))
    if not ids:
        raise ProjectError("name at least one id to forget")
    if not reason.strip():
        raise ProjectError("give the reason for the request (--reason)")
    if id_column is None:
        raise ProjectError("data.id_column is not set in params.yaml: rows have no id to forget")
    frame = read_csv(data_file)
    if id_column not in frame:
        raise ProjectError(f"{data_file} has no {id_column!r} column")
    known = set(frame[id_column].astype(str)) | erased_ids(register)
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ProjectError(f"unknown id(s) {', '.join(unknown)}: not in {data_file} or the register")
    releases = releases_trained_on(data_file, events_file)
    state = read_register(register)
    stamp = now or utc_now()
    request = f"erasure-{len(state['requests']) + 1:04d}"
    entry = {
        "request": request,
        "date": stamp,
        "reason": reason.strip(),
        "ids": list(ids),
        "data_sha256": sha256_file(data_file),
        "releases_marked": [release.as_posix() for release in releases],
    }
    for release in releases:
        write_json(
            release / REVOKED,
            {
                "status": "needs retraining",
                "request": request,
                "date": stamp,
                "reason": "trained on rows whose use was withdrawn (see the erasure register)",
                "rows": len(ids),
            },
        )
    with atomic_path(register) as tmp:
        text = json.dumps({"requests": [*state["requests"], entry]}, indent=2) + "\n"
        tmp.write_text(text, encoding="utf-8")
    return ForgetResult(request, ids, tuple(entry["releases_marked"]), Path(register).as_posix())
