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


def _names(value: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in value.split(",") if name.strip())


@cli.command(name="init-data")
@click.argument("source")
@click.option("--target", required=True, help="The label column.")
@click.option("--positive-label", help="The target value meaning positive (needed when labels are text).")
@click.option("--sensitive", default="", help="Sensitive attributes, comma-separated (fairness per group).")
@click.option("--exclude", default="", help="Columns the model must not see (IDs, free text), comma-sep.")
@click.pass_obj
def init_data(
    app: App, source: str, target: str, positive_label: str | None, sensitive: str, exclude: str
) -> None:
    """Adopt a CSV or Parquet table: infer its schema into policy.yaml and its settings into params.yaml."""
    from .init_data import adopt

    adoption = adopt(
        source,
        target,
        positive_label,
        _names(sensitive),
        _names(exclude),
        app.settings(),
        app.policy(),
        app.params,
        app.policy_file,
    )
    click.echo(f"init-data: {adoption.source}, {adoption.rows} rows, {len(adoption.columns)} columns")
    for name, rule in adoption.columns.items():
        shown = ", ".join(f"{key}={value}" for key, value in rule.items() if key != "dtype")
        click.echo(f"  {name:<24} {adoption.roles[name]:<10} {rule['dtype']:<6} {shown}")
    click.echo(f"wrote: {app.params} (data), {app.policy_file} (data schema)")
    if not _names(sensitive):
        adoption.review.insert(0, "no --sensitive attribute: the fairness gates check nothing")
    click.echo("review:")
    for note in adoption.review:
        click.echo(f"  - {note}")
    click.echo("next: run the pipeline with `run`, then `make test`")


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
{%- endif %}


for _step in STEPS:
    cli.add_command(_step_command(_step))


def main() -> None:
    """Console entry point."""
    cli(prog_name="{{ cookiecutter.project_slug }}")
