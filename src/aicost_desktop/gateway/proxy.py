"""The gateway's aiohttp application: token check, budget admission, forwarding (SSE chunk by chunk), metering."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from aicost_desktop.domain import redact
from aicost_desktop.domain.usage import UsageRecord
from aicost_desktop.gateway.config import MAX_BODY_BYTES, GatewayConfig
from aicost_desktop.gateway.envelopes import error_response
from aicost_desktop.gateway.guard import Admission, Blocked, BudgetGuard
from aicost_desktop.gateway.meter import Pricer, RequestInfo, build_record, estimate_cost, request_info
from aicost_desktop.gateway.sse import SSESplitter, without_null_usage
from aicost_desktop.gateway.token import matches
from aicost_desktop.gateway.usage import Metered, StreamMeter, from_json

log = logging.getLogger("aicost.gateway")

# Metered routes: (provider, path after /<provider>/v1/) -> endpoint name in the ledger (line_item).
METERED = {
    ("openai", "chat/completions"): "chat.completions",
    ("openai", "responses"): "responses",
    ("openai", "embeddings"): "embeddings",
    ("anthropic", "messages"): "messages",
}
# Free endpoints SDKs and Claude Code call beside the metered ones: forwarded, not metered.
UNMETERED = {("openai", "GET", "models"), ("anthropic", "GET", "models"),
             ("anthropic", "POST", "messages/count_tokens")}
_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
        "transfer-encoding", "upgrade", "host", "content-length", "accept-encoding"}
_RESPONSE_DROP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "trailer",
                  "upgrade"}
# A non-streamed body is parsed for its usage; past this size only its tail is kept (usage comes last).
PARSE_LIMIT = 64 * 1024 * 1024
TAIL = 64 * 1024


@dataclass
class GatewayState:
    """What the gateway serves with: the token, injected keys, pricing, the guard and the ledger sink."""

    config: GatewayConfig
    token: str
    price: Pricer
    guard: BudgetGuard | None
    submit: Callable[[UsageRecord, list[tuple[int, Decimal]], dict[str, Any]], None]  # row, charges, the call
    keys: dict[str, str] = field(default_factory=dict)          # provider -> injected key
    accounts: dict[str, tuple[int, str]] = field(default_factory=dict)  # provider -> (account id, name)
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    # settle(timeout): wait until the rows of calls already answered are in the ledger (False on timeout).
    settle: Callable[[float], bool] = lambda timeout: True
    recent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=100))
    counts: dict[str, int] = field(default_factory=lambda: {"requests": 0, "blocked": 0, "unauthorized": 0})
    _seen_keys: set[str] = field(default_factory=set)
    _inflight: int = 0
    _idle: threading.Condition = field(default_factory=threading.Condition)

    def begin(self) -> None:
        with self._idle:
            self._inflight += 1

    def end(self) -> None:
        with self._idle:
            self._inflight -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no metered request is between admission and its queued row (the client may
        already hold the whole response while its row is still being built)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._inflight == 0, timeout)

    def remember_key(self, header_value: str) -> None:
        """Register a passed-through client key with the redactor once (it is a secret like ours)."""
        if header_value not in self._seen_keys and len(self._seen_keys) < 1000:
            self._seen_keys.add(header_value)
            redact.register_credential_header(header_value)


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, rest = value.strip().partition(" ")
    return rest.strip() if scheme.lower() == "bearer" else None


def authorized(state: GatewayState, provider: str, headers: Any) -> bool:
    """The gateway token in `X-AICost-Token`, or, on a route that injects a stored key, in the place the
    provider's SDK puts its key (`Authorization: Bearer`, Anthropic `x-api-key`), so an unmodified SDK
    pointed at the gateway with the token as its key just works."""
    candidates = [headers.get("X-AICost-Token")]
    if provider in state.keys:
        candidates += [_bearer(headers.get("Authorization")), headers.get("x-api-key")]
    ok = False
    for c in candidates:  # every candidate compared: timing does not tell which header held it
        ok = matches(c, state.token) or ok
    return ok


def upstream_headers(state: GatewayState, provider: str, headers: Any) -> CIMultiDict[str]:
    out: CIMultiDict[str] = CIMultiDict()
    for name, value in headers.items():
        low = name.lower()
        if low in _HOP or low.startswith("x-aicost-"):
            continue
        if provider in state.keys and low in ("authorization", "x-api-key"):
            continue
        if low in ("authorization", "x-api-key"):
            state.remember_key(value)
        out.add(name, value)
    key = state.keys.get(provider)
    if key is not None:
        if provider == "anthropic":
            out["x-api-key"] = key
        else:
            out["Authorization"] = f"Bearer {key}"
    return out


def _usage_from_tail(tail: bytes) -> Any:
    """The `usage` object near the end of a body too large to parse whole."""
    at = tail.rfind(b'"usage"')
    if at < 0:
        return None
    text = tail[at:].decode("utf-8", "replace")
    colon = text.find(":")
    try:
        usage, _ = json.JSONDecoder().raw_decode(text[colon + 1:].lstrip())
    except ValueError:
        return None
    return {"usage": usage} if isinstance(usage, dict) else None


class Proxy:
    """The request handlers over one upstream ClientSession (opened on the server's loop)."""

    def __init__(self, state: GatewayState) -> None:
        self.state = state
        self.session: aiohttp.ClientSession | None = None

    async def open(self, _app: web.Application | None = None) -> None:
        cfg = self.state.config
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=cfg.connect_timeout, sock_read=cfg.read_timeout),
            auto_decompress=True)

    async def close(self, _app: web.Application | None = None) -> None:
        if self.session is not None:
            await self.session.close()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.on_startup.append(self.open)
        app.on_cleanup.append(self.close)
        app.router.add_route("*", "/openai/v1/{path:.*}", self.handle)
        app.router.add_route("*", "/anthropic/v1/{path:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        provider = request.path.split("/", 2)[1]
        path = request.match_info["path"].strip("/")
        st = self.state
        if not authorized(st, provider, request.headers):
            st.counts["unauthorized"] += 1
            return error_response(provider, 401, "missing or wrong AI Cost Tracker gateway token "
                                  "(send it in X-AICost-Token; `aicost gateway token` prints it)")
        endpoint = METERED.get((provider, path))
        if endpoint is None:
            if (provider, request.method, path) in UNMETERED:
                return await self._forward_plain(request, provider, path)
            return error_response(provider, 404, f"the AI Cost Tracker gateway does not forward /{provider}/v1/{path}")
        if request.method != "POST":
            return error_response(provider, 405, f"/{provider}/v1/{path} takes POST")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return error_response(provider, 413, f"request body over {MAX_BODY_BYTES // (1024 * 1024)} MiB")
        return await self._metered(request, provider, endpoint, path, body)

    def _url(self, provider: str, path: str, query: str) -> str:
        base = self.state.config.upstreams[provider]
        return f"{base}/{path}" + (f"?{query}" if query else "")

    async def _forward_plain(self, request: web.Request, provider: str, path: str) -> web.StreamResponse:
        assert self.session is not None
        body = await request.read()
        try:
            async with self.session.request(request.method, self._url(provider, path, request.query_string),
                                            data=body or None,
                                            headers=upstream_headers(self.state, provider, request.headers)) as up:
                data = await up.read()
                return web.Response(status=up.status, body=data, headers=_response_headers(up, len(data)))
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return error_response(provider, 502, f"upstream unreachable: {redact.redact(type(exc).__name__)}")

    async def _metered(self, request: web.Request, provider: str, endpoint: str, path: str,
                       body: bytes) -> web.StreamResponse:
        st = self.state
        started, t0 = st.clock(), time.perf_counter()
        try:
            doc = json.loads(body) if body else None
        except ValueError:
            doc = None  # forwarded as it is: the provider answers a malformed body with its own 400
        info = request_info(provider, endpoint, doc, len(body), request.headers)
        if provider in st.accounts:
            info.account_id, info.account_name = st.accounts[provider]
        strip = False
        if provider == "openai" and endpoint == "chat.completions" and info.stream and isinstance(doc, dict):
            opts = doc.get("stream_options")
            if not (isinstance(opts, dict) and opts.get("include_usage") is True):
                # Ask for the usage chunk; the client did not, so it will not see it.
                doc = {**doc, "stream_options": {**(opts if isinstance(opts, dict) else {}), "include_usage": True}}
                body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                strip = True
        admission: Admission | None = None
        if st.guard is not None:
            try:
                admission = st.guard.admit(info, estimate_cost(info, st.price, started.date()))
            except Blocked as b:
                st.counts["blocked"] += 1
                return error_response(provider, 429, b.message)
        st.counts["requests"] += 1
        st.begin()
        status, ttfb, cancelled, complete = 502, None, False, False
        metered = Metered()
        meter = StreamMeter(provider, endpoint, strip, info.prompt_estimate)
        streamed = False
        assert self.session is not None
        try:
            try:
                up = await self.session.request(request.method, self._url(provider, path, request.query_string),
                                                data=body, headers=upstream_headers(st, provider, request.headers))
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                return error_response(provider, 502, "upstream unreachable: "
                                      + redact.redact(f"{type(exc).__name__}: {exc}")[:300])
            try:
                status = up.status
                resp = web.StreamResponse(status=up.status, reason=up.reason)
                resp.headers.update(_response_headers(up, None))
                if up.headers.get("Content-Encoding") is None and up.content_length is not None and not strip:
                    resp.content_length = up.content_length
                streamed = up.content_type == "text/event-stream"
                await resp.prepare(request)
                if streamed:
                    ttfb = await self._pump_sse(up, resp, meter, strip, t0)
                else:
                    metered = await self._pump_body(provider, up, resp)
                complete = True
                await resp.write_eof()
            except ConnectionResetError:  # the client went away (after the last byte: not a cancel)
                cancelled = not complete
            except asyncio.CancelledError:  # the server is stopping, or aiohttp cancelled the handler
                cancelled = not complete
                raise
            except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, asyncio.TimeoutError) as exc:
                log.info("gateway: upstream stream ended early: %s", redact.redact(type(exc).__name__))
            finally:
                if complete:
                    up.release()
                else:
                    up.close()  # drop the upstream connection, so the provider stops generating (and billing)
            return resp
        finally:
            if streamed:
                metered = meter.result(complete)
            try:
                self._record(info, metered, status, started, ttfb, cancelled, admission)
            finally:
                st.end()

    async def _pump_sse(self, up: aiohttp.ClientResponse, resp: web.StreamResponse, meter: StreamMeter,
                        strip: bool, t0: float) -> float | None:
        """Forward a stream as it arrives (whole events when one must be held back) while metering it."""
        splitter = SSESplitter()
        ttfb: float | None = None
        async for chunk in up.content.iter_any():
            if ttfb is None:
                ttfb = (time.perf_counter() - t0) * 1000
            events = splitter.feed(chunk)
            if strip:
                out = b"".join(without_null_usage(ev.raw) for ev in events if not meter.feed(ev))
                if out:
                    await resp.write(out)
            else:
                for ev in events:
                    meter.feed(ev)
                await resp.write(chunk)
        rest = splitter.rest()
        if strip and rest:
            await resp.write(rest)
        return ttfb

    async def _pump_body(self, provider: str, up: aiohttp.ClientResponse, resp: web.StreamResponse) -> Metered:
        buf = bytearray()
        cut = False
        async for chunk in up.content.iter_any():
            buf += chunk
            if len(buf) > PARSE_LIMIT:
                del buf[:-TAIL]
                cut = True
            await resp.write(chunk)
        if cut:
            return from_json(provider, _usage_from_tail(bytes(buf)))
        try:
            return from_json(provider, json.loads(buf))
        except ValueError:
            return Metered()

    def _record(self, info: RequestInfo, metered: Metered, status: int, started: datetime, ttfb: float | None,
                cancelled: bool, admission: Admission | None) -> None:
        """Settle the reservation and queue the row; nothing here may fail the client's request."""
        st = self.state
        try:
            finished = st.clock()
            rec = build_record(info, metered, status=status, started=started, finished=max(finished, started),
                               ttfb_ms=ttfb, price=st.price, cancelled=cancelled)
            charges = st.guard.settle(admission, rec.computed_cost) if st.guard and admission else []
            call = {"at": finished.isoformat(), "provider": info.provider, "endpoint": info.endpoint,
                    "model": rec.model, "status": status, "tokens": rec.usage.total_tokens,
                    "cost": None if rec.computed_cost is None else str(rec.computed_cost),
                    "latency_ms": round((finished - started).total_seconds() * 1000, 1),
                    "project": info.project, "cancelled": cancelled}
            st.submit(rec, charges, call)
            st.recent.append(call)
        except Exception:  # noqa: BLE001 - metering is never the client's problem
            log.exception("gateway: could not meter a request")
            if st.guard and admission:
                st.guard.settle(admission, None)


def _response_headers(up: aiohttp.ClientResponse, length: int | None) -> CIMultiDict[str]:
    out: CIMultiDict[str] = CIMultiDict()
    for name, value in up.headers.items():
        if name.lower() not in _RESPONSE_DROP:
            out.add(name, value)
    return out
