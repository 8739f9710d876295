"""Package: put the model and its evidence in one release folder, only if governance passed."""

import os
import shutil
import tempfile
from pathlib import Path
from typing import TypedDict

from ..errors import ProjectError
from ..files import read_json, write_json
from ..governance.provenance import sha256_file
from ..settings import PathSettings
from ..steps.govern import model_card_json


class PackageSummary(TypedDict):
    release: str
    files: list[str]
    model_sha256: str


def package(paths: PathSettings) -> PackageSummary:
    """Copy model, model card, provenance and governance report into `paths.release`."""
    if not Path(paths.governance_report).is_file():
        raise ProjectError(f"{paths.governance_report} not found: run govern first")
    report = read_json(paths.governance_report)
    verdict = report.get("verdict")
    if verdict != "pass":
        raise ProjectError(
            f"{paths.governance_report}: governance verdict is {verdict!r}, not 'pass': nothing released"
        )
    model_sha256 = sha256_file(paths.model)
    if model_sha256 != report.get("model_sha256"):
        raise ProjectError(f"{paths.model} changed after govern checked it: run govern again")
    files = [
        paths.model,
        paths.model_card,
        model_card_json(paths.model_card),
        paths.provenance,
        paths.governance_report,
        paths.governance_html,
    ]
    release = Path(paths.release)
    release.parent.mkdir(parents=True, exist_ok=True)
    # Build the folder beside the target, then swap it in: no half-written release.
    staging = Path(tempfile.mkdtemp(prefix=f".{release.name}.", dir=release.parent))
    try:
        manifest = {}
        for source in files:
            if not Path(source).is_file():
                raise ProjectError(f"{source} not found: run govern first")
            shutil.copyfile(source, staging / Path(source).name)
            manifest[Path(source).name] = sha256_file(staging / Path(source).name)
        write_json(staging / "manifest.json", {"sha256": manifest, "verdict": verdict})
        old = None
        if release.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{release.name}.old.", dir=release.parent))
            os.replace(release, old / release.name)
        os.replace(staging, release)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"release": release.as_posix(), "files": sorted(manifest), "model_sha256": model_sha256}
