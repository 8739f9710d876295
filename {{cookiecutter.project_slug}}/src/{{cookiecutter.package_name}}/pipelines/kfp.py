"""Kubeflow Pipelines v2: one component per step, the pipeline that wires them, and its compilation.

Running it is elsewhere: kfp.local in pipelines/kfp_local.py, a cluster in
pipelines/kfp_client.py.

Every component calls `run_step`, the entry point of the CLI and the local
runner, with settings whose paths are the task's artifact paths: the steps are
never reimplemented here. Settings and policy travel as two pipeline
parameters (JSON text read from params.yaml and governance/policy.yaml when
the pipeline is compiled), so the IR YAML carries them and a run can override
them. `package` runs only when the governance gate passes.

A component's body runs detached from this module (KFP ships its source, not
its globals), so it imports the task helpers (pipelines/kfp_task.py) by the
package's full name.
"""

import json
import tempfile
from pathlib import Path

from kfp import dsl
from kfp.dsl import HTML, Artifact, Dataset, Input, Markdown, Metrics, Model, Output

from ..errors import ProjectError
from ..files import atomic_path
from ..governance.policy import Policy
from ..project import IMAGE, SLUG
from ..settings import Settings

PIPELINE_NAME = SLUG
# What each task's pod asks for and may use on a cluster (kfp.local ignores it){% if cookiecutter.orchestrators != "kfp" %}; the
# Tekton step Task asks for the same (tekton/tasks/ml-step.yaml, a test holds them equal){% endif %}.
RESOURCES = {"cpu_request": "250m", "memory_request": "512Mi", "cpu_limit": "2", "memory_limit": "4Gi"}
# A task whose pod fails (evicted, node lost) runs again; a failed gate is a result, not a failure.
RETRIES = 2
RUN_ID = dsl.PIPELINE_JOB_ID_PLACEHOLDER  # the parent run of every step, for lineage{% if cookiecutter.experiment_tracking == "mlflow" %} and tracking{% endif %}
# What every task reads as env on a cluster: per ConfigMap and Secret of this
# name in the run's namespace{% if cookiecutter.orchestrators != "kfp" %} (the ones the Tekton tasks read){% endif %}, the settings
# from the ConfigMap and the credentials from the Secret. All optional; the
# tasks' pods share no disk, so point lineage{% if cookiecutter.experiment_tracking == "mlflow" %} and tracking{% endif %} at a server there.
CLUSTER_ENV = {
    f"{SLUG}-lineage": (
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
    f"{SLUG}-tracking": (
        ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME"),
        ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"),
    ),
{%- endif %}
}


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def ingest(params: str, policy: str, run_id: str, raw_data: Output[Dataset]):
    """Write the raw data set: the embedded sample, or a copy of data.source."""
    import importlib

    task = importlib.import_module("{{ cookiecutter.package_name }}.pipelines.kfp_task")
    summary = task.run("ingest", params, policy, run_id, raw_data=raw_data.path)
    raw_data.metadata["rows"] = summary["rows"]


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def validate_data(
    params: str, policy: str, run_id: str, raw_data: Input[Dataset], validation_report: Output[Artifact]
):
    """Check the raw data against the policy's schema; stop on bad data."""
    import importlib

    task = importlib.import_module("{{ cookiecutter.package_name }}.pipelines.kfp_task")
    paths = {"raw_data": raw_data.path, "validation_report": validation_report.path}
    task.run("validate-data", params, policy, run_id, **paths)


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def train(
    params: str,
    policy: str,
    run_id: str,
    raw_data: Input[Dataset],
    model: Output[Model],
    footprint: Output[Artifact],
):
    """Fit the model on the training split and save it, with what the fit cost."""
    import importlib

    task = importlib.import_module("{{ cookiecutter.package_name }}.pipelines.kfp_task")
    paths = {"raw_data": raw_data.path, "model": model.path, "footprint": footprint.path}
    summary = task.run("train", params, policy, run_id, **paths)
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
    import importlib

    task = importlib.import_module("{{ cookiecutter.package_name }}.pipelines.kfp_task")
    paths = {
        "raw_data": raw_data.path,
        "model": model.path,
        "metrics": metrics.path,
        "predictions": predictions.path,
    }
    # The metrics JSON is the artifact's file (govern reads it); the values are
    # also logged so the KFP UI shows them.
    for name, value in sorted(task.run("evaluate", params, policy, run_id, **paths).items()):
        metrics.log_metric(name, value)


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def govern(
    params: str,
    policy: str,
    run_id: str,
    raw_data: Input[Dataset],
    validation_report: Input[Artifact],
    model: Input[Model],
    footprint: Input[Artifact],
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
    import importlib

    task = importlib.import_module("{{ cookiecutter.package_name }}.pipelines.kfp_task")
    paths = {
        "raw_data": raw_data.path,
        "validation_report": validation_report.path,
        "model": model.path,
        "footprint": footprint.path,
        "metrics": metrics.path,
        "predictions": predictions.path,
        "governance_report": governance_report.path,
        "governance_html": governance_html.path,
        "model_card": model_card.path,
        "provenance": provenance.path,
    }
    summary = task.run("govern", params, policy, run_id, **paths)  # a failed gate returns its verdict
    task.copy_beside(model_card.path, model_card_json.path)
    task.copy_documents(model_card.path, datasheet=datasheet.path, technical_file=technical_file.path)
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
    raw_data: Input[Dataset],
    predictions: Input[Dataset],
    release: Output[Artifact],
):
    """Copy the model, its evidence and its training reference into the release, if governance passed."""
    import importlib
    import tempfile

    task = importlib.import_module("{{ cookiecutter.package_name }}.pipelines.kfp_task")
    with tempfile.TemporaryDirectory() as folder:
        # Under their usual names, so the release folder looks like the local one.
        inputs = task.stage(
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
        task.run(
            "package",
            params,
            policy,
            run_id,
            release=release.path,
            raw_data=raw_data.path,
            predictions=predictions.path,
            **inputs,
        )


def _cluster_env(task: dsl.PipelineTask, retries: int = RETRIES) -> None:
    """Give a task its RESOURCES, `retries`, and the CLUSTER_ENV settings and credentials as env;
    kfp.local ignores all but the retries and passes its own environment on."""
    from kfp import kubernetes

    task.set_cpu_request(RESOURCES["cpu_request"]).set_memory_request(RESOURCES["memory_request"])
    task.set_cpu_limit(RESOURCES["cpu_limit"]).set_memory_limit(RESOURCES["memory_limit"])
    if retries:
        task.set_retry(num_retries=retries, backoff_duration="30s")

    for name, (settings, credentials) in CLUSTER_ENV.items():
        kubernetes.use_config_map_as_env(task, name, {key: key for key in settings}, optional=True)
        kubernetes.use_secret_as_env(task, name, {key: key for key in credentials}, optional=True)


def define_training_pipeline(retries: int = RETRIES):
    """The training pipeline, its tasks retried `retries` times after a failed pod.

    kfp.local honours retries (with their back-off) but a failure on this
    machine is no lost pod: pipelines/kfp_local.py asks for none. Pipelines are
    defined when asked for, not at import: kfp's resource setters call
    inspect.stack(), which costs about a second when the stack holds an import.
    """

    @dsl.pipeline(
        name=PIPELINE_NAME,
        description="ingest -> validate-data -> train -> evaluate -> govern -> package (if the gate passes)",
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
            footprint=train_task.outputs["footprint"],
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
                raw_data=ingest_task.outputs["raw_data"],
                predictions=evaluate_task.outputs["predictions"],
            )
        for task in (ingest_task, validate_data_task, train_task, evaluate_task, govern_task, package_task):
            _cluster_env(task, retries)

    return training_pipeline


def pipeline_arguments(settings: Settings, policy: Policy) -> dict[str, str]:
    """The pipeline parameters for these settings and this policy (paths are the tasks' own)."""
    return {
        "params": json.dumps(settings.model_dump(mode="json", exclude={"paths"}), sort_keys=True),
        "policy": json.dumps(policy.model_dump(mode="json"), sort_keys=True),
    }


def compile_pipeline(settings: Settings, policy: Policy, output: Path, pipeline=None) -> Path:
    """Write `pipeline`'s IR YAML (the training pipeline's by default) to `output`;
    the same inputs give the same bytes."""
    from kfp import compiler

    output = Path(output)
    if output.suffix not in (".yaml", ".yml"):
        raise ProjectError(f"{output}: a KFP pipeline package is a .yaml file")
    with tempfile.TemporaryDirectory() as folder:
        # kfp picks the format from the file name, so compile beside, then write atomically.
        compiled = Path(folder) / "pipeline.yaml"
        arguments = pipeline_arguments(settings, policy)
        compiler.Compiler().compile(
            pipeline or define_training_pipeline(), str(compiled), pipeline_parameters=arguments
        )
        text = compiled.read_text(encoding="utf-8")
    with atomic_path(output) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return output
