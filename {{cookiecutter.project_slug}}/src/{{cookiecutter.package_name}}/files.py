"""Atomic file writes: a reader sees the old file or the new one, never half."""

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import ProjectError


@contextmanager
def atomic_path(target: Path, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it over `target` on success.

    `mode` sets the file's permissions before the rename (mkstemp makes it 0600),
    for files another user must read, such as a release a model server loads.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # A run killed mid-write (SIGKILL skips `finally`) leaves its temp file.
        for stale in target.parent.glob(f".{target.name}.*.tmp"):
            stale.unlink(missing_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise ProjectError(f"cannot write {target}: {exc.strerror or exc}") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(target: Path, payload: object, mode: int | None = None) -> Path:
    """Write `payload` as pretty, key-sorted JSON, atomically."""
    with atomic_path(target, mode) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return Path(target)


def read_json(source: Path) -> dict:
    """Read a JSON object written by an earlier step."""
    try:
        return json.loads(Path(source).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProjectError(f"{source} not found: run the step that writes it first") from None
    except (OSError, ValueError) as exc:
        raise ProjectError(f"{source} is not readable JSON: {exc}") from exc


def append_line(target: Path, record: dict, mode: int = 0o644) -> None:
    """Append `record` as one JSON line: one write on an O_APPEND descriptor, then fsync.

    A process killed mid-call leaves the file with or without the whole line,
    never part of it (a single write of a small buffer to a local file), and two
    writers never interleave inside a line.
    """
    line = (json.dumps(record, sort_keys=True) + "\n").encode("utf-8")
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, mode)
        try:
            written = os.write(fd, line)
            if written != len(line):
                raise OSError(f"short write ({written} of {len(line)} bytes)")
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise ProjectError(f"cannot append to {target}: {getattr(exc, 'strerror', None) or exc}") from exc


def read_lines(source: Path) -> list[dict]:
    """Every whole JSON line of an append-only log; a torn last line (power loss) is skipped."""
    try:
        text = Path(source).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{source} is not readable: {exc}") from exc
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            if number == len(text.splitlines()) and not text.endswith("\n"):
                break
            raise ProjectError(f"{source}:{number}: not a JSON line") from None
    return records
