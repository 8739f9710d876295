"""The Kubeflow Pipelines commands: `run --engine kfp-local`, `compile`, `submit` and
`schedule-monitor`.

cli.py adds them when this module is present (projects that chose KFP).
"""

from pathlib import Path

import click

from ..errors import ProjectError
from ..files import read_json
from ..project import SLUG


def register(cli: click.Group, engines: dict) -> None:
    """Add the KFP engine to `run`, and the compile and submit commands."""
    engines["kfp-local"] = run_kfp_local
    cli.add_command(compile_)
    cli.add_command(submit)
    cli.add_command(schedule_monitor)


def run_kfp_local(app) -> None:
    """The KFP pipeline through kfp.local: one subprocess per step, offline, outputs under artifacts/kfp."""
    from .kfp_local import LOCAL_ROOT, run_local

    click.echo(f"kfp-local: one subprocess per step, log in {LOCAL_ROOT / 'kfp-local.log'} ...")
    result = run_local(app.settings(), app.policy())
    metrics = read_json(result.output("evaluate", "metrics"))
    report = read_json(result.output("govern", "governance_report"))
    click.echo(f"outputs:     {result.folder} (one folder per step)")
    click.echo(f"model:       {result.output('train', 'model')}")
    click.echo(
        f"metrics:     {result.output('evaluate', 'metrics')} "
        f"(roc_auc={metrics['roc_auc']}, accuracy={metrics['accuracy']})"
    )
    click.echo(f"governance:  {result.output('govern', 'governance_html')} (verdict={report['verdict']})")
    if not result.ran("package"):
        click.echo("release:     none (the governance gate failed, so package did not run)")
        raise ProjectError("\n".join(report.get("failed") or ["governance verdict is not 'pass'"]))
    click.echo(f"release:     {result.output('package', 'release')}")


@click.command(name="compile")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default="artifacts/kfp/pipeline.yaml",
    show_default=True,
    help="Write the pipeline's IR YAML here.",
)
@click.pass_obj
def compile_(app, output: Path) -> None:
    """Compile the Kubeflow pipeline to IR YAML (same settings, same bytes)."""
    from .kfp import compile_pipeline

    click.echo(f"compile: wrote {compile_pipeline(app.settings(), app.policy(), output)}")


@click.command()
@click.option("--host", required=True, help="Kubeflow Pipelines API, e.g. http://ml-pipeline.kubeflow:8888")
@click.option(
    "--package",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A compiled pipeline (from compile); default: compile params.yaml now.",
)
@click.option("--experiment", default=SLUG, show_default=True)
@click.option("--run-name", help="Name of the run in the KFP UI (default: file name and time).")
@click.pass_obj
def submit(app, host: str, package: Path | None, experiment: str, run_name: str | None) -> None:
    """Submit the compiled pipeline to a Kubeflow Pipelines cluster; print the run id."""
    import tempfile

    from .kfp import compile_pipeline
    from .kfp_client import submit as submit_package

    with tempfile.TemporaryDirectory() as folder:
        if package is None:
            package = compile_pipeline(app.settings(), app.policy(), Path(folder) / f"{SLUG}.yaml")
        run_id = submit_package(package, host, experiment, run_name)
    click.echo(f"submit: run {run_id} in experiment {experiment} at {host}")


@click.command(name="schedule-monitor")
@click.option("--host", required=True, help="Kubeflow Pipelines API, e.g. http://ml-pipeline.kubeflow:8888")
@click.option("--cron", default="0 6 * * *", show_default=True, help="When to monitor (cron, UTC).")
@click.option("--release-uri", required=True, help="The release in service, as the cluster reads it.")
@click.option("--log-uri", required=True, help="The inference log, as the cluster reads it.")
@click.option("--experiment", default=SLUG, show_default=True)
@click.pass_obj
def schedule_monitor(app, host: str, cron: str, release_uri: str, log_uri: str, experiment: str) -> None:
    """Create a KFP recurring run: monitor on a schedule, and train again when a retrain gate fails."""
    import tempfile

    from . import kfp_monitoring

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "monitor.yaml"
        package = kfp_monitoring.compile_monitoring(app.settings(), app.policy(), target)
        job = kfp_monitoring.schedule(package, host, cron, experiment, release_uri, log_uri)
    click.echo(f"schedule-monitor: recurring run {job} ({cron}) in experiment {experiment} at {host}")
