"""The lineage graph of the last pipeline run, read back from the file transport's events.

`lineage show` draws it (text, Mermaid or Graphviz dot); `lineage check` lists
what is wrong with it: a run that never ended or failed, an output of the
pipeline that no completed run produced.
"""

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from {{ cookiecutter.package_name }}.errors import ProjectError

TERMINAL = {"COMPLETE", "FAIL", "ABORT"}


@dataclass
class RunNode:
    run_id: str
    job: str
    states: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    parent: str | None = None
    error: str | None = None

    @property
    def state(self) -> str:
        return self.states[-1] if self.states else "UNKNOWN"


@dataclass
class Graph:
    """Runs (jobs) and datasets, in the order the events came."""

    pipeline: RunNode | None
    runs: list[RunNode]

    @property
    def datasets(self) -> list[str]:
        return list(dict.fromkeys(name for run in self.runs for name in run.inputs + run.outputs))


def read_events(path: Path) -> list[dict]:
    """Every event in the events file (JSON lines), or in the per-event files beside it."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(path.parent.glob(f"{path.name}-*.json"))
    if not files:
        raise ProjectError(f"no lineage events at {path}: run the pipeline first (file transport)")
    events = []
    for source in files:
        try:
            lines = source.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ProjectError(f"cannot read {source}: {exc.strerror or exc}") from exc
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError:
                raise ProjectError(f"{source}:{number}: not a JSON event") from None
            if isinstance(event, dict) and event.get("run", {}).get("runId") and event.get("job"):
                events.append(event)
    if not events:
        raise ProjectError(f"no run events in {path}")
    return events


def _parent(event: dict) -> dict:
    return (event.get("run", {}).get("facets") or {}).get("parent") or {}


def _is_pipeline(event: dict) -> bool:
    job_type = (event["job"].get("facets") or {}).get("jobType") or {}
    return job_type.get("jobType") == "DAG"


def _group(event: dict) -> str:
    """The run tree an event belongs to: its root run (or parent), else its own run."""
    parent = _parent(event)
    root = (parent.get("root") or {}).get("run", {}).get("runId")
    return root or parent.get("run", {}).get("runId") or event["run"]["runId"]


def last_pipeline(events: list[dict]) -> Graph:
    """The runs of the last pipeline run; the latest run of each job when steps ran alone."""
    group = _group(events[-1])
    chosen = [event for event in events if _group(event) == group]
    if not any(_parent(event) or _is_pipeline(event) for event in chosen):
        latest = {}  # a step run on its own: show the latest run of every job instead
        for event in events:
            if not _parent(event):
                latest[event["job"]["name"]] = event["run"]["runId"]
        ids = set(latest.values())
        chosen = [event for event in events if event["run"]["runId"] in ids]
    runs: dict[str, RunNode] = {}
    for event in chosen:
        run_id = event["run"]["runId"]
        node = runs.setdefault(run_id, RunNode(run_id, event["job"]["name"]))
        node.states.append(event.get("eventType", "OTHER"))
        node.parent = _parent(event).get("run", {}).get("runId") or node.parent
        for side, names in (("inputs", node.inputs), ("outputs", node.outputs)):
            for dataset in event.get(side) or []:
                if dataset.get("name") and dataset["name"] not in names:
                    names.append(dataset["name"])
        error = (event["run"].get("facets") or {}).get("errorMessage")
        if error:
            node.error = str(error.get("message", "")).strip().splitlines()[0] if error.get("message") else ""
    parents = {node.parent for node in runs.values()} | {
        event["run"]["runId"] for event in chosen if _is_pipeline(event)
    }
    pipeline = next((node for node in runs.values() if node.run_id in parents), None)
    steps = [node for node in runs.values() if node is not pipeline]
    return Graph(pipeline, steps)


def problems(graph: Graph, expected: dict[str, str]) -> list[str]:
    """What is wrong: runs that never ended or failed; expected outputs (name -> step) never produced."""
    found = []
    for node in [graph.pipeline, *graph.runs] if graph.pipeline else graph.runs:
        if node.state in ("FAIL", "ABORT"):
            found.append(
                f"{node.job}: run {node.run_id} ended with {node.state}: {node.error or 'no message'}"
            )
        elif node.state not in TERMINAL:
            found.append(f"{node.job}: run {node.run_id} never ended (last event {node.state})")
    produced = {name for node in graph.runs if node.state == "COMPLETE" for name in node.outputs}
    for name, step in expected.items():
        if name not in produced:
            found.append(f"{step}: output {display(name)} has no completed run that produced it")
    return found


def expected_outputs(settings) -> dict[str, str]:
    """Every output path the pipeline writes with these settings (as dataset name) -> its step."""
    from {{ cookiecutter.package_name }}.steps import STEPS

    return {
        str(Path(getattr(settings.paths, field)).resolve()): step.name
        for step in STEPS
        for field in step.outputs
    }


def display(name: str) -> str:
    """A dataset name as the user would type it: relative to the working directory when inside it."""
    try:
        return os.path.relpath(name) if Path(name).is_relative_to(Path.cwd()) else name
    except ValueError:
        return name


def render(graph: Graph, fmt: str) -> str:
    return {"text": _text, "mermaid": _mermaid, "dot": _dot}[fmt](graph)


def _text(graph: Graph) -> str:
    lines = []
    if graph.pipeline:
        lines.append(f"pipeline run {graph.pipeline.run_id}: {graph.pipeline.state}")
    for node in graph.runs:
        lines.append(f"{node.job} [{node.state}] run {node.run_id}")
        lines += [f"  <- {display(name)}" for name in node.inputs]
        lines += [f"  -> {display(name)}" for name in node.outputs]
        if node.error:
            lines.append(f"  error: {node.error}")
    return "\n".join(lines)


def _mermaid(graph: Graph) -> str:
    ids = _ids(graph)
    lines = ["flowchart LR"]
    for name in graph.datasets:
        lines.append(f'    {ids[name]}[("{_mermaid_label(display(name))}")]')
    for node in graph.runs:
        lines.append(f'    {ids[node.run_id]}["{_mermaid_label(node.job)}<br/>{node.state}"]')
    for node in graph.runs:
        lines += [f"    {ids[name]} --> {ids[node.run_id]}" for name in node.inputs]
        lines += [f"    {ids[node.run_id]} --> {ids[name]}" for name in node.outputs]
    return "\n".join(lines)


def _dot(graph: Graph) -> str:
    lines = ["digraph lineage {", "    rankdir=LR;"]
    for name in graph.datasets:
        lines.append(f"    {_dot_id(name)} [shape=cylinder, label={_dot_id(display(name))}];")
    for node in graph.runs:
        label = _dot_id(f"{node.job}\n{node.state}")
        lines.append(f"    {_dot_id(node.run_id)} [shape=box, style=rounded, label={label}];")
    for node in graph.runs:
        lines += [f"    {_dot_id(name)} -> {_dot_id(node.run_id)};" for name in node.inputs]
        lines += [f"    {_dot_id(node.run_id)} -> {_dot_id(name)};" for name in node.outputs]
    lines.append("}")
    return "\n".join(lines)


def _ids(graph: Graph) -> dict[str, str]:
    ids = {name: f"d{index}" for index, name in enumerate(graph.datasets)}
    ids.update({node.run_id: f"j{index}" for index, node in enumerate(graph.runs)})
    return ids


def _mermaid_label(text: str) -> str:
    return re.sub(r'["<>]', lambda match: f"#{ord(match.group())};", text)


def _dot_id(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
