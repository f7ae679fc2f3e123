"""One request's ledger row (source `proxy`) and its up-front cost estimate, both priced by the catalog."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable

from aicost_desktop.domain.enums import DataSource, ServiceTier
from aicost_desktop.domain.limits import TEXT_LIMITS
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.gateway.usage import Metered

Pricer = Callable[[str | None, TokenUsage, ServiceTier, Any], Decimal | None]
# Output reserved for a request that names no max_tokens (Chat Completions and Responses allow that).
DEFAULT_OUTPUT_ESTIMATE = 4096
BYTES_PER_TOKEN = 4  # a generous prompt-size estimate: JSON punctuation and keys count as tokens too
MAX_TAGS = 20
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_name(value: object, limit: int = TEXT_LIMITS["project"]) -> str | None:
    """A client-sent name the ledger can hold: printable, no bidi controls, cut to its column (else the
    row would be refused, and a request must never lose its row over a header)."""
    if not isinstance(value, str):
        return None
    text = "".join(c for c in value if c.isprintable() and c not in _BIDI).strip()[:limit].strip()
    return text or None


@dataclass
class RequestInfo:
    """What the gateway knows of a request before it goes upstream."""

    provider: str
    endpoint: str  # chat.completions, responses, embeddings, messages
    model: str | None
    stream: bool
    body_bytes: int
    max_output: int | None
    project: str | None = None
    tags: tuple[str, ...] = ()
    account_id: int | None = None
    account_name: str | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def prompt_estimate(self) -> int:
        return -(-self.body_bytes // BYTES_PER_TOKEN)


def request_info(provider: str, endpoint: str, body: Any, body_bytes: int, headers: Any) -> RequestInfo:
    doc = body if isinstance(body, dict) else {}
    model = clean_name(doc.get("model"), TEXT_LIMITS["model"])
    max_out = None
    for key in ("max_completion_tokens", "max_tokens", "max_output_tokens"):
        v = doc.get(key)
        if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
            max_out = v
            break
    tags = [clean_name(t, 60) for t in (headers.get("X-AICost-Tags") or "").split(",")]
    return RequestInfo(provider, endpoint, model, doc.get("stream") is True, body_bytes, max_out,
                       clean_name(headers.get("X-AICost-Project")), tuple(t for t in tags if t)[:MAX_TAGS])


def estimate_cost(info: RequestInfo, price: Pricer, day: Any) -> Decimal:
    """The most this request is expected to cost: its whole body as uncached input plus its output cap.

    An unpriced model reserves nothing (its row will be unpriced too, and counts nothing)."""
    out = 0 if info.endpoint == "embeddings" else (info.max_output if info.max_output is not None
                                                   else DEFAULT_OUTPUT_ESTIMATE)
    usage = TokenUsage(input_tokens=info.prompt_estimate, output_tokens=out, requests=1)
    cost = price(info.model, usage, ServiceTier.STANDARD, day)
    return cost if cost is not None else Decimal(0)


def build_record(info: RequestInfo, metered: Metered, *, status: int, started: datetime, finished: datetime,
                 ttfb_ms: float | None, price: Pricer, cancelled: bool) -> UsageRecord:
    """The ledger row of one request. Errors without usage cost nothing; a response without usage that
    should have had some is unpriced (shown for the user to check) rather than $0."""
    usage = metered.usage
    model = clean_name(metered.model, TEXT_LIMITS["model"]) or info.model
    if usage is None:
        usage = TokenUsage(requests=1)
        cost: Decimal | None = Decimal(0) if status >= 400 or cancelled else None
    else:
        cost = price(model, usage, metered.tier, started.date())
    latency = (finished - started).total_seconds() * 1000
    parts = [f"gateway {info.endpoint}", f"status {status}", f"{latency:.0f} ms"]
    if info.stream:
        parts.append("streamed" + (f", first byte {ttfb_ms:.0f} ms" if ttfb_ms is not None else ""))
    if cancelled:
        parts.append("cancelled by the client")
    if metered.estimated:
        parts.append("tokens estimated from the partial stream")
    if info.tags:
        parts.append("tags " + ",".join(info.tags))
    return UsageRecord(
        source=DataSource.PROXY, dedup_key=f"gw:{info.request_id}", provider=info.provider,
        bucket_start=started, bucket_end=finished, usage=usage, model=model,
        account_id=info.account_id, project=info.project, line_item=info.endpoint, service_tier=metered.tier,
        computed_cost=cost, note="; ".join(parts))
