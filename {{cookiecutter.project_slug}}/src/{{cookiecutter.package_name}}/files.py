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


def drop_torn_tail(fd: int) -> int:
    """Cut a log back to its last whole line; return how many bytes went.

    A write killed by SIGKILL can stop part-way (the kernel copies a large
    buffer page by page and gives up on a fatal signal), leaving a fragment of
    the last record. That record was never acknowledged, so dropping it loses
    nothing; appending after it would glue the next record onto it. Call this
    with the only writer (under a lock, or at a server's start).
    """
    size = os.fstat(fd).st_size
    end = size
    while end > 0:
        start = max(0, end - 65536)
        chunk = os.pread(fd, end - start, start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            keep = start + newline + 1
            break
        end = start
    else:
        keep = 0
    if keep < size:
        os.ftruncate(fd, keep)
    return size - keep


def append_line(target: Path, record: dict, mode: int = 0o644) -> None:
    """Append `record` as one JSON line: one write on an O_APPEND descriptor, then fsync.

    Two writers never interleave inside a line. A process killed mid-call can
    leave part of its line (see drop_torn_tail); the next append, made under
    the caller's lock, cuts it off first, so every line in the file is whole.
    """
    line = (json.dumps(record, sort_keys=True) + "\n").encode("utf-8")
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_RDWR | os.O_APPEND | os.O_CREAT, mode)
        try:
            drop_torn_tail(fd)
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
