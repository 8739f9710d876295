"""The retrain loop on Kubeflow Pipelines: a monitoring pipeline, run on a schedule.

The monitoring pipeline imports the release in service and the inference log by
URI, runs `monitor` on them, and, when a gate in monitoring.retrain_on failed,
runs the training pipeline as a nested pipeline, whose governance gate
decides whether the new model is released. `schedule` makes it a KFP
recurring run (cron). Each run's report is an HTML artifact in the KFP UI; the
trend over runs lives in the history a local `monitor` keeps.
"""

import tempfile
from pathlib import Path

from kfp import dsl
from kfp.dsl import HTML, Artifact, Dataset, Input, Output

from ..errors import ProjectError
from ..governance.policy import Policy
from ..settings import Settings
from .kfp import IMAGE, PIPELINE_NAME, RUN_ID, _cluster_env, compile_pipeline, define_training_pipeline

MONITORING_PIPELINE = f"{PIPELINE_NAME}-monitor"


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def monitor(
    params: str,
    policy: str,
    run_id: str,
    since: str,
    release: Input[Artifact],
    inference_log: Input[Dataset],
    report: Output[HTML],
    monitoring: Output[Artifact],
) -> str:
    """Judge the monitoring gates on the inference log; return "true" when a retrain gate failed."""
    import importlib
    import shutil
    from pathlib import Path

    package = "{{ cookiecutter.package_name }}"
    task = importlib.import_module(f"{package}.pipelines.kfp_task")
    runner = importlib.import_module(f"{package}.monitoring.runner")
    parse_since = importlib.import_module(f"{package}.monitoring.inference_log").parse_since
    settings, policy_, context = task.task_inputs(params, policy, run_id)
    with tempfile.TemporaryDirectory() as folder:
        commands = importlib.import_module(f"{package}.monitoring.commands")
        settings = commands.with_monitoring_paths(settings, Path(inference_log.path), Path(folder))
        moment = parse_since(since) if since else None
        result, summary = runner.monitor(settings, policy_, None, moment, Path(release.path), context)
        shutil.copyfile(Path(folder) / "monitoring.html", report.path)
        shutil.copyfile(Path(folder) / "monitoring.json", monitoring.path)
    monitoring.metadata["verdict"] = result.verdict
    return "true" if summary["retrain"] else "false"


def define_monitoring_pipeline():
    """The monitoring pipeline, the training pipeline nested in it (defined on call, as that one is)."""
    training_pipeline = define_training_pipeline()

    @dsl.pipeline(
        name=MONITORING_PIPELINE,
        description="monitor the model in service; train again when a retrain gate fails",
    )
    def monitoring_pipeline(
        params: str, policy: str, release_uri: str, inference_log_uri: str, since: str = ""
    ):
        """Wire: import the release and the log, monitor, and train again only on a failed retrain gate."""
        release_task = dsl.importer(artifact_uri=release_uri, artifact_class=Artifact, reimport=True)
        log_task = dsl.importer(artifact_uri=inference_log_uri, artifact_class=Dataset, reimport=True)
        monitor_task = monitor(
            params=params,
            policy=policy,
            run_id=RUN_ID,
            since=since,
            release=release_task.output,
            inference_log=log_task.output,
        )
        _cluster_env(monitor_task)
        with dsl.If(monitor_task.outputs["Output"] == "true", name="retrain-gate-failed"):
            training_pipeline(params=params, policy=policy)

    return monitoring_pipeline


def compile_monitoring(settings: Settings, policy: Policy, output: Path) -> Path:
    """Write the monitoring pipeline's IR YAML to `output`."""
    return compile_pipeline(settings, policy, output, define_monitoring_pipeline())


def schedule(
    package: Path,
    host: str,
    cron: str,
    experiment: str,
    release_uri: str,
    inference_log_uri: str,
    client=None,
) -> str:
    """Create a KFP recurring run of the compiled monitoring pipeline; return its id."""
    import kfp

    if len(cron.split()) not in (5, 6):
        raise ProjectError(f"--cron {cron!r} is not a cron expression such as '0 6 * * *'")
    for name, uri in (("--release-uri", release_uri), ("--log-uri", inference_log_uri)):
        if "://" not in uri:
            raise ProjectError(
                f"{name} {uri!r} is not a URI the cluster can read (s3://, gs://, minio://...)"
            )
    client = client or kfp.Client(host=host)
    # KFP's scheduler takes six fields (seconds first); a five-field cron gets "0" seconds.
    cron = cron if len(cron.split()) == 6 else f"0 {cron}"
    job = client.create_recurring_run(
        experiment_id=client.create_experiment(experiment).experiment_id,
        job_name=MONITORING_PIPELINE,
        cron_expression=cron,
        pipeline_package_path=str(package),
        params={"release_uri": release_uri, "inference_log_uri": inference_log_uri},
        max_concurrency=1,
    )
    return job.recurring_run_id
