"""Normalized token usage and the ledger record that every source (api, log, import, manual) emits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from aicost_desktop.domain.enums import CostRole, DataSource, ServiceTier
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.limits import (MAX_ROW_MONEY, MAX_TOKENS, TEXT_LIMITS, check_name, check_note,
                                          check_row_money, check_tokens, check_usage_instant, usage_range_now)

_TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens",
                 "cache_write_1h_tokens", "reasoning_tokens", "requests")
_NAME_LIMITS = tuple((name, TEXT_LIMITS[name]) for name in (
    "dedup_key", "provider", "model", "model_vendor", "project", "api_key_id", "line_item", "currency"))
_FIRST, _LAST = usage_range_now()


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
        # The common case in one pass (an import builds a record per request); the named check
        # runs only to say which field is wrong.
        for v in (self.input_tokens, self.output_tokens, self.cache_read_tokens, self.cache_write_5m_tokens,
                  self.cache_write_1h_tokens, self.reasoning_tokens, self.requests):
            if type(v) is not int or not 0 <= v <= MAX_TOKENS:
                for name in _TOKEN_FIELDS:
                    check_tokens(name, getattr(self, name))

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


# The longest period one row stands for: a yearly subscription charge (a leap year and slack).
_LONGEST_BUCKET = timedelta(days=370)


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
        # Every source builds its rows here, so these checks are the one validation of each field
        # (InputError: importers reject the line, commands print one error line).
        self.bucket_start = _utc(self.bucket_start)
        if not _FIRST <= self.bucket_start <= _LAST:  # the range as of this module's import; the check decides
            check_usage_instant("timestamp", self.bucket_start)
        self.bucket_end = _utc(self.bucket_end)
        if self.bucket_end < self.bucket_start:
            raise InputError("bucket_end", self.bucket_end.isoformat(), "is before bucket_start")
        if self.bucket_end - self.bucket_start > _LONGEST_BUCKET:
            raise InputError("bucket_end", self.bucket_end.isoformat(), "is more than a year after bucket_start")
        if not self.dedup_key:
            raise InputError("dedup_key", self.dedup_key, "every ledger row needs a dedup key")
        for name, limit in _NAME_LIMITS:
            v = getattr(self, name)
            # Printable ASCII within the column is the common case and cannot hold a bidi control.
            if v is not None and not (type(v) is str and len(v) <= limit and v.isascii() and v.isprintable()):
                check_name(name, v, limit)
        if self.note is not None:
            check_note("note", self.note)
        for name in ("reported_cost", "computed_cost"):
            value = getattr(self, name)
            if value is not None and not (type(value) is Decimal and value.is_finite()
                                          and -MAX_ROW_MONEY <= value <= MAX_ROW_MONEY):
                check_row_money(name, value)

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
