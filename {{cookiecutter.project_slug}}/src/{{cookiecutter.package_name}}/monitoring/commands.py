"""The monitoring commands: monitor, feedback, and the sample and replay helpers for demos.

cli.py adds them with `register`.
"""

from pathlib import Path

import click

from ..errors import ProjectError
from ..lineage.runs import as_dict


def monitoring_settings(app, log: Path | None = None, folder: Path | None = None):
    """Settings with the inference log and the monitoring folder given on the command line."""
    return with_monitoring_paths(app.settings(), log, folder)


def with_monitoring_paths(settings, log: Path | None = None, folder: Path | None = None):
    """`settings` reading the inference log from `log` and writing reports to `folder`, when given."""
    update = {}
    if log is not None:
        update["serving"] = settings.serving.model_copy(update={"inference_log": log})
    if folder is not None:
        update["monitoring"] = settings.monitoring.model_copy(update={"folder": folder})
    return settings.model_copy(update=update)


@click.command()
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
    "--log", type=click.Path(path_type=Path), help="Inference log (default: serving.inference_log)."
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the reports and history here (default: monitoring.folder).",
)
@click.option("--retrain", is_flag=True, help="When a gate in monitoring.retrain_on fails, run the pipeline.")
@click.pass_obj
def monitor(
    app,
    batch: Path | None,
    since: str | None,
    release: Path | None,
    log: Path | None,
    output: Path | None,
    retrain: bool,
) -> None:
    """Compare live data with the champion's training reference: drift, live performance, fairness."""
    from .inference_log import parse_since
    from .report import REPORT_HTML, REPORT_JSON
    from .runner import monitor as run_monitor

    if batch is not None and since is not None:
        raise ProjectError("--since filters the inference log; a --batch file is judged whole")
    settings, policy = monitoring_settings(app, log, output), app.policy()
    context = app.context(settings)
    moment = parse_since(since) if since else None
    result, report = run_monitor(settings, policy, batch, moment, release, context)
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
    from ..pipelines.local import run_pipeline

    click.echo(f"retrain: {', '.join(report['retrain'])} failed; running the pipeline on data.source")
    results = run_pipeline(settings, policy, context)
    verdict = as_dict(results["govern"])["verdict"]
    summary = as_dict(results.get("package", {}))
    where = summary.get("release") or "nothing released"
    click.echo(f"retrain: governance verdict {verdict}; {where}; champion {summary.get('champion')}")


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--log", type=click.Path(path_type=Path), help="Inference log (default: serving.inference_log)."
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the labelled rows here (default: monitoring.folder).",
)
@click.pass_obj
def feedback(app, path: Path, log: Path | None, output: Path | None) -> None:
    """Join ground truth (by id or request_id) to the inference log, for live performance and fairness."""
    from . import reference
    from .runner import champion_release, record_feedback

    settings = monitoring_settings(app, log, output)
    ref = reference.load(champion_release(settings))
    result = record_feedback(settings, ref, path, app.context(settings))
    click.echo(f"feedback: {result.matched} of {result.received} label(s) matched logged rows")
    if result.unknown_count:
        shown = ", ".join(result.unknown) + (" ..." if result.unknown_count > len(result.unknown) else "")
        click.echo(f"feedback: {result.unknown_count} id(s) are not in the inference log: {shown}")
    click.echo(f"feedback: {result.labelled_rows} labelled rows in {result.output}")


@click.command()
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
    from .. import sample_data
    from ..files import atomic_path

    with atomic_path(output) as tmp:
        sample_data.generate(rows=rows, seed=seed, drift=drift).to_csv(tmp, index=False)
    click.echo(f"sample: wrote {rows} rows (seed {seed}, drift {drift:g}) to {output}")


@click.command()
@click.argument("csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--day", help="Spread the rows over this day (YYYY-MM-DD, UTC); default: now.")
@click.option(
    "--truth",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write each row's id, label and sensitive attributes here (what `feedback` reads).",
)
@click.pass_obj
def replay(app, csv: Path, day: str | None, truth: Path | None) -> None:
    """Append a CSV of requests to the inference log, scored by the champion, as `serve` logs them."""
    from . import reference
    from .replay import replay as replay_
    from .runner import champion_release, release_version

    settings = app.settings()
    release = champion_release(settings)
    ref = reference.load(release)
    log = settings.serving.inference_log
    result = replay_(
        csv, release, ref, log, release_version(release), day, truth, settings.data.sensitive_features
    )
    click.echo(f"replay: {result['rows']} rows appended to {log}" + (f"; truth in {truth}" if truth else ""))


def register(cli: click.Group) -> None:
    """Add the monitoring commands to the CLI."""
    for command in (monitor, feedback, sample, replay):
        cli.add_command(command)
