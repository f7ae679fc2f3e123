"""Tiny threaded HTTP server base on 127.0.0.1 that provider fakes subclass (real sockets, no mocks)."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit


@dataclass
class FakeRequest:
    """One request as the fake saw it. `query` keeps repeated keys as lists; headers are lower-cased."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def param(self, name: str) -> str | None:
        """First value of `name` (also accepts `name[]`)."""
        vals = self.params(name)
        return vals[0] if vals else None

    def params(self, name: str) -> list[str]:
        """All values of an array param in either style: `name[]=a&name[]=b` or `name=a&name=b`."""
        return self.query.get(name, []) + self.query.get(name + "[]", [])

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class FakeResponse:
    """What the fake answers. Build with `FakeResponse.json_(...)` or pass raw bytes."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json_(cls, obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> FakeResponse:
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        return cls(status, json.dumps(obj).encode(), h)

    def truncated(self, keep: float = 0.5) -> FakeResponse:
        """Same response with its body cut (Content-Length matches the cut body)."""
        return FakeResponse(self.status, self.body[: max(1, int(len(self.body) * keep))], dict(self.headers))


class FakeHTTPServer:
    """Base fake: subclass and override `handle(req) -> FakeResponse`.

    * `start()` / `stop()` or `with server:`; `base_url` is `http://127.0.0.1:<port>`.
    * `requests` logs every request received (including injected failures).
    * `inject(resp, times=1)` queues canned responses returned before `handle` runs
      (429s, 5xx, truncated bodies...). `inject_truncated(times)` cuts the next real responses.
    * `inject_delay(seconds, times)` sleeps before answering (to exercise client timeouts).
    """

    def __init__(self) -> None:
        self.requests: list[FakeRequest] = []
        self._injected: deque[FakeResponse] = deque()
        self._truncate = 0
        self._delays: deque[float] = deque()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- to override -------------------------------------------------------------------
    def handle(self, req: FakeRequest) -> FakeResponse:
        return FakeResponse.json_({"error": "not found"}, 404)

    # ---- fault injection ---------------------------------------------------------------
    def inject(self, resp: FakeResponse, times: int = 1) -> None:
        with self._lock:
            self._injected.extend([resp] * times)

    def inject_truncated(self, times: int = 1) -> None:
        with self._lock:
            self._truncate += times

    def inject_delay(self, seconds: float, times: int = 1) -> None:
        with self._lock:
            self._delays.extend([seconds] * times)

    def clear_injections(self) -> None:
        with self._lock:
            self._injected.clear()
            self._truncate = 0
            self._delays.clear()

    def requests_to(self, path: str) -> list[FakeRequest]:
        return [r for r in self.requests if r.path == path]

    # ---- lifecycle ---------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("fake server not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeHTTPServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                fake._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        httpd = self._httpd
        self._thread = threading.Thread(target=lambda: httpd.serve_forever(poll_interval=0.02),
                                        name="fake-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeHTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- internals ---------------------------------------------------------------------
    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        req = FakeRequest(h.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                          {k.lower(): v for k, v in h.headers.items()}, body)
        with self._lock:
            self.requests.append(req)
            injected = self._injected.popleft() if self._injected else None
            delay = self._delays.popleft() if self._delays else 0.0
        if delay:
            threading.Event().wait(delay)
        try:
            resp = injected if injected is not None else self.handle(req)
        except Exception as exc:  # a bug in a fake should be visible, not a hang
            resp = FakeResponse.json_({"fake_error": repr(exc)}, 500)
        if injected is None:
            with self._lock:
                if self._truncate:
                    self._truncate -= 1
                    resp = resp.truncated()
        try:
            h.send_response(resp.status)
            for k, v in resp.headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(resp.body)))
            h.end_headers()
            h.wfile.write(resp.body)
        except (BrokenPipeError, ConnectionResetError):
            pass


S = TypeVar("S", bound=FakeHTTPServer)


@contextmanager
def serving(server: S) -> Iterator[S]:
    """Context manager for pytest fixtures: `with serving(MyFake()) as fake: yield fake`."""
    server.start()
    try:
        yield server
    finally:
        server.stop()
