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
from importlib import metadata
from pathlib import Path

from ..errors import ProjectError
from ..project import SLUG

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = f"urn:{SLUG}:mlops-pipeline:v1"
# The libraries whose versions change what a model is; every other one is in the SBOM.
LIBRARIES = ("numpy", "pandas", "scikit-learn", "joblib", "pandera", "openlineage-python")
NO_COMMIT = "none"


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


def rfc3339(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def pipeline_started(pipeline_run: str | None, first_output: Path) -> str:
    """When the pipeline run `pipeline_run` began, not when this step did.

    A run id the local runner or lineage made is a UUIDv7, whose first 48 bits
    are its creation time in milliseconds. An orchestrator's own run id (a
    Kubernetes UID) carries no time; then the run began no later than
    its first step wrote `first_output` (ingest's data).
    """
    try:
        parsed = uuid.UUID(pipeline_run or "")
    except ValueError:
        parsed = None
    if parsed is not None and parsed.version == 7:
        return rfc3339((parsed.int >> 80) / 1000)
    try:
        return rfc3339(Path(first_output).stat().st_mtime)
    except OSError:
        return utc_now()


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that shape the model."""
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


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
    sbom_sha256: str,
    orchestrator: str = "LOCAL",
    pipeline_run: str | None = None,
) -> dict:
    """Build the provenance statement (a dict ready for JSON); `orchestrator` built it, in `pipeline_run`.

    The environment is a resolved dependency too, named by its SBOM's digest;
    package writes that SBOM into the release and refuses if it differs.
    """
    dependencies = [_file(path) for path in data_files]
    commit = source_commit()
    if commit:
        dependencies.append({"name": "source", "digest": {"gitCommit": commit}})
    dependencies.append(
        {
            "name": "python-environment",
            "digest": {"sha256": sbom_sha256},
            "annotations": {"sbom": "sbom.cdx.json", "format": "CycloneDX 1.6"},
        }
    )
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
                    "libraries": library_versions(),
                    "orchestrator": builder,
                    "sourceCommit": commit or NO_COMMIT,
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
