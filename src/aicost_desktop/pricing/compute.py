"""Token usage x model price -> cost lines, with tier, speed and long-context rules; all arithmetic in Decimal."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.pricing.model import (CACHE_READ, CACHE_WRITE_1H, CACHE_WRITE_5M, INPUT, KINDS, MTOK, OUTPUT,
                                          STANDARD_SPEED, ModelPrice, plain)

STANDARD = ServiceTier.STANDARD
# When the catalog has no price for a tier. OpenAI and Anthropic both bill batch at 50% of
# standard. Flex and priority have no universal rule, so they bill the standard price (a
# floor for priority, maybe an over-statement for flex; either way the breakdown says so).
TIER_FALLBACK_FACTOR = {ServiceTier.BATCH: Decimal("0.5"), ServiceTier.FLEX: Decimal(1),
                        ServiceTier.PRIORITY: Decimal(1)}
TIER_FALLBACK_TEXT = {
    ServiceTier.BATCH: "50% of standard price used",
    ServiceTier.FLEX: "standard price used",
    ServiceTier.PRIORITY: "standard price used (priority usually costs more)",
}
# Anthropic's published multipliers of the input price, at every prompt size: cache read 0.1x,
# 5-minute write 1.25x, 1-hour write 2x.
ANTHROPIC_CACHE = {CACHE_READ: Decimal("0.1"), CACHE_WRITE_5M: Decimal("1.25"), CACHE_WRITE_1H: Decimal(2)}
ANTHROPIC_5M = ANTHROPIC_CACHE[CACHE_WRITE_5M]
ANTHROPIC_1H = ANTHROPIC_CACHE[CACHE_WRITE_1H]

Rate = tuple[Decimal, str | None]


@dataclass(frozen=True)
class CostLine:
    """One priced token kind: tokens x per-million rate = amount; `note` explains any fallback."""

    kind: str
    tokens: int
    per_mtok: Decimal
    amount: Decimal
    note: str | None = None


@dataclass(frozen=True)
class CostBreakdown:
    """The cost of one usage under one price; `above_tokens` is the long-context tier applied (0 = none)."""

    total: Decimal
    lines: list[CostLine]
    model_key: str
    tier: ServiceTier
    above_tokens: int = 0
    notes: list[str] = field(default_factory=list)
    speed: str = STANDARD_SPEED


@dataclass(frozen=True)
class _Got:
    rate: Decimal
    notes: tuple[str, ...] = ()
    tier_fallback: bool = False  # the tier had no price: TIER_FALLBACK_FACTOR of standard was used


def _join(*notes: str | None) -> str | None:
    parts = [n for n in notes if n]
    return "; ".join(parts) if parts else None


def _tiered(price: ModelPrice, kind: str, tier: ServiceTier, above: int) -> _Got | None:
    """An explicit rate for (kind, tier, threshold), else the standard one adjusted for the tier."""
    explicit = price.rate(kind, tier, above)
    if explicit is not None:
        return _Got(explicit)
    if tier is STANDARD:
        return None
    std = price.rate(kind, STANDARD, above)
    return None if std is None else _Got(std * TIER_FALLBACK_FACTOR[tier], (), True)


def _derived(got: _Got | None, factor: Decimal, note: str) -> _Got | None:
    return None if got is None else _Got(got.rate * factor, (note, *got.notes), got.tier_fallback)


def _resolve(price: ModelPrice, kind: str, tier: ServiceTier, above: int) -> _Got | None:
    """Order: explicit rate -> tier fallback -> (long context) the published rule or the base rate
    of the same kind -> (cache kinds) a rate derived from input. None means unpriced."""
    got = _tiered(price, kind, tier, above)
    if got is not None:
        return got
    if above:
        k = f">{above // 1000}k"
        if price.anthropic_style and kind in ANTHROPIC_CACHE and price.rate(INPUT, STANDARD, above) is not None:
            # Anthropic scales cache prices with the long-context input price (e.g. Sonnet 4
            # >200k: $6 input -> $7.50 5m write, $12 1h write, $0.60 read), so the base cache
            # rate would under-bill a long prompt.
            m = ANTHROPIC_CACHE[kind]
            return _derived(_resolve(price, INPUT, tier, above), m,
                            f"no {k} {kind} price in catalog: {plain(m)}x {k} input")
        return _derived(_resolve(price, kind, tier, 0), Decimal(1),
                        f"no {k} {kind} price in catalog: base rate used")
    if kind == CACHE_READ:
        # No listed cache-read price (models from before prompt caching): bill as input, which
        # can only over-state, never hide, spend.
        return _derived(_resolve(price, INPUT, tier, 0), Decimal(1), "no cache-read price in catalog: input rate")
    if kind in (CACHE_WRITE_5M, CACHE_WRITE_1H):
        if price.cache_writes_at_input:
            return _derived(_resolve(price, INPUT, tier, 0), Decimal(1),
                            "DeepSeek bills cache writes as cache-miss input")
        if price.anthropic_style:
            # LiteLLM lacks some Claude cache rates (often the 1-hour one); Anthropic's
            # published rule is 1.25x (5m) and 2x (1h) the base input price.
            m = ANTHROPIC_CACHE[kind]
            label = "5m" if kind == CACHE_WRITE_5M else "1h"
            return _derived(_resolve(price, INPUT, tier, 0), m,
                            f"no {label} cache-write price in catalog: {plain(m)}x input")
        if kind == CACHE_WRITE_5M:
            return _derived(_resolve(price, INPUT, tier, 0), Decimal(1), "no cache-write price in catalog: input rate")
        return _derived(_resolve(price, CACHE_WRITE_5M, tier, 0), Decimal(1),
                        "no 1h cache-write price in catalog: 5m rate")
    return None


def rate_for(price: ModelPrice, kind: str, tier: ServiceTier = STANDARD, above: int = 0) -> Rate | None:
    """The per-MTok rate to bill `kind` at, with a note when it was derived rather than listed.

    None means the kind cannot be priced.
    """
    got = _resolve(price, kind, tier, above)
    if got is None:
        return None
    tier_note = f"no {tier.value} price in catalog: {TIER_FALLBACK_TEXT[tier]}" if got.tier_fallback else None
    return got.rate, _join(*got.notes, tier_note)


def prompt_tokens(usage: TokenUsage) -> int:
    """What long-context tiers measure: the whole prompt, cached or not."""
    return usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens


def long_context_threshold(price: ModelPrice, usage: TokenUsage, long_context: bool | None = None) -> int:
    """The prompt-size tier to bill at (0 = base).

    Long-context tiers are per request (Anthropic: input + cache writes + cache reads of ONE
    request above 200k bills the whole request at long-context rates). So `long_context=None`
    judges from the usage's size only when it is known to be one request (`requests == 1`);
    an aggregate (`requests` 0 = unknown, or > 1) bills base rates, because a day of small
    requests is not one long prompt. A caller that knows (Anthropic reports a `context_window`
    dimension: `200k-1M` -> True) passes True or False; True picks the lowest threshold the
    model has (the usual single long-context tier).
    """
    thresholds = price.thresholds
    if not thresholds or long_context is False:
        return 0
    if long_context is True:
        return thresholds[0]
    if usage.requests != 1:
        return 0
    prompt = prompt_tokens(usage)
    exceeded = [t for t in thresholds if prompt > t]
    return exceeded[-1] if exceeded else 0


def _tokens(usage: TokenUsage) -> dict[str, int]:
    return {INPUT: usage.input_tokens, CACHE_READ: usage.cache_read_tokens,
            CACHE_WRITE_5M: usage.cache_write_5m_tokens, CACHE_WRITE_1H: usage.cache_write_1h_tokens,
            OUTPUT: usage.billable_output_tokens}


def tier_fallback_note(model: str, tier: ServiceTier, kinds: list[str], all_kinds: bool) -> str:
    """'no flex price for gpt-4o: standard price used' (naming the kinds when only some fell back)."""
    what = model if all_kinds else f"{model} ({', '.join(kinds)})"
    return f"no {tier.value} price for {what}: {TIER_FALLBACK_TEXT[tier]}"


def compute_cost(price: ModelPrice, usage: TokenUsage, tier: ServiceTier = STANDARD,
                 long_context: bool | None = None, speed: str | None = None) -> CostBreakdown | None:
    """Price `usage` (normalized semantics: input = uncached input) at `price` and `tier`.

    `speed="fast"` bills fast mode (the price's published multiplier of every rate); a price
    already looked up for fast (`PriceCatalog.lookup(..., speed="fast")` or a `<model>-fast`
    name) is not multiplied again. Returns None when a token kind that has tokens has no rate
    at all (unpriced, never $0). Input and output lines are always present; cache lines only
    when they have tokens.
    """
    if speed is not None:
        price = price.at_speed(speed)
    above = long_context_threshold(price, usage, long_context)
    counts = _tokens(usage)
    lines: list[CostLine] = []
    fell_back: list[str] = []
    for kind in KINDS:
        tokens = counts[kind]
        if tokens == 0 and kind not in (INPUT, OUTPUT):
            continue
        got = _resolve(price, kind, tier, above)
        if got is None:
            if tokens:
                return None
            continue  # e.g. an embedding model has no output price and produced no output
        if got.tier_fallback:
            fell_back.append(kind)
        lines.append(CostLine(kind, tokens, plain(got.rate), tokens * got.rate / MTOK, _join(*got.notes)))
    notes = [f"prompt above {above // 1000}k tokens: long-context rates"] if above else []
    if price.speed_note:
        notes.append(price.speed_note)
    if fell_back:
        notes.append(tier_fallback_note(price.key, tier, fell_back, len(fell_back) == len(lines)))
    total = sum((line.amount for line in lines), Decimal(0))
    return CostBreakdown(total, lines, price.key, tier, above, notes, price.speed)
