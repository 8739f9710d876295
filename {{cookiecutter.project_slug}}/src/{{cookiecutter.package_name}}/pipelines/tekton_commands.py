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


def register(cli: click.Group, engines: dict) -> None:
    """Add the `tekton` commands (cli.py calls this when the project has Tekton)."""
    cli.add_command(tekton)
