"""Token usage x model price -> cost lines, with tier and long-context rules; all arithmetic in Decimal."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.pricing.model import (CACHE_READ, CACHE_WRITE_1H, CACHE_WRITE_5M, INPUT, KINDS, MTOK, OUTPUT,
                                          ModelPrice, plain)

STANDARD = ServiceTier.STANDARD
# When the catalog has no price for a tier: OpenAI and Anthropic both bill batch at 50% of
# standard, and OpenAI's flex equals its batch price. Priority has no universal rule, so it
# falls back to standard (a floor, flagged in the line note).
TIER_FALLBACK_FACTOR = {ServiceTier.BATCH: Decimal("0.5"), ServiceTier.FLEX: Decimal("0.5"),
                        ServiceTier.PRIORITY: Decimal(1)}
TIER_FALLBACK_NOTE = {
    ServiceTier.BATCH: "no batch price in catalog: 50% of standard",
    ServiceTier.FLEX: "no flex price in catalog: 50% of standard",
    ServiceTier.PRIORITY: "no priority price in catalog: standard rate (priority usually costs more)",
}
# Anthropic bills cache writes at a premium over input: 1.25x for the 5-minute TTL, 2x for 1 hour.
ANTHROPIC_5M = Decimal("1.25")
ANTHROPIC_1H = Decimal(2)

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


def _join(*notes: str | None) -> str | None:
    parts = [n for n in notes if n]
    return "; ".join(parts) if parts else None


def _tiered(price: ModelPrice, kind: str, tier: ServiceTier, above: int) -> Rate | None:
    """An explicit rate for (kind, tier, threshold), else the standard one adjusted for the tier."""
    explicit = price.rate(kind, tier, above)
    if explicit is not None:
        return explicit, None
    if tier is STANDARD:
        return None
    if tier is ServiceTier.FLEX:
        batch = price.rate(kind, ServiceTier.BATCH, above)
        if batch is not None:
            return batch, "no flex price in catalog: batch price used"
    std = price.rate(kind, STANDARD, above)
    if std is None:
        return None
    return std * TIER_FALLBACK_FACTOR[tier], TIER_FALLBACK_NOTE[tier]


def rate_for(price: ModelPrice, kind: str, tier: ServiceTier = STANDARD, above: int = 0) -> Rate | None:
    """The per-MTok rate to bill `kind` at, with a note when it was derived rather than listed.

    Order: explicit rate -> tier fallback -> (long-context) base-tier rate of the same kind ->
    (cache kinds) a rate derived from input. None means the kind cannot be priced.
    """
    got = _tiered(price, kind, tier, above)
    if got is not None:
        return got
    if above:
        base = rate_for(price, kind, tier, 0)
        if base is None:
            return None
        return base[0], _join(f"no >{above // 1000}k {kind} price in catalog: base rate used", base[1])
    if kind == CACHE_READ:
        # No listed cache-read price (models from before prompt caching): bill as input, which
        # can only over-state, never hide, spend.
        inp = rate_for(price, INPUT, tier)
        return None if inp is None else (inp[0], _join("no cache-read price in catalog: input rate", inp[1]))
    if kind == CACHE_WRITE_5M:
        inp = rate_for(price, INPUT, tier)
        if inp is None:
            return None
        if price.anthropic_style:
            return inp[0] * ANTHROPIC_5M, _join("no 5m cache-write price in catalog: 1.25x input", inp[1])
        return inp[0], _join("no cache-write price in catalog: input rate", inp[1])
    if kind == CACHE_WRITE_1H:
        if price.anthropic_style:
            # LiteLLM lacks `cache_creation_input_token_cost_above_1hr` for some Claude ids;
            # Anthropic's published rule is 2x the base input price.
            inp = rate_for(price, INPUT, tier)
            return None if inp is None else (inp[0] * ANTHROPIC_1H,
                                             _join("no 1h cache-write price in catalog: 2x input", inp[1]))
        w5 = rate_for(price, CACHE_WRITE_5M, tier)
        return None if w5 is None else (w5[0], _join("no 1h cache-write price in catalog: 5m rate", w5[1]))
    return None


def prompt_tokens(usage: TokenUsage) -> int:
    """What long-context tiers measure: the whole prompt, cached or not."""
    return usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens


def long_context_threshold(price: ModelPrice, usage: TokenUsage, long_context: bool | None = None) -> int:
    """The prompt-size tier to bill at (0 = base).

    `long_context=None` decides from the usage itself, which is only sound for a single request
    (requests <= 1); an aggregated bucket cannot tell, so it bills base rates unless the caller
    knows (Anthropic reports a `context_window` dimension) and passes True or False. True picks
    the lowest threshold the model has (the usual single long-context tier).
    """
    thresholds = price.thresholds
    if not thresholds or long_context is False:
        return 0
    if long_context is True:
        return thresholds[0]
    if usage.requests > 1:
        return 0
    prompt = prompt_tokens(usage)
    exceeded = [t for t in thresholds if prompt > t]
    return exceeded[-1] if exceeded else 0


def _tokens(usage: TokenUsage) -> dict[str, int]:
    return {INPUT: usage.input_tokens, CACHE_READ: usage.cache_read_tokens,
            CACHE_WRITE_5M: usage.cache_write_5m_tokens, CACHE_WRITE_1H: usage.cache_write_1h_tokens,
            OUTPUT: usage.billable_output_tokens}


def compute_cost(price: ModelPrice, usage: TokenUsage, tier: ServiceTier = STANDARD,
                 long_context: bool | None = None) -> CostBreakdown | None:
    """Price `usage` (normalized semantics: input = uncached input) at `price` and `tier`.

    Returns None when a token kind that has tokens has no rate at all (unpriced, never $0).
    Input and output lines are always present; cache lines only when they have tokens.
    """
    above = long_context_threshold(price, usage, long_context)
    counts = _tokens(usage)
    lines: list[CostLine] = []
    for kind in KINDS:
        tokens = counts[kind]
        if tokens == 0 and kind not in (INPUT, OUTPUT):
            continue
        got = rate_for(price, kind, tier, above)
        if got is None:
            if tokens:
                return None
            continue  # e.g. an embedding model has no output price and produced no output
        per_mtok, note = got
        lines.append(CostLine(kind, tokens, plain(per_mtok), tokens * per_mtok / MTOK, note))
    notes = [f"prompt above {above // 1000}k tokens: long-context rates"] if above else []
    total = sum((line.amount for line in lines), Decimal(0))
    return CostBreakdown(total, lines, price.key, tier, above, notes)
