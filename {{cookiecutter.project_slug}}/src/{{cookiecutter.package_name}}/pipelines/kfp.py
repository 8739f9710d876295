"""Kubeflow Pipelines v2: one component per step, the pipeline that wires them, and how to
compile, run (kfp.local) and submit it.

Every component calls `run_step`, the entry point of the CLI and the local
runner, with settings whose paths are the task's artifact paths: the steps are
never reimplemented here. Settings and policy travel as two pipeline
parameters (JSON text read from params.yaml and governance/policy.yaml when
the pipeline is compiled), so the IR YAML carries them and a run can override
them. `package` runs only when the governance gate passes.
"""

import json
import logging
import os
import re
import socket
import tempfile
import time
import warnings
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from kfp import dsl
from kfp.dsl import HTML, Artifact, Dataset, Input, Markdown, Metrics, Model, Output

from ..errors import ProjectError
from ..files import atomic_path
from ..governance.policy import Policy
from ..settings import Settings

IMAGE = "{{ cookiecutter.image }}"
PIPELINE_NAME = "{{ cookiecutter.project_slug }}"
LOCAL_ROOT = Path("artifacts/kfp")  # kfp.local's pipeline_root: one folder per run
RUN_ID = dsl.PIPELINE_JOB_ID_PLACEHOLDER  # the parent run of every step, for lineage{% if cookiecutter.experiment_tracking == "mlflow" %} and tracking{% endif %}
# What every task reads as env on a cluster: per ConfigMap and Secret of this
# name in the run's namespace{% if cookiecutter.orchestrators != "kfp" %} (the ones the Tekton tasks read){% endif %}, the settings
# from the ConfigMap and the credentials from the Secret. All optional; the
# tasks' pods share no disk, so point lineage{% if cookiecutter.experiment_tracking == "mlflow" %} and tracking{% endif %} at a server there.
CLUSTER_ENV = {
    "{{ cookiecutter.project_slug }}-lineage": (
        (
            "OPENLINEAGE_NAMESPACE",
            "OPENLINEAGE__TRANSPORT__TYPE",
            "OPENLINEAGE__TRANSPORT__URL",
            "OPENLINEAGE__TRANSPORT__ENDPOINT",
            "OPENLINEAGE__TRANSPORT__LOG_FILE_PATH",
            "OPENLINEAGE__TRANSPORT__APPEND",
        ),
        ("OPENLINEAGE__TRANSPORT__AUTH__TYPE", "OPENLINEAGE__TRANSPORT__AUTH__API_KEY"),
    ),
{%- if cookiecutter.experiment_tracking == "mlflow" %}
    "{{ cookiecutter.project_slug }}-tracking": (
        ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME"),
        ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"),
    ),
{%- endif %}
}


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def ingest(params: str, policy: str, run_id: str, raw_data: Output[Dataset]):
    """Write the raw data set: the embedded sample, or a copy of data.source."""
    from {{ cookiecutter.package_name }}.pipelines.kfp_task import task_inputs
    from {{ cookiecutter.package_name }}.steps import run_step

    settings, policy_ = task_inputs(params, policy, run_id, raw_data=raw_data.path)
    summary = run_step("ingest", settings, policy_)
    raw_data.metadata["rows"] = summary["rows"]


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def validate_data(
    params: str, policy: str, run_id: str, raw_data: Input[Dataset], validation_report: Output[Artifact]
):
    """Check the raw data against the policy's schema; stop on bad data."""
    from {{ cookiecutter.package_name }}.pipelines.kfp_task import task_inputs
    from {{ cookiecutter.package_name }}.steps import run_step

    settings, policy_ = task_inputs(
        params, policy, run_id, raw_data=raw_data.path, validation_report=validation_report.path
    )
    run_step("validate-data", settings, policy_)


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def train(params: str, policy: str, run_id: str, raw_data: Input[Dataset], model: Output[Model]):
    """Fit the model on the training split and save it."""
    from {{ cookiecutter.package_name }}.pipelines.kfp_task import task_inputs
    from {{ cookiecutter.package_name }}.steps import run_step

    settings, policy_ = task_inputs(params, policy, run_id, raw_data=raw_data.path, model=model.path)
    summary = run_step("train", settings, policy_)
    model.metadata["algorithm"] = summary["algorithm"]


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def evaluate(
    params: str,
    policy: str,
    run_id: str,
    raw_data: Input[Dataset],
    model: Input[Model],
    metrics: Output[Metrics],
    predictions: Output[Dataset],
):
    """Score the model on the test split; write metrics and predictions."""
    from {{ cookiecutter.package_name }}.pipelines.kfp_task import task_inputs
    from {{ cookiecutter.package_name }}.steps import run_step

    settings, policy_ = task_inputs(
        params,
        policy,
        run_id,
        raw_data=raw_data.path,
        model=model.path,
        metrics=metrics.path,
        predictions=predictions.path,
    )
    # The metrics JSON is the artifact's file (govern reads it); the values are
    # also logged so the KFP UI shows them.
    for name, value in sorted(run_step("evaluate", settings, policy_).items()):
        metrics.log_metric(name, value)


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def govern(
    params: str,
    policy: str,
    run_id: str,
    raw_data: Input[Dataset],
    validation_report: Input[Artifact],
    model: Input[Model],
    metrics: Input[Metrics],
    predictions: Input[Dataset],
    governance_report: Output[Artifact],
    governance_html: Output[HTML],
    model_card: Output[Markdown],
    model_card_json: Output[Artifact],
    provenance: Output[Artifact],
    datasheet: Output[Markdown],
    technical_file: Output[HTML],
) -> str:
    """Check the policy's gates and write the evidence; return the verdict, "pass" or "fail"."""
    from {{ cookiecutter.package_name }}.errors import GateFailed
    from {{ cookiecutter.package_name }}.pipelines.kfp_task import copy_beside, copy_documents, task_inputs
    from {{ cookiecutter.package_name }}.steps import run_step

    settings, policy_ = task_inputs(
        params,
        policy,
        run_id,
        raw_data=raw_data.path,
        validation_report=validation_report.path,
        model=model.path,
        metrics=metrics.path,
        predictions=predictions.path,
        governance_report=governance_report.path,
        governance_html=governance_html.path,
        model_card=model_card.path,
        provenance=provenance.path,
    )
    try:
        summary = run_step("govern", settings, policy_)
    except GateFailed as failed:
        # The reports are written; the verdict routes the pipeline (package is
        # skipped) instead of failing the run, so the evidence stays visible.
        summary = failed.summary
        print(f"governance gate failed:\n{failed}")
    copy_beside(model_card.path, model_card_json.path)
    copy_documents(model_card.path, datasheet=datasheet.path, technical_file=technical_file.path)
    return summary["verdict"]


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def package(
    params: str,
    policy: str,
    run_id: str,
    model: Input[Model],
    model_card: Input[Markdown],
    model_card_json: Input[Artifact],
    provenance: Input[Artifact],
    governance_report: Input[Artifact],
    governance_html: Input[HTML],
    datasheet: Input[Markdown],
    technical_file: Input[HTML],
    release: Output[Artifact],
):
    """Copy the model and its evidence into the release folder, if governance passed."""
    import tempfile

    from {{ cookiecutter.package_name }}.pipelines.kfp_task import stage, task_inputs
    from {{ cookiecutter.package_name }}.steps import run_step

    with tempfile.TemporaryDirectory() as folder:
        # Under their usual names, so the release folder looks like the local one.
        inputs = stage(
            folder,
            model=model.path,
            model_card=model_card.path,
            model_card_json=model_card_json.path,
            provenance=provenance.path,
            governance_report=governance_report.path,
            governance_html=governance_html.path,
            datasheet=datasheet.path,
            technical_file=technical_file.path,
        )
        settings, policy_ = task_inputs(params, policy, run_id, release=release.path, **inputs)
        run_step("package", settings, policy_)


def _cluster_env(task: dsl.PipelineTask) -> None:
    """Give a task the CLUSTER_ENV settings and credentials as env; kfp.local ignores this and
    passes its own environment on."""
    from kfp import kubernetes

    for name, (settings, credentials) in CLUSTER_ENV.items():
        kubernetes.use_config_map_as_env(task, name, {key: key for key in settings}, optional=True)
        kubernetes.use_secret_as_env(task, name, {key: key for key in credentials}, optional=True)


@dsl.pipeline(
    name=PIPELINE_NAME,
    description="ingest -> validate-data -> train -> evaluate -> govern -> package (only if the gate passes)",
)
def training_pipeline(params: str, policy: str):
    """Wire the step components; every arrow is an artifact."""
    ingest_task = ingest(params=params, policy=policy, run_id=RUN_ID)
    validate_data_task = validate_data(
        params=params, policy=policy, run_id=RUN_ID, raw_data=ingest_task.outputs["raw_data"]
    )
    train_task = train(
        params=params, policy=policy, run_id=RUN_ID, raw_data=ingest_task.outputs["raw_data"]
    ).after(validate_data_task)
    evaluate_task = evaluate(
        params=params,
        policy=policy,
        run_id=RUN_ID,
        raw_data=ingest_task.outputs["raw_data"],
        model=train_task.outputs["model"],
    )
    govern_task = govern(
        params=params,
        policy=policy,
        run_id=RUN_ID,
        raw_data=ingest_task.outputs["raw_data"],
        validation_report=validate_data_task.outputs["validation_report"],
        model=train_task.outputs["model"],
        metrics=evaluate_task.outputs["metrics"],
        predictions=evaluate_task.outputs["predictions"],
    )
    with dsl.If(govern_task.outputs["Output"] == "pass", name="governance-passed"):
        package_task = package(
            params=params,
            policy=policy,
            run_id=RUN_ID,
            model=train_task.outputs["model"],
            model_card=govern_task.outputs["model_card"],
            model_card_json=govern_task.outputs["model_card_json"],
            provenance=govern_task.outputs["provenance"],
            governance_report=govern_task.outputs["governance_report"],
            governance_html=govern_task.outputs["governance_html"],
            datasheet=govern_task.outputs["datasheet"],
            technical_file=govern_task.outputs["technical_file"],
        )
    for task in (ingest_task, validate_data_task, train_task, evaluate_task, govern_task, package_task):
        _cluster_env(task)


def pipeline_arguments(settings: Settings, policy: Policy) -> dict[str, str]:
    """The pipeline parameters for these settings and this policy (paths are the tasks' own)."""
    return {
        "params": json.dumps(settings.model_dump(mode="json", exclude={"paths"}), sort_keys=True),
        "policy": json.dumps(policy.model_dump(mode="json"), sort_keys=True),
    }


def compile_pipeline(settings: Settings, policy: Policy, output: Path) -> Path:
    """Write the pipeline's IR YAML to `output`; the same inputs give the same bytes."""
    from kfp import compiler

    output = Path(output)
    if output.suffix not in (".yaml", ".yml"):
        raise ProjectError(f"{output}: a KFP pipeline package is a .yaml file")
    with tempfile.TemporaryDirectory() as folder:
        # kfp picks the format from the file name, so compile beside, then write atomically.
        compiled = Path(folder) / "pipeline.yaml"
        compiler.Compiler().compile(
            training_pipeline, str(compiled), pipeline_parameters=pipeline_arguments(settings, policy)
        )
        text = compiled.read_text(encoding="utf-8")
    with atomic_path(output) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return output


@dataclass(frozen=True)
class LocalRun:
    """Where a kfp.local run put things: one folder per task, its outputs, the log."""

    folder: Path
    log: Path

    def output(self, task: str, name: str) -> Path:
        """The file (or folder) of output `name` of `task`."""
        return self.folder / task / name

    def ran(self, task: str) -> bool:
        """Whether `task` ran (a task under a false dsl.If never does)."""
        return (self.folder / task / "executor_output.json").is_file()


def run_local(settings: Settings, policy: Policy, root: Path = LOCAL_ROOT) -> LocalRun:
    """Run the pipeline with kfp.local, one subprocess per task, offline, under `root`.

    Tasks run with this interpreter (`use_venv=False`: no virtualenv, no
    installs), so this package must be importable there: its folder goes on
    PYTHONPATH. kfp.local's own chatter goes to `root`/kfp-local.log.
    """
    from kfp import local

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    log = root / "kfp-local.log"
    before = {path for path in root.iterdir() if path.is_dir()}
    source = str(Path(__file__).resolve().parents[2])
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [source, saved]))
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root.resolve()))
    failure = None
    try:
        with log.open("w", encoding="utf-8") as stream, _logging_to(stream), warnings.catch_warnings():
            # The image name is not a Python image; harmless here, tasks use this interpreter.
            warnings.filterwarnings("ignore", message="You may be attemping", category=RuntimeWarning)
            try:
                training_pipeline(**pipeline_arguments(settings, policy))
            except RuntimeError as exc:
                failure = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    runs = sorted({path for path in root.iterdir() if path.is_dir()} - before)
    if failure is not None:
        raise ProjectError(_failure_line(failure, log))
    if not runs:
        raise ProjectError(f"kfp.local wrote no run folder under {root}; see {log}")
    return LocalRun(folder=runs[-1], log=log)


@contextmanager
def _logging_to(stream):
    """Send kfp.local's output (stdout, and log records) to `stream` for a while."""
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with redirect_stdout(stream):
            yield
    finally:
        root.removeHandler(handler)


def _failure_line(failure: str, log: Path) -> str:
    """One line for a failed kfp.local run: the task, and the step's own error if it had one."""
    task = re.search(r"Inner task failed: '([^']+)'", failure)
    errors = re.findall(r"errors\.\w+: (.+)", log.read_text(encoding="utf-8", errors="replace"))
    where = f"task {task.group(1)} failed" if task else "the pipeline failed"
    reason = f": {errors[-1].strip()}" if errors else ""
    return f"kfp-local: {where}{reason} (log: {log})"


def submit(package: Path, host: str, experiment: str, run_name: str | None = None) -> str:
    """Submit a compiled pipeline to the Kubeflow Pipelines API at `host`; return the run id."""
    import kfp
    import kfp_server_api
    import urllib3
    from kfp import client as kfp_client

    package = Path(package)
    if not package.is_file():
        raise ProjectError(f"{package} not found: run compile first, or leave out --package")
    _check_reachable(host)

    class Client(kfp.Client):
        def get_kfp_healthz(self, sleep_duration: int = 5):
            # One try: kfp's default retries five times, five seconds apart,
            # logging a traceback each time.
            return self._healthz_api.healthz_service_get_healthz()

    # In a pod with a projected KFP service-account token (multi-user KFP), use it.
    token = os.environ.get(kfp_client.KF_PIPELINES_SA_TOKEN_ENV) or kfp_client.KF_PIPELINES_SA_TOKEN_PATH
    credentials = kfp_client.ServiceAccountTokenVolumeCredentials(token) if Path(token).is_file() else None
    try:
        with _quiet():
            client = Client(host=host, credentials=credentials)
            result = client.create_run_from_pipeline_package(
                str(package),
                experiment_name=experiment,
                run_name=run_name or f"{PIPELINE_NAME} {time.strftime('%Y-%m-%d %H:%M:%S')}",
            )
    except kfp_server_api.ApiException as exc:
        raise ProjectError(
            f"{host} answered HTTP {exc.status} {exc.reason}: is it the Kubeflow Pipelines API?"
        ) from None
    except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ProjectError(f"cannot submit to {host}: {reason}") from None
    return result.run_id


def _check_reachable(host: str, timeout: float = 10.0) -> None:
    """Fail fast, in one line, when nothing listens at `host` (kfp would wait without limit)."""
    url = urlsplit(host)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ProjectError(f"--host {host!r} is not a URL such as http://ml-pipeline.kubeflow:8888")
    try:
        port = url.port or (443 if url.scheme == "https" else 80)
        with socket.create_connection((url.hostname, port), timeout=timeout):
            pass
    except ValueError as exc:
        raise ProjectError(f"--host {host!r}: {exc}") from None
    except TimeoutError:
        raise ProjectError(f"cannot reach Kubeflow Pipelines at {host}: no answer in {timeout:g} s") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ProjectError(f"cannot reach Kubeflow Pipelines at {host}: {reason}") from None


@contextmanager
def _quiet():
    """Silence kfp's client warnings and urllib3's retry log: errors become one line."""
    logger = logging.getLogger("urllib3")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
