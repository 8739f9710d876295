"""The champion alias and the append-only release log that explains every move of it.

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
from ..files import append_line, read_json, read_lines, write_json
from .store import FILE_MODE, check_version, load_release

ALIAS_FILE = "champion.json"
LOG_FILE = "release-log.jsonl"


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
    """Every promote and rollback, oldest first."""
    return read_lines(Path(root) / LOG_FILE)


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


def _move(root: Path, action: str, version: str, previous: str | None, reason: str) -> dict:
    entry = {
        "time": _now(),
        "action": action,
        "version": version,
        "previous": previous,
        "actor": actor(),
        "reason": reason,
    }
    append_line(root / LOG_FILE, entry)
    write_json(root / ALIAS_FILE, {"version": version, "since": entry["time"], "action": action}, FILE_MODE)
    return entry


def promote(root: Path, version: str, reason: str) -> dict:
    """Make `version` the champion; return the release log entry."""
    root = Path(root)
    load_release(root / check_version(version))  # exists and is intact
    with _locked(root):
        previous = champion(root)
        if previous == version:
            raise ProjectError(f"release {version} is already the champion")
        return _move(root, "promote", version, previous, reason)


def rollback(root: Path, reason: str) -> dict:
    """Make the champion before the current one the champion again; return the log entry."""
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
        return _move(root, "rollback", target, current, reason)
