"""OpenLineage for every step run: START, then COMPLETE or FAIL, with datasets and facets.

`step_run` wraps each step inside `run_step`, so the CLI, the local runner, the
KFP components and (through the CLI) the Tekton tasks emit the same events.
`pipeline_run` wraps the local runner; its run is the parent of each step's run.
An external orchestrator names the parent through the environment instead
(see docs/lineage.md).

Where events go is configuration, never code: OPENLINEAGE_* environment first,
then openlineage.yml (OPENLINEAGE_CONFIG, else the working directory).
A lineage outage never fails a step: it prints one warning and the step goes
on, unless `lineage.required` is true in params.yaml.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import attr
import yaml
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    RunFacet,
    data_quality_metrics_input_dataset,
    documentation_job,
    error_message_run,
    job_type_job,
    nominal_time_run,
    output_statistics_output_dataset,
    parent_run,
    processing_engine_run,
    schema_dataset,
    source_code_location_job,
)
from openlineage.client.transport import Transport, get_default_factory
from openlineage.client.uuid import generate_new_uuid, generate_static_uuid

from {{ cookiecutter.package_name }}.errors import ProjectError

if TYPE_CHECKING:
    from {{ cookiecutter.package_name }}.settings import Settings
    from {{ cookiecutter.package_name }}.steps import Step

PROJECT = "{{ cookiecutter.project_slug }}"
ENV_PREFIX = "{{ cookiecutter.package_name | upper }}"
ORCHESTRATOR_ENV = f"{ENV_PREFIX}_ORCHESTRATOR"  # LOCAL (default), KFP or TEKTON
PARENT_RUN_ID_ENV = f"{ENV_PREFIX}_PARENT_RUN_ID"  # a UUID, or any id (a PipelineRun UID)
PARENT_JOB_NAME_ENV = f"{ENV_PREFIX}_PARENT_JOB_NAME"
PIPELINE_JOB = "pipeline"  # the job name of a whole pipeline run
DATASET_NAMESPACE = "file"  # OpenLineage naming for a local file system; the name is the path
DEFAULT_EVENTS = Path("artifacts/lineage/events.jsonl")
# Identifies this project's integration in every event and is the base of its own
# facet schemas' URLs. Point it at the repository's home once it has one.
PROJECT_URL = "https://example.com/{{ cookiecutter.project_slug }}"
PRODUCER = PROJECT_URL
GOVERNANCE_FACET = "{{ cookiecutter.package_name }}_governance"
GOVERNANCE_SCHEMA = Path(__file__).parent / "schemas" / "GovernanceRunFacet.json"
GOVERNANCE_SCHEMA_URL = f"{PROJECT_URL}/schemas/GovernanceRunFacet.json#/$defs/GovernanceRunFacet"
# Static run ids come from an external id alone, so every step of one PipelineRun
# (and a retried step) derives the same id; the instant is fixed for that reason.
_STATIC_INSTANT = datetime(1970, 1, 1, tzinfo=timezone.utc)  # noqa: UP017 (datetime.UTC needs 3.11)

#: A transport to use instead of the configured one (tests set it).
TRANSPORT: Transport | None = None

# The client logs through `logging`; without a handler of the application's own,
# Python would print its warnings on stderr, on top of ours.
logging.getLogger("openlineage").addHandler(logging.NullHandler())


@attr.define
class GovernanceRunFacet(RunFacet):
    """The govern step's decision: verdict, gates with their metric values, policy version."""

    verdict: str
    policyVersion: str  # camelCase, as OpenLineage facet fields are
    gates: list[dict[str, Any]] = attr.field(factory=list)
    metrics: dict[str, Any] = attr.field(factory=dict)

    @staticmethod
    def _get_schema() -> str:
        return GOVERNANCE_SCHEMA_URL


# ---------------------------------------------------------------- configuration


def transport_config() -> dict | None:
    """Where events go: OPENLINEAGE_* environment first, then openlineage.yml; None if neither."""
    prefix = "OPENLINEAGE__TRANSPORT__"
    if f"{prefix}TYPE" in os.environ:
        config: dict = {}
        for key, raw in os.environ.items():
            if key.startswith(prefix):
                *parents, leaf = key[len(prefix) :].lower().split("__")
                node = config
                for part in parents:
                    node = node.setdefault(part, {})
                node[leaf] = _env_value(raw)
        return config
    if url := os.environ.get("OPENLINEAGE_URL"):
        endpoint = os.environ.get("OPENLINEAGE_ENDPOINT", "api/v1/lineage")
        return _with_api_key({"type": "http", "url": url, "endpoint": endpoint})
    path = Path(os.environ.get("OPENLINEAGE_CONFIG") or "openlineage.yml")
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ProjectError(f"{path} is not readable YAML: {exc}") from exc
    transport = loaded.get("transport") if isinstance(loaded, dict) else None
    if not isinstance(transport, dict) or not transport.get("type"):
        return None
    return _with_api_key(transport) if transport["type"] == "http" else transport


def _env_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _with_api_key(transport: dict) -> dict:
    """Add OPENLINEAGE_API_KEY as the http transport's key, unless the config has its own auth."""
    key = os.environ.get("OPENLINEAGE_API_KEY")
    if key and "auth" not in transport:
        return {**transport, "auth": {"type": "api_key", "apiKey": key}}
    return transport


def events_path() -> Path:
    """The file the file transport writes to (the default one when another transport is set)."""
    config = transport_config() or {}
    if config.get("type") == "file" and config.get("log_file_path"):
        return Path(str(config["log_file_path"]).removeprefix("file://"))
    return DEFAULT_EVENTS


def disabled() -> bool:
    return os.environ.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true"


def make_client() -> OpenLineageClient:
    """A client on the configured transport (the client's own fallback when none is configured)."""
    if TRANSPORT is not None:
        return OpenLineageClient(transport=TRANSPORT)
    config = transport_config()
    if config is None:
        client = OpenLineageClient()
    else:
        if config["type"] == "file" and config.get("log_file_path"):
            Path(str(config["log_file_path"]).removeprefix("file://")).parent.mkdir(
                parents=True, exist_ok=True
            )
        client = OpenLineageClient(transport=get_default_factory().create(config))
    if client.transport.kind == "console":
        _show_console_events()
    return client


def _show_console_events() -> None:
    """The console transport logs each event at INFO: put those lines on stderr."""
    logger = logging.getLogger("openlineage.client.transport.console")
    if not any(getattr(handler, "_project", False) for handler in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler._project = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


class Emitter:
    """Sends the events of one pipeline or step run; an outage warns once, then stays quiet."""

    def __init__(self, required: bool) -> None:
        self.required = required
        self.client: OpenLineageClient | None = None
        if disabled():
            return
        try:
            self.client = make_client()
        except Exception as exc:  # a bad config must not stop the ML step
            self._failed("cannot configure the transport", exc, quiet=False)

    def emit(self, event: RunEvent, quiet: bool = False) -> None:
        """Send `event`; on failure warn (or, when lineage is required and not `quiet`, raise)."""
        if self.client is None:
            return
        try:
            self.client.emit(event)
        except Exception as exc:
            self.client = None
            self._failed(f"cannot send the {event.eventType.value} event of {event.job.name}", exc, quiet)

    def _failed(self, what: str, exc: Exception, quiet: bool) -> None:
        message = f"lineage: {what}: {type(exc).__name__}: {exc}".splitlines()[0]
        if self.required and not quiet:
            raise ProjectError(f"{message} (lineage.required is true in params.yaml)") from exc
        print(f"warning: {message}; going on without lineage", file=sys.stderr)


# ---------------------------------------------------------------- runs


@dataclass(frozen=True)
class RunRef:
    """A run another run points at: its id and job name, and the root of the tree."""

    run_id: str
    job: str
    root: RunRef | None = None


@dataclass
class StepRun:
    """What the wrapped step tells lineage: its summary, for the COMPLETE event's facets."""

    run_id: str
    summary: dict | None = None


@dataclass
class _Pipeline:
    ref: RunRef
    emitter: Emitter
    started: datetime


_PIPELINE: ContextVar[_Pipeline | None] = ContextVar("pipeline_run", default=None)


def namespace() -> str:
    """The job namespace: OPENLINEAGE_NAMESPACE, else the project."""
    return os.environ.get("OPENLINEAGE_NAMESPACE") or PROJECT


def orchestrator() -> str:
    return os.environ.get(ORCHESTRATOR_ENV, "").strip().upper() or "LOCAL"


def external_parent() -> RunRef | None:
    """The parent run an orchestrator passes in the environment, if any."""
    raw = os.environ.get(PARENT_RUN_ID_ENV, "").strip()
    if not raw:
        return None
    try:
        run_id = str(UUID(raw))
    except ValueError:
        run_id = str(generate_static_uuid(_STATIC_INSTANT, raw.encode()))
    return RunRef(run_id, os.environ.get(PARENT_JOB_NAME_ENV, "").strip() or PIPELINE_JOB)


def _now() -> datetime:
    return datetime.now(timezone.utc)  # noqa: UP017


@contextmanager
def pipeline_run(settings: Settings, description: str) -> Iterator[RunRef]:
    """Emit START/COMPLETE|FAIL for a whole pipeline run; steps inside it name it as parent."""
    emitter = Emitter(settings.lineage.required)
    parent = external_parent()
    ref = RunRef(str(generate_new_uuid()), PIPELINE_JOB, root=(parent.root or parent) if parent else None)
    started = _now()
    run_facets = _run_facets(parent, started)
    job_facets = _job_facets(description, "DAG")
    emitter.emit(_event(RunState.START, ref, run_facets, job_facets))
    token = _PIPELINE.set(_Pipeline(ref, emitter, started))
    try:
        yield ref
    except BaseException as exc:
        state = RunState.FAIL if isinstance(exc, Exception) else RunState.ABORT
        facets = {**run_facets, **_failure_facets(exc)}
        emitter.emit(_event(state, ref, facets, job_facets), quiet=True)
        raise
    finally:
        _PIPELINE.reset(token)
    emitter.emit(_event(RunState.COMPLETE, ref, run_facets, job_facets))


@contextmanager
def step_run(step: Step, settings: Settings) -> Iterator[StepRun]:
    """Emit START, then COMPLETE (with the step's summary) or FAIL, for one step run."""
    pipeline = _PIPELINE.get()
    if pipeline is not None:
        emitter, parent, nominal = pipeline.emitter, pipeline.ref, pipeline.started
        run_id = str(generate_new_uuid())
    else:
        emitter, parent, nominal = Emitter(settings.lineage.required), external_parent(), None
        # under an orchestrator the id derives from its run, so a retried step is the same run
        run_id = (
            str(generate_static_uuid(_STATIC_INSTANT, f"{parent.run_id}/{step.name}".encode()))
            if parent
            else str(generate_new_uuid())
        )
    if emitter.client is None:
        yield StepRun(run_id)  # lineage off or unreachable: no facet work at all
        return
    ref = RunRef(run_id, step.name)
    started = _now()
    inputs = {field: Path(getattr(settings.paths, field)) for field in step.inputs}
    outputs = {field: Path(getattr(settings.paths, field)) for field in step.outputs}
    run_facets = _run_facets(parent, nominal or started)
    job_facets = _job_facets(_doc(step.call.__doc__) or f"The {step.name} step.", "TASK")
    emitter.emit(
        _event(
            RunState.START,
            ref,
            run_facets,
            job_facets,
            [_input(path, None) for path in inputs.values()],
            [OutputDataset(DATASET_NAMESPACE, _name(path)) for path in outputs.values()],
        )
    )
    record = StepRun(run_id)
    try:
        yield record
    except BaseException as exc:
        state = RunState.FAIL if isinstance(exc, Exception) else RunState.ABORT
        summary = getattr(exc, "summary", None)
        facets = {**run_facets, **_failure_facets(exc), **_summary_facets(summary)}
        written = [path for path in outputs.values() if _modified_since(path, started)]
        emitter.emit(
            _event(
                state,
                ref,
                facets,
                job_facets,
                [_input(path, summary) for path in inputs.values()],
                [_output(path) for path in written],
            ),
            quiet=True,
        )
        raise
    emitter.emit(
        _event(
            RunState.COMPLETE,
            ref,
            {**run_facets, **_summary_facets(record.summary)},
            job_facets,
            [_input(path, record.summary) for path in inputs.values()],
            [_output(path) for path in outputs.values()],
        )
    )


def _event(
    state: RunState,
    ref: RunRef,
    run_facets: dict,
    job_facets: dict,
    inputs: list[InputDataset] | None = None,
    outputs: list[OutputDataset] | None = None,
) -> RunEvent:
    return RunEvent(
        eventType=state,
        eventTime=_now().isoformat(),
        run=Run(runId=ref.run_id, facets=dict(run_facets)),
        job=Job(namespace=namespace(), name=ref.job, facets=dict(job_facets)),
        inputs=inputs or [],
        outputs=outputs or [],
        producer=PRODUCER,
    )


# ---------------------------------------------------------------- facets


def _run_facets(parent: RunRef | None, nominal: datetime) -> dict:
    facets: dict[str, RunFacet] = {
        "nominalTime": nominal_time_run.NominalTimeRunFacet(
            nominalStartTime=nominal.isoformat(), producer=PRODUCER
        ),
        "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
            version=_version(PROJECT),
            name=PROJECT,
            openlineageAdapterVersion=_version("openlineage-python"),
            producer=PRODUCER,
        ),
    }
    if parent is not None:
        root = parent.root or parent
        facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=parent.run_id),
            job=parent_run.Job(namespace=namespace(), name=parent.job),
            root=parent_run.Root(
                run=parent_run.RootRun(runId=root.run_id),
                job=parent_run.RootJob(namespace=namespace(), name=root.job),
            ),
            producer=PRODUCER,
        )
    return facets


def _job_facets(description: str, job_type: str) -> dict:
    facets: dict = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration=orchestrator(), jobType=job_type, producer=PRODUCER
        ),
        "documentation": documentation_job.DocumentationJobFacet(
            description=description, contentType="text/plain", producer=PRODUCER
        ),
    }
    if source := _git_source():
        facets["sourceCodeLocation"] = source_code_location_job.SourceCodeLocationJobFacet(
            type="git", url=source["url"], repoUrl=source["url"], version=source["version"], producer=PRODUCER
        )
    return facets


def _failure_facets(exc: BaseException) -> dict:
    return {
        "errorMessage": error_message_run.ErrorMessageRunFacet(
            message=str(exc) or type(exc).__name__,
            programmingLanguage="python",
            stackTrace="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
            producer=PRODUCER,
        )
    }


def _summary_facets(summary: object) -> dict:
    """The govern step's summary (verdict, policy_version, gates) as the governance facet."""
    if not isinstance(summary, dict) or "verdict" not in summary:
        return {}
    gates = [_plain(gate) for gate in summary.get("gates", []) if isinstance(gate, dict)]
    metrics = {
        f"{gate['metric']}[{gate['attribute']}]" if gate.get("attribute") else str(gate["metric"]): gate.get(
            "value"
        )
        for gate in gates
        if "metric" in gate
    }
    return {
        GOVERNANCE_FACET: GovernanceRunFacet(
            verdict=str(summary["verdict"]),
            policyVersion=str(summary.get("policy_version", "")),
            gates=gates,
            metrics=metrics,
            producer=PRODUCER,
        )
    }


def _plain(value: Any) -> Any:
    """JSON-ready copy: numpy scalars become Python numbers, tuples lists."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value


def _doc(text: str | None) -> str:
    return " ".join((text or "").strip().split("\n\n")[0].split())


@lru_cache(maxsize=8)
def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def _git_source() -> dict | None:
    """The commit the project (the working directory) is at; None when it has none."""
    git = shutil.which("git")
    if git is None:
        return None

    def ask(*args: str) -> str:
        result = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
            [git, *args], capture_output=True, text=True, timeout=5, check=False
        )
        return result.stdout.strip() if result.returncode == 0 else ""

    try:
        commit = ask("rev-parse", "--verify", "--quiet", "HEAD")
        if not commit:
            return None
        url = (
            ask("config", "--get", "remote.origin.url") or Path(ask("rev-parse", "--show-toplevel")).as_uri()
        )
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    return {"url": url, "version": commit}


# ---------------------------------------------------------------- datasets


def _name(path: Path) -> str:
    return str(Path(path).resolve())


def _input(path: Path, summary: object) -> InputDataset:
    facets = _file_facets(path)
    input_facets = {}
    if isinstance(summary, dict) and isinstance(summary.get("null_counts"), dict):
        validated = summary.get("input")
        if validated is None or _name(Path(validated)) == _name(path):
            input_facets["dataQualityMetrics"] = (
                data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet(
                    rowCount=summary.get("rows"),
                    columnMetrics={
                        str(column): data_quality_metrics_input_dataset.ColumnMetrics(nullCount=int(count))
                        for column, count in summary["null_counts"].items()
                    },
                    producer=PRODUCER,
                )
            )
    return InputDataset(DATASET_NAMESPACE, _name(path), facets=facets, inputFacets=input_facets)


def _output(path: Path) -> OutputDataset:
    stats = _file_stats(path)
    output_facets = {}
    if stats is not None:
        output_facets["outputStatistics"] = (
            output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                rowCount=_csv_facts(path)[1] if _is_csv(path) else None,
                size=stats[0],
                fileCount=stats[1] if Path(path).is_dir() else None,
                producer=PRODUCER,
            )
        )
    return OutputDataset(
        DATASET_NAMESPACE, _name(path), facets=_file_facets(path), outputFacets=output_facets
    )


def _file_facets(path: Path) -> dict:
    """The schema facet (columns and types) of a CSV file; nothing for other files."""
    if not _is_csv(path):
        return {}
    columns, _ = _csv_facts(path)
    if not columns:
        return {}
    return {
        "schema": schema_dataset.SchemaDatasetFacet(
            fields=[schema_dataset.SchemaDatasetFacetFields(name=name, type=kind) for name, kind in columns],
            producer=PRODUCER,
        )
    }


def _is_csv(path: Path) -> bool:
    return Path(path).suffix.lower() == ".csv" and Path(path).is_file()


def _csv_facts(path: Path) -> tuple[list[tuple[str, str]], int | None]:
    stat = Path(path).stat()
    return _csv_facts_of(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=32)
def _csv_facts_of(path: str, mtime_ns: int, size: int) -> tuple[list[tuple[str, str]], int | None]:
    """Column types from the first rows, and the row count from a line count (cheap on big files)."""
    import pandas as pd

    try:
        head = pd.read_csv(path, nrows=1000)
        with open(path, "rb") as handle:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
            handle.seek(max(size - 1, 0))
            if size and handle.read(1) != b"\n":
                lines += 1
    except (OSError, ValueError, pd.errors.ParserError):
        return [], None
    columns = [
        (str(name), "string" if dtype.kind in "OSU" else str(dtype)) for name, dtype in head.dtypes.items()
    ]
    return columns, max(lines - 1, 0)


def _file_stats(path: Path) -> tuple[int, int] | None:
    """(bytes, files) of a file or a folder; None when it does not exist."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size, 1
    if path.is_dir():
        files = [item for item in path.rglob("*") if item.is_file()]
        return sum(item.stat().st_size for item in files), len(files)
    return None


def _modified_since(path: Path, started: datetime) -> bool:
    try:
        return Path(path).stat().st_mtime >= started.timestamp() - 1
    except OSError:
        return False
