"""Usage read off OpenAI and Anthropic responses, streamed or not, in the ledger's token semantics.

OpenAI (Chat Completions, Embeddings): `prompt_tokens` includes `prompt_tokens_details.cached_tokens`,
`completion_tokens` includes `completion_tokens_details.reasoning_tokens`. Responses API: the same with
`input_tokens` / `input_tokens_details.cached_tokens` / `output_tokens_details.reasoning_tokens`.
Anthropic Messages: `input_tokens` is uncached input; `cache_read_input_tokens` and
`cache_creation_input_tokens` (split by TTL in `cache_creation.ephemeral_{5m,1h}_input_tokens`) are
apart; thinking is billed inside `output_tokens`. In a stream, `message_start` carries the input side
and `message_delta` cumulative counts that replace the earlier ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.gateway.sse import SSEEvent


def _int(d: Any, *path: str) -> int:
    for key in path:
        if not isinstance(d, dict):
            return 0
        d = d.get(key)
    return d if isinstance(d, int) and not isinstance(d, bool) and d >= 0 else 0


def openai_usage(u: dict[str, Any]) -> TokenUsage:
    """Chat Completions / Embeddings (`prompt_tokens`) or Responses (`input_tokens`) usage."""
    if "prompt_tokens" in u:
        prompt, cached = _int(u, "prompt_tokens"), _int(u, "prompt_tokens_details", "cached_tokens")
        out, reasoning = _int(u, "completion_tokens"), _int(u, "completion_tokens_details", "reasoning_tokens")
    else:
        prompt, cached = _int(u, "input_tokens"), _int(u, "input_tokens_details", "cached_tokens")
        out, reasoning = _int(u, "output_tokens"), _int(u, "output_tokens_details", "reasoning_tokens")
    cached = min(cached, prompt)
    return TokenUsage(input_tokens=prompt - cached, output_tokens=out, cache_read_tokens=cached,
                      reasoning_tokens=reasoning, reasoning_included=True, requests=1)


def anthropic_usage(u: dict[str, Any]) -> TokenUsage:
    created = _int(u, "cache_creation_input_tokens")
    split = u.get("cache_creation")
    if isinstance(split, dict):
        w5, w1 = _int(split, "ephemeral_5m_input_tokens"), _int(split, "ephemeral_1h_input_tokens")
        if w5 + w1 < created:  # a split that does not cover the total: the rest at the default 5m TTL
            w5 = created - w1
    else:
        w5, w1 = created, 0  # no TTL split: Anthropic's default cache lifetime is 5 minutes
    return TokenUsage(input_tokens=_int(u, "input_tokens"), output_tokens=_int(u, "output_tokens"),
                      cache_read_tokens=_int(u, "cache_read_input_tokens"), cache_write_5m_tokens=w5,
                      cache_write_1h_tokens=w1, reasoning_included=True, requests=1)


_TIERS = {"flex": ServiceTier.FLEX, "priority": ServiceTier.PRIORITY, "batch": ServiceTier.BATCH}


def tier_of(value: Any) -> ServiceTier:
    return _TIERS.get(value, ServiceTier.STANDARD) if isinstance(value, str) else ServiceTier.STANDARD


@dataclass
class Metered:
    """What one response told us: usage (None when it carried none), model, tier, and whether it is exact."""

    usage: TokenUsage | None = None
    model: str | None = None
    tier: ServiceTier = ServiceTier.STANDARD
    estimated: bool = False


def from_json(provider: str, doc: Any) -> Metered:
    """A non-streamed response body (or a response object inside a stream event)."""
    m = Metered()
    if not isinstance(doc, dict):
        return m
    if isinstance(doc.get("model"), str):
        m.model = doc["model"]
    u = doc.get("usage")
    if isinstance(u, dict):
        m.usage = anthropic_usage(u) if provider == "anthropic" else openai_usage(u)
        m.tier = tier_of(u.get("service_tier") if provider == "anthropic" else doc.get("service_tier"))
    elif provider == "openai":
        m.tier = tier_of(doc.get("service_tier"))
    return m


@dataclass
class StreamMeter:
    """Reads usage off a stream's events; `drop(event)` says whether the client must not see it.

    `strip_usage_chunk`: the gateway asked for `stream_options.include_usage` itself, so the final
    usage-only chunk (empty `choices`) is metered and kept from the client. When a stream ends early
    (client gone, upstream cut), `result()` estimates output from the deltas seen (a chunk is about a
    token in Chat Completions; Anthropic/Responses text at ~4 characters a token).
    """

    provider: str
    endpoint: str
    strip_usage_chunk: bool = False
    prompt_estimate: int = 0
    metered: Metered = field(default_factory=Metered)
    _start_usage: dict[str, Any] = field(default_factory=dict)
    _delta_usage: dict[str, Any] = field(default_factory=dict)
    _deltas: int = 0
    _text_chars: int = 0

    def feed(self, ev: SSEEvent) -> bool:
        """Meter one event; True when the event must be dropped."""
        doc = ev.json()
        if not isinstance(doc, dict):
            return False
        if self.provider == "anthropic":
            self._anthropic(doc)
            return False
        if self.endpoint == "responses":
            self._responses(doc)
            return False
        if isinstance(doc.get("model"), str):
            self.metered.model = doc["model"]
        if doc.get("service_tier"):
            self.metered.tier = tier_of(doc.get("service_tier"))
        usage = doc.get("usage")
        if isinstance(usage, dict):
            self.metered.usage = openai_usage(usage)
            return self.strip_usage_chunk and not doc.get("choices")
        if doc.get("choices"):
            self._deltas += 1
        return False

    def _responses(self, doc: dict[str, Any]) -> None:
        kind = doc.get("type")
        resp = doc.get("response")
        if isinstance(resp, dict):
            got = from_json("openai", resp)
            self.metered.model = got.model or self.metered.model
            if got.usage is not None:
                self.metered.usage, self.metered.tier = got.usage, got.tier
        elif kind == "response.output_text.delta" and isinstance(doc.get("delta"), str):
            self._deltas += 1
            self._text_chars += len(doc["delta"])

    def _anthropic(self, doc: dict[str, Any]) -> None:
        kind = doc.get("type")
        if kind == "message_start" and isinstance(doc.get("message"), dict):
            msg = doc["message"]
            if isinstance(msg.get("model"), str):
                self.metered.model = msg["model"]
            if isinstance(msg.get("usage"), dict):
                self._start_usage = dict(msg["usage"])
        elif kind == "message_delta" and isinstance(doc.get("usage"), dict):
            self._delta_usage.update(doc["usage"])  # cumulative: the latest counts win
        elif kind == "content_block_delta" and isinstance(doc.get("delta"), dict):
            self._deltas += 1
            d = doc["delta"]
            for key in ("text", "thinking", "partial_json"):
                if isinstance(d.get(key), str):
                    self._text_chars += len(d[key])
        if self._start_usage or self._delta_usage:
            merged = {**self._start_usage, **{k: v for k, v in self._delta_usage.items() if v is not None}}
            self.metered.usage = anthropic_usage(merged)
            self.metered.tier = tier_of(merged.get("service_tier"))

    def result(self, complete: bool) -> Metered:
        """The usage of the stream; estimated when it ended before its usage arrived."""
        m = self.metered
        if self.provider == "anthropic":
            if not complete and not self._delta_usage and m.usage is not None:
                seen = max(m.usage.output_tokens, -(-self._text_chars // 4))
                m.usage = TokenUsage(m.usage.input_tokens, seen, m.usage.cache_read_tokens,
                                     m.usage.cache_write_5m_tokens, m.usage.cache_write_1h_tokens, requests=1)
                m.estimated = True
            elif m.usage is None and (self._deltas or not complete):
                m.usage = TokenUsage(input_tokens=self.prompt_estimate, output_tokens=-(-self._text_chars // 4),
                                     requests=1)
                m.estimated = True
            return m
        if m.usage is None:
            out = self._deltas if self.endpoint == "chat.completions" else -(-self._text_chars // 4)
            m.usage = TokenUsage(input_tokens=self.prompt_estimate, output_tokens=out, requests=1)
            m.estimated = True
        return m
