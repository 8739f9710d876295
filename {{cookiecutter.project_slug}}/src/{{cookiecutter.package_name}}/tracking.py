"""MLflow experiment tracking around a whole pipeline run.

The steps know nothing of MLflow: `tracked_run` opens one MLflow run before
the first step and, when the last one ends (or fails), logs what they left
on disk: the settings from params.yaml (flattened, as params), metrics.json
(as metrics), and the model and governance evidence (as artifacts).

Where it goes: MLFLOW_TRACKING_URI when set (a tracking server, or any store
MLflow accepts); otherwise a SQLite store in `mlruns/` at the project root,
artifacts beside it, so `make clean` of the pipeline outputs keeps the
history. MLFLOW_EXPERIMENT_NAME picks the experiment (default: the project).

A tracking failure is one warning and the ML run goes on, unless
`tracking.required` in params.yaml is true: then it fails the run.
"""

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from {{ cookiecutter.package_name }}.errors import ProjectError
from {{ cookiecutter.package_name }}.settings import Settings

URI_ENV = "MLFLOW_TRACKING_URI"
EXPERIMENT_ENV = "MLFLOW_EXPERIMENT_NAME"
DEFAULT_EXPERIMENT = "{{ cookiecutter.project_slug }}"
LOCAL_STORE = Path("mlruns")
# Tags on the MLflow run that point at the OpenLineage run of the same pipeline.
LINEAGE_RUN_TAG = "openlineage.run_id"
LINEAGE_NAMESPACE_TAG = "openlineage.namespace"

_active: "Tracker | None" = None
last_run_id: str | None = None  # the latest tracked run of this process, for the CLI to show


def tracking_uri() -> str:
    """Where runs are recorded: MLFLOW_TRACKING_URI, else the project's local SQLite store."""
    return os.environ.get(URI_ENV) or f"sqlite:///{(LOCAL_STORE / 'mlflow.db').resolve()}"


def destination() -> str:
    """Where runs go, for people: the local store's folder, or the URI without credentials."""
    if not os.environ.get(URI_ENV):
        return f"{LOCAL_STORE}/"
    from urllib.parse import urlsplit

    parts = urlsplit(tracking_uri())
    return parts._replace(netloc=parts.hostname or "").geturl() if parts.password else tracking_uri()


def active_run_id() -> str | None:
    """The MLflow run of the pipeline running in this process, if it is tracked."""
    return _active.run_id if _active else None


def active_experiment_id() -> str | None:
    return _active.experiment_id if _active else None


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


class Tracker:
    """One MLflow run; every call is guarded so an outage costs one warning."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.required = settings.tracking.required
        self.client = None
        self.run_id: str | None = None
        self.experiment_id: str | None = None
        self.broken = False

    def guard(self, what: str, action) -> None:
        if self.broken:
            return
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

    def start(self) -> None:
        def start() -> None:
            # A down server would otherwise cost minutes of retries per call.
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
            from mlflow import MlflowClient
            from mlflow.entities import Param

            # Creating the local database is routine, not news.
            logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)
            logging.getLogger("alembic").setLevel(logging.WARNING)

            local = not os.environ.get(URI_ENV)
            if local:
                LOCAL_STORE.mkdir(exist_ok=True)
            self.client = MlflowClient(tracking_uri=tracking_uri())
            name = os.environ.get(EXPERIMENT_ENV) or DEFAULT_EXPERIMENT
            experiment = self.client.get_experiment_by_name(name)
            if experiment is None:
                # A server picks its own artifact store; the local one keeps artifacts beside the database.
                location = (LOCAL_STORE / "artifacts").resolve().as_uri() if local else None
                self.experiment_id = self.client.create_experiment(name, artifact_location=location)
            else:
                self.experiment_id = experiment.experiment_id
            run = self.client.create_run(
                self.experiment_id, tags={"mlflow.source.name": "pipelines/local.py"}
            )
            self.run_id = run.info.run_id
            params = flatten(self.settings.model_dump(mode="json"))
            self.client.log_batch(self.run_id, params=[Param(k, v) for k, v in sorted(params.items())])

        self.guard("start a run", start)

    def tag(self, key: str, value: str) -> None:
        if self.run_id:
            self.guard("tag the run", lambda: self.client.set_tag(self.run_id, key, value))

    def finish(self, failed: BaseException | None) -> None:
        if not self.run_id:
            return
        paths = self.settings.paths

        def log_outputs() -> None:
            from mlflow.entities import Metric

            if paths.metrics.is_file():
                values = json.loads(paths.metrics.read_text(encoding="utf-8"))
                now = _millis()
                metrics = [
                    Metric(name, float(value), now, 0)
                    for name, value in sorted(values.items())
                    if isinstance(value, int | float) and not isinstance(value, bool)
                ]
                self.client.log_batch(self.run_id, metrics=metrics)
            verdict = getattr(failed, "summary", {}).get("verdict") if failed else None
            if verdict is None and paths.governance_report.is_file():
                verdict = json.loads(paths.governance_report.read_text(encoding="utf-8")).get("verdict")
            if verdict:
                self.client.set_tag(self.run_id, "governance.verdict", str(verdict))
            for path, folder in (
                (paths.model, "model"),
                (paths.governance_report, "governance"),
                (paths.governance_html, "governance"),
                (paths.model_card, "governance"),
                (paths.provenance, "governance"),
            ):
                if path.is_file():
                    self.client.log_artifact(self.run_id, str(path), folder)

        self.guard("log the run's outputs", log_outputs)
        status = "FAILED" if failed else "FINISHED"
        self.guard("end the run", lambda: self.client.set_terminated(self.run_id, status))


def _millis() -> int:
    import time

    return int(time.time() * 1000)


@contextmanager
def tracked_run(settings: Settings) -> Iterator[Tracker]:
    """Record the pipeline run in this block as one MLflow run (see the module docstring)."""
    global _active, last_run_id
    tracker = Tracker(settings)
    tracker.start()
    last_run_id = tracker.run_id
    previous, _active = _active, tracker
    try:
        yield tracker
    except BaseException as exc:
        _active = previous
        tracker.finish(exc)
        raise
    _active = previous
    tracker.finish(None)
