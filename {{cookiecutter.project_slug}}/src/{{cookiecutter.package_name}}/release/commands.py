"""The release commands: list, promote, roll back, publish to the model store, pin the
InferenceService, verify. cli.py adds them with `register`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import ProjectError
from ..project import SLUG

if TYPE_CHECKING:
    from ..cli import App


def allow_revoked_option(command):
    return click.option(
        "--allow-revoked",
        metavar="REASON",
        help="Use a release forget revoked (trained on withdrawn rows) anyway, for this reason (on record).",
    )(command)


def releases_option(command):
    return click.option(
        "--releases",
        "root",
        type=click.Path(file_okay=False, path_type=Path),
        help="The releases folder (default from params.yaml paths.release; on the cluster, the model store).",
    )(command)


@click.command()
@releases_option
@click.pass_obj
def releases(app: App, root: Path | None) -> None:
    """List the releases, mark the champion, and show the release log."""
    from ..release import champion, history, release_versions

    root = root or app.settings().paths.release
    current = champion(root)
    versions = release_versions(root)
    if not versions:
        raise ProjectError(f"no releases in {root}: run the pipeline (or package) first")
    for version in versions:
        click.echo(f"{'*' if version == current else ' '} {version}")
    for entry in history(root):
        was = entry.get("previous") or "none"
        click.echo(
            f"{entry['time']} {entry['action']:<8} {entry['version']} (was {was}) "
            f"by {entry['actor']}: {entry['reason']}"
        )


def _said_revoked(command: str, entry: dict) -> None:
    if entry.get("allow_revoked"):
        click.echo(
            f"{command}: warning: {entry['version']} is revoked (trained on withdrawn rows); "
            f"the release log records why it is in service anyway: {entry['allow_revoked']}",
            err=True,
        )


def _move_alias(app: App, action: str, move, root: Path | None) -> dict:
    """Move a champion alias inside an OpenLineage run: releases folder in, alias out."""
    from ..lineage import step_run
    from ..release.champion import ALIAS_FILE

    settings = app.settings()
    root = root or settings.paths.release
    context = app.context(settings)
    doc = "Move the champion alias to another release and record it in the release log."
    with step_run(action, doc, [root], [root / ALIAS_FILE], context) as run:
        run["summary"] = entry = move(root)
    if root == settings.paths.release:  # a model registry follows this project's own alias
        for extension in context.extensions:
            extension.champion_moved(entry["version"], root / entry["version"] / "model.joblib")
    return entry


@click.command()
@click.argument("version")
@click.option("--reason", "-m", required=True, help="Why: recorded in the release log.")
@releases_option
@allow_revoked_option
@click.pass_obj
def promote(app: App, version: str, reason: str, root: Path | None, allow_revoked: str | None) -> None:
    """Make release VERSION the champion that serve answers with (a revoked one only with --allow-revoked)."""
    from ..release import promote as promote_release
    from ..release.revocation import override_reason

    override_reason(allow_revoked)

    def move(folder: Path) -> dict:
        return promote_release(folder, version, reason, allow_revoked)

    entry = _move_alias(app, "promote", move, root)
    click.echo(f"promote: champion is {entry['version']} (was {entry['previous'] or 'none'})")
    _said_revoked("promote", entry)


@click.command()
@click.option("--reason", "-m", required=True, help="Why: recorded in the release log.")
@releases_option
@allow_revoked_option
@click.pass_obj
def rollback(app: App, reason: str, root: Path | None, allow_revoked: str | None) -> None:
    """Make the previous champion the champion again (a revoked one only with --allow-revoked)."""
    from ..release import rollback as rollback_release
    from ..release.revocation import override_reason

    override_reason(allow_revoked)
    entry = _move_alias(app, "rollback", lambda folder: rollback_release(folder, reason, allow_revoked), root)
    click.echo(f"rollback: champion is {entry['version']} (was {entry['previous'] or 'none'})")
    _said_revoked("rollback", entry)


@click.command()
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The releases folder of the model store (on the cluster, the models volume).",
)
@click.option("--release", "version", help="The release to publish (default: the local champion).")
@click.option("--reason", "-m", required=True, help="Why: recorded in the model store's release log.")
@click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Publish only a release that verifies with this trusted public key "
    f"(the deploy Task passes the cluster's, from the ConfigMap {SLUG}-signing-pub).",
)
@allow_revoked_option
@click.pass_obj
def publish(
    app: App, target: Path, version: str | None, reason: str, key: Path | None, allow_revoked: str | None
) -> None:
    """Copy a release to the model store and make it the champion there (the deploy Task's first step).

    With --key, a release that does not verify with that public key is refused
    before anything is copied. The release this checkout governed must also
    pass the regression gate against the store's champion (the model in
    service), which govern could not see from a fresh checkout.
    """
    from ..files import read_json
    from ..release import champion, version_of
    from ..release.publish import publish as publish_release
    from ..release.revocation import override_reason
    from ..steps.govern import regression_against

    override_reason(allow_revoked)
    if key is not None and not key.is_file():
        raise ProjectError(f"{key}: no such public key: nothing published to {target}")
    settings = app.settings()
    local = settings.paths.release
    chosen = version or champion(local)
    governed = settings.paths.governance_report
    if chosen and governed.is_file() and chosen == version_of(read_json(governed).get("model_sha256") or ""):
        failed = regression_against(target, settings.paths, settings.data, app.policy())
        if failed:
            raise ProjectError("\n".join([*failed, f"nothing published to {target}"]))

    def move(folder: Path) -> dict:
        released, entry = publish_release(local, folder, version, reason, allow_revoked, key)
        return entry or {"version": released.version, "previous": released.version}

    entry = _move_alias(app, "publish", move, target)
    was = "already the champion" if entry["previous"] == entry["version"] else f"was {entry['previous']}"
    click.echo(f"publish: {entry['version']} is the champion in {target} ({was})")
    _said_revoked("publish", entry)


@click.command(name="deploy-manifest")
@releases_option
@click.option(
    "--template",
    type=click.Path(dir_okay=False, path_type=Path),
    default="deploy/inferenceservice.yaml",
    show_default=True,
    help="The InferenceService to pin.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default="artifacts/deploy/inferenceservice.yaml",
    show_default=True,
    help="Write the pinned InferenceService here.",
)
@click.option(
    "--result-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the pinned release version to this file (for a pipeline result).",
)
@click.option(
    "--image",
    help="Serve with this image (repository@sha256:digest, as the pipeline built it), not the template's.",
)
@click.option(
    "--allow-revoked",
    metavar="REASON",
    help="Let the server serve a release forget revoked, for this reason (passed to serve; off by default).",
)
@click.pass_obj
def deploy_manifest(
    app: App,
    root: Path | None,
    template: Path,
    output: Path,
    result_file: Path | None,
    image: str | None,
    allow_revoked: str | None,
) -> None:
    """Write the InferenceService pinned to the champion, with the canary share from params.yaml."""
    from ..release.publish import render_inference_service
    from ..release.revocation import override_reason

    override_reason(allow_revoked)

    settings = app.settings()
    percent = settings.release.canary_traffic_percent
    releases = root or settings.paths.release
    version, path = render_inference_service(
        template, releases, percent, output, SLUG, image=image, allow_revoked=allow_revoked
    )
    if result_file is not None:
        result_file.write_text(version, encoding="utf-8")
    share = "all traffic" if percent == 100 else f"{percent}% of traffic (canary)"
    click.echo(f"deploy-manifest: wrote {path}: release {version}, {share}")


@click.command()
@click.argument("release", type=click.Path(path_type=Path), required=False)
@releases_option
@click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The signer's public key (default: the .pub beside supply_chain.signing_key in params.yaml).",
)
@click.option(
    "--log",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The release log (default: release-log.jsonl beside the release folder).",
)
@click.pass_obj
def verify(app: App, release: Path | None, root: Path | None, key: Path | None, log: Path | None) -> None:
    """Check a release's signature, every file's digest and the release log; exit 2 on any mismatch.

    RELEASE is a release folder (default: the champion's, releases/<version>/).
    """
    from ..release import champion
    from ..supply_chain import verify_release
    from ..supply_chain.dsse import public_key_path

    settings = app.settings()
    if release is None:
        root = root or settings.paths.release
        version = champion(root)
        if version is None:
            raise ProjectError(f"no champion in {root}: pass a release folder, or run package first")
        release = root / version
    result = verify_release(release, key or public_key_path(settings.supply_chain.signing_key), log)
    click.echo(
        f"verify: {result['release']} is intact: {len(result['files'])} files signed, "
        f"release log of {result['log_entries']} entries unbroken"
    )
    if result["revoked"]:
        click.echo(f"verify: note: {result['release']} is marked revoked.json by forget (needs retraining)")


def register(cli: click.Group) -> None:
    """Add the release commands to the CLI."""
    for command in (releases, promote, rollback, publish, deploy_manifest, verify):
        cli.add_command(command)
