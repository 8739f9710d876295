"""Publishing a release to the cluster's model store, and pinning the InferenceService to it.

The model store (the `models` volume) keeps the same layout as a local
releases folder: <version>/, champion.json, release-log.jsonl. So `promote`,
`rollback` and `releases` work on it with `--releases`, and `serve` on the
cluster reads it as it reads artifacts/releases locally.
"""

import os
import re
import shutil
import tempfile
from pathlib import Path

import yaml

from ..errors import ProjectError
from ..files import atomic_path
from ..settings import read_yaml
from ..supply_chain.attestation import SIGNING_LOG, release_log_path, signing_log_text
from .champion import champion, promote
from .revocation import check_not_revoked
from .store import DIR_MODE, FILE_MODE, Release, check_version, load_release

STORAGE_URI = "STORAGE_URI"  # KServe's storage initializer mounts this at /mnt/models
ALLOW_REVOKED = "--allow-revoked"  # serve's option, set per release by deploy-manifest
IMAGE_BY_DIGEST = re.compile(r"[a-z0-9][a-z0-9._:/-]*@sha256:[0-9a-f]{64}")


def copy_release(source: Release, target_root: Path) -> Release:
    """Copy a release folder into another releases root, all or nothing, readable by all."""
    target_root = Path(target_root)
    target = target_root / source.version
    if target.is_dir():
        existing = load_release(target)
        if existing.manifest.get("model_sha256") == source.manifest.get("model_sha256"):
            return existing
    try:
        target_root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{source.version}.", dir=target_root))
    except OSError as exc:
        raise ProjectError(f"cannot write {target_root}: {exc.strerror or exc}") from exc
    try:
        os.chmod(staging, DIR_MODE)
        for path in source.folder.iterdir():
            shutil.copyfile(path, staging / path.name)
            os.chmod(staging / path.name, FILE_MODE)
        # The store's log holds its own promotions, not the package entry this
        # release was signed after: the copy carries that part of its log along.
        if not (staging / SIGNING_LOG).is_file():
            text = signing_log_text(source.folder, release_log_path(source.folder))
            if text is not None:
                (staging / SIGNING_LOG).write_text(text, encoding="utf-8")
                os.chmod(staging / SIGNING_LOG, FILE_MODE)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return load_release(target)


def publish(
    local_root: Path,
    target_root: Path,
    version: str | None,
    reason: str,
    allow_revoked: str | None = None,
    public_key: Path | None = None,
) -> tuple[Release, dict | None]:
    """Copy release `version` (default: the local champion) to `target_root` and make it champion there.

    A version that is not here but already in the store is promoted there as it is.
    A release `forget` revoked is refused, before anything is copied, unless
    `allow_revoked` says why. With `public_key`, a release that does not verify
    with it (signature, digests, release log) is refused, before anything is copied.
    """
    version = check_version(version) if version else champion(local_root)
    if version is None:
        raise ProjectError(f"no champion in {local_root} and no --release given: nothing to publish")
    local = Path(local_root) / version
    chosen = local if local.is_dir() else Path(target_root) / version
    if public_key is not None and chosen.is_dir():
        from ..supply_chain.verify import verify_release

        try:
            verify_release(chosen, public_key)
        except ProjectError as exc:
            raise type(exc)(f"{exc}; nothing published to {target_root}") from None
    check_not_revoked(chosen, allow_revoked)
    if local.is_dir():
        release = copy_release(load_release(local), target_root)
    elif (Path(target_root) / version).is_dir():
        release = load_release(Path(target_root) / version)
    else:
        raise ProjectError(f"release {version} is neither in {local_root} nor in {target_root}")
    if champion(target_root) == version:
        return release, None
    return release, promote(target_root, version, reason, allow_revoked)


def _predictor_container(manifest: dict, template: Path) -> dict:
    try:
        containers = manifest["spec"]["predictor"]["containers"]
        return next(c for c in containers if any(e.get("name") == STORAGE_URI for e in c.get("env", [])))
    except (KeyError, TypeError, StopIteration):
        raise ProjectError(f"{template}: no predictor container with a {STORAGE_URI} env entry") from None


def render_inference_service(
    template: Path,
    releases: Path,
    canary_percent: int,
    output: Path,
    project: str,
    image: str | None = None,
    allow_revoked: str | None = None,
) -> tuple[str, Path]:
    """The InferenceService pinned to the champion of `releases`: a new release is a new KServe revision.

    The template's STORAGE_URI names the releases root; the rendered one names
    `<root>/<version>`. Below 100, canaryTrafficPercent sends that share of
    traffic to the new revision and the rest to the one before. `image`, when
    given, replaces the predictor's image (the pipeline passes the one it built,
    by digest). `allow_revoked`, when given, lets the server serve a release
    `forget` revoked, for that reason (serve --allow-revoked); by default it refuses.
    """
    version = champion(releases)
    if version is None:
        raise ProjectError(f"no champion in {releases}: publish a release first")
    release = load_release(Path(releases) / version)
    try:
        manifest = read_yaml(Path(template).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProjectError(f"{template} is not readable YAML: {exc}") from exc
    container = _predictor_container(manifest, template)
    if image:
        if not IMAGE_BY_DIGEST.fullmatch(image):
            raise ProjectError(f"--image {image!r} is not repository@sha256:<64 hex digits>")
        container["image"] = image
    if allow_revoked:
        args = [str(arg) for arg in container.get("args", [])]
        if ALLOW_REVOKED in args:  # one reason only: the one given now
            del args[args.index(ALLOW_REVOKED) : args.index(ALLOW_REVOKED) + 2]
        container["args"] = [*args, ALLOW_REVOKED, allow_revoked]
    for entry in container["env"]:
        if entry.get("name") == STORAGE_URI:
            entry["value"] = f"{str(entry['value']).rstrip('/')}/{version}"
    predictor = manifest["spec"]["predictor"]
    predictor.pop("canaryTrafficPercent", None)
    if canary_percent < 100:
        predictor["canaryTrafficPercent"] = canary_percent
    annotations = manifest.setdefault("metadata", {}).setdefault("annotations", {})
    annotations[f"{project}/release"] = version
    annotations[f"{project}/model-digest"] = f"sha256:{release.manifest.get('model_sha256', '')}"
    with atomic_path(output, mode=FILE_MODE) as tmp:
        tmp.write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    return version, Path(output)
