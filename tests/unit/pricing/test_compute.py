"""Cost computation: every token kind, tier fallbacks and long-context tiers, exact Decimal results."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.pricing.compute import compute_cost, long_context_threshold
from aicost_desktop.pricing.model import ModelPrice, RateKey

D = Decimal
B, P, F, S = ServiceTier.BATCH, ServiceTier.PRIORITY, ServiceTier.FLEX, ServiceTier.STANDARD
M = 1_000_000


def price(key: str = "test-model", provider: str | None = None, **rates: str) -> ModelPrice:
    """Rates as keyword args: input="3", input_batch="1.5", input_gt200000="6"."""
    table: dict[RateKey, Decimal] = {}
    for name, value in rates.items():
        tier, above = S, 0
        for t in (B, P, F):
            if name.endswith("_" + t.value):
                name, tier = name.removesuffix("_" + t.value), t
        if "_gt" in name:
            name, thr = name.split("_gt")
            above = int(thr)
        table[RateKey(name, tier, above)] = D(value)
    return ModelPrice(key=key, source="test", rates=table, provider=provider)


def amounts(result) -> dict[str, tuple[int, str, str]]:
    return {ln.kind: (ln.tokens, f"{ln.per_mtok:f}", f"{ln.amount.normalize():f}") for ln in result.lines}


def test_all_token_kinds_are_priced_separately() -> None:
    p = price("claude-x", "anthropic", input="3", output="15", cache_read="0.3", cache_write_5m="3.75",
              cache_write_1h="6")
    u = TokenUsage(input_tokens=100_000, output_tokens=20_000, cache_read_tokens=500_000,
                   cache_write_5m_tokens=40_000, cache_write_1h_tokens=10_000)
    r = compute_cost(p, u)
    assert amounts(r) == {"input": (100_000, "3", "0.3"), "cache_read": (500_000, "0.3", "0.15"),
                          "cache_write_5m": (40_000, "3.75", "0.15"), "cache_write_1h": (10_000, "6", "0.06"),
                          "output": (20_000, "15", "0.3")}
    assert r.total == D("0.96")
    assert [ln.kind for ln in r.lines] == ["input", "cache_read", "cache_write_5m", "cache_write_1h", "output"]


def test_reasoning_tokens_billed_as_output_when_not_included() -> None:
    p = price(input="1", output="10")
    u = TokenUsage(output_tokens=1000, reasoning_tokens=500, reasoning_included=False)
    assert compute_cost(p, u).total == D("0.015")
    included = TokenUsage(output_tokens=1000, reasoning_tokens=500, reasoning_included=True)
    assert compute_cost(p, included).total == D("0.01")


def test_one_token_keeps_full_precision() -> None:
    p = price(input="0.075", output="0.3")
    r = compute_cost(p, TokenUsage(input_tokens=1))
    assert r.total == D("0.000000075")


def test_zero_cache_kinds_are_omitted_but_input_output_always_listed() -> None:
    r = compute_cost(price(input="1", output="2"), TokenUsage())
    assert [ln.kind for ln in r.lines] == ["input", "output"]
    assert r.total == 0


@pytest.mark.parametrize("tier,expected_in,expected_out", [(S, "2", "8"), (B, "1", "4"), (P, "3.5", "14"),
                                                          (F, "0.9", "3.9")])
def test_explicit_tier_prices_are_used(tier: ServiceTier, expected_in: str, expected_out: str) -> None:
    p = price(input="2", output="8", input_batch="1", output_batch="4", input_priority="3.5",
              output_priority="14", input_flex="0.9", output_flex="3.9")
    r = compute_cost(p, TokenUsage(input_tokens=M, output_tokens=M), tier)
    assert amounts(r)["input"][1:] == (expected_in, expected_in)
    assert amounts(r)["output"][1:] == (expected_out, expected_out)
    assert all(ln.note is None for ln in r.lines)


def test_batch_falls_back_to_half_of_standard_with_note() -> None:
    r = compute_cost(price(input="2", output="8"), TokenUsage(input_tokens=M, output_tokens=M), B)
    assert r.total == D("5")
    assert r.notes == ["no batch price for test-model: 50% of standard price used"]
    assert all(ln.note is None for ln in r.lines)  # said once for the breakdown, not per line


def test_flex_without_a_flex_price_bills_standard_not_batch() -> None:
    # Before: flex fell back to the batch price (1.2 + 4 = 5.2), silently half the bill.
    with_batch = price(input="2", output="8", input_batch="1.2", output_batch="4")
    r = compute_cost(with_batch, TokenUsage(input_tokens=M, output_tokens=M), F)
    assert r.total == D("10")
    assert r.notes == ["no flex price for test-model: standard price used"]
    r2 = compute_cost(price(input="2", output="8"), TokenUsage(input_tokens=M), F)
    assert r2.total == D("2") and r2.notes == ["no flex price for test-model: standard price used"]


def test_flex_note_names_only_the_kinds_without_a_flex_price() -> None:
    p = price(input="2", output="8", cache_read="0.2", input_flex="1", output_flex="4")
    r = compute_cost(p, TokenUsage(input_tokens=M, cache_read_tokens=M, output_tokens=M), F)
    assert r.total == D("5.2")  # 1 + 0.2 (standard cache read) + 4
    assert r.notes == ["no flex price for test-model (cache_read): standard price used"]


def test_priority_falls_back_to_standard_with_note() -> None:
    r = compute_cost(price(input="2", output="8"), TokenUsage(input_tokens=M), P)
    assert r.total == D("2")
    assert r.notes == ["no priority price for test-model: standard price used (priority usually costs more)"]


def test_anthropic_cache_write_fallbacks() -> None:
    # 5m = 1.25x input, 1h = 2x input when the catalog lacks them (Anthropic's published rule).
    p = price("claude-opus-9", "anthropic", input="4", output="20")
    u = TokenUsage(cache_write_5m_tokens=M, cache_write_1h_tokens=M, cache_read_tokens=M)
    lines = amounts(compute_cost(p, u))
    assert lines["cache_write_5m"] == (M, "5", "5")
    assert lines["cache_write_1h"] == (M, "8", "8")
    assert lines["cache_read"] == (M, "4", "4")  # no cache-read price: billed as input, never hidden


def test_1h_fallback_to_2x_input_when_only_5m_listed() -> None:
    p = price("claude-sonnet-x", "anthropic", input="3", output="15", cache_write_5m="3.75")
    r = compute_cost(p, TokenUsage(cache_write_1h_tokens=M))
    line = r.lines[1]
    assert (line.kind, line.per_mtok, line.amount) == ("cache_write_1h", D("6"), D("6"))
    assert line.note == "no 1h cache-write price in catalog: 2x input"


def test_non_anthropic_cache_writes_fall_back_to_input_rate() -> None:
    p = price("gemini-x", "gemini", input="1", output="4", cache_write_5m="1.5")
    lines = amounts(compute_cost(p, TokenUsage(cache_write_5m_tokens=M, cache_write_1h_tokens=M)))
    assert lines["cache_write_1h"] == (M, "1.5", "1.5")


def test_batch_applies_to_cache_kinds_too() -> None:
    p = price("claude-x", "anthropic", input="3", output="15", cache_read="0.3", cache_write_1h="6",
              input_batch="1.5", cache_read_batch="0.15")
    lines = amounts(compute_cost(p, TokenUsage(cache_read_tokens=M, cache_write_1h_tokens=M), B))
    assert lines["cache_read"] == (M, "0.15", "0.15")
    assert lines["cache_write_1h"] == (M, "3", "3")


def test_long_context_rates_apply_above_threshold_of_whole_prompt() -> None:
    p = price(input="3", output="15", cache_read="0.3", input_gt200000="6", output_gt200000="22.5",
              cache_read_gt200000="0.6")
    small = TokenUsage(input_tokens=150_000, cache_read_tokens=50_000, output_tokens=1000, requests=1)
    assert compute_cost(p, small).above_tokens == 0  # exactly 200k is not above
    big = TokenUsage(input_tokens=150_000, cache_read_tokens=50_001, output_tokens=1000, requests=1)
    r = compute_cost(p, big)
    assert r.above_tokens == 200_000
    assert amounts(r) == {"input": (150_000, "6", "0.9"), "cache_read": (50_001, "0.6", "0.0300006"),
                          "output": (1000, "22.5", "0.0225")}
    assert r.notes == ["prompt above 200k tokens: long-context rates"]


def test_long_context_picks_highest_exceeded_threshold_and_tier() -> None:
    p = price(input="1", output="2", input_gt128000="2", output_gt128000="4", input_gt272000="5",
              output_gt272000="9", input_gt272000_batch="2.5")
    u = TokenUsage(input_tokens=300_000, requests=1)
    assert long_context_threshold(p, u) == 272_000
    assert compute_cost(p, u).lines[0].per_mtok == D("5")
    assert compute_cost(p, u, B).lines[0].per_mtok == D("2.5")
    # output has a >272k rate but no batch one: half of the >272k standard rate
    assert compute_cost(p, TokenUsage(input_tokens=300_000, output_tokens=10, requests=1), B).lines[1].per_mtok == D("4.5")


def test_missing_long_context_rate_for_a_kind_uses_its_base_rate() -> None:
    p = price(input="1.25", output="10", cache_read="0.125", input_gt200000="2.5", output_gt200000="15")
    r = compute_cost(p, TokenUsage(input_tokens=190_000, cache_read_tokens=20_000, requests=1))
    assert amounts(r)["cache_read"][1] == "0.125"
    assert r.lines[1].note == "no >200k cache_read price in catalog: base rate used"


def test_aggregated_buckets_need_the_flag() -> None:
    p = price(input="3", output="15", input_gt200000="6")
    bucket = TokenUsage(input_tokens=5_000_000, requests=40)
    assert compute_cost(p, bucket).total == D("15")  # cannot tell per request: base rates
    assert compute_cost(p, bucket, long_context=True).total == D("30")
    single = TokenUsage(input_tokens=300_000, requests=1)
    assert compute_cost(p, single, long_context=False).total == D("0.9")


def test_unpriced_kind_with_tokens_returns_none_not_zero() -> None:
    embedding = price(input="0.02")
    assert compute_cost(embedding, TokenUsage(input_tokens=M)).total == D("0.02")
    assert compute_cost(embedding, TokenUsage(input_tokens=M, output_tokens=1)) is None
    output_only = price(output="5")
    assert compute_cost(output_only, TokenUsage(input_tokens=1)) is None


def test_anthropic_long_context_cache_rates_derive_from_long_context_input() -> None:
    # Published: cache prices are multiples of the input price at every prompt size.
    p = price("claude-x", "anthropic", input="3", output="15", input_gt200000="6", output_gt200000="22.5")
    u = TokenUsage(input_tokens=150_000, cache_read_tokens=M // 10, cache_write_5m_tokens=M // 10,
                   cache_write_1h_tokens=M // 10, requests=1)
    lines = {ln.kind: ln for ln in compute_cost(p, u).lines}
    assert [lines[k].per_mtok for k in ("cache_read", "cache_write_5m", "cache_write_1h")] == [
        D("0.6"), D("7.5"), D("12")]
    assert lines["cache_write_1h"].note == "no >200k cache_write_1h price in catalog: 2x >200k input"


def test_a_bucket_of_unknown_request_count_is_not_one_request() -> None:
    # requests=0 is what aggregated API rows carry: never judge them by their own size.
    p = price(input="3", output="15", input_gt200000="6", output_gt200000="22.5")
    day = TokenUsage(input_tokens=4 * M, output_tokens=400_000)
    assert day.requests == 0
    assert long_context_threshold(p, day) == 0
    assert compute_cost(p, day).total == D("18")
    assert compute_cost(p, day, long_context=True).total == D("33")


def test_fast_speed_multiplies_every_rate_once() -> None:
    p = ModelPrice(key="claude-opus-x", source="test", provider="anthropic", fast_multiplier=D(6),
                   rates={RateKey("input"): D(5), RateKey("output"): D(25), RateKey("input", S, 200_000): D(10)})
    u = TokenUsage(input_tokens=M, cache_write_1h_tokens=M, output_tokens=M, requests=1)
    r = compute_cost(p, u, speed="fast")
    assert amounts(r) == {"input": (M, "60", "60"), "cache_write_1h": (M, "120", "120"),
                          "output": (M, "150", "150")}  # 2M prompt: 6 x $10 long-context input
    assert r.speed == "fast" and "fast mode: 6x standard rates" in r.notes
    assert compute_cost(p.at_speed("fast"), u, speed="fast").total == r.total  # not multiplied twice
    assert compute_cost(p, u).total == D("55")  # 10 + 2 x 10 + 25


def test_fast_speed_without_multiplier_and_bad_speed() -> None:
    p = price("claude-x", "anthropic", input="3", output="15")
    r = compute_cost(p, TokenUsage(input_tokens=M), speed="fast")
    assert r.total == D("3") and r.notes == ["no fast-mode price for claude-x: standard price used"]
    with pytest.raises(ValueError, match="speed='ludicrous': must be one of standard, fast"):
        compute_cost(p, TokenUsage(), speed="ludicrous")


def test_deepseek_cache_writes_are_cache_miss_input() -> None:
    p = price("deepseek-chat", "deepseek", input="0.28", output="0.42", cache_read="0.028")
    lines = amounts(compute_cost(p, TokenUsage(cache_write_5m_tokens=M, cache_write_1h_tokens=M)))
    assert lines["cache_write_5m"] == (M, "0.28", "0.28") and lines["cache_write_1h"] == (M, "0.28", "0.28")
