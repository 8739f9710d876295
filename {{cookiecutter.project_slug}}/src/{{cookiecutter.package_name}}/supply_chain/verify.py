"""Check a release: signature, every digest, and its place in the release log.

The first problem found is raised as one line naming the file (and the line of
the log) at fault; `package` and the server call this before trusting a release.
"""

import json
from pathlib import Path

from ..errors import ProjectError
from ..governance.provenance import sha256_file
from ..release.revocation import REVOKED  # forget's mark: added after signing, outside the signature
from . import dsse, release_log
from .attestation import ENVELOPE, SBOM_FILE, SIGNING_LOG, recorded_sbom_sha256


class VerificationFailed(ProjectError):
    """The release is not the one that was signed, or its log was edited."""


def _signed_statement(release: Path, public_key: Path) -> dict:
    envelope_path = release / ENVELOPE
    try:
        envelope = json.loads(envelope_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VerificationFailed(f"{envelope_path}: missing: the release is not signed") from None
    except (OSError, ValueError) as exc:
        raise VerificationFailed(f"{envelope_path}: not a readable DSSE envelope: {exc}") from None
    statement = dsse.open_envelope(envelope, dsse.load_public_key(public_key))
    if statement is None:
        raise VerificationFailed(
            f"{envelope_path}: signature does not verify with {public_key} "
            "(another key signed it, or the envelope was edited)"
        )
    return statement


def verify_release(release: Path, public_key: Path, log: Path | None = None) -> dict:
    """Raise VerificationFailed (one line) unless `release` is intact and signed by `public_key`."""
    from .attestation import release_log_path

    release = Path(release)
    if not release.is_dir():
        raise VerificationFailed(f"{release}: no such release folder")
    statement = _signed_statement(release, public_key)
    byproducts = statement["predicate"]["runDetails"].get("byproducts", [])
    signed = {b["name"]: b["digest"]["sha256"] for b in byproducts if b.get("annotations", {}).get("release")}
    for name, digest in sorted(signed.items()):
        if not (release / name).is_file():
            raise VerificationFailed(f"{release / name}: missing from the release")
        if sha256_file(release / name) != digest:
            raise VerificationFailed(f"{release / name}: sha256 differs from the signed provenance")
    for path in sorted(release.iterdir()):
        if path.name not in (ENVELOPE, REVOKED, SIGNING_LOG) and path.name not in signed:
            raise VerificationFailed(f"{path}: in the release but not in the signed provenance")
    subjects = {s["digest"]["sha256"] for s in statement.get("subject", [])}
    if not subjects & set(signed.values()):
        raise VerificationFailed(f"{release}: the signed provenance's model is not in the release")
    if signed.get(SBOM_FILE) != recorded_sbom_sha256(statement):
        raise VerificationFailed(f"{release / SBOM_FILE}: not the SBOM govern recorded in the provenance")

    if log is None:  # a copy in the model store carries the log it was signed into
        log = release / SIGNING_LOG if (release / SIGNING_LOG).is_file() else release_log_path(release)
    log = Path(log)
    try:
        entries = release_log.verify_chain(log)
    except ProjectError as exc:
        raise VerificationFailed(str(exc)) from None
    attestation = sha256_file(release / ENVELOPE)
    head = next((b["digest"]["sha256"] for b in byproducts if b.get("annotations", {}).get("logHead")), None)
    recorded = [
        e for e in entries if e.get("action") == "package" and e.get("attestation_sha256") == attestation
    ]
    if not recorded:
        raise VerificationFailed(f"{log}: no entry records this release (the log was cut short or replaced)")
    if recorded[0].get("prev") != head:
        raise VerificationFailed(
            f"{log}: the entries before this release differ from the ones it was signed after"
        )
    return {
        "release": release.as_posix(),
        "files": sorted(signed),
        "log_entries": len(entries),
        "revoked": (release / REVOKED).is_file(),
    }
