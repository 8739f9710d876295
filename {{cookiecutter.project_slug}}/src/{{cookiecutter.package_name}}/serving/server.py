"""The v2 REST server: health, server and model metadata, infer; standard library only.

Routes (Open Inference Protocol v2):
    GET  /v2/health/live, /v2/health/ready
    GET  /v2                                  server metadata
    GET  /v2/models/<name>[/versions/<v>]     model metadata
    GET  /v2/models/<name>[/versions/<v>]/ready
    POST /v2/models/<name>[/versions/<v>]/infer

A bad request gets a 4xx with {"error": one reason}; an emergency cut-out
gets 503 with its reason; the server goes on serving after either. When it
follows the champion alias, a promote or rollback takes effect on the next
request, with no restart.
"""

import json
import re
import sys
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .. import __version__
from ..errors import ProjectError
from ..release import load_release
from ..release.champion import ALIAS_FILE, champion
from ..release.revocation import check_not_revoked
from ..steps.evaluate import THRESHOLD, load_model
from . import MODEL_NAME, cut_out, protocol
from .inference_log import InferenceLog

MODEL_PATH = re.compile(
    r"^/v2/models/(?P<name>[^/]+)(?:/versions/(?P<version>[^/]+))?(?P<action>/ready|/infer)?$"
)


@dataclass(frozen=True)
class Loaded:
    version: str
    model: object
    signature: dict
    allowed_revoked: str | None = None  # revoked by forget, served anyway: the reason given


class ModelSlot:
    """The model being served: a fixed release folder, or whatever the champion alias names.

    Following the alias costs one stat per request; a change loads the new
    release (checked against its manifest) before the next prediction. With
    `public_key`, a release is also verified (signature, every digest, its
    release log) before it loads: one that fails is refused, at start as at a
    later change of champion (whose requests then get 503 with the reason).
    A release `forget` revoked is refused the same way unless `allow_revoked`
    gives the reason to serve it anyway.
    """

    def __init__(
        self,
        releases: Path,
        fixed: Path | None = None,
        public_key: Path | None = None,
        allow_revoked: str | None = None,
    ):
        self.releases = Path(releases)
        self.fixed = fixed
        self.public_key = public_key
        self.allow_revoked = allow_revoked
        self._seen: tuple | None = None
        self._lock = threading.Lock()
        self.current: Loaded | None = None
        self.refresh()

    def _load(self, folder: Path) -> Loaded:
        if self.public_key is not None:
            from ..supply_chain import verify_release

            verify_release(folder, self.public_key)  # VerificationFailed is a ProjectError: 503
        release = load_release(folder)
        override = check_not_revoked(folder, self.allow_revoked)  # a ProjectError too: 503
        return Loaded(release.version, load_model(release.model), release.signature, override)

    def _alias_state(self) -> tuple | None:
        try:
            stat = (self.releases / ALIAS_FILE).stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def refresh(self) -> Loaded:
        if self.fixed is not None:
            if self.current is None:
                self.current = self._load(self.fixed)
            return self.current
        state = self._alias_state()
        if state == self._seen and self.current is not None:
            return self.current
        with self._lock:
            if state != self._seen or self.current is None:
                version = champion(self.releases)
                if version is None:
                    raise ProjectError(
                        f"no champion in {self.releases}: run package or promote, or pass --release"
                    )
                if self.current is None or self.current.version != version:
                    self.current = self._load(self.releases / version)
                self._seen = state
        return self.current


class V2Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address,
        slot: ModelSlot,
        log: InferenceLog,
        cut_out_file: Path,
        max_body_bytes: int,
        max_rows: int,
    ):
        self.slot = slot
        self.log = log
        self.cut_out_file = Path(cut_out_file)
        self.max_body_bytes = max_body_bytes
        self.max_rows = max_rows
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm on, a
    # keep-alive client's delayed ACK holds the second for ~40 ms.
    disable_nagle_algorithm = True
    # An idle or trickling connection is closed after this many seconds, so
    # slow clients cannot pile up threads.
    timeout = 60
    server: V2Server
    server_version = f"{MODEL_NAME}/{__version__}"

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        pass  # one line per request would drown the terminal; the inference log is the record

    def _send(self, status: int, payload: dict | None = None) -> None:
        body = json.dumps(payload if payload is not None else {}, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"error": message})

    def _model(self, name: str, version: str | None) -> Loaded | None:
        loaded = self.server.slot.refresh()
        if name != MODEL_NAME:
            self._error(404, f"model {name!r} not found: this server serves {MODEL_NAME!r}")
            return None
        if version is not None and version != loaded.version:
            self._error(404, f"version {version!r} of {name} not served: this server serves {loaded.version}")
            return None
        return loaded

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        try:
            self._get()
        except ProjectError as exc:
            self._error(503, str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug answers 500 and the server goes on
            print(f"error: GET {self.path}: {type(exc).__name__}: {exc}", file=sys.stderr)
            self._error(500, f"internal error ({type(exc).__name__})")

    def _get(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        if path == "/v2/health/live":
            return self._send(200, {"live": True})
        if path == "/v2/health/ready":
            why = cut_out.reason(self.server.cut_out_file)
            if why:
                return self._error(503, f"cut out: {why}")
            self.server.slot.refresh()
            return self._send(200, {"ready": True})
        if path == "/v2":
            return self._send(200, {"name": MODEL_NAME, "version": __version__, "extensions": []})
        match = MODEL_PATH.match(path)
        if not match or match["action"] == "/infer":
            return self._error(
                404 if not match else 405, f"no GET route {path}" if not match else "infer takes POST"
            )
        loaded = self._model(match["name"], match["version"])
        if loaded is None:
            return None
        if match["action"] == "/ready":
            return self._send(200, {"name": MODEL_NAME, "ready": True})
        return self._send(200, protocol.model_metadata(MODEL_NAME, loaded.version, loaded.signature))

    def do_POST(self) -> None:  # noqa: N802
        try:
            self._post()
        except protocol.RequestError as exc:
            self._error(exc.status, str(exc))
        except ProjectError as exc:
            self._error(503, str(exc))
        except Exception as exc:  # noqa: BLE001
            print(f"error: POST {self.path}: {type(exc).__name__}: {exc}", file=sys.stderr)
            self._error(500, f"internal error ({type(exc).__name__})")

    def _body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding") or length is None:
            self.close_connection = True
            raise protocol.RequestError("send the body with a Content-Length header", status=411)
        try:
            size = int(length)
        except ValueError:
            self.close_connection = True
            raise protocol.RequestError("Content-Length is not a number") from None
        if size > self.server.max_body_bytes:
            # The body stays unread, so this connection cannot carry another request.
            self.close_connection = True
            raise protocol.RequestError(
                f"request body of {size} bytes is over the {self.server.max_body_bytes}-byte limit",
                status=413,
            )
        return self.rfile.read(size)

    def _post(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        match = MODEL_PATH.match(path)
        if not match or match["action"] != "/infer":
            self._body()
            return self._error(
                404 if not match else 405, f"no POST route {path}" if not match else "only infer takes POST"
            )
        body = self._body()
        why = cut_out.reason(self.server.cut_out_file)
        if why:
            return self._error(503, f"cut out: {why}")
        loaded = self._model(match["name"], match["version"])
        if loaded is None:
            return None
        request = protocol.decode(body, loaded.signature, self.server.max_rows)
        try:
            probabilities = loaded.model.predict_proba(request.rows)[:, 1]
        except (ValueError, TypeError) as exc:
            raise protocol.RequestError(f"the model cannot score these rows: {exc}") from None
        labels = (probabilities >= THRESHOLD).astype("int64")
        request_id = request.id or str(uuid.uuid4())
        response = protocol.encode(
            MODEL_NAME, loaded.version, request_id, labels, probabilities, request.outputs
        )
        # Logged before answering: a client that has its answer finds it in the log.
        self._log(request_id, loaded, request, labels, probabilities)
        self._send(200, response)
        return None

    def _log(self, request_id: str, loaded: Loaded, request, labels, probabilities) -> None:
        log = self.server.log
        try:
            data = log.lines(request_id, loaded.version, request.rows, request.extra, labels, probabilities)
        except Exception as exc:  # noqa: BLE001 - never fail a request over its log line
            log.failures += 1
            print(f"warning: inference log: {type(exc).__name__}: {exc}", file=sys.stderr)
            return
        log.append(data)


def make_server(
    host: str,
    port: int,
    slot: ModelSlot,
    log: InferenceLog,
    cut_out_file: Path,
    max_body_bytes: int,
    max_rows: int,
) -> V2Server:
    """A bound server (port 0: any free port, read it from server.server_address)."""
    try:
        return V2Server((host, port), slot, log, cut_out_file, max_body_bytes, max_rows)
    except OSError as exc:
        raise ProjectError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
