"""Writing and reading release folders: atomic, readable by another user, checked by digest."""

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..errors import ProjectError
from ..files import read_json, write_json
from ..governance.provenance import sha256_file

DIR_MODE, FILE_MODE = 0o755, 0o644
VERSION = re.compile(r"^[0-9a-f]{12}$")
MANIFEST = "manifest.json"
MODEL_FILE = "model.joblib"
SIGNATURE_FILE = "signature.json"
LOG_FILE = "release-log.jsonl"  # beside the version folders: package, promote, rollback


def version_of(model_sha256: str) -> str:
    """A release's version: the first 12 hex digits of its model's sha256."""
    return model_sha256[:12]


def check_version(version: str) -> str:
    """A version a user typed, checked before it names a folder."""
    if not VERSION.match(version or ""):
        raise ProjectError(f"release version {version!r} is not 12 lowercase hex digits (see `releases`)")
    return version


@dataclass(frozen=True)
class Release:
    version: str
    folder: Path
    manifest: dict

    @property
    def model(self) -> Path:
        return self.folder / MODEL_FILE

    @property
    def signature(self) -> dict:
        return read_json(self.folder / SIGNATURE_FILE)


def write_release(
    root: Path,
    model: Path,
    model_sha256: str,
    files: list[Path],
    extra: dict[str, dict],
    signing_key: Path | None = None,
    release_log: Path | None = None,
    binaries: dict[str, bytes] | None = None,
) -> Release:
    """Copy `model` (as model.joblib), `files`, the JSON documents in `extra` and the files made in
    memory (`binaries`, name to bytes: the ONNX export) into `root/<version>/`.

    All or nothing: the folder is built beside its final place and renamed into
    it. An existing release of the same model is replaced the same way (its
    evidence is newer). With `signing_key`, the folder is signed before the
    rename (SBOM, ML-BOM, DSSE-signed provenance over every file, manifest
    included) and recorded in `release_log` (default: root/release-log.jsonl,
    the log promote and rollback chain onto and `verify` reads).
    """
    version = version_of(model_sha256)
    root = Path(root)
    target = root / version
    try:
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, DIR_MODE)
        staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=root))
    except OSError as exc:
        raise ProjectError(f"cannot write {root}: {exc.strerror or exc}") from exc
    try:
        os.chmod(staging, DIR_MODE)
        digests = {}
        for source, name in [(model, MODEL_FILE)] + [(path, Path(path).name) for path in files]:
            if not Path(source).is_file():
                raise ProjectError(f"{source} not found: run govern first")
            copy = staging / name
            shutil.copyfile(source, copy)
            os.chmod(copy, FILE_MODE)
            digests[copy.name] = sha256_file(copy)
        for name, payload in extra.items():
            write_json(staging / name, payload, mode=FILE_MODE)
            digests[name] = sha256_file(staging / name)
        for name, content in (binaries or {}).items():
            (staging / name).write_bytes(content)
            os.chmod(staging / name, FILE_MODE)
            digests[name] = sha256_file(staging / name)
        if digests.get(MODEL_FILE) != model_sha256:
            raise ProjectError(f"{MODEL_FILE} in the release does not match the governed model's digest")
        manifest = {
            "version": version,
            "model_sha256": model_sha256,
            "created": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "sha256": digests,
        }
        write_json(staging / MANIFEST, manifest, mode=FILE_MODE)
        if signing_key is not None:
            from ..supply_chain import attest

            attest(staging, version, MODEL_FILE, signing_key, release_log or root / LOG_FILE)
            for path in staging.iterdir():  # readable by a model server running as another user
                os.chmod(path, FILE_MODE)
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{version}.old.", dir=root))
            os.replace(target, old / version)
        os.replace(staging, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Release(version, target, manifest)


def release_versions(root: Path) -> list[str]:
    """Every complete release under `root` (a folder with a manifest), oldest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if VERSION.match(p.name) and (p / MANIFEST).is_file()]
    return [p.name for p in sorted(found, key=lambda p: ((p / MANIFEST).stat().st_mtime, p.name))]


def load_release(folder: Path, verify: bool = True) -> Release:
    """A release folder, with every file checked against its manifest's sha256."""
    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        raise ProjectError(f"{folder} is not a release (no {MANIFEST}): run package, or see `releases`")
    manifest = read_json(folder / MANIFEST)
    if verify:
        for name, digest in (manifest.get("sha256") or {}).items():
            path = folder / name
            if not path.is_file() or sha256_file(path) != digest:
                raise ProjectError(f"{path} does not match the release manifest: the release was altered")
    version = manifest.get("version") or version_of(manifest.get("model_sha256") or "")
    return Release(version, folder, manifest)
