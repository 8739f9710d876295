"""OpenLineage for every step run, whoever orchestrates it.

`step_run` wraps `steps.run_step`, so the CLI, the local runner and every
orchestrator's steps report the same way: START, then COMPLETE or FAIL, with
the step's input and output files as datasets. `pipeline_run` makes
the parent run the steps of one local pipeline belong to; an external
orchestrator names its own run in the PARENT_RUN_ENV variable instead.

The transport comes from `openlineage.yml` (or OPENLINEAGE_CONFIG), and
OPENLINEAGE_URL / OPENLINEAGE__TRANSPORT__* variables override it; code never
picks one. OPENLINEAGE_DISABLED=true turns lineage off.
"""

import functools
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import attr
import yaml
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    data_quality_metrics_input_dataset,
    dataset_version_dataset,
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
from openlineage.client.generated.base import RunFacet
from openlineage.client.transport import get_default_factory
from openlineage.client.uuid import generate_new_uuid, generate_static_uuid

from . import __version__{% if cookiecutter.experiment_tracking == "mlflow" %}, tracking{% endif %}
from .errors import ProjectError
from .settings import PARENT_RUN_ENV, Settings, orchestrator

PRODUCER = f"urn:{{ cookiecutter.project_slug }}:lineage:{__version__}"
DEFAULT_NAMESPACE = "{{ cookiecutter.project_slug }}"
PIPELINE_JOB = "pipeline"
DATASET_NAMESPACE = "file"
GOVERNANCE_FACET = "{{ cookiecutter.package_name }}_governance"
GOVERNANCE_SCHEMA = "https://{{ cookiecutter.project_slug }}.example.com/schemas/GovernanceRunFacet.json#/$defs/GovernanceRunFacet"
{%- if cookiecutter.experiment_tracking == "mlflow" %}
MLFLOW_FACET = "{{ cookiecutter.package_name }}_mlflow"
MLFLOW_SCHEMA = "https://{{ cookiecutter.project_slug }}.example.com/schemas/MlflowRunFacet.json#/$defs/MlflowRunFacet"
{%- endif %}
# Static run ids (a retried step reports the same run) need a fixed instant.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@attr.define
class GovernanceRunFacet(RunFacet):
    """The governance verdict on the run of the govern step (schema in schemas/)."""

    verdict: str
    policyVersion: str  # noqa: N815 - OpenLineage facets are camelCase
    profile: str | None = None
    modelSha256: str | None = None  # noqa: N815
    gates: list = attr.field(factory=list)

    @staticmethod
    def _get_schema() -> str:
        return GOVERNANCE_SCHEMA
{%- if cookiecutter.experiment_tracking == "mlflow" %}


@attr.define
class MlflowRunFacet(RunFacet):
    """The MLflow run tracking the same pipeline run, so the two records link (schema in schemas/)."""

    runId: str  # noqa: N815 - OpenLineage facets are camelCase
    experimentId: str | None = None  # noqa: N815

    @staticmethod
    def _get_schema() -> str:
        return MLFLOW_SCHEMA
{%- endif %}


def namespace() -> str:
    return os.environ.get("OPENLINEAGE_NAMESPACE") or DEFAULT_NAMESPACE


def _env_overrides() -> dict:
    """OPENLINEAGE_URL and OPENLINEAGE__A__B=value variables as a nested config dict (empty is unset)."""
    config: dict = {}
    if url := os.environ.get("OPENLINEAGE_URL"):
        transport = {
            "type": "http",
            "url": url,
            "endpoint": os.environ.get("OPENLINEAGE_ENDPOINT", "api/v1/lineage"),
        }
        if key := os.environ.get("OPENLINEAGE_API_KEY"):
            transport["auth"] = {"type": "api_key", "apiKey": key}
        config["transport"] = transport
    for name, raw in sorted(os.environ.items()):
        if not name.startswith("OPENLINEAGE__") or not raw:
            continue  # a ConfigMap may list a key it leaves empty
        *parents, leaf = name.removeprefix("OPENLINEAGE__").lower().split("__")
        node = config
        for part in parents:
            node = node.setdefault(part, {})
        try:
            node[leaf] = json.loads(raw)
        except ValueError:
            node[leaf] = raw
    return config


def transport_config() -> dict:
    """The transport: openlineage.yml, overridden by the environment."""
    path = Path(os.environ.get("OPENLINEAGE_CONFIG") or "openlineage.yml")
    try:
        config = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.is_file() else {}
    except (OSError, yaml.YAMLError) as exc:
        raise ProjectError(f"{path} is not readable YAML: {exc}") from exc
    transport = dict(config.get("transport") or {})
    override = _env_overrides().get("transport") or {}
    if override.get("type") not in (None, transport.get("type")):
        transport = {}  # the environment names another kind of transport: the file's keys don't apply
    transport.update(override)
    return transport or {"type": "console"}


def make_client() -> OpenLineageClient:
    """A client for the configured transport (a no-op one when OPENLINEAGE_DISABLED is true)."""
    if os.environ.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true":
        return OpenLineageClient()  # the client turns itself into a no-op
    transport = transport_config()
    if transport.get("type") == "file" and transport.get("log_file_path"):
        Path(transport["log_file_path"]).parent.mkdir(parents=True, exist_ok=True)
    if transport.get("type") == "console":
        _show_console_events()
    return OpenLineageClient(transport=get_default_factory().create(transport))


def _show_console_events() -> None:
    """The console transport logs each event at INFO, which Python hides by default: show them on stderr."""
    logger = logging.getLogger("openlineage.client.transport.console")
    if not any(getattr(handler, "lineage_events", False) for handler in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.lineage_events = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # once, even when the application logs INFO itself


_client: OpenLineageClient | None = None


def client() -> OpenLineageClient:
    """The injected client if any, else one for the current directory's configuration."""
    return _client or make_client()


# After one failed send this process stops trying (one warning, not one retry
# cycle per event), unless lineage is required.
_broken = False


@contextmanager
def use_client(replacement: OpenLineageClient) -> Iterator[None]:
    """Send this block's events through `replacement` (tests inject a transport this way)."""
    global _client, _broken
    previous, _client, _broken = _client, replacement, False
    try:
        yield
    finally:
        _client, _broken = previous, False


def emit(event: RunEvent, required: bool, through: OpenLineageClient) -> None:
    """Send one event; an outage is one warning unless lineage is required."""
    global _broken
    if _broken and not required:
        return
    try:
        through.emit(event)
    except Exception as exc:  # any transport failure: network, disk, serialisation
        if required:
            raise ProjectError(
                f"lineage: could not send {event.eventType.value} of {event.job.name}: {exc}"
            ) from exc
        print(f"warning: lineage is not being recorded ({type(exc).__name__}: {exc})", file=sys.stderr)
        _broken = True


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _as_uuid(external_id: str) -> str:
    """An orchestrator's run id as a run UUID: itself when it is one, else derived from it."""
    try:
        import uuid

        return str(uuid.UUID(external_id))
    except ValueError:
        return str(generate_static_uuid(EPOCH, external_id.encode()))


@functools.cache
def _source_location() -> source_code_location_job.SourceCodeLocationJobFacet | None:
    """The git commit this code runs from, when it runs from a git work tree."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        commit = subprocess.run(  # noqa: S603 - fixed arguments
            [git, "rev-parse", "--verify", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        remote = subprocess.run(  # noqa: S603
            [git, "remote", "get-url", "origin"], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    url = remote or Path.cwd().resolve().as_uri()
    return source_code_location_job.SourceCodeLocationJobFacet(
        type="git", url=url, repoUrl=remote or None, version=commit
    )


def _job(name: str, doc: str, job_type: str) -> Job:
    facets = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration=orchestrator(), jobType=job_type
        ),
    }
    if doc:
        facets["documentation"] = documentation_job.DocumentationJobFacet(description=doc)
    if location := _source_location():
        facets["sourceCodeLocation"] = location
    return Job(namespace=namespace(), name=name, facets=facets)


def _run_facets(started: str, parent: tuple[str, str] | None) -> dict:
    facets = {
        "nominalTime": nominal_time_run.NominalTimeRunFacet(nominalStartTime=started),
        "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
            version=platform.python_version(), name="python", openlineageAdapterVersion=_client_version()
        ),
    }
    if parent:
        run_id, job_name = parent
        facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=run_id), job=parent_run.Job(namespace=namespace(), name=job_name)
        )
{%- if cookiecutter.experiment_tracking == "mlflow" %}
    facets.update(_mlflow())
{%- endif %}
    return facets
{%- if cookiecutter.experiment_tracking == "mlflow" %}


def _mlflow() -> dict:
    """The MLflow run tracking this pipeline run, once a step has opened it."""
    if (tracker := tracking.active()) is None:
        return {}
    return {MLFLOW_FACET: MlflowRunFacet(runId=tracker.run_id, experimentId=tracker.experiment_id)}
{%- endif %}


@functools.cache
def _client_version() -> str:
    try:
        return version("openlineage-python")
    except PackageNotFoundError:
        return "unknown"


def _schema(path: Path) -> schema_dataset.SchemaDatasetFacet | None:
    """Column names and types of a CSV, read from its first rows."""
    if path.suffix != ".csv" or not path.is_file():
        return None
    import pandas as pd

    try:
        head = pd.read_csv(path, nrows=200)
    except Exception:  # noqa: BLE001 - lineage describes what it can and never fails the step
        return None
    fields = [
        schema_dataset.SchemaDatasetFacetFields(name=str(c), type=str(t)) for c, t in head.dtypes.items()
    ]
    return schema_dataset.SchemaDatasetFacet(fields=fields)


def _size(path: Path) -> int | None:
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return None
{%- if cookiecutter.data_versioning == "dvc" %}


@functools.cache
def _dvc_outs() -> frozenset[Path]:
    """The files dvc.yaml declares as stage outputs (so DVC versions them), resolved."""
    try:
        stages = (yaml.safe_load(Path("dvc.yaml").read_text(encoding="utf-8")) or {}).get("stages") or {}
    except (OSError, yaml.YAMLError):
        return frozenset()
    outs = set()
    for stage in stages.values():
        for kind in ("outs", "metrics"):
            for out in stage.get(kind) or []:
                outs.add(Path(next(iter(out)) if isinstance(out, dict) else out).resolve())
    return frozenset(outs)


def data_version(path: Path) -> str | None:
    """The DVC md5 of a file DVC versions: DVC 3 hashes a file's bytes with MD5, as here."""
    if not path.is_file() or path.resolve() not in _dvc_outs():
        return None
    import hashlib

    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version(path: Path, facets: dict) -> None:
    if (version := data_version(path)) is not None:
        facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=version)
{%- endif %}


def _digest(path: Path, summary: dict | None, facets: dict) -> None:
    """A step that hashed a file (ingest its source, feedback its output) gives it as the version."""
    digest = ((summary or {}).get("digests") or {}).get(str(path))
    if digest:
        facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=digest)


def dataset_name(path: Path) -> str:
    return str(Path(path).resolve())


def _inputs(paths: list[Path], summary: dict | None) -> list[InputDataset]:
    datasets = []
    for path in paths:
        facets = {}
        if schema := _schema(path):
            facets["schema"] = schema
{%- if cookiecutter.data_versioning == "dvc" %}
        _version(path, facets)
{%- endif %}
        _digest(path, summary, facets)
        input_facets = {}
        if summary and "null_counts" in summary and summary.get("input") and Path(summary["input"]) == path:
            # validate-data profiled this input: its row and null counts are data quality metrics
            input_facets["dataQualityMetrics"] = (
                data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet(
                    rowCount=summary.get("rows"),
                    bytes=_size(path),
                    columnMetrics={
                        column: data_quality_metrics_input_dataset.ColumnMetrics(nullCount=count)
                        for column, count in summary["null_counts"].items()
                    },
                )
            )
        datasets.append(
            InputDataset(
                namespace=DATASET_NAMESPACE, name=dataset_name(path), facets=facets, inputFacets=input_facets
            )
        )
    return datasets


def _outputs(paths: list[Path], summary: dict | None) -> list[OutputDataset]:
    datasets = []
    for path in paths:
        facets, output_facets = {}, {}
        if summary is not None:
            if schema := _schema(path):
                facets["schema"] = schema
{%- if cookiecutter.data_versioning == "dvc" %}
            _version(path, facets)
{%- endif %}
            _digest(path, summary, facets)
            rows = summary.get("rows") if summary.get("output") == str(path) else None
            files = sum(1 for p in path.rglob("*") if p.is_file()) if path.is_dir() else None
            output_facets["outputStatistics"] = (
                output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                    rowCount=rows, size=_size(path), fileCount=files
                )
            )
        datasets.append(
            OutputDataset(
                namespace=DATASET_NAMESPACE,
                name=dataset_name(path),
                facets=facets,
                outputFacets=output_facets,
            )
        )
    return datasets


def _governance_facet(summary: dict) -> GovernanceRunFacet | None:
    if "verdict" not in summary:
        return None
    gates = [
        {
            key: gate.get(key)
            for key in ("gate", "metric", "attribute", "value", "limit", "passed")
            if key in gate
        }
        for gate in summary.get("gates", [])
    ]
    return GovernanceRunFacet(
        verdict=summary["verdict"],
        policyVersion=str(summary.get("policy_version", "")),
        profile=summary.get("profile"),
        modelSha256=summary.get("model_sha256"),
        gates=gates,
    )


def pipeline_run_id() -> str | None:
    """The run id of the pipeline run around this step, if an orchestrator or the local runner named one."""
    external = os.environ.get(PARENT_RUN_ENV)
    return _as_uuid(external) if external else None


def _parent() -> tuple[str, str] | None:
    run_id = pipeline_run_id()
    return (run_id, PIPELINE_JOB) if run_id else None


@dataclass
class _Run:
    """One run being reported: what every one of its events shares."""

    run_id: str
    job: Job
    facets: dict
    required: bool
    sender: OpenLineageClient

    def send(self, state: RunState, extra: dict | None = None, inputs=(), outputs=(), time: str = ""):
        run = Run(runId=self.run_id, facets={**self.facets, **(extra or {})})
        event = RunEvent(
            eventType=state,
            eventTime=time or _now(),
            run=run,
            job=self.job,
            inputs=list(inputs),
            outputs=list(outputs),
            producer=PRODUCER,
        )
        emit(event, self.required, self.sender)


def _error(exc: BaseException, trace: bool) -> dict:
    facet = error_message_run.ErrorMessageRunFacet(
        message=str(exc) or type(exc).__name__,
        programmingLanguage="python",
        stackTrace=traceback.format_exc() if trace else None,
    )
    return {"errorMessage": facet}


def _governance(summary: dict | None) -> dict:
    facet = _governance_facet(summary or {})
    return {GOVERNANCE_FACET: facet} if facet is not None else {}


@contextmanager
def step_run(
    name: str, doc: str, inputs: list[Path], outputs: list[Path], settings: Settings
) -> Iterator[dict]:
    """Report one step run. Put the step's summary in the yielded dict's "summary" key."""
    parent = _parent()
    run_id = str(
        generate_static_uuid(EPOCH, f"{parent[0]}/{name}".encode()) if parent else generate_new_uuid()
    )
    started = _now()
    job = _job(name, doc, "STEP")
    run = _Run(run_id, job, _run_facets(started, parent), settings.lineage.required, client())
    declared = (_inputs(inputs, None), _outputs(outputs, None))  # what START and FAIL report
    run.send(RunState.START, None, *declared, started)
    result: dict = {}
    try:
        yield result
    except BaseException as exc:
        extra = {**_error(exc, trace=True), **_governance(getattr(exc, "summary", None))}
        run.send(RunState.FAIL, extra, *declared)
        raise
    summary = result.get("summary") or {}
    run.send(RunState.COMPLETE, _governance(summary), _inputs(inputs, summary), _outputs(outputs, summary))


@contextmanager
def pipeline_run(settings: Settings, doc: str) -> Iterator[str]:
    """Report a whole local pipeline run; steps inside it name it as their parent."""
    external = os.environ.get(PARENT_RUN_ENV)
    run_id = _as_uuid(external) if external else str(generate_new_uuid())
    started = _now()
    job = _job(PIPELINE_JOB, doc, "PIPELINE")
    run = _Run(run_id, job, _run_facets(started, None), settings.lineage.required, client())
    run.send(RunState.START, time=started)
    os.environ[PARENT_RUN_ENV] = run_id
    try:
        yield run_id
    except BaseException as exc:
        run.send(RunState.FAIL, {**_error(exc, trace=False){% if cookiecutter.experiment_tracking == "mlflow" %}, **_mlflow(){% endif %}})
        raise
    else:
        run.send(RunState.COMPLETE{% if cookiecutter.experiment_tracking == "mlflow" %}, _mlflow(){% endif %})
    finally:
        if external is None:
            os.environ.pop(PARENT_RUN_ENV, None)
        else:
            os.environ[PARENT_RUN_ENV] = external
