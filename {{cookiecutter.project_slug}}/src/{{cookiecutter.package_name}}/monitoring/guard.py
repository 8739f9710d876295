"""The feedback-loop guard: no training on data this model's own predictions produced.

A model trained on what it predicted learns its own mistakes back (a
feedback loop). ingest records data.source as a lineage input with its sha256;
before it does, this guard walks the recorded lineage upstream from that file
(or from any dataset recorded with the same digest, so a copy is found too)
and refuses when the path reaches the inference log, the dataset `serve`
writes. monitoring.allow_training_on_own_predictions in the policy lets it
through, and the ingest run's governance facet records the path either way.
"""

import sys
from collections import deque
from pathlib import Path

from ..errors import ProjectError
from ..governance.provenance import sha256_file

GATE = "feedback_loop"
SERVE_JOBS = {"serve"}


def sha256(path: Path) -> str:
    return f"sha256:{sha256_file(path)}"


def _events() -> list[dict] | None:
    """The recorded lineage, when it goes to a file; None when this process cannot read it back."""
    from ..lineage import transport_config
    from ..lineage_graph import load_events

    transport = transport_config()
    if transport.get("type") != "file" or not transport.get("log_file_path"):
        return None
    path = Path(transport["log_file_path"])
    return load_events(path) if path.is_file() else []


def lineage_path(source: Path, log: Path, events: list[dict]) -> list[str] | None:
    """The chain of datasets and jobs from `source` back to the inference log, if there is one."""
    producers: dict[str, list[tuple[str, list[str]]]] = {}
    by_digest: dict[str, set[str]] = {}
    for event in events:
        if event.get("eventType") != "COMPLETE":
            continue
        inputs = [d["name"] for d in event.get("inputs") or []]
        for dataset in (event.get("inputs") or []) + (event.get("outputs") or []):
            version = ((dataset.get("facets") or {}).get("version") or {}).get("datasetVersion")
            if version:
                by_digest.setdefault(version, set()).add(dataset["name"])
        for dataset in event.get("outputs") or []:
            producers.setdefault(dataset["name"], []).append((event["job"]["name"], inputs))
    start = str(Path(source).resolve())
    target = str(Path(log).resolve())
    first = [[start]]
    if Path(source).is_file():
        copies = by_digest.get(sha256(source), set()) - {start}
        first += [[start, f"{name} (same sha256)"] for name in sorted(copies)]
    queue = deque(first)
    seen = set()
    while queue:
        chain = queue.popleft()
        name = chain[-1].removesuffix(" (same sha256)")
        if name == target:
            return chain
        if name in seen:
            continue
        seen.add(name)
        for job, inputs in producers.get(name, []):
            if job in SERVE_JOBS:
                return [*chain, job]
            queue.extend([*chain, job, upstream] for upstream in inputs)
    return None


def check(source: str, log: Path, allowed: bool, policy_version: str) -> dict:
    """Refuse (ProjectError) or pass data.source; the summary ingest adds for lineage."""
    if source == "sample":
        return {}
    path = Path(source)
    digest = sha256(path) if path.is_file() else None
    summary: dict = {"digests": {str(path): digest}} if digest else {}
    events = _events()
    if events is None:
        print(
            "warning: feedback-loop guard not run: lineage does not go to a file this process can read",
            file=sys.stderr,
        )
        return summary
    chain = lineage_path(path, log, events)
    shown = " <- ".join(_short(step) for step in chain) if chain else ""
    if chain and not allowed:
        raise ProjectError(
            f"data.source {source} derives from this model's own predictions ({shown}): "
            "set monitoring.allow_training_on_own_predictions in governance/policy.yaml to train on it"
        )
    gate = {
        "gate": GATE,
        "metric": "derived_from_own_predictions",
        "attribute": shown or None,
        "value": 1.0 if chain else 0.0,
        "limit": 1.0 if allowed else 0.0,
        "bound": "max",
        "passed": True,
    }
    return {**summary, "verdict": "pass", "policy_version": policy_version, "gates": [gate]}


def _short(name: str) -> str:
    """A dataset as a path relative to the working directory when it is under it."""
    try:
        return str(Path(name.removesuffix(" (same sha256)")).relative_to(Path.cwd())) + (
            " (same sha256)" if name.endswith(" (same sha256)") else ""
        )
    except ValueError:
        return name
