"""Revoked releases: the mark `forget` leaves, and the one check promote, rollback, publish and serve make.

A release trained on rows whose use was withdrawn gets `revoked.json` in its
folder. Putting such a model (back) in service is refused unless the user
says why, with `--allow-revoked REASON`; the reason goes on record (the
release log for a move of the alias, a warning line for serve).
"""

import json
from pathlib import Path

from ..errors import ProjectError

# Added to a signed release after the fact: a note about it, outside its signature.
REVOKED = "revoked.json"
OVERRIDE_OPTION = "--allow-revoked REASON"


def override_reason(allow_revoked: str | None) -> str | None:
    """The override's reason as given, checked: None when there is none, never blank."""
    if allow_revoked is None:
        return None
    if not allow_revoked.strip():
        raise ProjectError("--allow-revoked needs a reason: why use a release trained on withdrawn rows")
    return allow_revoked.strip()


def check_not_revoked(folder: Path, allow_revoked: str | None = None) -> str | None:
    """Refuse a release `forget` marked, unless overridden; return the override's reason if it was used."""
    reason = override_reason(allow_revoked)
    marker = Path(folder) / REVOKED
    if not marker.is_file():
        return None
    if reason is None:
        try:
            request = json.loads(marker.read_text(encoding="utf-8")).get("request") or "an erasure request"
        except (OSError, ValueError, AttributeError):
            request = "an erasure request"
        raise ProjectError(
            f"release {Path(folder).name} is revoked by {request} (trained on withdrawn rows, see {marker}): "
            f"retrain, or pass {OVERRIDE_OPTION} to use it anyway"
        )
    return reason
