"""Command line: one command per ML step, plus the local pipeline and its lineage.

Mistakes a user can fix (bad data, bad settings, a missing file) print one line
and exit 2; a traceback means a bug.
"""

from dataclasses import dataclass
from pathlib import Path

import click

from .errors import GateFailed, ProjectError
from .governance.policy import DEFAULT_POLICY, Policy, load_policy
from .settings import DEFAULT_PARAMS, PARAMS_ENV, Settings, load_settings
from .steps import STEPS, run_step


class UsageError(click.ClickException):
    exit_code = 2

    def show(self, file=None) -> None:
        # One "Error:" line per problem (a failed governance gate is one line each).
        for line in self.format_message().splitlines() or [""]:
            click.echo(f"Error: {line}", err=True)


class Group(click.Group):
    """A click group that turns ProjectError into one line and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ProjectError as exc:
            raise UsageError(str(exc)) from None


@dataclass
class App:
    params: Path
    policy_file: Path

    def settings(self, **paths: Path | None) -> Settings:
        """Settings from params.yaml, with any paths given on the command line."""
        settings = load_settings(self.params)
        chosen = {field: path for field, path in paths.items() if path is not None}
        return settings.model_copy(update={"paths": settings.paths.model_copy(update=chosen)})

    def monitoring_settings(self, log: Path | None = None, folder: Path | None = None) -> Settings:
        """Settings with the inference log and the monitoring folder given on the command line."""
        settings = self.settings()
        chosen = {k: v for k, v in {"inference_log": log, "folder": folder}.items() if v is not None}
        return settings.model_copy(update={"monitoring": settings.monitoring.model_copy(update=chosen)})

    def policy(self) -> Policy:
        return load_policy(self.policy_file)


@click.group(cls=Group)
@click.version_option(package_name="{{ cookiecutter.project_slug }}")
@click.option(
    "--params",
    type=click.Path(path_type=Path),
    envvar=PARAMS_ENV,
    default=DEFAULT_PARAMS,
    show_default=True,
    help="Settings file.",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(path_type=Path),
    default=DEFAULT_POLICY,
    show_default=True,
    help="Governance policy file.",
)
@click.pass_context
def cli(ctx: click.Context, params: Path, policy_file: Path) -> None:
    """{{ cookiecutter.project_name | escaped }}: run the ML steps, alone or as a pipeline."""
    ctx.obj = App(params, policy_file)


def _step_command(step) -> click.Command:
    @click.pass_obj
    def command(app: App, **paths: Path | None) -> None:
        settings = app.settings(**paths)
        run_step(step.name, settings, app.policy())
        for field in step.outputs:
            click.echo(f"{step.name}: wrote {getattr(settings.paths, field)}")

    options = [
        click.Option(
            [f"--{field.replace('_', '-')}"],
            type=click.Path(path_type=Path),
            help=f"{'Read' if field in step.inputs else 'Write'} {field.replace('_', ' ')} here "
            "(default from params.yaml).",
        )
        for field in dict.fromkeys(step.inputs + step.outputs)
    ]
    doc = (step.call.__doc__ or "").strip() or f"Run the {step.name} step."
    return click.Command(step.name, callback=command, params=options, help=doc, short_help=doc)


@cli.command()
{%- if cookiecutter.orchestrators != "tekton" %}
@click.option(
    "--engine",
    type=click.Choice(["local", "kfp-local"]),
    default="local",
    show_default=True,
    help="local: every step in this process; kfp-local: the Kubeflow pipeline through kfp.local.",
)
{%- endif %}
@click.pass_obj
def run(app: App{% if cookiecutter.orchestrators != "tekton" %}, engine: str{% endif %}) -> None:
    """Run every step locally, in order, on the settings in params.yaml."""
{%- if cookiecutter.orchestrators != "tekton" %}
    if engine == "kfp-local":
        return _run_kfp_local(app)
{%- endif %}
    from .pipelines.local import run_pipeline

    def progress(index: int, total: int, name: str, seconds: float | None) -> None:
        if seconds is None:
            click.echo(f"[{index}/{total}] {name} ...", nl=False)
        else:
            click.echo(f" done in {seconds:.1f}s")

    settings = app.settings()
    paths = settings.paths
    try:
        results = run_pipeline(settings, app.policy(), progress)
    except GateFailed:
        click.echo(" failed")
        click.echo(f"governance:  {paths.governance_html} (verdict=fail; nothing released)")
        raise
    except ProjectError:
        click.echo(" failed")
        raise
    metrics = results["evaluate"]
    click.echo(f"model:       {paths.model}")
    click.echo(f"metrics:     {paths.metrics} (roc_auc={metrics['roc_auc']}, accuracy={metrics['accuracy']})")
    click.echo(f"predictions: {paths.predictions}")
    click.echo(f"data report: {paths.validation_report}")
    click.echo(f"governance:  {paths.governance_html} (verdict={results['govern']['verdict']})")
    click.echo(f"model card:  {paths.model_card}")
    click.echo(f"provenance:  {paths.provenance}")
    click.echo(f"release:     {paths.release}")
    click.echo(f"lineage:     {_lineage_destination()}")
{%- if cookiecutter.experiment_tracking == "mlflow" %}
    from . import tracking

    if tracking.last_run_id:
        click.echo(f"tracking:    MLflow run {tracking.last_run_id} in {tracking.destination()}")
{%- endif %}


def _lineage_destination() -> str:
    from .lineage import transport_config

    transport = transport_config()
    return transport.get("log_file_path") or transport.get("url") or transport.get("type", "console")


@cli.group()
def lineage() -> None:
    """Read back the lineage of the last pipeline run (file transport)."""


def _events_option(command):
    return click.option(
        "--events",
        type=click.Path(path_type=Path),
        default=None,
        help="Events file (default: the file transport's log_file_path in openlineage.yml).",
    )(command)


def _last_pipeline(events: Path | None):
    from .lineage import transport_config
    from .lineage_graph import last_pipeline, load_events

    if events is None:
        transport = transport_config()
        if transport.get("type") != "file":
            kind = transport.get("type")
            raise ProjectError(f"lineage goes to the {kind} transport, not a file: pass --events")
        events = Path(transport["log_file_path"])
    steps = last_pipeline(load_events(events))
    if not steps:
        raise ProjectError(f"{events} holds no runs yet")
    return steps


@lineage.command()
@_events_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "mermaid", "dot"]), default="text", show_default=True
)
def show(events: Path | None, fmt: str) -> None:
    """Print the jobs and datasets of the last pipeline run (text, Mermaid or dot)."""
    from .lineage_graph import render

    click.echo(render(_last_pipeline(events), fmt, Path.cwd()))


@lineage.command()
@_events_option
def check(events: Path | None) -> None:
    """Fail when a run of the last pipeline failed or never ended, or an output has no producer."""
    from .lineage_graph import problems

    steps = _last_pipeline(events)
    found = problems(steps)
    for problem in found:
        click.echo(problem)
    if found:
        raise SystemExit(1)
    click.echo(f"lineage: {len(steps)} runs, all complete, every output produced")


@cli.command()
@click.option(
    "--batch",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Judge this CSV of model inputs (and labels, if known) instead of the inference log.",
)
@click.option("--since", help="Only logged rows at or after this ISO-8601 time (UTC unless it says).")
@click.option(
    "--release",
    type=click.Path(file_okay=False, path_type=Path),
    help="Compare with this release's reference (default: the champion).",
)
@click.option(
    "--log", type=click.Path(path_type=Path), help="Inference log (default: monitoring.inference_log)."
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the reports and history here (default: monitoring.folder).",
)
@click.option("--retrain", is_flag=True, help="When a gate in monitoring.retrain_on fails, run the pipeline.")
@click.pass_obj
def monitor(
    app: App,
    batch: Path | None,
    since: str | None,
    release: Path | None,
    log: Path | None,
    output: Path | None,
    retrain: bool,
) -> None:
    """Compare live data with the champion's training reference: drift, live performance, fairness."""
    from .monitoring.inference_log import parse_since
    from .monitoring.report import REPORT_HTML, REPORT_JSON
    from .monitoring.runner import monitor as run_monitor

    if batch is not None and since is not None:
        raise ProjectError("--since filters the inference log; a --batch file is judged whole")
    settings, policy = app.monitoring_settings(log, output), app.policy()
    result, report = run_monitor(settings, policy, batch, parse_since(since) if since else None, release)
    folder = settings.monitoring.folder
    source = report["source"]["path"]
    click.echo(f"monitor: {result.rows} rows ({result.labelled_rows} labelled) from {source}")
    for note in result.notes:
        click.echo(f"note: {note}")
    click.echo(f"report:  {folder / REPORT_HTML} and {REPORT_JSON}")
    click.echo(f"verdict: {result.verdict}")
    if result.verdict != "fail":
        return
    for line in result.failed():
        click.echo(line, err=True)
    if not retrain:
        raise SystemExit(1)
    if not report["retrain"]:
        click.echo("retrain: no failed gate is in monitoring.retrain_on; nothing started")
        raise SystemExit(1)
    from .pipelines.local import run_pipeline

    click.echo(f"retrain: {', '.join(report['retrain'])} failed; running the pipeline on data.source")
    results = run_pipeline(settings, policy, lambda *args: None)
    verdict = results["govern"]["verdict"]
    click.echo(f"retrain: governance verdict {verdict}; released {settings.paths.release}")


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--log", type=click.Path(path_type=Path), help="Inference log (default: monitoring.inference_log)."
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the labelled rows here (default: monitoring.folder).",
)
@click.pass_obj
def feedback(app: App, path: Path, log: Path | None, output: Path | None) -> None:
    """Join ground truth (by id or request_id) to the inference log, for live performance and fairness."""
    from .monitoring import reference
    from .monitoring.runner import champion_release, record_feedback

    settings = app.monitoring_settings(log, output)
    ref = reference.load(champion_release(settings))
    result = record_feedback(settings, ref, path)
    click.echo(f"feedback: {result.matched} of {result.received} label(s) matched logged rows")
    if result.unknown_count:
        shown = ", ".join(result.unknown) + (" ..." if result.unknown_count > len(result.unknown) else "")
        click.echo(f"feedback: {result.unknown_count} id(s) are not in the inference log: {shown}")
    click.echo(f"feedback: {result.labelled_rows} labelled rows in {result.output}")


@cli.command()
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--rows", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--drift",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="How far the world has moved: lower incomes, a new employment category, more defaults.",
)
def sample(output: Path, rows: int, seed: int, drift: float) -> None:
    """Write a CSV of the embedded synthetic sample (labels and sensitive attribute included)."""
    from . import sample_data
    from .files import atomic_path

    with atomic_path(output) as tmp:
        sample_data.generate(rows=rows, seed=seed, drift=drift).to_csv(tmp, index=False)
    click.echo(f"sample: wrote {rows} rows (seed {seed}, drift {drift:g}) to {output}")


@cli.command()
@click.argument("csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--day", help="Spread the rows over this day (YYYY-MM-DD, UTC); default: now.")
@click.option(
    "--truth",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write each row's id, label and sensitive attributes here (what `feedback` reads).",
)
@click.pass_obj
def replay(app: App, csv: Path, day: str | None, truth: Path | None) -> None:
    """Append a CSV of requests to the inference log, scored by the champion, as `serve` logs them."""
    from .monitoring import reference
    from .monitoring.replay import replay as replay_
    from .monitoring.runner import champion_release, release_version

    settings = app.settings()
    release = champion_release(settings)
    ref = reference.load(release)
    log = settings.monitoring.inference_log
    result = replay_(
        csv, release, ref, log, release_version(release), day, truth, settings.data.sensitive_features
    )
    click.echo(f"replay: {result['rows']} rows appended to {log}" + (f"; truth in {truth}" if truth else ""))

{%- if cookiecutter.orchestrators != "tekton" %}


def _run_kfp_local(app: App) -> None:
    """The KFP pipeline through kfp.local: one subprocess per step, offline, outputs under artifacts/kfp."""
    from .files import read_json
    from .pipelines.kfp import LOCAL_ROOT, run_local

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


@cli.command(name="compile")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default="artifacts/kfp/pipeline.yaml",
    show_default=True,
    help="Write the pipeline's IR YAML here.",
)
@click.pass_obj
def compile_(app: App, output: Path) -> None:
    """Compile the Kubeflow pipeline to IR YAML (same settings, same bytes)."""
    from .pipelines.kfp import compile_pipeline

    click.echo(f"compile: wrote {compile_pipeline(app.settings(), app.policy(), output)}")


@cli.command()
@click.option("--host", required=True, help="Kubeflow Pipelines API, e.g. http://ml-pipeline.kubeflow:8888")
@click.option(
    "--package",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A compiled pipeline (from compile); default: compile params.yaml now.",
)
@click.option("--experiment", default="{{ cookiecutter.project_slug }}", show_default=True)
@click.option("--run-name", help="Name of the run in the KFP UI (default: file name and time).")
@click.pass_obj
def submit(app: App, host: str, package: Path | None, experiment: str, run_name: str | None) -> None:
    """Submit the compiled pipeline to a Kubeflow Pipelines cluster; print the run id."""
    import tempfile

    from .pipelines import kfp

    with tempfile.TemporaryDirectory() as folder:
        if package is None:
            package = kfp.compile_pipeline(app.settings(), app.policy(), Path(folder) / "{{ cookiecutter.project_slug }}.yaml")
        run_id = kfp.submit(package, host, experiment, run_name)
    click.echo(f"submit: run {run_id} in experiment {experiment} at {host}")


@cli.command(name="schedule-monitor")
@click.option("--host", required=True, help="Kubeflow Pipelines API, e.g. http://ml-pipeline.kubeflow:8888")
@click.option("--cron", default="0 6 * * *", show_default=True, help="When to monitor (cron, UTC).")
@click.option("--release-uri", required=True, help="The release in service, as the cluster reads it.")
@click.option("--log-uri", required=True, help="The inference log, as the cluster reads it.")
@click.option("--experiment", default="{{ cookiecutter.project_slug }}", show_default=True)
@click.pass_obj
def schedule_monitor(app: App, host: str, cron: str, release_uri: str, log_uri: str, experiment: str) -> None:
    """Create a KFP recurring run: monitor on a schedule, and train again when a retrain gate fails."""
    import tempfile

    from .pipelines import kfp_monitoring

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "monitor.yaml"
        package = kfp_monitoring.compile_monitoring(app.settings(), app.policy(), target)
        job = kfp_monitoring.schedule(package, host, cron, experiment, release_uri, log_uri)
    click.echo(f"schedule-monitor: recurring run {job} ({cron}) in experiment {experiment} at {host}")
{%- endif %}
{%- if cookiecutter.orchestrators != "kfp" %}


@cli.command()
@click.argument("event", type=click.Choice(["monitor", "retrain"]))
@click.option("--listener", required=True, help="The EventListener's URL, e.g. http://el-NAME:8080.")
@click.option("--git-url", envvar="GIT_URL", default="", help="Repository the triggered run checks out.")
@click.option("--git-revision", envvar="GIT_REVISION", default="main", show_default=True)
def trigger(event: str, listener: str, git_url: str, git_revision: str) -> None:
    """Ask Tekton to start the monitoring (monitor) or training (retrain) pipeline."""
    import os

    from .pipelines.trigger import SECRET_ENV, send

    status = send(listener, event, git_url, git_revision, os.environ.get(SECRET_ENV, ""))
    click.echo(f"trigger: {event} accepted by {listener} (HTTP {status})")
{%- endif %}


for _step in STEPS:
    cli.add_command(_step_command(_step))


def main() -> None:
    """Console entry point."""
    cli(prog_name="{{ cookiecutter.project_slug }}")
