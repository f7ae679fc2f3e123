"""Catalog: bundled data integrity, model-id normalization, precedence, effective dates, worked examples."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.pricing.catalog import PriceCatalog
from aicost_desktop.pricing.normalize import candidates
from aicost_desktop.pricing.sources import OverrideRow, RetiredTable, Snapshot

D = Decimal
S = ServiceTier.STANDARD
DAY = date(2026, 11, 1)
M = 1_000_000
DATA = resources.files("aicost_desktop.pricing").joinpath("data")


@pytest.fixture(scope="module")
def catalog() -> PriceCatalog:
    return PriceCatalog.load()


def test_bundled_snapshot_matches_its_provenance_record() -> None:
    raw = DATA.joinpath("model_prices.json").read_bytes()
    meta = json.loads(DATA.joinpath("SNAPSHOT.json").read_bytes())
    assert hashlib.sha256(raw).hexdigest() == meta["sha256"] == (
        "8f8060d8ce7a40c91b995c74d6a27657543d49e3c1c53430dabd556f244392c6")
    assert len(raw) == meta["bytes"] == 3_176_369
    assert meta["source"] == "litellm 1.109.1" and meta["snapshot_date"] == "2026-10-19"
    assert "MIT License" in DATA.joinpath("LICENSE.model_prices.md").read_text(encoding="utf-8")
    assert "Copyright (c) 2023 Berri AI" in DATA.joinpath("LICENSE.model_prices.md").read_text(encoding="utf-8")


def test_snapshot_info(catalog: PriceCatalog) -> None:
    info = catalog.snapshot_info
    assert (info.source, info.snapshot_date, info.model_count, info.bundled) == (
        "litellm 1.109.1", date(2026, 10, 19), 4552, True)
    assert info.sha256.startswith("8f8060d8")


def test_load_is_lazy(tmp_path: Path) -> None:
    cat = PriceCatalog.load(user_file=tmp_path / "absent.json")
    assert cat._snapshot._entries is None  # nothing parsed until the first lookup
    cat.resolve_key("gpt-4o")
    assert cat._snapshot._entries is not None


def test_worked_example_gpt_4o_mini(catalog: PriceCatalog) -> None:
    usage = TokenUsage(input_tokens=M, output_tokens=M)
    assert catalog.cost_of("gpt-4o-mini", usage, S, DAY) == D("0.75")


def test_worked_example_sonnet_cache_read(catalog: PriceCatalog) -> None:
    assert catalog.cost_of("claude-sonnet-4-5", TokenUsage(cache_read_tokens=M), S, DAY) == D("0.30")


def test_snapshot_float_prices_become_exact_decimals(catalog: PriceCatalog) -> None:
    p = catalog.lookup("claude-sonnet-4-5-20250929", DAY)
    assert (p.input_per_mtok, p.output_per_mtok) == (D("3"), D("15"))
    assert p.rate("cache_write_1h") == D("6") and p.rate("cache_read", ServiceTier.BATCH) == D("0.15")
    assert catalog.lookup("gpt-4o-mini", DAY).rate("input", ServiceTier.PRIORITY) == D("0.25")


@pytest.mark.parametrize("model,key", [
    ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929"),
    ("claude-sonnet-4-5", "claude-sonnet-4-5"),
    ("  Claude-Sonnet-4-5 ", "claude-sonnet-4-5"),
    ("GPT-4o-mini", "gpt-4o-mini"),
    ("gpt-4o-2024-08-06", "gpt-4o-2024-08-06"),
    ("gpt-4.1-2099-01-01", "gpt-4.1"),  # unknown dated snapshot -> its undated alias
    ("openai/gpt-4.1", "gpt-4.1"),
    ("openrouter/openai/gpt-4o-mini", "gpt-4o-mini"),
    ("anthropic/claude-sonnet-4.5", "claude-sonnet-4-5"),
    ("anthropic/claude-3.5-sonnet", "claude-3-5-sonnet-20241022"),
    ("anthropic/claude-3.7-sonnet:thinking", "claude-3-7-sonnet-20250219"),
    ("gemini/gemini-2.5-pro", "gemini/gemini-2.5-pro"),
    ("google/gemini-2.5-pro", "gemini-2.5-pro"),
    ("models/gemini-2.5-flash", "gemini-2.5-flash"),
    ("models/gemini-1.5-pro-002", "gemini-1.5-pro"),
    ("anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic.claude-haiku-4-5-20251001-v1:0"),
    ("us.anthropic.claude-haiku-4-5-20251001-v1:0", "us.anthropic.claude-haiku-4-5-20251001-v1:0"),
    ("apac.anthropic.claude-opus-4-1-20250805-v1:0", "anthropic.claude-opus-4-1-20250805-v1:0"),
    ("us.anthropic.claude-3-haiku-20240307-v1:0", "claude-3-haiku-20240307"),  # not in snapshot: retired
    ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5-20250929"),
    ("x-ai/grok-4.3", "xai/grok-4.3"),
    ("grok-4.3", "xai/grok-4.3"),
    ("claude-opus-4-1", "claude-opus-4-1-20250805"),
    ("claude-sonnet-4", "claude-sonnet-4-20250514"),
])
def test_resolve_key(catalog: PriceCatalog, model: str, key: str) -> None:
    assert catalog.resolve_key(model) == key


def test_regional_bedrock_price_differs_from_global(catalog: PriceCatalog) -> None:
    assert catalog.lookup("us.anthropic.claude-haiku-4-5-20251001-v1:0", DAY).input_per_mtok == D("1.1")
    assert catalog.lookup("anthropic.claude-haiku-4-5-20251001-v1:0", DAY).input_per_mtok == D("1")


def test_candidates_keep_exact_spelling_first() -> None:
    c = candidates("us.anthropic.claude-haiku-4-5-20251001-v1:0")
    assert c[0] == "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    assert "anthropic.claude-haiku-4-5-20251001-v1:0" in c and "claude-haiku-4-5-20251001" in c
    assert candidates("   ") == []


@pytest.mark.parametrize("model", ["xyz", "", "   ", "openrouter/some/free-model:free", "dall-e-3"])
def test_unknown_models_are_unpriced_not_zero(catalog: PriceCatalog, model: str) -> None:
    assert catalog.lookup(model, DAY) is None
    assert catalog.cost_of(model, TokenUsage(input_tokens=10), S, DAY) is None


def test_none_model_is_unpriced(catalog: PriceCatalog) -> None:
    assert catalog.cost_of(None, TokenUsage(input_tokens=10), S, DAY) is None


def test_suggest(catalog: PriceCatalog) -> None:
    assert catalog.suggest("gpt-4o-mni")[0] == "gpt-4o-mini"
    assert "claude-sonnet-4-5" in catalog.suggest("claude-sonet-4-5", n=5)
    assert len(catalog.suggest("gpt", n=3)) == 3
    assert catalog.suggest("xyz") == []


@pytest.mark.parametrize("model,at,inp,out", [
    ("gemini-1.5-flash", date(2024, 6, 1), "0.35", "1.05"),
    ("gemini-1.5-flash", date(2024, 8, 11), "0.35", "1.05"),
    ("gemini-1.5-flash", date(2024, 8, 12), "0.075", "0.3"),
    ("gemini-1.5-pro", date(2024, 9, 30), "3.5", "10.5"),
    ("gemini-1.5-pro", date(2025, 1, 1), "1.25", "5"),
    ("gemini-1.5-pro", date(2023, 1, 1), "3.5", "10.5"),  # before the first period: launch price
    ("claude-3-5-sonnet-20241022", date(2024, 12, 1), "3", "15"),
    ("claude-3-5-haiku-20241022", date(2025, 1, 1), "0.8", "4"),
    ("claude-3-opus-20240229", date(2024, 6, 1), "15", "75"),
    ("claude-sonnet-4-20250514", date(2025, 7, 1), "3", "15"),
    ("claude-opus-4-20250514", date(2025, 7, 1), "15", "75"),
    ("claude-opus-4-1-20250805", date(2025, 9, 1), "15", "75"),
    ("gpt-4-turbo", date(2024, 6, 1), "10", "30"),  # still in the snapshot
    ("gpt-3.5-turbo-0613", date(2023, 9, 1), "1.5", "2"),
])
def test_retired_models_by_date(catalog: PriceCatalog, model: str, at: date, inp: str, out: str) -> None:
    p = catalog.lookup(model, at)
    assert (p.input_per_mtok, p.output_per_mtok) == (D(inp), D(out))


def test_retired_anthropic_cache_rates(catalog: PriceCatalog) -> None:
    p = catalog.lookup("claude-opus-4-1-20250805", date(2025, 9, 1))
    assert p.source == "retired"
    assert [p.rate(k) for k in ("cache_write_5m", "cache_write_1h", "cache_read")] == [D("18.75"), D("30"), D("1.5")]
    usage = TokenUsage(input_tokens=1000, output_tokens=1000, cache_read_tokens=10_000,
                       cache_write_5m_tokens=2000, cache_write_1h_tokens=1000, requests=1)
    # 0.015 + 0.075 + 0.015 + 0.0375 + 0.03
    assert catalog.cost_of("claude-opus-4-1-20250805", usage, S, date(2025, 9, 1)) == D("0.1725")


def test_retired_gemini_long_context(catalog: PriceCatalog) -> None:
    usage = TokenUsage(input_tokens=200_000, output_tokens=1000, requests=1)
    assert catalog.cost_of("gemini-1.5-pro", usage, S, date(2025, 1, 1)) == D("0.51")  # 0.5 + 0.01


def test_retired_table_integrity() -> None:
    table = RetiredTable.bundled()
    required = {"gemini-1.5-flash", "gemini-1.5-pro", "claude-3-5-sonnet-20241022", "claude-3-5-haiku-20241022",
                "claude-3-opus-20240229", "claude-sonnet-4-20250514", "claude-opus-4-20250514",
                "claude-opus-4-1-20250805"}
    assert required <= set(table.models)
    for model in table.models.values():
        dates = [p.effective_from for p in model.periods]
        assert dates == sorted(dates)
        for period in model.periods:
            assert period.rates and all(v >= 0 for v in period.rates.values())
            if model.provider == "anthropic" and "cache_read" in {k.kind for k in period.rates}:
                inp = period.rates[next(k for k in period.rates if k.kind == "input" and not k.above_tokens)]
                w5 = period.rates[next(k for k in period.rates if k.kind == "cache_write_5m" and not k.above_tokens)]
                assert w5 == inp * D("1.25") or model.key == "claude-3-haiku-20240307"


def _overrides(*rows: OverrideRow) -> PriceCatalog:
    return PriceCatalog(Snapshot(), RetiredTable.bundled(), list(rows))


def test_override_wins_from_its_effective_date() -> None:
    cat = _overrides(OverrideRow("gpt-4o-mini", date(2026, 1, 1), D("1"), D("2")),
                     OverrideRow("gpt-4o-mini", date(2026, 6, 1), D("0.5"), D("1")))
    usage = TokenUsage(input_tokens=M, output_tokens=M)
    assert cat.cost_of("gpt-4o-mini", usage, S, date(2025, 12, 31)) == D("0.75")  # snapshot
    assert cat.cost_of("gpt-4o-mini", usage, S, date(2026, 1, 1)) == D("3")
    assert cat.cost_of("gpt-4o-mini", usage, S, date(2026, 5, 31)) == D("3")
    assert cat.cost_of("gpt-4o-mini", usage, S, date(2026, 6, 1)) == D("1.5")
    p = cat.lookup("gpt-4o-mini", date(2026, 7, 1))
    assert (p.source, p.effective_from) == ("override", date(2026, 6, 1))


def test_override_inherits_unset_cache_rates_but_not_tiers() -> None:
    cat = _overrides(OverrideRow("claude-sonnet-4-5", date(2026, 1, 1), D("2"), D("10")))
    p = cat.lookup("claude-sonnet-4-5", DAY)
    assert (p.input_per_mtok, p.rate("cache_read"), p.rate("cache_write_1h")) == (D("2"), D("0.3"), D("6"))
    assert p.rate("input", ServiceTier.BATCH) is None
    assert cat.cost_of("claude-sonnet-4-5", TokenUsage(input_tokens=M), ServiceTier.BATCH, DAY) == D("1")


def test_override_applies_to_every_spelling() -> None:
    cat = _overrides(OverrideRow("claude-sonnet-4-5-20250929", date(2026, 1, 1), D("2"), D("10")))
    for name in ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5", "anthropic/claude-sonnet-4.5"):
        assert cat.lookup(name, DAY).input_per_mtok == D("2"), name
    undated = _overrides(OverrideRow("claude-sonnet-4-5", date(2026, 1, 1), D("2"), D("10")))
    assert undated.lookup("claude-sonnet-4-5-20250929", DAY).source == "override"


def test_dated_override_does_not_leak_to_another_date() -> None:
    cat = _overrides(OverrideRow("claude-3-5-sonnet-20240620", date(2024, 1, 1), D("1"), D("1")))
    assert cat.lookup("claude-3-5-sonnet-20241022", DAY).source == "retired"


def test_override_prices_an_unknown_model() -> None:
    cat = _overrides(OverrideRow("my-local-llm", date(1970, 1, 1), D("0.5"), D("1.25")))
    assert cat.resolve_key("My-Local-LLM") == "my-local-llm"
    assert cat.cost_of("my-local-llm", TokenUsage(input_tokens=2 * M, output_tokens=M), S, DAY) == D("2.25")


def test_set_overrides_drops_cached_resolution() -> None:
    cat = _overrides()
    assert cat.lookup("brand-new", DAY) is None
    cat.set_overrides([OverrideRow("brand-new", date(2020, 1, 1), D("1"), D("1"))])
    assert cat.lookup("brand-new", DAY).input_per_mtok == D("1")


def test_user_file_replaces_bundled_snapshot(tmp_path: Path) -> None:
    f = tmp_path / "model_prices.json"
    f.write_text(json.dumps({"sample_spec": {}, "gpt-4o-mini": {"input_cost_per_token": 1e-06,
                                                                "output_cost_per_token": 2e-06}}))
    cat = PriceCatalog.load(user_file=f)
    assert cat.cost_of("gpt-4o-mini", TokenUsage(input_tokens=M, output_tokens=M), S, DAY) == D("3")
    assert cat.lookup("gpt-4o", DAY) is None  # the user file has no gpt-4o
    assert cat.lookup("claude-opus-4-1", DAY).source == "retired"  # retired table still applies
    info = cat.snapshot_info
    assert (info.bundled, info.model_count) == (False, 1)
    assert info.sha256 == hashlib.sha256(f.read_bytes()).hexdigest()


def test_damaged_user_file_falls_back_to_bundled(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    f = tmp_path / "model_prices.json"
    f.write_text("[1, 2")
    cat = PriceCatalog.load(user_file=f)
    assert cat.cost_of("gpt-4o-mini", TokenUsage(input_tokens=M, output_tokens=M), S, DAY) == D("0.75")
    assert cat.snapshot_info.bundled
    assert "ignoring price catalog" in caplog.text


def test_the_bundled_map_is_parsed_once_per_process_and_a_user_file_is_its_own(tmp_path: Path) -> None:
    a, b = PriceCatalog.load(), PriceCatalog.load()
    assert a.snapshot_info is b.snapshot_info  # one parse shared by every catalog
    assert a.lookup("gpt-4o-mini", DAY) == b.lookup("gpt-4o-mini", DAY)
    f = tmp_path / "model_prices.json"
    f.write_text(json.dumps({"gpt-4o-mini": {"input_cost_per_token": 5e-06, "output_cost_per_token": 5e-06}}))
    mine = PriceCatalog.load(user_file=f)
    assert mine.snapshot_info.bundled is False and mine.lookup("gpt-4o", DAY) is None
    assert mine.cost_of("gpt-4o-mini", TokenUsage(input_tokens=M), S, DAY) == D("5")
    # ...and the next bundled catalog is not touched by it.
    assert PriceCatalog.load().cost_of("gpt-4o-mini", TokenUsage(input_tokens=M), S, DAY) == D("0.15")
