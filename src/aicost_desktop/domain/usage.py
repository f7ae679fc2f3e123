"""Normalized token usage and the ledger record that every source (api, log, import, manual) emits."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from decimal import Decimal

from aicost_desktop.domain.enums import CostRole, DataSource, ServiceTier


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Token counts in our normalized semantics.

    `input_tokens` is *uncached* input only (OpenAI's input_tokens minus cached minus cache
    writes; Anthropic's input_tokens as is). `output_tokens` includes reasoning tokens when
    `reasoning_included` is True (Codex, OpenAI); `reasoning_tokens` is informational.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0
    reasoning_included: bool = True
    requests: int = 0

    def __post_init__(self) -> None:
        for name in ("input_tokens", "output_tokens", "cache_read_tokens",
                     "cache_write_5m_tokens", "cache_write_1h_tokens", "reasoning_tokens", "requests"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 0:
                raise ValueError(f"{name}={v!r}: must be a non-negative integer")

    @property
    def cache_write_tokens(self) -> int:
        return self.cache_write_5m_tokens + self.cache_write_1h_tokens

    @property
    def total_tokens(self) -> int:
        out = self.output_tokens if self.reasoning_included else self.output_tokens + self.reasoning_tokens
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens + out

    @property
    def billable_output_tokens(self) -> int:
        """Output tokens to price: reasoning is billed as output."""
        return self.output_tokens if self.reasoning_included else self.output_tokens + self.reasoning_tokens

    def __add__(self, other: "TokenUsage") -> "TokenUsage":
        return TokenUsage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_5m_tokens + other.cache_write_5m_tokens,
            self.cache_write_1h_tokens + other.cache_write_1h_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
            self.reasoning_included and other.reasoning_included,
            self.requests + other.requests,
        )


def _utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt.isoformat()}: ledger instants must be timezone-aware")
    return dt.astimezone(timezone.utc)


@dataclass(slots=True)
class UsageRecord:
    """One ledger row before storage. `(source, dedup_key)` identifies it across re-syncs.

    `reported_cost` is what the provider billed (None when it reports none); `computed_cost` is
    what our catalog says (None when the model is unpriced). The repository derives the spend
    `cost` from them and `cost_role`; callers never add the two.
    """

    source: DataSource
    dedup_key: str
    provider: str
    bucket_start: datetime
    bucket_end: datetime
    usage: TokenUsage = field(default_factory=TokenUsage)
    model: str | None = None
    model_vendor: str | None = None
    account_id: int | None = None
    workspace_id: int | None = None
    project: str | None = None
    api_key_id: str | None = None
    line_item: str | None = None
    service_tier: ServiceTier = ServiceTier.STANDARD
    reported_cost: Decimal | None = None
    computed_cost: Decimal | None = None
    currency: str = "USD"
    cost_role: CostRole = CostRole.SPEND
    note: str | None = None
    is_demo: bool = False
    subscription_id: int | None = None

    def __post_init__(self) -> None:
        self.bucket_start = _utc(self.bucket_start)
        self.bucket_end = _utc(self.bucket_end)
        if self.bucket_end < self.bucket_start:
            raise ValueError(f"bucket_end={self.bucket_end.isoformat()}: before bucket_start")
        if not self.dedup_key:
            raise ValueError("dedup_key='': every ledger row needs a dedup key")

    @property
    def priced(self) -> bool:
        return self.reported_cost is not None or self.computed_cost is not None

    @property
    def spend_cost(self) -> Decimal:
        """The amount this row adds to spend totals (auto mode)."""
        if self.cost_role is not CostRole.SPEND:
            return Decimal(0)
        if self.reported_cost is not None:
            return self.reported_cost
        return self.computed_cost if self.computed_cost is not None else Decimal(0)

    def with_(self, **changes: object) -> "UsageRecord":
        return replace(self, **changes)  # type: ignore[arg-type]
