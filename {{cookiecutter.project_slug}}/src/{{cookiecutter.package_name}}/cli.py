"""Command line: one command per ML step, plus the local pipeline and its lineage.

Mistakes a user can fix (bad data, bad settings, a missing file) print one line
and exit 2; a traceback means a bug.
"""

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click

from .context import RunContext
from .errors import GateFailed, ProjectError
from .governance.policy import DEFAULT_POLICY, Policy, load_policy
from .lineage.runs import as_dict
from .project import SLUG
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
    lineage_client: object = None  # tests inject an OpenLineage client with their own transport

    def context(self, settings: Settings) -> RunContext:
        """The run context the environment describes (an orchestrator's Task env, or a plain local run)."""
        return RunContext.from_environment(settings, client=self.lineage_client)  # type: ignore[arg-type]

    def settings(self, **paths: Path | None) -> Settings:
        """Settings from params.yaml, with any paths given on the command line."""
        settings = load_settings(self.params)
        chosen = {field: path for field, path in paths.items() if path is not None}
        return settings.model_copy(update={"paths": settings.paths.model_copy(update=chosen)})

    def policy(self) -> Policy:
        return load_policy(self.policy_file)


@click.group(cls=Group)
@click.version_option(package_name=SLUG)
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
    # `obj` given to the command (tests only) is an OpenLineage client to send through.
    ctx.obj = App(params, policy_file, lineage_client=ctx.obj)


def _step_command(step) -> click.Command:
    @click.pass_obj
    def command(app: App, **paths: Path | None) -> None:
        settings = app.settings(**paths)
        run_step(step.name, settings, app.policy(), app.context(settings))
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


def _run_local(app: App) -> None:
    """Every step in this process, in order."""
    from .pipelines.local import run_pipeline

    def progress(index: int, total: int, name: str, seconds: float | None) -> None:
        if seconds is None:
            click.echo(f"[{index}/{total}] {name} ...", nl=False)
        else:
            click.echo(f" done in {seconds:.1f}s")

    settings = app.settings()
    paths = settings.paths
    context = app.context(settings)
    try:
        results = run_pipeline(settings, app.policy(), context, progress)
    except GateFailed:
        click.echo(" failed")
        click.echo(f"governance:  {paths.governance_html} (verdict=fail; nothing released)")
        raise
    except ProjectError:
        click.echo(" failed")
        raise
    metrics = as_dict(results["evaluate"])
    click.echo(f"model:       {paths.model}")
    click.echo(f"metrics:     {paths.metrics} (roc_auc={metrics['roc_auc']}, accuracy={metrics['accuracy']})")
    click.echo(f"predictions: {paths.predictions}")
    click.echo(f"data report: {paths.validation_report}")
    click.echo(f"governance:  {paths.governance_html} (verdict={as_dict(results['govern'])['verdict']})")
    click.echo(f"model card:  {paths.model_card}")
    click.echo(f"provenance:  {paths.provenance}")
    click.echo(f"release:     {paths.release}")
    from .lineage import destination

    click.echo(f"lineage:     {destination()}")
    for line in filter(None, (extension.describe() for extension in context.extensions)):
        click.echo(line)


# How `run` can run the pipeline. Each orchestrator the project has adds its
# engines and commands from pipelines/<name>_commands.py (the template removes
# the orchestrators not chosen, so only those present register).
ENGINES: dict[str, Callable[[App], None]] = {"local": _run_local}
for _module in pkgutil.iter_modules([str(Path(__file__).parent / "pipelines")]):
    if _module.name.endswith("_commands"):
        importlib.import_module(f".pipelines.{_module.name}", __package__).register(cli, ENGINES)


def run(app: App, engine: str = "local") -> None:
    """Run every step locally, in order, on the settings in params.yaml."""
    ENGINES[engine](app)


if len(ENGINES) > 1:  # a choice only where there is one to make
    run = click.option(
        "--engine",
        type=click.Choice(list(ENGINES)),
        default="local",
        show_default=True,
        help=" ".join(f"{name}: {engine.__doc__}" for name, engine in ENGINES.items()),
    )(run)
run = cli.command()(click.pass_obj(run))


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


for _step in STEPS:
    cli.add_command(_step_command(_step))


def main() -> None:
    """Console entry point."""
    cli(prog_name=SLUG)
