"""Provider-published billing rules on the bundled catalog: long context, fast mode, tiers, DeepSeek cache.

Expected amounts are worked out by hand from the providers' pricing pages (Anthropic pricing and
fast-mode pages, OpenAI priority processing, DeepSeek models & pricing), not from our code.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.pricing.catalog import PriceCatalog
from aicost_desktop.pricing.sources import OverrideRow, RetiredTable, Snapshot, _data_bytes

D = Decimal
S, B, P, F = ServiceTier.STANDARD, ServiceTier.BATCH, ServiceTier.PRIORITY, ServiceTier.FLEX
M = 1_000_000
AT = date(2026, 10, 1)

# One request, 250k-token prompt: 100k input + 100k cache read + 30k 5m write + 20k 1h write, 5k out.
LONG = TokenUsage(input_tokens=100_000, cache_read_tokens=100_000, cache_write_5m_tokens=30_000,
                  cache_write_1h_tokens=20_000, output_tokens=5_000, requests=1)


def published_sonnet_long_context() -> Decimal:
    """Anthropic: above 200k the whole request bills $6 input / $22.50 output; cache scales with input."""
    inp = D(6)
    rates = {"input": inp, "cache_read": inp * D("0.1"), "cache_write_5m": inp * D("1.25"),
             "cache_write_1h": inp * 2, "output": D("22.5")}
    tokens = {"input": 100_000, "cache_read": 100_000, "cache_write_5m": 30_000, "cache_write_1h": 20_000,
              "output": 5_000}
    return sum((tokens[k] * rates[k] / M for k in rates), D(0))


@pytest.fixture(scope="module")
def catalog() -> PriceCatalog:
    return PriceCatalog.load()


@pytest.mark.parametrize("model", [
    "claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "anthropic/claude-sonnet-4-5", "claude-sonnet-4-5@20250929",
    "anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic/claude-sonnet-4.5", "vertex_ai/claude-sonnet-4-5@20250929",
    "global.anthropic.claude-sonnet-4-5-20250929-v1:0", "Claude-Sonnet-4-5-20250929",
])
def test_sonnet_4_5_long_prompt_costs_the_same_under_every_spelling(catalog: PriceCatalog, model: str) -> None:
    # Before: claude-sonnet-4-5 and its dated id got base rates ($0.6375), Bedrock/Vertex ids $1.2375.
    assert published_sonnet_long_context() == D("1.2375")
    r = catalog.breakdown(model, LONG, S, AT)
    assert r is not None and r.total == D("1.2375"), model
    assert r.above_tokens == 200_000 and "prompt above 200k tokens: long-context rates" in r.notes


def test_bedrock_regional_uplift_only_where_bedrock_charges_it(catalog: PriceCatalog) -> None:
    # Bedrock's geographic cross-region profiles (us./eu.) cost 10% more for Sonnet 4.5; global. does not.
    for model in ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"):
        assert catalog.cost_of(model, LONG, S, AT) == D("1.2375") * D("1.1"), model
    assert catalog.cost_of("global.anthropic.claude-sonnet-4-5-20250929-v1:0", LONG, S, AT) == D("1.2375")


def test_provider_wins_where_litellm_lacks_the_long_context_rates(catalog: PriceCatalog) -> None:
    # LiteLLM's first-party entries for Sonnet 4.5 carry no *_above_200k_tokens fields at all.
    raw = json.loads(_data_bytes("model_prices.json"))
    assert not any("above_200k" in f for f in raw["claude-sonnet-4-5-20250929"])
    assert catalog.snapshot_price("claude-sonnet-4-5").thresholds == []
    price = catalog.lookup("claude-sonnet-4-5", AT)
    assert price.thresholds == [200_000] and price.rate("input", above_tokens=200_000) == D("6")
    # the snapshot's batch rates still apply: LiteLLM agrees with the published base price
    assert price.rate("input", B) == D("1.5")


def test_long_context_cache_rates_scale_with_long_context_input(catalog: PriceCatalog) -> None:
    # LiteLLM's Bedrock Sonnet 4 entry has no 1h-write rate at all; Anthropic's rule is 2x input,
    # and above 200k that is 2x the $6 long-context input ($12), not 2x the base $3 (before: $6).
    key = "anthropic.claude-sonnet-4-20250514-v1:0"
    raw = json.loads(_data_bytes("model_prices.json"))[key]
    assert "cache_creation_input_token_cost_above_1hr" not in raw
    r = catalog.breakdown(key, TokenUsage(input_tokens=210_000, cache_write_1h_tokens=M // 10, requests=1), S, AT)
    line = next(ln for ln in r.lines if ln.kind == "cache_write_1h")
    assert line.per_mtok == D("12")
    assert "long-context rates: Anthropic's published price" in catalog.lookup(key, AT).note


@pytest.mark.parametrize("day,total", [
    (date(2026, 3, 12), D("1.2375")),  # 1M-context beta: long-context premium
    (date(2026, 3, 13), D("0.6375")),  # 1M context GA at standard pricing from 2026-03-13
])
def test_sonnet_4_6_long_context_premium_ended_on_2026_03_13(catalog: PriceCatalog, day: date,
                                                              total: Decimal) -> None:
    assert catalog.cost_of("claude-sonnet-4-6", LONG, S, day) == total
    assert catalog.cost_of("global.anthropic.claude-sonnet-4-6", LONG, S, day) == total
    # LiteLLM's regional Bedrock key is 10% above Anthropic; the published >200k rates keep that uplift
    assert catalog.cost_of("us.anthropic.claude-sonnet-4-6", LONG, S, day) == total * D("1.1")


def test_aggregate_rows_are_never_judged_by_a_per_request_threshold(catalog: PriceCatalog) -> None:
    # A day of Sonnet 4 from the usage API: 4M input + 0.4M output over unknown requests (0).
    day = TokenUsage(input_tokens=4 * M, output_tokens=400_000, requests=0)
    assert catalog.cost_of("claude-sonnet-4", day, S, AT) == D("18")  # was $33: the day taken for one prompt
    assert catalog.cost_of("claude-sonnet-4", TokenUsage(input_tokens=4 * M, output_tokens=400_000, requests=7),
                           S, AT) == D("18")
    # the Anthropic sync knows the context_window bucket: 200k-1M -> long_context=True
    assert catalog.cost_of("claude-sonnet-4", day, S, AT, long_context=True) == D("33")
    one = TokenUsage(input_tokens=4 * M, output_tokens=400_000, requests=1)
    assert catalog.cost_of("claude-sonnet-4", one, S, AT) == D("33")
    assert catalog.cost_of("claude-sonnet-4", one, S, AT, long_context=False) == D("18")


FAST_TOKENS = TokenUsage(input_tokens=M, output_tokens=M, cache_read_tokens=M, cache_write_5m_tokens=M, requests=1)


@pytest.mark.parametrize("model,speed,day,total", [
    # Opus 4.6 fast mode: 6x every standard rate ($30 / $150, cache read $3, 5m write $37.50). The 4M
    # prompt is above 200k: after 2026-03-13 fast mode is 6x standard across the full window ...
    ("claude-opus-4-6-fast", None, date(2026, 4, 1), D("220.5")),
    ("claude-opus-4-6", "fast", date(2026, 4, 1), D("220.5")),
    ("claude-opus-4-6-20260205-fast", None, date(2026, 4, 1), D("220.5")),
    # ... before it, fast stacks on the long-context rates: 6 x ($10 / $37.50 / $1 / $12.50)
    ("claude-opus-4-6-fast", None, date(2026, 2, 20), D("366")),
    ("claude-opus-4-7-fast", None, date(2026, 5, 1), D("220.5")),
    # Opus 4.8 fast mode is 2x ($10 / $50)
    ("claude-opus-4-8-fast", None, AT, D("73.5")),
    ("claude-opus-4-8", "FAST", AT, D("73.5")),
    ("claude-opus-4-6", "standard", date(2026, 4, 1), D("36.75")),
])
def test_fast_mode_is_priced_at_the_published_multiplier(catalog: PriceCatalog, model: str, speed: str | None,
                                                         day: date, total: Decimal) -> None:
    assert catalog.cost_of(model, FAST_TOKENS, S, day, speed=speed) == total


def test_fast_mode_breakdown_says_so_and_is_not_applied_twice(catalog: PriceCatalog) -> None:
    r = catalog.breakdown("claude-opus-4-6-fast", TokenUsage(input_tokens=M, requests=1), S, AT, speed="fast")
    assert (r.total, r.speed, r.model_key) == (D("30"), "fast", "claude-opus-4-6")
    assert r.notes == ["fast mode: 6x standard rates"]
    assert catalog.resolve_key("claude-opus-4-6-fast") == "claude-opus-4-6"


def test_fast_mode_without_a_published_multiplier_bills_standard_with_a_note(catalog: PriceCatalog) -> None:
    r = catalog.breakdown("claude-sonnet-4-5-fast", TokenUsage(input_tokens=100_000, requests=1), S, AT)
    assert r.total == D("0.3") and r.notes == ["no fast-mode price for claude-sonnet-4-5: standard price used"]
    with pytest.raises(ValueError, match="speed='warp'"):
        catalog.cost_of("claude-opus-4-6", FAST_TOKENS, S, AT, speed="warp")


def test_fast_mode_multiplies_a_user_price_and_an_exact_fast_price_is_used_as_is() -> None:
    cat = PriceCatalog(Snapshot(), RetiredTable.bundled(), [
        OverrideRow("claude-opus-4-6", date(2026, 1, 1), D("4"), D("20")),
        OverrideRow("claude-opus-4-8-fast", date(2026, 1, 1), D("9"), D("45")),
    ])
    usage = TokenUsage(input_tokens=M, output_tokens=M, requests=1)
    assert cat.cost_of("claude-opus-4-6-fast", usage, S, AT) == D("144")  # 6 x (4 + 20)
    assert cat.cost_of("claude-opus-4-8-fast", usage, S, AT) == D("54")  # the user's fast price


@pytest.mark.parametrize("model", ["deepseek-chat", "deepseek/deepseek-chat", "DeepSeek-Chat"])
def test_deepseek_cache_writes_bill_as_cache_miss_input_under_every_spelling(catalog: PriceCatalog,
                                                                             model: str) -> None:
    # LiteLLM says deepseek/deepseek-chat cache writes cost 0.0; DeepSeek bills only cache hits
    # ($0.028) and cache misses ($0.28), so a "cache write" is cache-miss input. Provider wins.
    litellm = json.loads(_data_bytes("model_prices.json"))["deepseek/deepseek-chat"]
    assert litellm["cache_creation_input_token_cost"] == 0
    usage = TokenUsage(input_tokens=M, cache_read_tokens=M, cache_write_5m_tokens=M, output_tokens=M, requests=1)
    r = catalog.breakdown(model, usage, S, AT)
    assert r.total == D("0.28") + D("0.028") + D("0.28") + D("0.42")
    line = next(ln for ln in r.lines if ln.kind == "cache_write_5m")
    assert line.per_mtok == D("0.28") and line.note == "DeepSeek bills cache writes as cache-miss input"


@pytest.mark.parametrize("model,inp,cached,out", [
    ("gpt-5", "2.5", "0.25", "20"), ("gpt-5-mini", "0.45", "0.045", "3.6"), ("gpt-5.1", "2.5", "0.25", "20"),
    ("gpt-5.2", "3.5", "0.35", "28"), ("gpt-5.4", "5", "0.5", "30"), ("gpt-5.5", "12.5", "1.25", "75"),
    ("gpt-5.3-codex", "3.5", "0.35", "28"),
    # LiteLLM lists no priority rates for these ids; OpenAI's priority page does
    ("gpt-5-codex", "2.5", "0.25", "20"), ("gpt-5.1-codex", "2.5", "0.25", "20"),
])
def test_openai_priority_tier_uses_the_published_priority_rates(catalog: PriceCatalog, model: str, inp: str,
                                                                cached: str, out: str) -> None:
    small = TokenUsage(input_tokens=100_000, cache_read_tokens=100_000, output_tokens=100_000, requests=1)
    r = catalog.breakdown(model, small, P, AT)
    assert [ln.per_mtok for ln in r.lines] == [D(inp), D(cached), D(out)], model
    assert r.notes == [] and all(ln.note is None for ln in r.lines)


def test_flex_without_a_flex_price_uses_standard_not_batch(catalog: PriceCatalog) -> None:
    usage = TokenUsage(input_tokens=M, output_tokens=M, requests=1)
    r = catalog.breakdown("gpt-4o", usage, F, AT)  # gpt-4o has batch ($1.25/$5) but no flex price
    assert r.total == D("12.5") and r.notes == ["no flex price for gpt-4o: standard price used"]
    assert catalog.cost_of("gpt-5", usage, F, AT) == D("5.625")  # a listed flex price is used: 0.625 + 5
