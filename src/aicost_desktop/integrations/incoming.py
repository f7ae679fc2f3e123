"""Incoming webhooks: a 127.0.0.1 listener that accepts Slack, GitHub, Stripe and our own signed requests only."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from aicost_desktop.domain.errors import InputError, OperationError
from aicost_desktop.integrations.signatures import (WEBHOOK_HEADER, InvalidSignature, verify_github, verify_slack,
                                                    verify_stripe, verify_webhook)
from aicost_desktop.integrations.store import ConnectionStore
from aicost_desktop.integrations.stripe import to_major

log = logging.getLogger("aicost.integrations.incoming")
HOST = "127.0.0.1"
PREFIX = "/hooks/"
MAX_BODY = 8 * 1024 * 1024  # GitHub caps payloads at 25 MB, but no event this app reads comes near 8 MB
SEEN = 10_000               # delivery ids remembered: a provider's retry of one event is answered, not re-run
# The keychain entry each kind verifies with (a field of that integration's connect form).
SECRET_KEYS = {"slack": "signing_secret", "github": "webhook_secret", "stripe": "webhook_secret",
               "webhook": "signing_secret"}
# Stripe events after which the revenue figures are out of date.
REVENUE_EVENTS = frozenset({"charge.succeeded", "charge.refunded", "invoice.paid", "payment_intent.succeeded"})


def check_host(host: str) -> str:
    """127.0.0.1 or InputError: the listener is reached through the user's own tunnel, never the network."""
    if host != HOST:
        raise InputError("host", host, "incoming webhooks listen on 127.0.0.1 only; expose them with a tunnel "
                                       "(cloudflared, ngrok...) pointed at http://127.0.0.1:PORT")
    return host


@dataclass(frozen=True)
class Source:
    """The connection a hook URL names: its kind says the signature scheme, `secret` verifies it."""

    name: str
    kind: str
    secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class IncomingEvent:
    """One request as the log keeps it: never the body, never a secret. `status`: accepted, duplicate,
    rejected (bad or missing signature: 401), invalid (signed but unreadable: 400), not_found (404)."""

    at: datetime
    connection: str
    kind: str
    status: str
    code: int
    event: str | None = None
    delivery: str | None = None
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "connection": self.connection, "kind": self.kind, "status": self.status,
                "code": self.code, "event": self.event, "delivery": self.delivery, "detail": self.detail}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "IncomingEvent":
        return cls(datetime.fromisoformat(str(d["at"])), str(d["connection"]), str(d["kind"]), str(d["status"]),
                   int(d["code"]), d.get("event"), d.get("delivery"), str(d.get("detail") or ""))

    def line(self) -> str:
        """'stripe (stripe): accepted 200 invoice.paid evt_1 - 10.99 USD'."""
        what = " ".join(x for x in (self.event, self.delivery) if x)
        return (f"{self.connection} ({self.kind or '?'}): {self.status} {self.code}"
                f"{' ' + what if what else ''}{' - ' + self.detail if self.detail else ''}")


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]
    event: IncomingEvent | None = None


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise ValueError("signed body is not JSON") from None


def _verify(src: Source, h: Mapping[str, str], body: bytes, now: float) -> None:
    secret = src.secret or ""
    if src.kind == "slack":
        verify_slack(secret, h.get("x-slack-request-timestamp"), h.get("x-slack-signature"), body, now=now)
    elif src.kind == "github":
        verify_github(secret, h.get("x-hub-signature-256"), body)
    elif src.kind == "stripe":
        verify_stripe(secret, h.get("stripe-signature"), body, now=now)
    else:
        verify_webhook(secret, h.get(WEBHOOK_HEADER.lower()), body, now=now)


def _read(src: Source, h: Mapping[str, str], body: bytes) -> tuple[str | None, str | None, str, dict[str, Any]]:
    """A verified request's event name, delivery id, a short detail and the reply body. ValueError: unreadable."""
    if src.kind == "slack":
        if (h.get("content-type") or "").startswith("application/json"):
            data = _json(body)
            if data.get("type") == "url_verification":  # the Events API handshake: echo the challenge
                return "url_verification", None, "", {"challenge": data.get("challenge")}
            event = data.get("event") or {}
            return str(event.get("type") or data.get("type") or "event"), data.get("event_id"), "", {"ok": True}
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if "command" in form:  # a slash command: Slack shows our answer to the user who typed it
            return f"command {form['command']}", form.get("trigger_id"), "", {"text": "Received by AI Cost Tracker."}
        payload = _json(form.get("payload", "").encode()) if "payload" in form else {}
        return f"interaction {payload.get('type') or '?'}", payload.get("trigger_id"), "", {"ok": True}
    if src.kind == "github":
        event = h.get("x-github-event") or "event"  # the body may be JSON or form-encoded: the headers say it all
        return event, h.get("x-github-delivery"), "", {"ok": True, "event": event}
    if src.kind == "stripe":
        data = _json(body)
        obj = (data.get("data") or {}).get("object") or {}
        amount, currency = obj.get("amount_paid", obj.get("amount")), obj.get("currency")
        detail = f"{to_major(amount, currency)} {currency.upper()}" \
            if isinstance(amount, int) and isinstance(currency, str) else ""
        return str(data.get("type") or "event"), data.get("id"), detail, {"received": True}
    data = _json(body)
    event = h.get("x-aicost-event") or (data.get("event") if isinstance(data, dict) else None) or "event"
    return str(event), h.get("x-aicost-delivery"), "", {"ok": True, "event": event}


class Receiver:
    """Request handling without sockets: find the connection, verify, read, de-duplicate, record.

    `sources(name)` gives the connection a hook URL names (None: unknown); `record(event)` keeps each
    outcome (the event log); `on_event(event, payload)` runs for each accepted, new event (JSON body
    or None) on the request's thread, so it must be quick (the runtime queues a job)."""

    def __init__(self, sources: Callable[[str], Source | None], *, clock: Callable[[], float] = time.time,
                 record: Callable[[IncomingEvent], Any] | None = None,
                 on_event: Callable[[IncomingEvent, Any], Any] | None = None) -> None:
        self.sources, self.clock = sources, clock
        self.record, self.on_event = record, on_event
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def _event(self, src: Source, status: str, code: int, detail: str = "", event: str | None = None,
               delivery: str | None = None) -> IncomingEvent:
        ev = IncomingEvent(datetime.now(timezone.utc), src.name, src.kind, status, code, event, delivery, detail)
        if status in ("accepted", "duplicate"):
            log.info("incoming %s", ev.line())
        else:  # a forged, stale or misaddressed request: worth a warning, never its body
            log.warning("incoming request refused: %s", ev.line())
        if self.record is not None:
            try:
                self.record(ev)
            except Exception:  # noqa: BLE001 - a full disk must not turn a good request into a 500
                log.exception("incoming event not recorded")
        return ev

    def _first_time(self, name: str, delivery: str | None) -> bool:
        if not delivery:
            return True
        with self._lock:
            key = (name, delivery)
            if key in self._seen:
                self._seen.move_to_end(key)
                return False
            self._seen[key] = None
            if len(self._seen) > SEEN:
                self._seen.popitem(last=False)
            return True

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        h = {k.lower(): v for k, v in headers.items()}
        parts = urlsplit(path)
        name = unquote(parts.path[len(PREFIX):]) if parts.path.startswith(PREFIX) else ""
        if method == "GET" and parts.path in ("", "/"):
            return Reply(200, {"ok": True, "service": "AI Cost Tracker incoming webhooks", "hooks": PREFIX + "NAME"})
        if not name or "/" in name:
            return Reply(404, {"ok": False, "error": f"not found; hooks are POST {PREFIX}<connection name>"})
        src = self.sources(name)
        if src is None or src.kind not in SECRET_KEYS:
            unknown = Source(name, src.kind if src else "")
            why = "no such connection" if src is None else f"a {src.kind} connection receives no webhooks"
            return Reply(404, {"ok": False, "error": "no such hook"}, self._event(unknown, "not_found", 404, why))
        if method != "POST":
            return Reply(405, {"ok": False, "error": "use POST"})
        if not src.secret:
            return Reply(401, {"ok": False, "error": "invalid signature"},
                         self._event(src, "rejected", 401, f"the connection has no {SECRET_KEYS[src.kind]}: "
                                                           "connect it again with the signing secret"))
        try:
            _verify(src, h, body, self.clock())
        except InvalidSignature as exc:
            return Reply(401, {"ok": False, "error": "invalid signature"}, self._event(src, "rejected", 401, str(exc)))
        try:
            event, delivery, detail, answer = _read(src, h, body)
        except (ValueError, AttributeError) as exc:  # AttributeError: JSON that is not an object
            why = str(exc) if isinstance(exc, ValueError) else "signed body is not a JSON object"
            return Reply(400, {"ok": False, "error": why}, self._event(src, "invalid", 400, why))
        delivery = str(delivery) if delivery else None
        if not self._first_time(src.name, delivery):
            return Reply(200, {**answer, "duplicate": True},
                         self._event(src, "duplicate", 200, "already received", event, delivery))
        ev = self._event(src, "accepted", 200, detail, event, delivery)
        if self.on_event is not None:
            try:
                self.on_event(ev, _payload(body, h))
            except Exception:  # noqa: BLE001 - the sender gets its 200: the event is recorded either way
                log.exception("incoming event handler failed for %s", src.name)
        return Reply(200, answer, ev)


def _payload(body: bytes, h: Mapping[str, str]) -> Any:
    if not (h.get("content-type") or "").startswith("application/json"):
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def connection_sources(store: ConnectionStore) -> Callable[[str], Source | None]:
    """Hook names are connection names; the secret is read from the keychain per request, so a secret
    added or changed while the listener runs applies at once."""
    def find(name: str) -> Source | None:
        rec = store.find(name)
        if rec is None:
            return None
        key = SECRET_KEYS.get(rec.kind)
        secret = store.secret(rec, key) if key and key in rec.secret_keys else None
        return Source(rec.name, rec.kind, secret)

    return find


class IncomingListener:
    """A threaded HTTP server on 127.0.0.1 feeding a `Receiver`; `port` 0 picks a free one."""

    def __init__(self, receiver: Receiver, port: int, host: str = HOST) -> None:
        self.receiver = receiver
        self.host, self.port = check_host(host), port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise OperationError("incoming webhooks: not listening")
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    def start(self) -> None:
        receiver = self.receiver

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 15  # a client that stops sending mid-request does not hold a thread for ever

            def _serve(self) -> None:
                if self.headers.get("Transfer-Encoding"):
                    self._send(Reply(411, {"ok": False, "error": "send a Content-Length"}), close=True)
                    return
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = -1
                if not 0 <= length <= MAX_BODY:
                    self._send(Reply(413, {"ok": False, "error": f"body over {MAX_BODY} bytes"}), close=True)
                    return
                body = self.rfile.read(length) if length else b""
                self._send(receiver.handle(self.command, self.path, dict(self.headers.items()), body))

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

            def _send(self, reply: Reply, close: bool = False) -> None:
                data = json.dumps(reply.body).encode("utf-8")
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if close:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - Receiver logs each request
                pass

        try:
            httpd = ThreadingHTTPServer((self.host, self.port), Handler)
        except OSError as err:
            raise OperationError(f"incoming webhooks: cannot listen on {self.host}:{self.port}: {err.strerror or err}"
                                 ) from err
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(target=lambda: httpd.serve_forever(poll_interval=0.2),
                                        name="aicost-incoming", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None


class EventLog:
    """The last `keep` incoming events as JSON lines in a file, so `aicost integrations events` reads what
    another process (the app, `aicost integrations listen`) received."""

    def __init__(self, path: Path, keep: int = 500) -> None:
        self.path, self.keep = path, keep
        self._lock = threading.Lock()
        self._lines: int | None = None

    def append(self, ev: IncomingEvent) -> None:
        line = json.dumps(ev.as_json(), sort_keys=True) + "\n"
        with self._lock:
            if self._lines is None:
                self._lines = len(self._read_lines())
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as fh:
                fh.write(line)
            self._lines += 1
            if self._lines > 2 * self.keep:  # trimmed now and then, not on every line
                kept = self._read_lines()[-self.keep:]
                tmp = self.path.with_suffix(".tmp")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.writelines(kept)
                os.replace(tmp, self.path)
                self._lines = len(kept)

    def _read_lines(self) -> list[str]:
        try:
            with open(self.path, encoding="utf-8") as fh:
                return fh.readlines()
        except FileNotFoundError:
            return []

    def recent(self, limit: int = 50) -> list[IncomingEvent]:
        """Newest first; a damaged line is skipped."""
        out: list[IncomingEvent] = []
        for line in reversed(self._read_lines()):
            try:
                out.append(IncomingEvent.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                continue
            if len(out) >= limit:
                break
        return out
