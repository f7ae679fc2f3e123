"""Pure Anthropic build/parse steps with the wire examples from research/providers.md section 2."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from aicost_desktop.domain.enums import CostRole, DataSource, ServiceTier
from aicost_desktop.pricing.catalog import PriceCatalog
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
    assert [v for k, v in u.params if k == "group_by[]"] == ["model", "workspace_id", "service_tier",
                                                             "context_window"]
    with pytest.raises(ValueError):
        build_usage_request(until, since)


def test_ending_at_is_never_after_the_clock() -> None:
    now = datetime(2025, 8, 3, 15, 0, tzinfo=timezone.utc)
    today = datetime(2025, 8, 3, tzinfo=timezone.utc)
    # A window reaching today: its bucket ends tomorrow, so ending_at is left out (optional) instead
    # of sent ahead of the clock; today's partial bucket still comes back.
    for since in (today, now - timedelta(hours=2), datetime(2025, 7, 20, tzinfo=timezone.utc)):
        params = dict(build_usage_request(since, now, now=now).params)
        assert "ending_at" not in params and params["starting_at"] <= "2025-08-03T00:00:00Z"
    # A future `until` is clamped to the clock too.
    assert "ending_at" not in dict(build_cost_request(today, now + timedelta(days=5), now=now).params)
    # A window ending on a past day keeps its (past) ending_at.
    past = dict(build_cost_request(datetime(2025, 7, 1, tzinfo=timezone.utc),
                                   datetime(2025, 7, 31, 8, tzinfo=timezone.utc), now=now).params)
    assert past["ending_at"] == "2025-08-01T00:00:00Z"
    # Nothing before now: a window that would put ending_at at or before starting_at is refused.
    with pytest.raises(ValueError):
        build_usage_request(now + timedelta(days=1), now + timedelta(days=2), now=now)


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
    # The 0-200k share keeps the key usage rows had before context_window was grouped (then null).
    assert rec.dedup_key == ("anthropic:5:usage:2025-08-01T00:00:00+00:00:wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ:"
                             "claude-sonnet-4-20250514:standard:-")
    assert page_cursor(USAGE_EXAMPLE, "anthropic") == "page_MjAyNS0wNS0xNFQwMDowMDowMFo="


def _usage_body(**fields: object) -> dict:
    row = {**USAGE_EXAMPLE["data"][0]["results"][0], **fields}  # type: ignore[index]
    return {"data": [{**USAGE_EXAMPLE["data"][0], "results": [row]}], "has_more": False}  # type: ignore[index]


def test_priority_usage_is_spend() -> None:
    [rec] = parse_usage_page(_usage_body(service_tier="priority"), ACCOUNT, PRICER)
    assert rec.cost_role is CostRole.SPEND and rec.service_tier is ServiceTier.PRIORITY
    assert rec.spend_cost == rec.computed_cost == Decimal("0.0176850000")


BUCKET = datetime(2025, 8, 1, tzinfo=timezone.utc)
WS, SONNET = "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ", "claude-sonnet-4-20250514"


@pytest.mark.parametrize("tier,billed,role", [
    # The cost report's documented tiers: usage is always its detail.
    ("standard", set(), CostRole.DETAIL), ("batch", set(), CostRole.DETAIL),
    # Tiers the cost report does not document: spend from usage...
    ("priority", set(), CostRole.SPEND), ("priority_on_demand", set(), CostRole.SPEND),
    ("flex", set(), CostRole.SPEND), ("flex_discount", set(), CostRole.SPEND),
    # ...unless the cost report of that day, workspace and model carries that very tier: never both.
    ("priority_on_demand", {(BUCKET, WS, SONNET, "priority_on_demand")}, CostRole.DETAIL),
    ("priority", {(BUCKET, WS, SONNET, "priority")}, CostRole.DETAIL),
    ("priority_on_demand", {(BUCKET, WS, "claude-opus-4-1-20250805", "priority_on_demand")}, CostRole.SPEND),
    ("priority_on_demand", {(BUCKET, None, SONNET, "priority_on_demand")}, CostRole.SPEND),
])
def test_usage_is_detail_or_spend_never_both(tier: str, billed: set, role: CostRole) -> None:
    [rec] = parse_usage_page(_usage_body(service_tier=tier), ACCOUNT, PRICER, billed)
    assert rec.cost_role is role
    assert rec.spend_cost == (rec.computed_cost if role is CostRole.SPEND else 0)


def test_cost_page_reports_which_tiers_it_bills() -> None:
    body = {"data": [{**COST_EXAMPLE["data"][0], "results": [  # type: ignore[index]
        *COST_EXAMPLE["data"][0]["results"],  # type: ignore[index]
        {"currency": "USD", "amount": "12.5", "workspace_id": WS, "description": "Claude Sonnet 4 Usage - Output Tokens",
         "cost_type": "tokens", "context_window": "0-200k", "model": SONNET, "service_tier": "priority_on_demand",
         "token_type": "output_tokens", "inference_geo": None}]}], "has_more": False}
    billed: set = set()
    parse_cost_page(body, ACCOUNT, billed)
    assert billed == {(BUCKET, None, SONNET, "standard"), (BUCKET, WS, SONNET, "priority_on_demand")}
    [rec] = parse_usage_page(_usage_body(service_tier="priority_on_demand"), ACCOUNT, PRICER, billed)
    assert rec.cost_role is CostRole.DETAIL


def test_each_context_window_bucket_is_priced_on_its_side_of_200k() -> None:
    """A day of Sonnet 4: 4M input + 0.4M output. Base rates $3/$15 -> $18; long context $6/$22.50 -> $33.

    The day is many requests: summed, it is far above 200k, yet only the `200k-1M` bucket's
    requests were long (Anthropic bills long-context rates per request above 200k prompt tokens).
    """
    catalog = PriceCatalog.load()
    tokens = {"uncached_input_tokens": 4_000_000, "output_tokens": 400_000, "cache_read_input_tokens": 0,
              "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0}}
    [short] = parse_usage_page(_usage_body(**tokens, context_window="0-200k"), ACCOUNT, catalog.cost_of)
    [long] = parse_usage_page(_usage_body(**tokens, context_window="200k-1M"), ACCOUNT, catalog.cost_of)
    assert short.computed_cost == Decimal("18") and long.computed_cost == Decimal("33")
    assert "long-context" in (long.note or "") and short.dedup_key != long.dedup_key
    # Ungrouped (null) context window: an aggregate never trips the per-request threshold.
    [unknown] = parse_usage_page(_usage_body(**tokens, context_window=None), ACCOUNT, catalog.cost_of)
    assert unknown.computed_cost == Decimal("18")


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
