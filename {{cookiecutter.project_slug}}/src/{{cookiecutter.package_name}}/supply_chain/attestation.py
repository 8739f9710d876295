"""Sign a release folder: SBOM, ML-BOM, a DSSE-signed provenance, one release-log entry."""

import copy
import json
from pathlib import Path

from .. import __version__
from ..errors import ProjectError
from ..files import atomic_path, read_json, write_json
from ..governance.provenance import sha256_file, utc_now
from ..project import SLUG as PROJECT
from . import dsse, mlbom, release_log, sbom

ENVELOPE = "provenance.dsse.json"
SBOM_FILE = "sbom.cdx.json"
MLBOM_FILE = "mlbom.cdx.json"
LOG_FILE = "release-log.jsonl"
# In a copy of the release (the cluster's model store): the release log it was signed
# into, up to its own package entry. The store's own log records promotions only.
SIGNING_LOG = "signing-log.jsonl"


def release_log_path(release: Path) -> Path:
    """Where the release log of `release` lives: beside the release folder."""
    return Path(release).parent / LOG_FILE


def signing_log_text(release: Path, log: Path) -> str | None:
    """The lines of `log` up to the package entry of `release`, or None when the log lacks it.

    Its hashes chain up to the head the signed provenance pins, so this prefix
    can be checked where the log it came from is not (a copy of the release).
    """
    if not (Path(release) / ENVELOPE).is_file() or not Path(log).is_file():
        return None
    attestation = sha256_file(Path(release) / ENVELOPE)
    kept = []
    for line in Path(log).read_text(encoding="utf-8").splitlines(keepends=True):
        kept.append(line)
        try:
            entry = json.loads(line)
        except ValueError:
            return None  # an edited or torn log: verify names it; nothing to copy
        if isinstance(entry, dict) and entry.get("attestation_sha256") == attestation:
            return "".join(kept)
    return None


def environment_sbom() -> dict:
    """The SBOM of the environment this process runs in, with this project as its subject."""
    return sbom.environment_sbom(PROJECT, __version__)


def recorded_sbom_sha256(statement: dict) -> str | None:
    """The SBOM digest govern recorded among the provenance's resolved dependencies."""
    for dependency in statement["predicate"]["buildDefinition"].get("resolvedDependencies", []):
        if dependency.get("annotations", {}).get("sbom"):
            return dependency["digest"]["sha256"]
    return None


def attest(staging: Path, release_name: str, model_file: str, signing_key: Path, log: Path) -> dict:
    """Add SBOM, ML-BOM and the signed provenance to the release being built in `staging`.

    `staging` already holds the model, model card, provenance.json (govern's
    statement) and reports. The signed statement is govern's, with every
    release file and the release log's head added as byproducts. Last, the
    release is appended to the log `log`, chained.
    """
    staging = Path(staging)
    statement = read_json(staging / "provenance.json")
    model_sha256 = sha256_file(staging / model_file)
    subjects = {s.get("digest", {}).get("sha256") for s in statement.get("subject", [])}
    if model_sha256 not in subjects:
        raise ProjectError(f"{model_file}: not the model the provenance names: run govern again")
    environment = environment_sbom()
    if recorded_sbom_sha256(statement) != sbom.sha256(environment):
        raise ProjectError(
            "the Python environment differs from the one govern recorded (its SBOM changed): "
            "run govern again in this environment"
        )
    with atomic_path(staging / SBOM_FILE) as tmp:
        tmp.write_bytes(sbom.to_bytes(environment))
    with atomic_path(staging / MLBOM_FILE) as tmp:
        tmp.write_bytes(sbom.to_bytes(mlbom.build(staging, model_file, PROJECT, __version__)))

    log_head = release_log.head(log)
    signed = copy.deepcopy(statement)
    byproducts = signed["predicate"]["runDetails"].setdefault("byproducts", [])
    for path in sorted(staging.iterdir()):
        if path.is_file() and path.name != ENVELOPE:
            byproducts.append(
                {
                    "name": path.name,
                    "digest": {"sha256": sha256_file(path)},
                    "annotations": {"release": release_name},
                }
            )
    byproducts.append({"name": LOG_FILE, "digest": {"sha256": log_head}, "annotations": {"logHead": True}})
    key = dsse.load_or_create_key(signing_key)
    write_json(staging / ENVELOPE, dsse.sign(signed, key))
    entry = release_log.append_entry(
        log,
        {
            "action": "package",
            "release": release_name,
            "model_sha256": model_sha256,
            "attestation_sha256": sha256_file(staging / ENVELOPE),
            "key": dsse.key_id(key.public_key()),
            "time": utc_now(),
        },
    )
    # Refuse to hand over a release that would not verify (a key whose .pub is
    # not its own, a file changed while signing).
    from .verify import verify_release

    verify_release(staging, dsse.public_key_path(signing_key), log)
    return {"attestation": ENVELOPE, "sbom": SBOM_FILE, "mlbom": MLBOM_FILE, "log_entry": entry["hash"]}
