"""Pure Anthropic build/parse steps with the wire examples from research/providers.md section 2."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from aicost_desktop.domain.enums import CostRole, DataSource, ServiceTier
from aicost_desktop.sync.anthropic import (
    api_base, build_cost_request, build_usage_request, cents_to_dollars, parse_cost_page, parse_usage_page,
    tier_of,
)
from aicost_desktop.sync.base import AccountInfo, ProviderError
from aicost_desktop.sync.http import page_cursor
from tests.fakes.openai_fake import table_pricer

ACCOUNT = AccountInfo(id=5, name="org", provider="anthropic", base_url="https://api.anthropic.com",
                      workspace_id=1, api_key="sk-ant-admin01-x")
PRICER = table_pricer({"claude-sonnet-4-20250514": ("3", "15")})

USAGE_EXAMPLE = {
    "data": [{
        "starting_at": "2025-08-01T00:00:00Z",
        "ending_at": "2025-08-02T00:00:00Z",
        "results": [{
            "api_key_id": "apikey_01Rj2N8SVvo6BePZj99NhmiT",
            "workspace_id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ",
            "model": "claude-sonnet-4-20250514",
            "service_tier": "standard",
            "context_window": "0-200k",
            "uncached_input_tokens": 1500,
            "cache_creation": {"ephemeral_1h_input_tokens": 1000, "ephemeral_5m_input_tokens": 500},
            "cache_read_input_tokens": 200,
            "output_tokens": 500,
            "server_tool_use": {"web_search_requests": 10},
        }],
    }],
    "has_more": True,
    "next_page": "page_MjAyNS0wNS0xNFQwMDowMDowMFo=",
}

COST_EXAMPLE = {
    "data": [{
        "starting_at": "2025-08-01T00:00:00Z",
        "ending_at": "2025-08-02T00:00:00Z",
        "results": [
            {"currency": "USD", "amount": "41280.000000", "workspace_id": None,
             "description": "Claude Sonnet 4 Usage - Input Tokens", "cost_type": "tokens",
             "context_window": "0-200k", "model": "claude-sonnet-4-20250514", "service_tier": "standard",
             "token_type": "uncached_input_tokens", "inference_geo": None},
            {"currency": "USD", "amount": "120.5", "workspace_id": None, "description": "Web Search Usage",
             "cost_type": "web_search", "context_window": None, "model": None, "service_tier": None,
             "token_type": None, "inference_geo": None},
        ],
    }],
    "has_more": False,
    "next_page": None,
}


def test_build_requests_use_brackets_and_snap_days() -> None:
    since = datetime(2025, 8, 1, 13, 5, tzinfo=timezone.utc)
    until = datetime(2025, 8, 3, 9, 0, tzinfo=timezone.utc)
    req = build_cost_request(since, until, page="page_abc", limit=7)
    assert req.path == "/v1/organizations/cost_report"
    assert req.params == (("starting_at", "2025-08-01T00:00:00Z"), ("ending_at", "2025-08-04T00:00:00Z"),
                          ("bucket_width", "1d"), ("limit", "7"), ("group_by[]", "workspace_id"),
                          ("group_by[]", "description"), ("page", "page_abc"))
    u = build_usage_request(since, datetime(2025, 8, 3, tzinfo=timezone.utc))
    assert u.path == "/v1/organizations/usage_report/messages"
    assert ("ending_at", "2025-08-03T00:00:00Z") in u.params  # already aligned: not rounded up
    assert [v for k, v in u.params if k == "group_by[]"] == ["model", "workspace_id", "service_tier"]
    with pytest.raises(ValueError):
        build_usage_request(until, since)


def test_api_base() -> None:
    assert api_base(None) == "https://api.anthropic.com"
    assert api_base("https://api.anthropic.com/v1/") == "https://api.anthropic.com"


def test_parse_usage_example() -> None:
    [rec] = parse_usage_page(USAGE_EXAMPLE, ACCOUNT, PRICER)
    u = rec.usage
    assert (u.input_tokens, u.cache_read_tokens, u.cache_write_5m_tokens, u.cache_write_1h_tokens,
            u.output_tokens) == (1500, 200, 500, 1000, 500)
    assert u.total_tokens == 3700
    assert rec.cost_role is CostRole.DETAIL and rec.source is DataSource.API and rec.spend_cost == 0
    assert rec.provider == "anthropic" and rec.model_vendor == "anthropic"
    assert rec.project == "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ" and rec.service_tier is ServiceTier.STANDARD
    # 1500*3 + 200*0.3 + 1500*3.75 + 500*15 per Mtok (table pricer: writes at 125 %)
    assert rec.computed_cost == Decimal("0.0176850000")
    assert rec.note == "web_search_requests=10"
    assert rec.dedup_key == ("anthropic:5:usage:2025-08-01T00:00:00+00:00:wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ:"
                             "claude-sonnet-4-20250514:standard:0-200k")
    assert page_cursor(USAGE_EXAMPLE, "anthropic") == "page_MjAyNS0wNS0xNFQwMDowMDowMFo="


def test_priority_usage_is_spend() -> None:
    body = {"data": [{**USAGE_EXAMPLE["data"][0], "results": [  # type: ignore[index]
        {**USAGE_EXAMPLE["data"][0]["results"][0], "service_tier": "priority"}]}], "has_more": False}  # type: ignore[index]
    [rec] = parse_usage_page(body, ACCOUNT, PRICER)
    assert rec.cost_role is CostRole.SPEND and rec.service_tier is ServiceTier.PRIORITY
    assert rec.spend_cost == rec.computed_cost == Decimal("0.0176850000")


def test_parse_cost_example_cents_to_dollars() -> None:
    a, b = parse_cost_page(COST_EXAMPLE, ACCOUNT)
    assert a.reported_cost == Decimal("412.80") and b.reported_cost == Decimal("1.205")
    assert a.currency == "USD" and a.cost_role is CostRole.SPEND
    assert a.line_item == "Claude Sonnet 4 Usage - Input Tokens" and a.model == "claude-sonnet-4-20250514"
    assert b.model is None and b.model_vendor is None
    assert a.project is None and a.dedup_key != b.dedup_key
    assert cents_to_dollars("123.78912") == Decimal("1.2378912")
    assert cents_to_dollars("0") == 0


@pytest.mark.parametrize("amount", [None, 1.5, "abc", "NaN", True])
def test_bad_amount_raises(amount: object) -> None:
    with pytest.raises(ProviderError):
        cents_to_dollars(amount)


@pytest.mark.parametrize("bad", [
    {"data": "x"},
    {"data": [{"starting_at": "2025-08-01", "ending_at": "2025-08-02T00:00:00Z", "results": []}]},
    {"data": [{"starting_at": "2025-08-01T00:00:00Z", "ending_at": "2025-08-02T00:00:00Z"}]},
    {"data": [{"starting_at": "nope", "ending_at": "2025-08-02T00:00:00Z", "results": []}]},
    {"data": [{"starting_at": "2025-08-01T00:00:00Z", "ending_at": "2025-08-02T00:00:00Z",
               "results": [{"uncached_input_tokens": "12"}]}]},
    {"data": [{"starting_at": "2025-08-01T00:00:00Z", "ending_at": "2025-08-02T00:00:00Z",
               "results": [{"cache_creation": 5}]}]},
])
def test_malformed_usage_pages_raise(bad: dict) -> None:
    with pytest.raises(ProviderError):
        parse_usage_page(bad, ACCOUNT, PRICER)


def test_optional_fields_absent_and_tiers() -> None:
    body = {"data": [{"starting_at": "2025-08-01T00:00:00Z", "ending_at": "2025-08-02T00:00:00Z",
                      "results": [{"uncached_input_tokens": 7, "output_tokens": 3, "model": None}]}]}
    [rec] = parse_usage_page(body, ACCOUNT, PRICER)
    assert rec.usage.total_tokens == 10 and rec.computed_cost is None and rec.note is None
    assert tier_of("priority_on_demand") is ServiceTier.PRIORITY
    assert tier_of("flex_discount") is ServiceTier.FLEX
    assert tier_of("batch") is ServiceTier.BATCH and tier_of(None) is ServiceTier.STANDARD
