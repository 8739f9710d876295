"""What lineage events say: job, run and dataset facets, built from a step's files and summary.

Facets this package defines are prefixed with the package name and carry a
schema in `schemas/`. Extensions (tracking, data versioning) add their own
facets through the run context, so this module knows none of them.
"""

import functools
import platform
import shutil
import subprocess
import traceback
from collections.abc import Callable, Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import attr
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset
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

from .. import __version__
from ..project import PACKAGE, SLUG
from .config import namespace

PRODUCER = f"urn:{SLUG}:lineage:{__version__}"
DATASET_NAMESPACE = "file"
SCHEMA_BASE = f"https://{SLUG}.example.com/schemas"
GOVERNANCE_FACET = f"{PACKAGE}_governance"
DatasetFacets = Callable[[Path], dict]  # what an extension adds to every dataset


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
        return f"{SCHEMA_BASE}/GovernanceRunFacet.json#/$defs/GovernanceRunFacet"


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


def job(name: str, doc: str, job_type: str, orchestrator: str) -> Job:
    """The job of a step (STEP) or of the pipeline around the steps (PIPELINE)."""
    facets = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration=orchestrator, jobType=job_type
        ),
    }
    if doc:
        facets["documentation"] = documentation_job.DocumentationJobFacet(description=doc)
    if location := _source_location():
        facets["sourceCodeLocation"] = location
    return Job(namespace=namespace(), name=name, facets=facets)


@functools.cache
def _client_version() -> str:
    try:
        return version("openlineage-python")
    except PackageNotFoundError:
        return "unknown"


def run_facets(started: str, parent: tuple[str, str] | None) -> dict:
    """Facets every event of a run carries: when it was meant to start, the engine, its parent run."""
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
    return facets


def error(exc: BaseException, trace: bool) -> dict:
    facet = error_message_run.ErrorMessageRunFacet(
        message=str(exc) or type(exc).__name__,
        programmingLanguage="python",
        stackTrace=traceback.format_exc() if trace else None,
    )
    return {"errorMessage": facet}


def governance(summary: dict | None) -> dict:
    """The governance verdict, when `summary` is govern's."""
    summary = summary or {}
    if "verdict" not in summary:
        return {}
    keys = ("gate", "metric", "attribute", "value", "limit", "passed")
    gates = [{key: gate.get(key) for key in keys if key in gate} for gate in summary.get("gates", [])]
    facet = GovernanceRunFacet(
        verdict=summary["verdict"],
        policyVersion=str(summary.get("policy_version", "")),
        profile=summary.get("profile"),
        modelSha256=summary.get("model_sha256"),
        gates=gates,
    )
    return {GOVERNANCE_FACET: facet}


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


def dataset_name(path: Path) -> str:
    return str(Path(path).resolve())


def _described(path: Path, extra: Iterable[DatasetFacets]) -> dict:
    facets = {}
    if schema := _schema(path):
        facets["schema"] = schema
    for add in extra:
        facets.update(add(path))
    return facets


def digest(path: Path, summary: dict | None) -> dict:
    """A step that hashed a file (ingest its source, feedback its output) gives it as the version."""
    value = ((summary or {}).get("digests") or {}).get(str(path))
    if not value:
        return {}
    return {"version": dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=value)}


def inputs(
    paths: list[Path], summary: dict | None, extra: Iterable[DatasetFacets] = ()
) -> list[InputDataset]:
    """The datasets a step read; validate-data's profile of its input becomes data quality metrics."""
    datasets = []
    for path in paths:
        input_facets = {}
        if summary and "null_counts" in summary and summary.get("input") and Path(summary["input"]) == path:
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
                namespace=DATASET_NAMESPACE,
                name=dataset_name(path),
                facets={**_described(path, extra), **digest(path, summary)},
                inputFacets=input_facets,
            )
        )
    return datasets


def outputs(
    paths: list[Path], summary: dict | None, extra: Iterable[DatasetFacets] = ()
) -> list[OutputDataset]:
    """The datasets a step wrote; described (schema, size, rows) once the step has written them."""
    datasets = []
    for path in paths:
        facets, output_facets = {}, {}
        if summary is not None:
            facets = {**_described(path, extra), **digest(path, summary)}
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
