"""Provenance: an in-toto Statement with a SLSA provenance predicate for the model.

The statement says which model (its sha256) was built from which data and
source commit (their digests), by which orchestrator, with which parameters,
so anyone holding the files can check them: `sha256sum` must match.
"""

import hashlib
import platform
import shutil
import subprocess
import time
import uuid
from pathlib import Path

from ..errors import ProjectError
from ..project import SLUG

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = f"urn:{SLUG}:mlops-pipeline:v1"


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except FileNotFoundError:
        raise ProjectError(f"{path} not found: run the step that writes it first") from None
    except OSError as exc:
        raise ProjectError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def utc_now() -> str:
    """The current time as an RFC 3339 UTC timestamp."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def source_commit(root: Path | None = None) -> str | None:
    """The checked-out git commit of the source, or None outside a git work tree."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        result = subprocess.run(  # noqa: S603 - fixed arguments
            [git, "rev-parse", "--verify", "HEAD"],
            cwd=root or Path.cwd(),
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and len(commit) in (40, 64) else None


def _file(path: Path, digest: str | None = None) -> dict:
    return {"name": Path(path).as_posix(), "digest": {"sha256": digest or sha256_file(path)}}


def statement(
    model: Path,
    model_sha256: str,
    data_files: list[Path],
    byproducts: list[Path],
    parameters: dict,
    started: str,
    orchestrator: str = "LOCAL",
    pipeline_run: str | None = None,
) -> dict:
    """Build the provenance statement (a dict ready for JSON); `orchestrator` built it, in `pipeline_run`."""
    dependencies = [_file(path) for path in data_files]
    commit = source_commit()
    if commit:
        dependencies.append({"name": "source", "digest": {"gitCommit": commit}})
    builder = orchestrator
    return {
        "_type": STATEMENT_TYPE,
        "subject": [_file(model, model_sha256)],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": parameters,
                "internalParameters": {
                    "python": platform.python_version(),
                    "orchestrator": builder,
                },
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": {"id": f"urn:{SLUG}:orchestrator:{builder.lower()}"},
                "metadata": {
                    "invocationId": pipeline_run or str(uuid.uuid4()),
                    "startedOn": started,
                    "finishedOn": utc_now(),
                },
                "byproducts": [_file(path) for path in byproducts],
            },
        },
    }
