"""Pure OpenAI build/parse steps with the wire examples from research/providers.md section 1."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from aicost_desktop.domain.enums import CostRole, DataSource, ServiceTier
from aicost_desktop.sync.base import AccountInfo, ProviderError
from aicost_desktop.sync.http import page_cursor
from aicost_desktop.sync.openai import (
    api_base, build_costs_request, build_usage_request, model_from_line_item, parse_costs_page,
    parse_usage_page, tier_of, usage_tokens,
)
from tests.fakes.openai_fake import table_pricer

ACCOUNT = AccountInfo(id=3, name="org", provider="openai", base_url="https://api.openai.com/v1",
                      workspace_id=1, api_key="sk-admin-x")
PRICER = table_pricer({"gpt-4o-mini-2024-07-18": ("0.15", "0.60")})

COMPLETIONS_EXAMPLE = {
    "object": "page",
    "data": [{
        "object": "bucket", "start_time": 1730419200, "end_time": 1730505600,
        "results": [{
            "object": "organization.usage.completions.result",
            "input_tokens": 1000, "input_cached_tokens": 400, "input_cache_write_tokens": 100,
            "input_uncached_tokens": 500, "output_tokens": 500, "input_text_tokens": 400,
            "output_text_tokens": 400, "input_cached_text_tokens": 300, "input_audio_tokens": 50,
            "input_cached_audio_tokens": 50, "output_audio_tokens": 50, "input_image_tokens": 50,
            "input_cached_image_tokens": 50, "output_image_tokens": 50, "num_model_requests": 5,
            "project_id": None, "user_id": None, "api_key_id": None,
            "model": "gpt-4o-mini-2024-07-18", "batch": None, "service_tier": None,
        }],
    }],
    "has_more": True,
    "next_page": "page_AAAAAGdGxdEiJdKOAAAAAGcqsYA=",
}

# Real captured output (cookbook): unaligned first bucket, old shape, empty day.
CAPTURED = {
    "object": "page", "has_more": False, "next_page": None,
    "data": [
        {"object": "bucket", "start_time": 1736616660, "end_time": 1736640000,
         "results": [{"object": "organization.usage.completions.result",
                      "input_tokens": 141201, "output_tokens": 9756, "num_model_requests": 470,
                      "project_id": None, "user_id": None, "api_key_id": None, "model": None,
                      "batch": None, "input_cached_tokens": 0, "input_audio_tokens": 0,
                      "output_audio_tokens": 0}]},
        {"object": "bucket", "start_time": 1737331200, "end_time": 1737417600, "results": []},
    ],
}

COSTS_EXAMPLE = {
    "object": "page",
    "data": [{
        "object": "bucket", "start_time": 1730419200, "end_time": 1730505600,
        "results": [{"object": "organization.costs.result", "amount": {"value": 0.06, "currency": "usd"},
                     "line_item": None, "project_id": None, "api_key_id": None, "quantity": None,
                     "quantity_unit": None}],
    }],
    "has_more": False, "next_page": None,
}


def test_build_costs_request_snaps_to_utc_midnight_and_repeats_group_by() -> None:
    since = datetime(2024, 11, 1, 15, 30, tzinfo=timezone.utc)
    req = build_costs_request(since, datetime(2024, 11, 3, 9, 0, tzinfo=timezone.utc), page="page_x", limit=7)
    assert req.path == "/organization/costs"
    assert req.params == (("start_time", "1730419200"), ("end_time", "1730624400"), ("bucket_width", "1d"),
                          ("limit", "7"), ("group_by", "project_id"), ("group_by", "line_item"),
                          ("page", "page_x"))


def test_build_usage_request() -> None:
    req = build_usage_request("completions", datetime(2024, 11, 1, tzinfo=timezone.utc),
                              datetime(2024, 11, 2, tzinfo=timezone.utc))
    assert req.path == "/organization/usage/completions"
    assert [v for k, v in req.params if k == "group_by"] == ["model", "project_id", "batch", "service_tier"]
    with pytest.raises(ValueError):
        build_usage_request("completions", datetime(2024, 11, 2, tzinfo=timezone.utc),
                            datetime(2024, 11, 1, tzinfo=timezone.utc))
    with pytest.raises(ValueError):
        build_usage_request("nope", datetime(2024, 11, 1, tzinfo=timezone.utc),
                            datetime(2024, 11, 2, tzinfo=timezone.utc))


def test_api_base_never_doubles_v1() -> None:
    assert api_base(None) == "https://api.openai.com/v1"
    assert api_base("https://api.openai.com/v1/") == "https://api.openai.com/v1"
    assert api_base("http://127.0.0.1:9999") == "http://127.0.0.1:9999/v1"


def test_parse_completions_example_normalizes_input() -> None:
    [rec] = parse_usage_page(COMPLETIONS_EXAMPLE, ACCOUNT, PRICER)
    u = rec.usage
    assert (u.input_tokens, u.cache_read_tokens, u.cache_write_tokens, u.output_tokens, u.requests) == \
        (500, 400, 100, 500, 5)
    assert u.reasoning_included and u.total_tokens == 1500
    assert rec.cost_role is CostRole.DETAIL and rec.source is DataSource.API
    assert rec.provider == "openai" and rec.model_vendor == "openai"
    assert rec.reported_cost is None and rec.spend_cost == 0
    # 500*0.15 + 400*0.015 + 100*0.1875 + 500*0.60 per Mtok
    assert rec.computed_cost == Decimal("0.0003997500")
    assert rec.bucket_start == datetime(2024, 11, 1, tzinfo=timezone.utc)
    assert rec.dedup_key == "openai:3:usage:completions:2024-11-01T00:00:00+00:00:-:gpt-4o-mini-2024-07-18:-:-"
    assert page_cursor(COMPLETIONS_EXAMPLE, "openai") == "page_AAAAAGdGxdEiJdKOAAAAAGcqsYA="


def test_parse_captured_old_shape_unaligned_and_empty_bucket() -> None:
    [rec] = parse_usage_page(CAPTURED, ACCOUNT, PRICER)
    assert rec.bucket_start == datetime.fromtimestamp(1736616660, tz=timezone.utc)
    assert rec.usage.input_tokens == 141201 and rec.usage.cache_write_tokens == 0
    assert rec.model is None and rec.computed_cost is None  # ungrouped: unpriced, never $0
    assert page_cursor(CAPTURED, "openai") is None


def test_parse_costs_example() -> None:
    [rec] = parse_costs_page(COSTS_EXAMPLE, ACCOUNT)
    assert rec.reported_cost == Decimal("0.06") and rec.currency == "USD"
    assert rec.cost_role is CostRole.SPEND and rec.spend_cost == Decimal("0.06")
    assert rec.dedup_key == "openai:3:costs:2024-11-01T00:00:00+00:00:-:-"


def test_costs_float_noise_and_string_value() -> None:
    body = {**COSTS_EXAMPLE, "data": [{**COSTS_EXAMPLE["data"][0], "results": [  # type: ignore[index]
        {"object": "organization.costs.result", "amount": {"value": 0.5470000000000001, "currency": "usd"},
         "line_item": "gpt-4o-2024-08-06, input", "project_id": "proj_abc"},
        {"object": "organization.costs.result", "amount": {"value": "0.06", "currency": "usd"},
         "line_item": "Image models", "project_id": "proj_abc"},
    ]}]}
    a, b = parse_costs_page(body, ACCOUNT)
    assert a.reported_cost == Decimal("0.547") and a.model == "gpt-4o-2024-08-06"
    assert a.line_item == "gpt-4o-2024-08-06, input" and a.project == "proj_abc"
    assert b.reported_cost == Decimal("0.06") and b.model is None
    assert a.dedup_key != b.dedup_key


@pytest.mark.parametrize("bad", [
    {"object": "page"},
    {"data": [{"object": "bucket", "start_time": "x", "end_time": 1, "results": []}], "has_more": False},
    {"data": [{"object": "bucket", "start_time": 1, "end_time": 2}], "has_more": False},
    {"data": [{"object": "bucket", "start_time": 1, "end_time": 2,
               "results": [{"amount": {"value": "abc", "currency": "usd"}}]}], "has_more": False},
    {"data": [{"object": "bucket", "start_time": 1, "end_time": 2,
               "results": [{"amount": 0.5}]}], "has_more": False},
])
def test_malformed_costs_pages_raise(bad: dict) -> None:
    with pytest.raises(ProviderError):
        parse_costs_page(bad, ACCOUNT)


@pytest.mark.parametrize("amount", [None, {"value": None, "currency": "usd"}])
def test_costs_result_without_amount_is_skipped(amount: object) -> None:
    """OAI-PY types `amount` and `amount.value` Optional: no money there, so no row, and the rest stays."""
    good = {"object": "organization.costs.result", "amount": {"value": 0.06, "currency": "usd"},
            "line_item": None, "project_id": "proj_a", "api_key_id": None, "quantity": None, "quantity_unit": None}
    body = {"object": "page", "has_more": False, "next_page": None, "data": [
        {"object": "bucket", "start_time": 1730419200, "end_time": 1730505600,
         "results": [{**good, "amount": amount, "line_item": "web search tool calls"}, good]}]}
    skipped: list[str] = []
    [rec] = parse_costs_page(body, ACCOUNT, skipped.append)
    assert rec.reported_cost == Decimal("0.06")
    assert skipped == ["openai: costs result of 2024-11-01 without an amount skipped "
                       "(project proj_a, line item web search tool calls)"]


def test_malformed_usage_results_raise() -> None:
    bucket = {"object": "bucket", "start_time": 1, "end_time": 2}
    for r in ({"input_tokens": 10, "input_cached_tokens": 20, "num_model_requests": 1},
              {"input_tokens": -1, "num_model_requests": 1}, {"num_model_requests": 1}):
        with pytest.raises(ProviderError):
            parse_usage_page({"data": [{**bucket, "results": [r]}]}, ACCOUNT, PRICER)


def test_has_more_without_cursor_is_an_error() -> None:
    with pytest.raises(ProviderError, match="has_more"):
        page_cursor({"data": [], "has_more": True, "next_page": None}, "openai")
    seen: set[str] = set()
    assert page_cursor({"data": [], "has_more": True, "next_page": "page_1"}, "openai", seen) == "page_1"
    with pytest.raises(ProviderError, match="repeated"):
        page_cursor({"data": [], "has_more": True, "next_page": "page_1"}, "openai", seen)


def test_tiers_and_line_items() -> None:
    assert tier_of({"batch": True, "service_tier": "default"}) is ServiceTier.BATCH
    assert tier_of({"service_tier": "flex"}) is ServiceTier.FLEX
    assert tier_of({"service_tier": "priority"}) is ServiceTier.PRIORITY
    assert tier_of({"service_tier": None}) is ServiceTier.STANDARD
    assert model_from_line_item("o3-2025-04-16, cached input") == "o3-2025-04-16"
    assert model_from_line_item(None) is None
    assert usage_tokens({"input_tokens": 10, "num_model_requests": 1}).input_tokens == 10
