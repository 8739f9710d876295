"""Read back the lineage a file transport wrote: the last pipeline run as a graph, and its problems."""

import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ProjectError

TERMINAL = {"COMPLETE", "FAIL", "ABORT"}


@dataclass
class RunRecord:
    """What the events say about one run: its job, datasets and how it ended."""

    run_id: str
    job: str
    parent: str | None = None
    states: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    error: str | None = None
    started: str = ""

    @property
    def state(self) -> str:
        ended = [state for state in self.states if state in TERMINAL]
        return ended[-1] if ended else "RUNNING"


def load_events(path: Path) -> list[dict]:
    """Every event in a JSON-lines file (what the file transport appends)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ProjectError(f"{path} not found: run the pipeline with the file transport first") from None
    events = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                events.append(json.loads(line))
            except ValueError:
                raise ProjectError(f"{path}:{number}: not a JSON event") from None
    return events


def runs(events: list[dict]) -> dict[str, RunRecord]:
    """Fold events into one record per run id, in the order runs started."""
    records: dict[str, RunRecord] = {}
    for event in events:
        run = event.get("run", {})
        record = records.setdefault(
            run.get("runId", "?"), RunRecord(run.get("runId", "?"), event["job"]["name"])
        )
        record.states.append(event.get("eventType", ""))
        record.started = record.started or event.get("eventTime", "")
        facets = run.get("facets") or {}
        if "parent" in facets:
            record.parent = facets["parent"]["run"]["runId"]
        if "errorMessage" in facets:
            record.error = facets["errorMessage"]["message"]
        for key, names in (("inputs", record.inputs), ("outputs", record.outputs)):
            for dataset in event.get(key) or []:
                if dataset["name"] not in names:
                    names.append(dataset["name"])
    return records


def last_pipeline(events: list[dict]) -> list[RunRecord]:
    """The steps of the most recent pipeline run; every run when there is no pipeline run."""
    records = runs(events)
    parents = [r for r in records.values() if any(c.parent == r.run_id for c in records.values())]
    if not parents:
        return list(records.values())
    latest = max(parents, key=lambda r: r.started)
    return [r for r in records.values() if r.parent == latest.run_id]


def problems(steps: list[RunRecord]) -> list[str]:
    """Runs that failed or never ended, and outputs no completed run produced."""
    found = []
    produced = {name for r in steps if r.state == "COMPLETE" for name in r.outputs}
    for record in steps:
        if record.state == "RUNNING":
            found.append(f"run {record.run_id} of {record.job} started but never ended")
        elif record.state != "COMPLETE":
            found.append(f"{record.job} {record.state.lower()}ed: {record.error or 'no error message'}")
        for name in record.outputs:
            if name not in produced:
                found.append(f"{name} (output of {record.job}) has no completed run that produced it")
    return found


def _short(name: str, root: Path) -> str:
    try:
        return Path(name).relative_to(root.resolve()).as_posix()
    except ValueError:
        return name


def render(steps: list[RunRecord], fmt: str, root: Path) -> str:
    """The graph of jobs and datasets as text, Mermaid or Graphviz dot."""
    datasets = sorted({_short(n, root) for r in steps for n in r.inputs + r.outputs})
    ids = {name: f"d{index}" for index, name in enumerate(datasets)}
    if fmt == "text":
        lines = []
        for record in steps:
            ins = ", ".join(_short(n, root) for n in record.inputs) or "-"
            outs = ", ".join(_short(n, root) for n in record.outputs) or "-"
            lines.append(f"{record.job:<14} {record.state:<9} {ins} -> {outs}")
        return "\n".join(lines)
    edges = []
    for record in steps:
        job = "j_" + record.job.replace("-", "_")
        edges += [(ids[_short(n, root)], job) for n in record.inputs]
        edges += [(job, ids[_short(n, root)]) for n in record.outputs]
    if fmt == "mermaid":
        nodes = [f'  {ids[name]}[("{name}")]' for name in datasets]
        nodes += [f'  j_{r.job.replace("-", "_")}["{r.job} ({r.state})"]' for r in steps]
        return "\n".join(["flowchart LR", *nodes, *(f"  {a} --> {b}" for a, b in edges)])
    nodes = [f'  {ids[name]} [label="{name}", shape=note];' for name in datasets]
    nodes += [f'  j_{r.job.replace("-", "_")} [label="{r.job} ({r.state})", shape=box];' for r in steps]
    return "\n".join(
        ["digraph lineage {", "  rankdir=LR;", *nodes, *(f"  {a} -> {b};" for a, b in edges), "}"]
    )
