"""One monitoring run, end to end: find the champion, read the live rows, judge, report, lineage."""

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ProjectError
from ..governance.policy import Policy
from ..settings import Settings
from . import feedback, reference, report
from .inference_log import Batch, read_batch, read_log
from .monitor import Monitoring, check

if TYPE_CHECKING:
    from ..context import RunContext


def champion_release(settings: Settings) -> Path:
    """The release in service: the one the champion alias names under paths.release."""
    from ..release import champion

    root = Path(settings.paths.release)
    version = champion(root)
    if version is None:
        raise ProjectError(f"{root} has no champion yet: run the pipeline (or promote a release) first")
    return root / version


def resolve_release(path: Path) -> Path:
    """A release folder, or a releases root (a store with champion.json): its champion."""
    from ..release import champion
    from ..release.champion import ALIAS_FILE

    path = Path(path)
    if (path / ALIAS_FILE).is_file():
        version = champion(path)
        if version is None:
            raise ProjectError(f"{path / ALIAS_FILE} names no champion")
        return path / version
    return path


def release_version(release: Path) -> str:
    """A release's version: its folder's name, as serve logs it."""
    return Path(release).name


def load_batch(settings: Settings, release: Path, ref: reference.Reference, batch: Path | None, since):
    """The rows to judge: a batch CSV scored by the release's model, or the inference log."""
    if batch is not None:
        from ..steps.evaluate import load_model

        return read_batch(batch, ref, load_model(Path(release) / "model.joblib"), release_version(release))
    labelled = (Path(settings.monitoring.folder) / feedback.LABELLED_FILE).is_file()
    attributes = settings.data.sensitive_features
    logged = read_log(settings.serving.inference_log, ref, since, attributes, ids=labelled)
    frame = feedback.attach(
        logged.frame, settings.monitoring.folder, ref.target, settings.data.sensitive_features
    )
    return Batch(frame, logged.source, logged.kind, logged.model_versions)


def monitor(
    settings: Settings,
    policy: Policy,
    batch: Path | None = None,
    since: datetime | None = None,
    release: Path | None = None,
    context: "RunContext | None" = None,
) -> tuple[Monitoring, dict]:
    """Judge the live rows against the champion's reference; write the reports; report to lineage."""
    from .. import lineage
    from ..context import RunContext

    release = resolve_release(release) if release else champion_release(settings)
    ref = reference.load(release)
    folder = Path(settings.monitoring.folder)
    source = Path(batch) if batch is not None else Path(settings.serving.inference_log)
    outputs = [folder / report.REPORT_JSON, folder / report.REPORT_HTML]
    doc = (
        "Compare live inputs and outputs with the champion's training reference; judge the monitoring gates."
    )
    context = context or RunContext.from_environment(settings)
    with lineage.step_run("monitor", doc, [source, release], outputs, context) as run:
        rows = load_batch(settings, release, ref, batch, since)
        result = check(rows, ref, policy, settings.data.sensitive_features)
        payload = {
            **asdict(result),
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": {
                "kind": rows.kind,
                "path": str(rows.source),
                "since": since.isoformat() if since else None,
            },
            "model_versions": list(rows.model_versions),
            "release": str(release),
            "reference": str(ref.path),
            "policy_version": policy.version,
            "failed": result.failed(),
            "retrain": sorted(result.failed_gates() & set(policy.monitoring.retrain_on)),
        }
        report.write(payload, folder)
        run["summary"] = {
            "verdict": result.verdict,
            "policy_version": policy.version,
            "profile": policy.profile,
            "gates": result.gates,
            "rows": result.rows,
        }
    return result, payload


def record_feedback(
    settings: Settings, ref: reference.Reference, path: Path, context: "RunContext | None" = None
) -> feedback.FeedbackResult:
    """Join a ground-truth file to the inference log, reported to lineage as the `feedback` job."""
    from .. import lineage
    from ..context import RunContext

    context = context or RunContext.from_environment(settings)
    log = Path(settings.serving.inference_log)
    output = Path(settings.monitoring.folder) / feedback.LABELLED_FILE
    doc = (
        "Join ground truth to the inference log by id: live labelled data, shaped by the model's predictions."
    )
    with lineage.step_run("feedback", doc, [log, Path(path)], [output], context) as run:
        result = feedback.record(path, log, ref, settings.data.sensitive_features, settings.monitoring.folder)
        from .guard import sha256

        run["summary"] = {**result.summary(), "output": str(output), "digests": {str(output): sha256(output)}}
    return result
