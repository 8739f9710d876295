"""The serving commands: serve the released model, and the emergency cut-out.
cli.py adds them with `register`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import ProjectError
from ..release.commands import allow_revoked_option

if TYPE_CHECKING:
    from ..cli import App


@click.command()
@click.option("--release", "version", help="Serve this release version (default: follow the champion alias).")
@click.option(
    "--model-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A release folder to serve, or a releases folder whose champion to follow (cluster: /mnt/models).",
)
@click.option(
    "--cut-out-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The emergency cut-out file (default from params.yaml serving.cut_out_file).",
)
@click.option(
    "--inference-log",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append one JSON line per row predicted here (default from params.yaml serving.inference_log).",
)
@click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Verify releases with this public key before serving them "
    "(default: the .pub beside supply_chain.signing_key in params.yaml).",
)
@click.option("--host", help="Address to listen on (default from params.yaml serving.host).")
@click.option(
    "--port", type=click.IntRange(0, 65535), help="Port (default from params.yaml; 0: any free port)."
)
@allow_revoked_option
@click.pass_obj
def serve(
    app: App,
    version: str | None,
    model_dir: Path | None,
    cut_out_file: Path | None,
    inference_log: Path | None,
    key: Path | None,
    host: str | None,
    port: int | None,
    allow_revoked: str | None,
) -> None:
    """Serve the released model over the Open Inference Protocol v2 (REST) until interrupted.

    A release whose signature, digests or release log do not verify is refused,
    and so is one `forget` revoked, unless --allow-revoked says why.
    """
    from ..release.revocation import override_reason
    from ..release.store import check_version
    from ..serving import MODEL_NAME
    from ..serving.inference_log import InferenceLog
    from ..serving.server import ModelSlot, make_server

    override_reason(allow_revoked)
    settings = app.settings()
    serving = settings.serving
    if version and model_dir:
        raise ProjectError("pass --release or --model-dir, not both")
    releases = settings.paths.release
    fixed = releases / check_version(version) if version else None
    if model_dir is not None and (model_dir / "manifest.json").is_file():
        fixed = model_dir
    elif model_dir is not None:
        releases = model_dir
    from ..supply_chain.dsse import public_key_path

    if key is not None and not key.is_file():
        raise ProjectError(f"{key}: no such public key")
    if key is None and public_key_path(settings.supply_chain.signing_key).is_file():
        key = public_key_path(settings.supply_chain.signing_key)
    slot = ModelSlot(releases, fixed, key, allow_revoked)
    if key is None:  # said once a release is there to serve
        click.echo(
            f"serve: warning: no public key at {public_key_path(settings.supply_chain.signing_key)} "
            "(pass --key): releases are checked against their manifests only, not their signatures",
            err=True,
        )
    inference_log = inference_log or serving.inference_log
    log = InferenceLog(
        inference_log,
        serving.log_max_bytes,
        serving.log_backups,
        app.policy().inference_log.log_sensitive_features,
    )
    server = make_server(
        host or serving.host,
        serving.port if port is None else port,
        slot,
        log,
        cut_out_file or serving.cut_out_file,
        serving.max_body_bytes,
        serving.max_rows,
    )
    bound_host, bound_port = server.server_address[:2]
    following = "" if fixed else " (follows the champion alias)"
    click.echo(f"serve: {MODEL_NAME} release {slot.current.version}{following}")
    if slot.current.allowed_revoked:
        click.echo(
            f"serve: warning: release {slot.current.version} is revoked (trained on withdrawn rows), "
            f"served anyway: {slot.current.allowed_revoked}",
            err=True,
        )
    click.echo(f"serve: http://{bound_host}:{bound_port}/v2/models/{MODEL_NAME}/infer; log {inference_log}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@click.command(name="cut-out")
@click.argument("state", type=click.Choice(["on", "off"]))
@click.option("--reason", "-m", default="", help="With on: the reason every 503 answer gives.")
@click.pass_obj
def cut_out_(app: App, state: str, reason: str) -> None:
    """Emergency stop: on, the server answers 503 with the reason at once; off, it serves again."""
    from ..serving import cut_out

    path = app.settings().serving.cut_out_file
    if state == "on":
        cut_out.switch_on(path, reason)
        click.echo(f"cut-out: on ({path}); infer answers 503 until `cut-out off`")
    else:
        was = cut_out.switch_off(path)
        click.echo("cut-out: off; serving" if was else "cut-out: was not on")


def register(cli: click.Group) -> None:
    """Add the serving commands to the CLI."""
    for command in (serve, cut_out_):
        cli.add_command(command)
