"""OpenRouter sync: pure parsing on providers.md fixtures, then full syncs against the local fake."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal

import httpx
import pytest

from aicost_desktop.domain.enums import CostRole, DataSource, ServiceTier
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.sync.base import AccountInfo, AuthError, ProviderError
from aicost_desktop.sync.http import HttpPolicy
from aicost_desktop.sync.openrouter import (
    DEFAULT_BASE_URL, NEEDS_MANAGEMENT_KEY, OpenRouterSync, activity_floor, activity_params, key_balance,
    model_vendor, parse_activity, parse_credits, parse_key, retention_note,
)
from tests.fakes.http_fake import FakeRequest, FakeResponse
from tests.fakes.openrouter_fake import (
    EXPECTED_BY_DAY, EXPECTED_DAYS, EXPECTED_RECORDS, EXPECTED_REQUESTS, EXPECTED_TOTAL, INFERENCE_KEY,
    MANAGEMENT_KEY, OpenRouterFake, rate_limited,
)

SINCE = datetime(2025, 7, 1, tzinfo=timezone.utc)
NOW = datetime(2025, 9, 1, 12, 30, tzinfo=timezone.utc)  # the fake's TODAY, mid-day
UNTIL = datetime(2025, 9, 2, tzinfo=timezone.utc)

# providers.md 3.1, current shape (verbatim).
KEY_NEW = {"data": {
    "label": "sk-or-v1-au7...890", "limit": 100, "limit_remaining": 74.5, "limit_reset": "monthly",
    "usage": 25.5, "usage_daily": 25.5, "usage_weekly": 25.5, "usage_monthly": 25.5,
    "byok_usage": 17.38, "byok_usage_daily": 17.38, "byok_usage_weekly": 17.38, "byok_usage_monthly": 17.38,
    "include_byok_in_limit": False, "is_free_tier": False, "is_management_key": False,
    "is_provisioning_key": False, "creator_user_id": "user_2dHFtVWx2n56w6HkM0000000000",
    "expires_at": "2027-12-31T23:59:59Z",
    "rate_limit": {"requests": 1000, "interval": "1h", "note": "This field is deprecated and safe to ignore."}}}
# providers.md 3.1, older shape: no byok/daily fields, fractional usage, unlimited.
KEY_OLD = {"data": {"label": "sk-or-v1-abc...def", "usage": 0.1015644762, "limit": None,
                    "is_free_tier": False, "rate_limit": {"requests": 10, "interval": "10s"}}}
# providers.md 3.3 (verbatim).
ACTIVITY_DOC = {"data": [{
    "date": "2025-08-24", "model": "openai/gpt-4.1", "model_permaslug": "openai/gpt-4.1-2025-04-14",
    "endpoint_id": "550e8400-e29b-41d4-a716-446655440000", "provider_name": "OpenAI", "usage": 0.015,
    "byok_usage_inference": 0.012, "requests": 5, "prompt_tokens": 50, "completion_tokens": 125,
    "reasoning_tokens": 25}]}

ACCOUNT = AccountInfo(id=7, name="or", provider="openrouter", base_url=DEFAULT_BASE_URL,
                      workspace_id=1, api_key="sk-or-v1-x")
PRICES = {"openai/gpt-4.1": (Decimal("0.000002"), Decimal("0.000008"))}


def pricer(model: str | None, usage: TokenUsage, tier: ServiceTier, day: date) -> Decimal | None:
    """Catalog stand-in: $2/M in, $8/M out for gpt-4.1; everything else unpriced."""
    if model not in PRICES:
        return None
    pin, pout = PRICES[model]
    return usage.input_tokens * pin + usage.billable_output_tokens * pout


# ---- pure parsing ---------------------------------------------------------------------------

def test_parse_key_current_shape() -> None:
    key = parse_key(KEY_NEW)
    assert key.kind == "inference"
    assert (key.limit, key.limit_remaining, key.usage) == (Decimal(100), Decimal("74.5"), Decimal("25.5"))
    bal = key_balance(key)
    assert bal.currency == "USD" and bal.remaining == Decimal("74.5") and bal.limit == Decimal(100)
    assert bal.detail["limit_reset"] == "monthly" and bal.detail["key_kind"] == "inference"
    assert bal.detail["is_free_tier"] == "false"


def test_parse_key_old_shape_unlimited() -> None:
    key = parse_key(KEY_OLD)
    assert key.kind == "unknown" and key.limit is None and key.usage_daily is None
    bal = key_balance(key)
    assert bal.limit is None and bal.remaining is None
    assert bal.used == Decimal("0.1015644762")


def test_parse_key_limit_without_remaining_derives_it() -> None:
    bal = key_balance(parse_key({"data": {"limit": 10, "usage": 2.25}}))
    assert bal.remaining == Decimal("7.75")


def test_parse_key_rejects_bad_payloads() -> None:
    with pytest.raises(ProviderError):
        parse_key({"label": "no data wrapper"})
    with pytest.raises(ProviderError):
        parse_key({"data": {"limit": "lots"}})


def test_parse_credits() -> None:
    bal = parse_credits({"data": {"total_credits": 100.5, "total_usage": 25.75}})
    assert (bal.total, bal.used, bal.remaining) == (Decimal("100.5"), Decimal("25.75"), Decimal("74.75"))
    with pytest.raises(ProviderError):
        parse_credits({"data": {"total_credits": 1}})


def test_parse_activity_doc_example() -> None:
    days = parse_activity(ACTIVITY_DOC, ACCOUNT, pricer)
    [rec] = days[date(2025, 8, 24)]
    assert rec.source is DataSource.API and rec.provider == "openrouter"
    assert rec.model == "openai/gpt-4.1" and rec.model_vendor == "openai"
    assert rec.cost_role is CostRole.SPEND and rec.currency == "USD"
    assert rec.reported_cost == Decimal("0.015")
    assert rec.computed_cost == Decimal("0.0011")  # 50 x $2/M + 125 x $8/M
    assert rec.usage == TokenUsage(input_tokens=50, output_tokens=125, reasoning_tokens=25, requests=5)
    assert rec.bucket_start == datetime(2025, 8, 24, tzinfo=timezone.utc)
    assert rec.bucket_end == datetime(2025, 8, 25, tzinfo=timezone.utc)
    assert rec.dedup_key == "openrouter:7:2025-08-24:openai/gpt-4.1:OpenAI"
    assert rec.line_item == "OpenAI" and rec.account_id == 7 and rec.workspace_id == 1
    assert rec.note is not None and "0.012" in rec.note  # BYOK noted, not counted
    assert rec.spend_cost == Decimal("0.015")


def test_parse_activity_window_filter_and_unpriced() -> None:
    rows = {"data": [dict(ACTIVITY_DOC["data"][0], date="2025-08-20", model="x-ai/grok-4"),
                     dict(ACTIVITY_DOC["data"][0], date="2025-08-21")]}
    days = parse_activity(rows, ACCOUNT, pricer, since=datetime(2025, 8, 21, 12, tzinfo=timezone.utc),
                          until=datetime(2025, 8, 22, tzinfo=timezone.utc))
    assert list(days) == [date(2025, 8, 21)]
    days = parse_activity(rows, ACCOUNT, pricer)
    [grok] = days[date(2025, 8, 20)]
    assert grok.computed_cost is None and grok.model_vendor == "x-ai"  # unpriced, never $0


def test_parse_activity_rejects_malformed_rows() -> None:
    with pytest.raises(ProviderError):
        parse_activity({"data": {"not": "a list"}}, ACCOUNT, pricer)
    with pytest.raises(ProviderError):
        parse_activity({"data": [{"model": "a/b"}]}, ACCOUNT, pricer)
    with pytest.raises(ProviderError):
        parse_activity({"data": [dict(ACTIVITY_DOC["data"][0], prompt_tokens=-1)]}, ACCOUNT, pricer)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_activity_params_and_vendor() -> None:
    today = date(2025, 9, 1)
    assert activity_params(utc(2025, 8, 24), utc(2025, 8, 25), today) == {"date": "2025-08-24"}
    assert activity_params(SINCE, UNTIL, today) == {}
    # Only yesterday is completed inside the window: ask for that day alone.
    assert activity_params(utc(2025, 8, 31, 6), utc(2025, 9, 1, 12), today) == {"date": "2025-08-31"}
    assert activity_params(utc(2025, 9, 1), utc(2025, 9, 1, 12), today) is None  # today: partial
    assert activity_params(utc(2025, 7, 1), utc(2025, 7, 20), today) is None  # older than 30 days
    assert model_vendor("openai/gpt-4.1") == "openai" and model_vendor("gpt-4.1") is None


# ---- against the fake -------------------------------------------------------------------------

@pytest.fixture
def fake() -> Iterator[OpenRouterFake]:
    with OpenRouterFake() as f:
        yield f


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


def account(fake: OpenRouterFake, key: str) -> AccountInfo:
    return AccountInfo(id=3, name="or", provider="openrouter", base_url=fake.api_base, workspace_id=1, api_key=key)


def sync(fake: OpenRouterFake, client: httpx.Client, key: str, since: datetime = SINCE,
         until: datetime = UNTIL, sleeps: list[float] | None = None
         ) -> tuple[list[list[UsageRecord]], object]:
    pages: list[list[UsageRecord]] = []
    policy = HttpPolicy(sleep=(sleeps if sleeps is not None else []).append, jitter=lambda: 0.0)
    job = OpenRouterSync(policy, clock=lambda: NOW)
    report = job.run(client, account(fake, key), since, until, pages.append, pricer)
    return pages, report


def test_full_sync_management_key_exact_totals(fake: OpenRouterFake, client: httpx.Client) -> None:
    progress: list[tuple[int, int]] = []
    pages: list[list[UsageRecord]] = []
    report = OpenRouterSync(HttpPolicy(sleep=lambda s: None), clock=lambda: NOW).run(
        client, account(fake, MANAGEMENT_KEY), SINCE, UNTIL, pages.append, pricer,
        progress=lambda d, t: progress.append((d, t)))
    records = [r for p in pages for r in p]
    assert report.pages == len(pages) == EXPECTED_DAYS and report.records == len(records) == EXPECTED_RECORDS
    assert sum((r.reported_cost for r in records), Decimal(0)) == EXPECTED_TOTAL
    assert sum(r.usage.requests for r in records) == EXPECTED_REQUESTS
    by_day: dict[date, Decimal] = {}
    for r in records:
        by_day[r.bucket_start.date()] = by_day.get(r.bucket_start.date(), Decimal(0)) + r.spend_cost
    assert by_day == EXPECTED_BY_DAY
    assert len({r.dedup_key for r in records}) == len(records)
    bedrock = [r for r in records if r.line_item == "Amazon Bedrock"]
    assert len(bedrock) == 1 and bedrock[0].usage.input_tokens == 101000
    assert progress == [(1, 3), (2, 3), (3, 3)]
    # /credits gave the account balance; one request each to /key, /credits, /activity.
    assert report.balance is not None and report.balance.remaining == Decimal("74.75")
    assert report.balance.detail["key_kind"] == "management"
    assert report.requests == 3
    # The window starts 2025-07-01 but /activity keeps 30 days: the hole is said, not silent.
    assert report.warnings == ["OpenRouter keeps 30 days of activity: data before 2025-08-02 cannot be synced"]
    assert report.unavailable_before == date(2025, 8, 2) == activity_floor(NOW.date())
    assert fake.requests_to("/api/v1/activity")[0].query == {}


def test_inference_key_syncs_balance_only_with_warning(fake: OpenRouterFake, client: httpx.Client) -> None:
    pages, report = sync(fake, client, INFERENCE_KEY)
    assert pages == []
    assert report.balance is not None
    assert (report.balance.limit, report.balance.remaining, report.balance.used) == (
        Decimal(100), Decimal("74.5"), Decimal("25.5"))
    assert report.warnings == [NEEDS_MANAGEMENT_KEY]
    assert "management key" in report.warnings[0]


def test_single_day_window_uses_date_filter(fake: OpenRouterFake, client: httpx.Client) -> None:
    pages, _ = sync(fake, client, MANAGEMENT_KEY, datetime(2025, 8, 24, tzinfo=timezone.utc),
                    datetime(2025, 8, 25, tzinfo=timezone.utc))
    assert fake.requests_to("/api/v1/activity")[0].query == {"date": ["2025-08-24"]}
    assert sum((r.reported_cost for p in pages for r in p), Decimal(0)) == Decimal("1.5495")


def test_window_of_today_only_skips_activity(fake: OpenRouterFake, client: httpx.Client) -> None:
    pages, report = sync(fake, client, MANAGEMENT_KEY, datetime(2025, 9, 1, tzinfo=timezone.utc), NOW)
    assert pages == [] and fake.requests_to("/api/v1/activity") == []
    assert report.balance is not None and report.warnings == []


def test_window_filters_days(fake: OpenRouterFake, client: httpx.Client) -> None:
    pages, report = sync(fake, client, MANAGEMENT_KEY, datetime(2025, 8, 30, tzinfo=timezone.utc), UNTIL)
    assert sum((r.reported_cost for p in pages for r in p), Decimal(0)) == Decimal("3.297")
    assert report.warnings == [] and report.unavailable_before is None  # inside the 30 days: no hole


@pytest.mark.parametrize("since,until,note", [
    (datetime(2025, 8, 2, tzinfo=timezone.utc), UNTIL, False),        # exactly the first day served
    (datetime(2025, 8, 1, 23, tzinfo=timezone.utc), UNTIL, True),     # one hour before it
    (datetime(2025, 6, 1, tzinfo=timezone.utc), datetime(2025, 7, 1, tzinfo=timezone.utc), True),  # all gone
])
def test_retention_note_only_when_the_window_reaches_past_30_days(fake: OpenRouterFake, client: httpx.Client,
                                                                   since: datetime, until: datetime,
                                                                   note: bool) -> None:
    _, report = sync(fake, client, MANAGEMENT_KEY, since, until)
    assert report.warnings == ([retention_note(date(2025, 8, 2))] if note else [])
    assert (report.unavailable_before is not None) is note


def test_rate_limit_is_retried(fake: OpenRouterFake, client: httpx.Client) -> None:
    fake.inject(rate_limited({"Retry-After": "3"}))
    sleeps: list[float] = []
    pages, report = sync(fake, client, MANAGEMENT_KEY, sleeps=sleeps)
    assert sleeps == [3.0] and report.retries == 1 and report.records == EXPECTED_RECORDS


def test_bad_key_is_auth_error(fake: OpenRouterFake, client: httpx.Client) -> None:
    with pytest.raises(AuthError, match="User not found"):
        sync(fake, client, "sk-or-v1-wrong")


class CutActivityFake(OpenRouterFake):
    """Answers /activity with half a body, everything else normally."""

    def handle(self, req: FakeRequest) -> FakeResponse:
        resp = super().handle(req)
        return resp.truncated() if req.path.endswith("/activity") else resp


def test_truncated_activity_aborts_without_writing(client: httpx.Client) -> None:
    written: list[list[UsageRecord]] = []
    with CutActivityFake() as fake:
        job = OpenRouterSync(HttpPolicy(max_attempts=1, sleep=lambda s: None), clock=lambda: NOW)
        with pytest.raises(ProviderError, match="invalid JSON"):
            job.run(client, account(fake, MANAGEMENT_KEY), SINCE, UNTIL, written.append, pricer)
    assert written == []


def test_old_key_shape_and_legacy_credits(client: httpx.Client) -> None:
    with OpenRouterFake(old_key_shape=True, legacy_credits=True) as fake:
        _, report = sync(fake, client, INFERENCE_KEY)
        assert report.balance is not None and report.balance.remaining == Decimal("74.75")
        assert report.warnings == [NEEDS_MANAGEMENT_KEY]


def test_test_connection_names_key_kind(fake: OpenRouterFake, client: httpx.Client) -> None:
    job = OpenRouterSync(HttpPolicy(sleep=lambda s: None), clock=lambda: NOW)
    inference = job.test_connection(client, account(fake, INFERENCE_KEY))
    assert inference.startswith("OpenRouter inference key") and "74.50 USD remaining" in inference
    assert "needs a management key" in inference
    mgmt = job.test_connection(client, account(fake, MANAGEMENT_KEY))
    assert mgmt.startswith("OpenRouter management key") and "74.75 USD remaining" in mgmt
    with OpenRouterFake(old_key_shape=True) as old:
        assert job.test_connection(client, account(old, INFERENCE_KEY)).startswith("OpenRouter inference key")
        assert job.test_connection(client, account(old, MANAGEMENT_KEY)).startswith("OpenRouter management key")
