"""The inference log: one JSON line per row predicted, for monitoring and audit.

Each line: {"id", "request_id", "time", "model_version", "features": {column:
value}, "prediction", "probability"}. Sensitive attributes sent with a request
are kept only if the policy says so (inference_log.log_sensitive_features).

A request's lines go to the file in one write on an O_APPEND descriptor,
before the request is answered, so concurrent requests never interleave inside
a line. A server killed mid-write can leave part of an unanswered request's
lines (the kernel may stop a large write part-way on SIGKILL): some whole rows
and a fragment. The next server to open the log cuts the fragment off before
it writes, so readers only ever see whole lines (a reader racing a kill may see a torn
last line: skip a last line that does not parse). Writing never fails a
request: an error is counted and reported on stderr once, and the server
answers as usual.
"""

import json
import os
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from ..files import drop_torn_tail


class InferenceLog:
    def __init__(self, path: Path, max_bytes: int, backups: int, keep_sensitive: bool):
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self.keep_sensitive = keep_sensitive
        self.failures = 0
        self._lock = threading.Lock()
        self._repair()

    def _repair(self) -> None:
        """Cut off what a killed predecessor left half-written (it was never answered)."""
        try:
            fd = os.open(self.path, os.O_RDWR)
        except OSError:
            return  # no log yet, or none can be written: append reports that
        try:
            dropped = drop_torn_tail(fd)
        finally:
            os.close(fd)
        if dropped:
            print(
                f"warning: inference log {self.path}: dropped {dropped} bytes of an unanswered request",
                file=sys.stderr,
            )

    def lines(self, request_id: str, version: str, rows, extra: dict, labels, probabilities) -> bytes:
        """The log lines of one request, as the bytes written."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        columns = {name: rows[name].tolist() for name in rows.columns}
        if self.keep_sensitive:
            columns.update(extra)
        names = list(columns)
        out = []
        for index, (label, probability) in enumerate(
            zip(labels.tolist(), probabilities.tolist(), strict=True)
        ):
            record = {
                "id": f"{request_id}-{index}",
                "request_id": request_id,
                "time": now,
                "model_version": version,
                "features": {name: columns[name][index] for name in names},
                "prediction": int(label),
                "probability": round(float(probability), 6),
            }
            out.append(json.dumps(record, separators=(",", ":")))
        return ("\n".join(out) + "\n").encode("utf-8")

    def append(self, data: bytes) -> bool:
        """Write one request's lines; False (and a warning) if they could not be written."""
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    written = os.write(fd, data)
                    size = os.fstat(fd).st_size
                finally:
                    os.close(fd)
                if written != len(data):
                    raise OSError(f"short write ({written} of {len(data)} bytes)")
                if self.max_bytes and size >= self.max_bytes:
                    self._rotate()
            return True
        except Exception as exc:  # noqa: BLE001 - a log problem must never fail a prediction
            self.failures += 1
            if self.failures == 1 or self.failures % 1000 == 0:
                print(
                    f"warning: inference log {self.path}: {exc} ({self.failures} write(s) lost)",
                    file=sys.stderr,
                )
            return False

    def _rotate(self) -> None:
        """inference.jsonl -> .1 -> .2 ...; the oldest beyond `backups` is dropped."""
        for number in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{number}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{number + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
