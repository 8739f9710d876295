"""MLflow experiment tracking: one MLflow run per pipeline run, whoever orchestrates it.

It joins every step run as an extension of the run context (context.py): it
wraps each step in `steps.run_step`, beside lineage, so the local runner and
every orchestrator track the same way. The key is the pipeline run every step
already knows for lineage (the context's parent run: the local runner's, or the
orchestrator's own run id). The first step creates an MLflow
run tagged with that run's OpenLineage id; later steps, in this process or in
another pod, find it by the tag. Steps run one after another, so only one of
them ever creates it.

- When the run is created: the settings from params.yaml (flattened) as params.
- After each step: what it wrote: metrics.json as metrics, the model and the
  governance evidence as artifacts, the governance verdict as a tag.
- Status: RUNNING while steps run, FAILED when one fails (a failed gate too),
  FINISHED when the last step ends.

A step run on its own (no pipeline run around it) is not tracked.

Where it goes: MLFLOW_TRACKING_URI when set (a tracking server, or any store
MLflow accepts); otherwise a SQLite store in `mlruns/` in the working
directory: the project root locally{% if cookiecutter.orchestrators != "kfp" %}, the source workspace in Tekton, where
the tasks share it{% endif %}.{% if cookiecutter.orchestrators != "tekton" %} KFP pods share no disk: a cluster's KFP tasks need a
server.{% endif %}
MLFLOW_EXPERIMENT_NAME picks the experiment (default: the project).
The orchestrators pass these, and MLflow's own credential variables, as env
(docs/experiment-tracking.md).

A tracking failure is one warning and the step goes on, unless
`tracking.required` in params.yaml is true: then it fails the step.
"""

import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attr
from openlineage.client.generated.base import RunFacet

from .context import Extension, RunContext
from .errors import ProjectError
from .lineage import namespace
from .lineage.facets import SCHEMA_BASE
from .lineage.runs import as_dict
from .project import PACKAGE, SLUG
from .settings import PathSettings, Settings

URI_ENV = "MLFLOW_TRACKING_URI"
EXPERIMENT_ENV = "MLFLOW_EXPERIMENT_NAME"
DEFAULT_EXPERIMENT = SLUG
LOCAL_STORE = Path("mlruns")
LOCAL_DATABASE = LOCAL_STORE / "mlflow.db"
# Tags on the MLflow run: the OpenLineage pipeline run it tracks (also the key
# steps find it by), and that run's namespace.
LINEAGE_RUN_TAG = "openlineage.run_id"
LINEAGE_NAMESPACE_TAG = "openlineage.namespace"
VERDICT_TAG = "governance.verdict"
MLFLOW_FACET = f"{PACKAGE}_mlflow"
# The step outputs logged as artifacts, and the artifact folder of each.
ARTIFACT_FOLDERS = {
    "validation_report": "data",
    "model": "model",
    "governance_report": "governance",
    "governance_html": "governance",
    "model_card": "governance",
    "provenance": "governance",
}


def tracking_uri() -> str:
    """Where runs are recorded: MLFLOW_TRACKING_URI, else the local SQLite store."""
    return os.environ.get(URI_ENV) or f"sqlite:///{LOCAL_DATABASE.resolve()}"


def destination() -> str:
    """Where runs go, for people: the local store's folder, or the URI without credentials."""
    if not os.environ.get(URI_ENV):
        return f"{LOCAL_STORE}/"
    from urllib.parse import urlsplit

    parts = urlsplit(tracking_uri())
    return parts._replace(netloc=parts.hostname or "").geturl() if parts.password else tracking_uri()


def experiment_name() -> str:
    return os.environ.get(EXPERIMENT_ENV) or DEFAULT_EXPERIMENT


def flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    """{"model": {"C": 1.0}} -> {"model.C": "1.0"}: nested settings as MLflow params."""
    flat = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = json.dumps(value) if isinstance(value, list | tuple) else str(value)
    return flat


@attr.define
class MlflowRunFacet(RunFacet):
    """The MLflow run tracking the same pipeline run, so the two records link (schema in schemas/)."""

    runId: str  # noqa: N815 - OpenLineage facets are camelCase
    experimentId: str | None = None  # noqa: N815

    @staticmethod
    def _get_schema() -> str:
        return f"{SCHEMA_BASE}/MlflowRunFacet.json#/$defs/MlflowRunFacet"


class Tracker:
    """The MLflow run of one pipeline run, as seen from this process."""

    def __init__(self, pipeline_run: str, settings: Settings, orchestrator: str):
        # A down server would otherwise cost minutes of retries per call (MLflow reads these
        # from the environment only; a value the user set wins).
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
        # Creating the local database is routine, not news.
        logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        from mlflow import MlflowClient

        self.local = not os.environ.get(URI_ENV)
        if self.local:
            LOCAL_STORE.mkdir(exist_ok=True)
        self.pipeline_run = pipeline_run
        self.settings = settings
        self.orchestrator = orchestrator
        self.client = MlflowClient(tracking_uri=tracking_uri())
        self.run_id: str | None = None
        self.experiment_id: str | None = None

    def open(self) -> None:
        """Find the pipeline run's MLflow run, or create it; mark it RUNNING."""
        if self.run_id is None:
            self.experiment_id = self._experiment()
            self.run_id = self._find()
            if self.run_id is None:
                self.run_id = self._create()
                return  # a new run starts RUNNING
        self.client.update_run(self.run_id, status="RUNNING")

    def _experiment(self) -> str:
        name = experiment_name()
        experiment = self.client.get_experiment_by_name(name)
        if experiment is not None:
            return experiment.experiment_id
        # A server picks its own artifact store; the local one keeps artifacts beside the database.
        location = (LOCAL_STORE / "artifacts").resolve().as_uri() if self.local else None
        return self.client.create_experiment(name, artifact_location=location)

    def _find(self) -> str | None:
        """The run an earlier step of this pipeline run created, in any process."""
        found = self.client.search_runs(
            [self.experiment_id],
            filter_string=f"tags.`{LINEAGE_RUN_TAG}` = '{self.pipeline_run}'",
            max_results=1,
        )
        return found[0].info.run_id if found else None

    def _create(self) -> str:
        """A new run, tagged with the pipeline run, holding the settings as params."""
        from mlflow.entities import Param

        run = self.client.create_run(
            self.experiment_id,
            run_name=f"{self.orchestrator.lower()}-{self.pipeline_run[:8]}",
            tags={
                LINEAGE_RUN_TAG: self.pipeline_run,
                LINEAGE_NAMESPACE_TAG: namespace(),
                "orchestrator": self.orchestrator,
                "mlflow.source.name": SLUG,
            },
        )
        # Paths are where this orchestrator keeps files, not settings of the model.
        params = flatten(self.settings.model_dump(mode="json", exclude={"paths"}))
        self.client.log_batch(run.info.run_id, params=[Param(k, v) for k, v in sorted(params.items())])
        return run.info.run_id

    def log_outputs(self, outputs: dict[str, Path], summary: dict) -> None:
        """Log what a step wrote: its metrics, its artifacts (under their usual names), its verdict."""
        from mlflow.entities import Metric

        if "metrics" in outputs and outputs["metrics"].is_file():
            values = json.loads(outputs["metrics"].read_text(encoding="utf-8"))
            now = _millis()
            metrics = [
                Metric(name, float(value), now, 0)
                for name, value in sorted(values.items())
                if isinstance(value, int | float) and not isinstance(value, bool)
            ]
            self.client.log_batch(self.run_id, metrics=metrics)
        usual = PathSettings()
        with tempfile.TemporaryDirectory() as staging:
            for field, path in outputs.items():
                if field in ARTIFACT_FOLDERS and path.is_file():
                    # A KFP artifact's file is named after the output ("model"): log the usual name.
                    named = Path(staging) / getattr(usual, field).name
                    shutil.copyfile(path, named)
                    self.client.log_artifact(self.run_id, str(named), ARTIFACT_FOLDERS[field])
        if verdict := summary.get("verdict"):
            self.client.set_tag(self.run_id, VERDICT_TAG, str(verdict))

    def end(self, status: str) -> None:
        self.client.set_terminated(self.run_id, status)


def _millis() -> int:
    import time

    return int(time.time() * 1000)


class MlflowTracking(Extension):
    """Tracking as an extension of the run context: one instance per context, so per pipeline run."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.required = settings.tracking.required
        self.tracker: Tracker | None = None
        self.broken = False  # after one failure this context stops trying (one warning)

    def _guard(self, what: str, action) -> bool:
        """Run one tracking call; a failure is one warning, or an error when tracking is required."""
        if self.broken and not self.required:
            return False
        try:
            action()
        except Exception as exc:  # any store or network failure
            if self.required:
                raise ProjectError(f"tracking: could not {what}: {exc}") from exc
            message = str(exc).splitlines()[0] if str(exc) else ""
            print(
                f"warning: experiment tracking is off for this run ({type(exc).__name__}: {message})",
                file=sys.stderr,
            )
            self.broken = True
            return False
        return True

    @contextmanager
    def step_run(self, step_outputs: dict[str, Path], context: RunContext, last: bool) -> Iterator[dict]:
        """Track one step of a pipeline run, which writes `step_outputs` (see the module docstring).
        Put the step's summary in the yielded dict's "summary" key."""
        result: dict = {}
        key = context.parent_run_id
        if key is None:
            yield result
            return

        def open_run() -> None:
            if self.tracker is None or self.tracker.pipeline_run != key:
                self.tracker = Tracker(key, self.settings, context.orchestrator)
            self.tracker.open()

        if not self._guard("start a run", open_run):
            yield result
            return
        tracker = self.tracker
        try:
            yield result
        except BaseException as exc:
            # A failed gate still wrote its evidence: log it with the verdict.
            if (summary := getattr(exc, "summary", None)) is not None:
                evidence = as_dict(summary)
                self._guard("log the step's outputs", lambda: tracker.log_outputs(step_outputs, evidence))
            self._guard("end the run", lambda: tracker.end("FAILED"))
            raise
        summary = as_dict(result.get("summary"))
        self._guard("log the step's outputs", lambda: tracker.log_outputs(step_outputs, summary))
        if last:
            self._guard("end the run", lambda: tracker.end("FINISHED"))

    def run_facets(self) -> dict:
        if self.tracker is None or self.tracker.run_id is None:
            return {}
        facet = MlflowRunFacet(runId=self.tracker.run_id, experimentId=self.tracker.experiment_id)
        return {MLFLOW_FACET: facet}

    def describe(self) -> str | None:
        if self.tracker is None or self.tracker.run_id is None:
            return None
        return f"tracking:    MLflow run {self.tracker.run_id} in {destination()}"

    def champion_moved(self, version: str, model: Path) -> None:
        run_id = self.tracker.run_id if self.tracker is not None else None
        self._guard(
            "set the champion alias in the model registry", lambda: mirror_champion(version, model, run_id)
        )


def extension(settings: Settings) -> MlflowTracking:
    """The run context's tracking extension (context.load_extensions finds it)."""
    return MlflowTracking(settings)


REGISTERED_MODEL = SLUG
RELEASE_TAG = "release"
CHAMPION_ALIAS = "champion"


def mirror_champion(version: str, model: Path, run_id: str | None = None) -> None:
    """Point the MLflow Model Registry's `champion` alias at the model version of release `version`.

    The release's model is registered once (tagged with the release version,
    linked to the tracked run when there is one); the releases folder stays
    the source of truth, the registry follows it.
    """
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    if not os.environ.get(URI_ENV):
        LOCAL_STORE.mkdir(exist_ok=True)
    client = MlflowClient(tracking_uri=tracking_uri())
    try:
        client.create_registered_model(REGISTERED_MODEL)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    found = [
        mv
        for mv in client.search_model_versions(f"name = '{REGISTERED_MODEL}'")
        if mv.tags.get(RELEASE_TAG) == version
    ]
    if found:
        registered = found[0]
    else:
        registered = client.create_model_version(
            REGISTERED_MODEL,
            source=Path(model).resolve().as_uri(),
            run_id=run_id,
            tags={RELEASE_TAG: version},
        )
    client.set_registered_model_alias(REGISTERED_MODEL, CHAMPION_ALIAS, registered.version)
