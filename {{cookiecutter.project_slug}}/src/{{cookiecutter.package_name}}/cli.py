"""Command line: one command per ML step, plus the local pipeline and its lineage; the
release, serving, monitoring and orchestrator commands join from their own modules.

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
from .monitoring.commands import register as register_monitoring
from .project import SLUG
from .release.commands import register as register_release
from .serving.commands import register as register_serving
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
    package = as_dict(results["package"])
    click.echo(f"release:     {package['release']} (champion: {package['champion']})")
    from .lineage import destination

    click.echo(f"lineage:     {destination()}")
    for line in filter(None, (extension.describe() for extension in context.extensions)):
        click.echo(line)


for register in (register_release, register_serving, register_monitoring):
    register(cli)

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


def _grid(options: tuple[str, ...]) -> dict[str, list]:
    """--grid KEY=V1,V2 options as a grid; each value read as YAML reads it (4, 0.5, null, a name)."""
    import yaml

    grid = {}
    for option in options:
        key, equals, values = option.partition("=")
        if not equals or not key.strip() or not values.strip():
            raise ProjectError(f"--grid {option!r}: write KEY=VALUE[,VALUE...], e.g. --grid max_depth=4,8")
        grid[key.strip()] = [yaml.safe_load(value.strip()) for value in values.split(",")]
    return grid


@cli.command()
@click.option(
    "--grid",
    "options",
    multiple=True,
    metavar="KEY=V1,V2",
    help="A model setting and the values to try (repeatable); replaces sweep.grid in params.yaml.",
)
@click.pass_obj
def sweep(app: App, options: tuple[str, ...]) -> None:
    """Train and judge a small grid of model settings side by side; choose one. Releases nothing.

    Each variant is trained and evaluated by the pipeline's own steps in a scratch
    folder (sweep.folder), checked by the policy's performance and fairness gates,
    and measured for model size and latency; variants.md and variants.json say
    which passes and which is chosen.
    """
    from .settings import SweepSettings, check_model
    from .sweep import label, run_sweep

    settings = app.settings()
    if options:
        chosen = settings.sweep.model_dump() | {"grid": _grid(options)}
        settings = settings.model_copy(update={"sweep": check_model(chosen, SweepSettings, "--grid")})
    policy = app.policy()

    def progress(variant) -> None:
        verdict = "pass" if variant["verdict"] == "pass" else f"fail ({'; '.join(variant['failed'])})"
        click.echo(
            f"sweep: {variant['name']} {label(variant['settings'])}: {verdict}; "
            f"roc_auc={variant['metrics']['roc_auc']}, {variant['size_bytes']} bytes, "
            f"{variant['latency_ms']} ms/row"
        )

    result = run_sweep(settings, policy, app.context(settings), progress)
    chosen = next(variant for variant in result["variants"] if variant["name"] == result["chosen"])
    click.echo(f"sweep: chosen {chosen['name']} ({label(chosen['settings'])}): {result['reason']}")
    click.echo(f"sweep: wrote {result['reports']['markdown']} and {result['reports']['json']}")
    click.echo(
        "sweep: nothing released; to use it, set these settings in params.yaml model: and run the pipeline"
    )


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


def _events_file(events: Path | None) -> Path:
    """The events file given, or the one the file transport writes."""
    from .lineage import transport_config

    if events is not None:
        return events
    transport = transport_config()
    if transport.get("type") != "file":
        kind = transport.get("type")
        raise ProjectError(f"lineage goes to the {kind} transport, not a file: pass --events")
    return Path(transport["log_file_path"])


def _last_pipeline(events: Path | None):
    from .lineage_graph import last_pipeline, load_events

    events = _events_file(events)
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
@click.argument("ids", nargs=-1, required=True)
@click.option("--reason", required=True, help="Why: consent withdrawn, an erasure request (kept on record).")
@_events_option
@click.pass_obj
def forget(app: App, ids: tuple[str, ...], reason: str, events: Path | None) -> None:
    """Withdraw rows by id: record it, mark releases trained on them, and let the next ingest drop them."""
    from .governance.erasure import forget as record
    from .release import champion

    settings = app.settings()
    result = record(
        ids,
        reason,
        settings.paths.raw_data,
        settings.data.id_column,
        settings.data.erasure_register,
        _events_file(events),
    )
    click.echo(f"forget: {result.request} for {len(result.ids)} id(s) in {result.register}")
    current = champion(settings.paths.release)
    for release in result.releases:
        click.echo(f"forget: {release} marked as needing retraining")
        if current and Path(release).resolve() == (settings.paths.release / current).resolve():
            click.echo(
                "forget: it is the champion: a running server keeps it until the alias moves, but serve, "
                "promote and rollback refuse it from now on unless given --allow-revoked REASON"
            )
    click.echo("forget: the next ingest drops these rows; run the pipeline again to retrain")


for _step in STEPS:
    cli.add_command(_step_command(_step))


def main() -> None:
    """Console entry point."""
    cli(prog_name=SLUG)
