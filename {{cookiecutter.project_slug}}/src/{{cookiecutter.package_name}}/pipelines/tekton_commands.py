"""The Tekton command: `tekton step STEP`, what the ml-step Task runs.

cli.py adds it when this module is present (projects that chose Tekton).
"""

import click

from .tekton_step import run


@click.group(name="tekton")
def tekton() -> None:
    """What the Tekton Tasks run."""


@tekton.command(name="step")
@click.argument("step")
@click.pass_obj
def step_command(app, step: str) -> None:
    """Run STEP as the ml-step Task does: in the Task's run context, then write its results."""
    settings = app.settings()
    run(step, settings, app.policy(), app.context(settings))
    click.echo(f"{step}: done (Tekton results written)")


@click.command()
@click.argument("event", type=click.Choice(["monitor", "retrain"]))
@click.option("--listener", required=True, help="The EventListener's URL, e.g. http://el-NAME:8080.")
@click.option("--git-url", envvar="GIT_URL", default="", help="Repository the triggered run checks out.")
@click.option("--git-revision", envvar="GIT_REVISION", default="main", show_default=True)
def trigger(event: str, listener: str, git_url: str, git_revision: str) -> None:
    """Ask Tekton to start the monitoring (monitor) or training (retrain) pipeline."""
    import os

    from .trigger import SECRET_ENV, send

    status = send(listener, event, git_url, git_revision, os.environ.get(SECRET_ENV, ""))
    click.echo(f"trigger: {event} accepted by {listener} (HTTP {status})")


def register(cli: click.Group, engines: dict) -> None:
    """Add the `tekton` and `trigger` commands (cli.py calls this when the project has Tekton)."""
    cli.add_command(tekton)
    cli.add_command(trigger)
