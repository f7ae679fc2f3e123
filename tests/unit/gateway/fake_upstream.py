"""A fake OpenAI + Anthropic upstream over real HTTP on 127.0.0.1, speaking both wire formats.

Streamed and non-streamed answers, errors, slow streams and client disconnects, steered per request by
`X-Fake-*` headers (which the gateway forwards like any other header):
  X-Fake-Status       answer with this HTTP error and the provider's error envelope
  X-Fake-Prompt       prompt tokens (OpenAI: including cached) / uncached input tokens (Anthropic)
  X-Fake-Output       output tokens (OpenAI: including reasoning)
  X-Fake-Cached       cached prompt tokens / cache read tokens
  X-Fake-Reasoning    reasoning tokens (OpenAI)
  X-Fake-Write5m / X-Fake-Write1h  Anthropic cache writes by TTL
  X-Fake-Chunks       content deltas in a stream (default 5)
  X-Fake-Delay        seconds to wait before each delta (slow streams)
Every answer's usage is logged in `served` (ground truth for the tests), with whether the stream was
finished or cut by the client.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

OPENAI_MODEL = "gpt-4o-mini-2024-07-18"
ANTHROPIC_MODEL = "claude-sonnet-4-5-20250929"
EMBED_MODEL = "text-embedding-3-small"


@dataclass
class Served:
    """One request the fake answered: path, headers, body and the usage it put in the answer."""

    path: str
    headers: dict[str, str]
    body: Any
    usage: dict[str, int] = field(default_factory=dict)
    status: int = 200
    stream: bool = False
    finished: bool = False


def _n(request: web.Request, name: str, default: int) -> int:
    return int(request.headers.get(f"X-Fake-{name}", default))


class FakeUpstream:
    """`start()` serves on a free port in its own thread; `url` is the base (`.../openai/v1`-style bases below)."""

    def __init__(self) -> None:
        self.served: list[Served] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.disconnected = threading.Event()

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def anthropic_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/anthropic/v1"

    def start(self) -> "FakeUpstream":
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            loop.run_until_complete(self._serve())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())  # type: ignore[union-attr]
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True, name="fake-upstream")
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._thread = None

    async def _serve(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_post("/v1/responses", self.responses)
        app.router.add_post("/v1/embeddings", self.embeddings)
        app.router.add_get("/v1/models", self.models)
        app.router.add_post("/anthropic/v1/messages", self.messages)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def _log(self, s: Served) -> Served:
        with self._lock:
            self.served.append(s)
        return s

    async def _begin(self, request: web.Request) -> tuple[Served, Any]:
        body = await request.json()
        s = self._log(Served(request.path, dict(request.headers), body, stream=bool(body.get("stream"))))
        return s, body

    # -- OpenAI ------------------------------------------------------------------------------
    def _openai_error(self, s: Served, status: int) -> web.Response:
        s.status = status
        return web.json_response({"error": {"message": f"fake error {status}", "type": "server_error"
                                            if status >= 500 else "invalid_request_error", "param": None,
                                            "code": None}}, status=status)

    async def models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": OPENAI_MODEL, "object": "model"}]})

    async def chat(self, request: web.Request) -> web.StreamResponse:
        s, body = await self._begin(request)
        if "X-Fake-Status" in request.headers:
            return self._openai_error(s, int(request.headers["X-Fake-Status"]))
        prompt, out = _n(request, "Prompt", 20), _n(request, "Output", 10)
        cached, reasoning = _n(request, "Cached", 0), _n(request, "Reasoning", 0)
        s.usage = {"prompt_tokens": prompt, "completion_tokens": out, "cached_tokens": cached,
                   "reasoning_tokens": reasoning}
        usage = {"prompt_tokens": prompt, "completion_tokens": out, "total_tokens": prompt + out,
                 "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
                 "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0,
                                               "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}
        model = body.get("model") or OPENAI_MODEL
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1767225600, "model": model,
                "service_tier": "default", "system_fingerprint": "fp_fake"}
        if not s.stream:
            s.finished = True
            return web.json_response({**base, "object": "chat.completion", "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "hello " * out}, "finish_reason": "stop"}],
                "usage": usage})
        with_usage = (body.get("stream_options") or {}).get("include_usage") is True
        extra = {"usage": None} if with_usage else {}
        chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                        "finish_reason": None}], **extra}]
        chunks += [{**base, "choices": [{"index": 0, "delta": {"content": f"w{i} "}, "finish_reason": None}], **extra}
                   for i in range(_n(request, "Chunks", 5))]
        chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], **extra})
        if with_usage:
            chunks.append({**base, "choices": [], "usage": usage})
        events = [b"data: " + json.dumps(c, separators=(",", ":")).encode() + b"\n\n" for c in chunks]
        return await self._stream(request, s, events + [b"data: [DONE]\n\n"])

    async def responses(self, request: web.Request) -> web.StreamResponse:
        s, body = await self._begin(request)
        if "X-Fake-Status" in request.headers:
            return self._openai_error(s, int(request.headers["X-Fake-Status"]))
        prompt, out = _n(request, "Prompt", 20), _n(request, "Output", 10)
        cached, reasoning = _n(request, "Cached", 0), _n(request, "Reasoning", 0)
        s.usage = {"prompt_tokens": prompt, "completion_tokens": out, "cached_tokens": cached,
                   "reasoning_tokens": reasoning}
        usage = {"input_tokens": prompt, "input_tokens_details": {"cached_tokens": cached}, "output_tokens": out,
                 "output_tokens_details": {"reasoning_tokens": reasoning}, "total_tokens": prompt + out}
        model = body.get("model") or "gpt-5-2025-08-07"
        resp = {"id": "resp_fake", "object": "response", "created_at": 1767225600, "model": model,
                "status": "completed", "output": [{"type": "message", "id": "msg_fake", "role": "assistant",
                                                   "content": [{"type": "output_text", "text": "hi"}]}],
                "usage": usage, "service_tier": "default"}
        if not s.stream:
            s.finished = True
            return web.json_response(resp)
        n = _n(request, "Chunks", 5)
        evs = [("response.created", {"type": "response.created", "sequence_number": 0,
                                     "response": {**resp, "status": "in_progress", "output": [], "usage": None}})]
        evs += [("response.output_text.delta", {"type": "response.output_text.delta", "sequence_number": i + 1,
                                                "item_id": "msg_fake", "output_index": 0, "content_index": 0,
                                                "delta": "word "}) for i in range(n)]
        evs.append(("response.completed", {"type": "response.completed", "sequence_number": n + 1, "response": resp}))
        return await self._stream(request, s, [f"event: {k}\ndata: {json.dumps(v)}\n\n".encode() for k, v in evs])

    async def embeddings(self, request: web.Request) -> web.StreamResponse:
        s, body = await self._begin(request)
        if "X-Fake-Status" in request.headers:
            return self._openai_error(s, int(request.headers["X-Fake-Status"]))
        prompt = _n(request, "Prompt", 8)
        s.usage = {"prompt_tokens": prompt, "completion_tokens": 0, "cached_tokens": 0, "reasoning_tokens": 0}
        s.finished = True
        return web.json_response({"object": "list", "data": [{"object": "embedding", "index": 0,
                                                             "embedding": [0.1] * _n(request, "Dims", 8)}],
                                  "model": body.get("model") or EMBED_MODEL,
                                  "usage": {"prompt_tokens": prompt, "total_tokens": prompt}})

    # -- Anthropic ---------------------------------------------------------------------------
    async def messages(self, request: web.Request) -> web.StreamResponse:
        s, body = await self._begin(request)
        if "X-Fake-Status" in request.headers:
            s.status = int(request.headers["X-Fake-Status"])
            kind = {529: "overloaded_error", 429: "rate_limit_error"}.get(s.status, "invalid_request_error")
            return web.json_response({"type": "error", "error": {"type": kind, "message": "fake"}}, status=s.status)
        inp, out = _n(request, "Prompt", 25), _n(request, "Output", 15)
        read, w5, w1 = _n(request, "Cached", 0), _n(request, "Write5m", 0), _n(request, "Write1h", 0)
        s.usage = {"input_tokens": inp, "output_tokens": out, "cache_read": read, "write_5m": w5, "write_1h": w1}
        usage = {"input_tokens": inp, "cache_creation_input_tokens": w5 + w1, "cache_read_input_tokens": read,
                 "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1},
                 "output_tokens": out, "service_tier": "standard"}
        model = body.get("model") or ANTHROPIC_MODEL
        msg = {"id": "msg_fake", "type": "message", "role": "assistant", "model": model,
               "content": [{"type": "text", "text": "hello"}], "stop_reason": "end_turn", "stop_sequence": None,
               "usage": usage}
        if not s.stream:
            s.finished = True
            return web.json_response(msg)
        n = _n(request, "Chunks", 5)
        evs = [("message_start", {"type": "message_start", "message": {**msg, "content": [], "stop_reason": None,
                                                                       "usage": {**usage, "output_tokens": 1}}}),
               ("content_block_start", {"type": "content_block_start", "index": 0,
                                        "content_block": {"type": "text", "text": ""}}),
               ("ping", {"type": "ping"})]
        evs += [("content_block_delta", {"type": "content_block_delta", "index": 0,
                                         "delta": {"type": "text_delta", "text": "abcd"}}) for _ in range(n)]
        evs += [("content_block_stop", {"type": "content_block_stop", "index": 0}),
                ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                                                      "stop_sequence": None},
                                   "usage": {"output_tokens": out}}),
                ("message_stop", {"type": "message_stop"})]
        return await self._stream(request, s, [f"event: {k}\ndata: {json.dumps(v)}\n\n".encode() for k, v in evs])

    async def _stream(self, request: web.Request, s: Served, events: list[bytes]) -> web.StreamResponse:
        delay = float(request.headers.get("X-Fake-Delay", 0))
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        try:
            for i, ev in enumerate(events):
                if delay and 0 < i < len(events) - 1:
                    await asyncio.sleep(delay)
                await resp.write(ev)
            await resp.write_eof()
            s.finished = True
        except (ConnectionResetError, asyncio.CancelledError):
            self.disconnected.set()
            raise
        return resp


def wait_for(cond: Any, timeout: float = 10.0) -> bool:
    """Poll a condition (another process's or thread's state) until true or timeout."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return bool(cond())
