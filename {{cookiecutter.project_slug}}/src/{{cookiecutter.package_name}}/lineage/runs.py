"""Step runs and pipeline runs as OpenLineage runs: START, then COMPLETE or FAIL.

`step_run` wraps `steps.run_step`, so the CLI, the local runner and every
orchestrator report the same way, with the step's input and output files as
datasets and the pipeline run as parent. `pipeline_run` is the parent run of a
local pipeline; an external orchestrator names its own run instead (see
context.py). What a run needs (client, orchestrator, parent, extensions' facets)
comes in the run context, never from module state.
"""

import dataclasses
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.uuid import generate_new_uuid, generate_static_uuid

from ..errors import ProjectError
from . import facets

if TYPE_CHECKING:
    from ..context import RunContext

PIPELINE_JOB = "pipeline"
# Static run ids (a retried step reports the same run) need a fixed instant.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Emitter:
    """Sends events through one client. After a failed send it stops trying (one warning,
    not one retry cycle per event), unless lineage is required."""

    def __init__(self, client: OpenLineageClient, required: bool = False):
        self.client = client
        self.required = required
        self.broken = False

    def emit(self, event: RunEvent) -> None:
        if self.broken and not self.required:
            return
        try:
            self.client.emit(event)
        except Exception as exc:  # any transport failure: network, disk, serialisation
            if self.required:
                raise ProjectError(
                    f"lineage: could not send {event.eventType.value} of {event.job.name}: {exc}"
                ) from exc
            print(f"warning: lineage is not being recorded ({type(exc).__name__}: {exc})", file=sys.stderr)
            self.broken = True


def as_run_id(external_id: str) -> str:
    """An orchestrator's run id as a run UUID: itself when it is one, else derived from it."""
    try:
        return str(uuid.UUID(external_id))
    except ValueError:
        return str(generate_static_uuid(EPOCH, external_id.encode()))


def as_dict(summary: object) -> dict:
    """A step's summary (a dataclass or a dict) as a dict."""
    if dataclasses.is_dataclass(summary) and not isinstance(summary, type):
        return dataclasses.asdict(summary)
    return dict(summary) if isinstance(summary, dict) else {}


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class _Run:
    """One run being reported: what every one of its events shares."""

    run_id: str
    job: Job
    facets: dict
    emitter: Emitter

    def send(self, state: RunState, extra: dict | None = None, inputs=(), outputs=(), time: str = ""):
        run = Run(runId=self.run_id, facets={**self.facets, **(extra or {})})
        event = RunEvent(
            eventType=state,
            eventTime=time or _now(),
            run=run,
            job=self.job,
            inputs=list(inputs),
            outputs=list(outputs),
            producer=facets.PRODUCER,
        )
        self.emitter.emit(event)


@contextmanager
def step_run(
    name: str, doc: str, inputs: list[Path], outputs: list[Path], context: "RunContext"
) -> Iterator[dict]:
    """Report one step run. Put the step's summary in the yielded dict's "summary" key."""
    parent = (context.parent_run_id, PIPELINE_JOB) if context.parent_run_id else None
    run_id = str(
        generate_static_uuid(EPOCH, f"{parent[0]}/{name}".encode()) if parent else generate_new_uuid()
    )
    started = _now()
    extra = context.dataset_facets
    job = facets.job(name, doc, "STEP", context.orchestrator)
    run = _Run(run_id, job, {**facets.run_facets(started, parent), **context.run_facets()}, context.emitter)
    declared = (facets.inputs(inputs, None, extra), facets.outputs(outputs, None, extra))  # START and FAIL
    run.send(RunState.START, None, *declared, started)
    result: dict = {}
    try:
        yield result
    except BaseException as exc:
        summary = as_dict(getattr(exc, "summary", None))
        run.send(RunState.FAIL, {**facets.error(exc, trace=True), **facets.governance(summary)}, *declared)
        raise
    summary = as_dict(result.get("summary"))
    run.send(
        RunState.COMPLETE,
        {**context.run_facets(), **facets.governance(summary)},
        facets.inputs(inputs, summary, extra),
        facets.outputs(outputs, summary, extra),
    )


@contextmanager
def pipeline_run(doc: str, context: "RunContext") -> Iterator["RunContext"]:
    """Report a whole local pipeline run; yield the context its steps run in (this run as parent).

    An orchestrator that already named the pipeline run keeps it: the local run adopts its id.
    """
    run_id = context.parent_run_id or str(generate_new_uuid())
    started = _now()
    job = facets.job(PIPELINE_JOB, doc, "PIPELINE", context.orchestrator)
    run = _Run(run_id, job, facets.run_facets(started, None), context.emitter)
    run.send(RunState.START, time=started)
    inside = context.child_of(run_id)
    try:
        yield inside
    except BaseException as exc:
        run.send(RunState.FAIL, {**facets.error(exc, trace=False), **inside.run_facets()})
        raise
    run.send(RunState.COMPLETE, inside.run_facets())
