"""The champion alias and the append-only release log that explains every move of it.

The log is the one package signs releases into (supply_chain.release_log):
hash-chained, so an edited, removed or reordered entry is caught by `verify`.
A move appends its log line first (who, when, why, from which version to which),
then renames the new champion.json into place; both are single atomic writes
and a lock file keeps two movers apart. The log is the history rollback walks:
promote pushes a version, rollback pops back to the one before.
"""

import fcntl
import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ..errors import ProjectError
from ..files import read_json, read_lines, write_json
from ..supply_chain.release_log import append_entry
from .revocation import check_not_revoked, override_reason
from .store import FILE_MODE, LOG_FILE, check_version, load_release

ALIAS_FILE = "champion.json"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def actor() -> str:
    """Who is moving the alias: the orchestrator's service account, or the local user."""
    for name in ("RELEASE_ACTOR", "USER", "LOGNAME"):
        if os.environ.get(name):
            return os.environ[name]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / ".release.lock", os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def champion(root: Path) -> str | None:
    """The version the champion alias names, or None before the first promote."""
    alias = Path(root) / ALIAS_FILE
    if not alias.is_file():
        return None
    version = read_json(alias).get("version")
    return check_version(version) if version else None


def history(root: Path) -> list[dict]:
    """Every promote and rollback, oldest first (the log's package entries are left out)."""
    return [e for e in read_lines(Path(root) / LOG_FILE) if e.get("action") in ("promote", "rollback")]


def _stack(entries: list[dict]) -> list[str]:
    """The champions in order, as the log's promotes and rollbacks left them."""
    stack: list[str] = []
    for entry in entries:
        if entry.get("action") == "promote":
            # A move killed between its log line and its alias is logged twice when retried.
            if not stack or stack[-1] != entry["version"]:
                stack.append(entry["version"])
        elif entry.get("action") == "rollback" and stack:
            stack.pop()
    return stack


def _move(
    root: Path, action: str, version: str, previous: str | None, reason: str, revoked_override: str | None
) -> dict:
    entry = {
        "time": _now(),
        "action": action,
        "version": version,
        "previous": previous,
        "actor": actor(),
        "reason": reason,
    }
    if revoked_override is not None:  # the release is revoked: why it goes into service anyway
        entry["allow_revoked"] = revoked_override
    append_entry(root / LOG_FILE, entry)  # hash-chained after the package entries `verify` checks
    write_json(root / ALIAS_FILE, {"version": version, "since": entry["time"], "action": action}, FILE_MODE)
    return entry


def promote(root: Path, version: str, reason: str, allow_revoked: str | None = None) -> dict:
    """Make `version` the champion; return the release log entry.

    A release `forget` revoked is refused unless `allow_revoked` says why.
    """
    root = Path(root)
    load_release(root / check_version(version))  # exists and is intact
    override = check_not_revoked(root / version, allow_revoked)
    with _locked(root):
        previous = champion(root)
        if previous == version:
            raise ProjectError(f"release {version} is already the champion")
        return _move(root, "promote", version, previous, reason, override)


def rollback(root: Path, reason: str, allow_revoked: str | None = None) -> dict:
    """Make the champion before the current one the champion again; return the log entry.

    Going back to a release `forget` revoked is refused unless `allow_revoked` says why.
    """
    override_reason(allow_revoked)  # a blank reason is a mistake before anything else
    root = Path(root)
    with _locked(root):
        current = champion(root)
        stack = _stack(history(root))
        if current is None:
            raise ProjectError(f"{root / ALIAS_FILE} not found: nothing is released, nothing to roll back")
        if len(stack) < 2 or stack[-1] != current:
            raise ProjectError(
                f"no earlier champion than {current} in {root / LOG_FILE}: use promote VERSION"
            )
        target = stack[-2]
        load_release(root / target)
        override = check_not_revoked(root / target, allow_revoked)
        return _move(root, "rollback", target, current, reason, override)
