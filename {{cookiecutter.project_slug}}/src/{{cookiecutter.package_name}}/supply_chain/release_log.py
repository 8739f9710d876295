"""An append-only, hash-chained log of what happened to releases (package, promote, rollback).

One JSON object a line. Each entry holds `prev`, the `hash` of the entry before
it (64 zeros for the first), and its own `hash`: the sha256 of its canonical
JSON without the `hash` key. Editing an entry breaks its own hash; deleting or
reordering one breaks the next entry's `prev`; each signed release also pins
the hash of the entry it was appended after, so cutting the log short behind a
release is caught too. Whoever writes to the log calls `append_entry`.

An entry is one write on an append-mode file, but a process killed during that
write can leave the start of a line with no newline: a torn last line. Nothing
was acknowledged for it, so it is not evidence of anything; still, the log is
never cut back behind the user's back. `verify` names the torn line and
`append_entry` refuses to chain onto it until someone has looked and removed it.
"""

import fcntl
import hashlib
import json
import os
from pathlib import Path

from ..errors import ProjectError
from ..project import SLUG

GENESIS = "0" * 64


class TornEntry(ProjectError):
    """The log's last line is the start of an entry a killed process never finished."""

    def __init__(self, path: Path, number: int):
        super().__init__(
            f"{path} line {number}: torn (an append was cut short: no newline, not a whole entry); "
            "delete that last line, the entry it began was never written"
        )
        self.path = path
        self.number = number


def entry_hash(entry: dict) -> str:
    body = {key: value for key, value in entry.items() if key != "hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def head(path: Path) -> str:
    """The hash of the last entry (GENESIS for an empty or missing log); checks the chain first."""
    entries = verify_chain(path)
    return entries[-1]["hash"] if entries else GENESIS


def append_entry(path: Path, entry: dict) -> dict:
    """Append `entry` to the log at `path`, chained to the last one; return it as written.

    Appenders take turns (an exclusive lock on the log), so two never chain to
    the same entry. The chain is checked before anything is written: an edited
    or torn log stays as it is for someone to look at, and nothing is added to
    it. A whole last entry that only lacks its newline gets one first.
    """
    path = Path(path)
    record = {key: value for key, value in entry.items() if key not in ("prev", "hash")}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                record["prev"] = head(path)
            except TornEntry as torn:
                raise ProjectError(
                    f"{path} line {torn.number} is torn (an append was cut short), so nothing was added: "
                    f"delete that last line, run `{SLUG} verify`, then run this command again"
                ) from None
            record["hash"] = entry_hash(record)
            line = json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n"
            if _lacks_final_newline(path):  # the entry before is whole (head checked it): end it
                line = "\n" + line
            # One write in append mode: a reader never sees half a line from us.
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise ProjectError(f"cannot append to {path}: {exc.strerror or exc}") from exc
    return record


def _lacks_final_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        if handle.seek(0, os.SEEK_END) == 0:
            return False
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) != b"\n"


def verify_chain(path: Path) -> list[dict]:
    """Every entry of the log, in order; ProjectError naming the first line that breaks the chain.

    A torn last line (TornEntry) is reported only once every line before it checks out.
    """
    path = Path(path)
    if not path.exists():
        return []
    entries: list[dict] = []
    previous = GENESIS
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{path}: cannot read the release log: {exc}") from exc
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
        except ValueError:
            if number == len(lines) and not text.endswith("\n"):
                raise TornEntry(path, number) from None
            raise ProjectError(f"{path} line {number}: not a JSON entry (the log was edited)") from None
        if not isinstance(entry, dict) or entry.get("hash") != entry_hash(entry):
            raise ProjectError(f"{path} line {number}: edited (its hash does not match its content)")
        if entry.get("prev") != previous and number == 1:
            raise ProjectError(f"{path} line 1: does not start the log (entries before it were removed)")
        if entry.get("prev") != previous:
            raise ProjectError(
                f"{path} line {number}: does not follow line {number - 1} (an entry was removed or reordered)"
            )
        previous = entry["hash"]
        entries.append(entry)
    return entries
