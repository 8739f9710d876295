"""Command line: one command per ML step, plus the local pipeline and repo checks.

Mistakes a user can fix (bad data, bad settings, a missing file) print one line
and exit 2; a traceback means a bug.
"""

from dataclasses import dataclass
from pathlib import Path

import click

from {{ cookiecutter.package_name }}.errors import ProjectError
from {{ cookiecutter.package_name }}.governance.policy import DEFAULT_POLICY, Policy, load_policy
from {{ cookiecutter.package_name }}.settings import DEFAULT_PARAMS, PARAMS_ENV, Settings, load_settings
from {{ cookiecutter.package_name }}.steps import STEPS, run_step


class UsageError(click.ClickException):
    exit_code = 2


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
    """{{ cookiecutter.project_name }}: run the ML steps, alone or as a pipeline."""
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
@click.pass_obj
def run(app: App) -> None:
    """Run every step locally, in order, on the settings in params.yaml."""
    from {{ cookiecutter.package_name }}.pipelines.local import run_pipeline

    def progress(index: int, total: int, name: str, seconds: float | None) -> None:
        if seconds is None:
            click.echo(f"[{index}/{total}] {name} ...", nl=False)
        else:
            click.echo(f" done in {seconds:.1f}s")

    settings = app.settings()
    try:
        results = run_pipeline(settings, app.policy(), progress)
    except ProjectError:
        click.echo(" failed")
        raise
    paths = settings.paths
    metrics = results["evaluate"]
    click.echo(f"model:       {paths.model}")
    click.echo(f"metrics:     {paths.metrics} (roc_auc={metrics['roc_auc']}, accuracy={metrics['accuracy']})")
    click.echo(f"predictions: {paths.predictions}")
    click.echo(f"data report: {paths.validation_report}")


@cli.command()
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def validate(root: Path, fmt: str) -> None:
    """Check the repository's manifests and policy files; exit 1 on findings."""
    import json

    from {{ cookiecutter.package_name }}.checks import validate_tree

    findings = validate_tree(root)
    if fmt == "json":
        click.echo(json.dumps([finding.as_dict() for finding in findings], indent=2))
    else:
        for finding in findings:
            click.echo(finding.format())
        click.echo(f"{len(findings)} finding(s)" if findings else "validate: no findings", err=bool(findings))
    if findings:
        raise SystemExit(1)


@cli.group()
def lineage() -> None:
    """Show or check the lineage of the last pipeline run (from the lineage events file)."""


EVENTS_HELP = "Lineage events (default: the file openlineage.yml or OPENLINEAGE_* env names)."


@lineage.command()
@click.option("--events", type=click.Path(path_type=Path), help=EVENTS_HELP)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "mermaid", "dot"]), default="text", show_default=True
)
def show(events: Path | None, fmt: str) -> None:
    """Print the datasets and jobs of the last pipeline run; mermaid or dot for a picture."""
    from {{ cookiecutter.package_name }}.lineage import events_path
    from {{ cookiecutter.package_name }}.lineage_graph import last_pipeline, read_events, render

    click.echo(render(last_pipeline(read_events(events or events_path())), fmt))


@lineage.command()
@click.option("--events", type=click.Path(path_type=Path), help=EVENTS_HELP)
@click.pass_obj
def check(app: App, events: Path | None) -> None:
    """Exit 1 when a run of the last pipeline run failed or never ended, or an output has no producer."""
    from {{ cookiecutter.package_name }}.lineage import events_path
    from {{ cookiecutter.package_name }}.lineage_graph import expected_outputs, last_pipeline, problems, read_events

    source = events or events_path()
    graph = last_pipeline(read_events(source))
    found = problems(graph, expected_outputs(app.settings()))
    for line in found:
        click.echo(line)
    if found:
        click.echo(f"lineage check: {len(found)} problem(s) in {source}", err=True)
        raise SystemExit(1)
    click.echo(f"lineage check: {len(graph.runs)} runs, every output produced, every run complete")


for _step in STEPS:
    cli.add_command(_step_command(_step))


def main() -> None:
    """Console entry point."""
    cli(prog_name="{{ cookiecutter.project_slug }}")
