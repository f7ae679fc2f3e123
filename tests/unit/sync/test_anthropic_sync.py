"""AnthropicSync end to end against the real-HTTP fake: cents, priority tier, pagination, failures, ledger."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from aicost_desktop.domain.enums import CostRole, ServiceTier
from aicost_desktop.sync.anthropic import AnthropicSync
from aicost_desktop.sync.base import AccountInfo, AuthError, ProviderError
from aicost_desktop.sync.http import HttpPolicy
from tests.fakes.anthropic_fake import ADMIN_KEY, LONG_CONTEXT_MODELS, MODELS, WORKSPACE_KEY, AnthropicFake
from tests.fakes.http_fake import FakeResponse, serving
from tests.fakes.openai_fake import ListSink, table_pricer

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=timezone.utc)
SINCE = datetime(2026, 2, 1, tzinfo=timezone.utc)
PRICER = table_pricer({m: (str(pin), str(pout)) for m, (_, pin, pout) in MODELS.items()
                       if not m.startswith("claude-3")}, long_context_models=frozenset(LONG_CONTEXT_MODELS))


@pytest.fixture
def fake() -> Iterator[AnthropicFake]:
    with serving(AnthropicFake(now=NOW, days=45)) as f:
        yield f


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


def account(fake: AnthropicFake, key: str = ADMIN_KEY) -> AccountInfo:
    return AccountInfo(id=2, name="claude-org", provider="anthropic", base_url=fake.base_url,
                       workspace_id=1, api_key=key)


def sync(limit: int = 7, now: datetime = NOW) -> AnthropicSync:
    return AnthropicSync(HttpPolicy(sleep=lambda d: None, jitter=lambda: 0.0), limit=limit, clock=lambda: now)


def test_totals_to_the_cent_and_priority_tier(fake: AnthropicFake, client: httpx.Client) -> None:
    sink, progress = ListSink(), []
    report = sync().run(client, account(fake), SINCE, NOW, sink, PRICER, lambda d, t: progress.append((d, t)))
    recs = sink.records
    cost_rows = [r for r in recs if r.reported_cost is not None]
    usage = [r for r in recs if r.line_item == "messages"]
    assert sum(r.reported_cost for r in cost_rows) == fake.expected_cost(SINCE, NOW) > 0
    tokens = tuple(sum(getattr(r.usage, f) for r in usage) for f in (
        "input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "output_tokens"))
    assert tokens == fake.expected_tokens(SINCE, NOW)
    priority = [r for r in usage if r.service_tier is ServiceTier.PRIORITY]
    assert priority and all(r.cost_role is CostRole.SPEND for r in priority)
    assert all(r.cost_role is CostRole.DETAIL for r in usage if r.service_tier is not ServiceTier.PRIORITY)
    assert not any(r.service_tier is ServiceTier.PRIORITY for r in cost_rows)  # the report omits it
    # Spend = reported cost + priced priority usage; DETAIL rows add nothing.
    priority_priced = sum(r.computed_cost for r in priority if r.computed_cost is not None)
    assert sum(r.spend_cost for r in recs) == fake.expected_cost(SINCE, NOW) + priority_priced
    assert {r.model for r in priority if r.computed_cost is None} == {"claude-3-5-haiku-20241022"}
    # 38 daily buckets (Feb 1 .. Mar 10 incl. today) in pages of 7 -> 6 pages per endpoint.
    assert report.pages == 12 and report.requests == 12 and progress[-1] == (12, 12)
    assert {r.project for r in usage} == {None, "wrkspc_01Fake"}  # default workspace is null
    keys = [r.dedup_key for r in recs]
    assert len(keys) == len(set(keys))
    req = fake.requests[0]
    assert req.header("anthropic-version") == "2023-06-01" and req.header("x-api-key") == ADMIN_KEY
    assert req.query["group_by[]"] == ["workspace_id", "description"]
    assert fake.requests[-1].query["group_by[]"] == ["model", "workspace_id", "service_tier", "context_window"]
    assert {r.service_tier for r in usage if r.line_item == "messages"} >= {ServiceTier.PRIORITY}
    assert any("200k-1M" in (r.note or "") for r in usage)


def test_today_bucket_grows(fake: AnthropicFake, client: httpx.Client) -> None:
    since = NOW - timedelta(days=1)
    first, second = ListSink(), ListSink()
    sync().run(client, account(fake), since, NOW, first, PRICER)
    fake.now = NOW + timedelta(hours=5)
    sync(now=fake.now).run(client, account(fake), since, fake.now, second, PRICER)
    a = {r.dedup_key: r.reported_cost for r in first.records if r.reported_cost is not None}
    b = {r.dedup_key: r.reported_cost for r in second.records if r.reported_cost is not None}
    assert a.keys() <= b.keys()
    assert sum(b.values()) > sum(a.values())
    assert sum(b.values()) == fake.expected_cost(datetime(2026, 3, 9, tzinfo=timezone.utc), fake.now)


def test_has_more_without_cursor(fake: AnthropicFake, client: httpx.Client) -> None:
    fake.disagree = True
    sink = ListSink()
    with pytest.raises(ProviderError, match="next_page"):
        sync().run(client, account(fake), SINCE, NOW, sink, PRICER)
    assert sink == []


def test_malformed_page_after_good_pages(fake: AnthropicFake, client: httpx.Client) -> None:
    sink = ListSink()
    orig = fake.handle

    def handle(req):  # type: ignore[no-untyped-def]
        resp = orig(req)
        if len(fake.requests) == 4:  # 4th page: a bucket without a usable start
            return FakeResponse.json_({"data": [{"starting_at": None, "ending_at": "x", "results": []}],
                                       "has_more": False, "next_page": None})
        return resp

    fake.handle = handle  # type: ignore[method-assign]
    with pytest.raises(ProviderError, match="malformed"):
        sync().run(client, account(fake), SINCE, NOW, sink, PRICER)
    assert len(sink) == 3


def test_throttle_529_and_retry_after(fake: AnthropicFake, client: httpx.Client) -> None:
    sleeps: list[float] = []
    fake.throttle_after = 2
    fake.inject(AnthropicFake.error(529, "overloaded_error", "Overloaded"))
    report = AnthropicSync(HttpPolicy(sleep=sleeps.append, jitter=lambda: 0.0), clock=lambda: NOW).run(
        client, account(fake), SINCE, NOW, ListSink(), PRICER)
    assert sleeps == [0.5, 60.0] and report.retries == 2


@pytest.mark.parametrize("key,status,text", [(WORKSPACE_KEY, "403", "permission_error"),
                                             ("sk-ant-nope-123456", "401", "invalid x-api-key")])
def test_wrong_key(fake: AnthropicFake, client: httpx.Client, key: str, status: str, text: str) -> None:
    with pytest.raises(AuthError) as ei:
        sync().test_connection(client, account(fake, key))
    msg = str(ei.value)
    assert status in msg and text in msg and "sk-ant-admin" in msg and "nope-123456" not in msg


def test_fake_requires_version_and_params(fake: AnthropicFake, client: httpx.Client) -> None:
    url = fake.base_url + "/v1/organizations/cost_report"
    r = client.get(url, headers={"x-api-key": ADMIN_KEY})
    assert r.status_code == 400 and r.json()["type"] == "error" and "request_id" in r.json()
    h = {"x-api-key": ADMIN_KEY, "anthropic-version": "2023-06-01"}
    assert client.get(url, headers=h).status_code == 400
    assert client.get(url, params={"starting_at": "2026-03-01T00:00:00Z", "limit": 32}, headers=h).status_code == 400
    assert client.get(url, params={"starting_at": "2026-03-01T00:00:00Z", "bucket_width": "1h"},
                      headers=h).status_code == 400
    body = client.get(url, params={"starting_at": "2026-03-01T07:13:00Z"}, headers=h).json()
    assert body["data"][0]["starting_at"] == "2026-03-01T00:00:00Z"  # snapped
    assert all(r["description"] is None for b in body["data"] for r in b["results"])


def test_test_connection_ok_and_cancel(fake: AnthropicFake, client: httpx.Client) -> None:
    assert sync().test_connection(client, account(fake)).startswith("Anthropic Admin key OK")
    cancel = threading.Event()
    cancel.set()
    report = sync().run(client, account(fake), SINCE, NOW, ListSink(), PRICER, cancel=cancel)
    assert report.warnings == ["cancelled"] and report.requests == 0


def test_second_sync_into_real_ledger_changes_nothing(fake: AnthropicFake, client: httpx.Client,
                                                      tmp_path: Path) -> None:
    from aicost_desktop.storage.db import Database
    from aicost_desktop.storage.ledger import upsert_records
    from aicost_desktop.storage.tables import Account

    db = Database.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        with db.session() as s:
            acct = Account(name="claude", provider="anthropic", workspace_id=db.default_workspace_id())
            s.add(acct)
            s.flush()
            info = AccountInfo(id=acct.id, name="claude", provider="anthropic", base_url=fake.base_url,
                               workspace_id=db.default_workspace_id(), api_key=ADMIN_KEY)
        counts = []
        for _ in range(2):
            pages: list = []  # type: ignore[type-arg]
            sync().run(client, info, SINCE, NOW, lambda recs: pages.append(upsert_records(db, recs)), PRICER)
            counts.append((sum(p.added for p in pages), sum(p.updated for p in pages),
                           sum(p.unchanged for p in pages)))
        assert counts[0][0] > 0 and counts[1] == (0, 0, counts[0][0])
    finally:
        db.dispose()


SONNET = "claude-sonnet-4-20250514"


def test_usage_detail_prices_to_the_cost_report_per_context_window(fake: AnthropicFake, client: httpx.Client) -> None:
    """The catalog's published Sonnet 4 rates, applied per context-window bucket, give what the cost
    report bills for the same tokens: long-context rows at $6/$22.50, the rest at $3/$15."""
    from aicost_desktop.pricing.catalog import PriceCatalog

    sink = ListSink()
    sync().run(client, account(fake), SINCE, NOW, sink, PriceCatalog.load().cost_of)
    recs = sink.records
    for window in ("0-200k", "200k-1M"):
        billed = sum(r.reported_cost for r in recs if r.reported_cost is not None and r.model == SONNET
                     and r.service_tier is ServiceTier.STANDARD and window in (r.dedup_key or ""))
        usage = [r for r in recs if r.line_item == "messages" and r.model == SONNET
                 and r.service_tier is ServiceTier.STANDARD and ("200k-1M" in (r.note or "")) == (window != "0-200k")]
        assert usage and all(r.cost_role is CostRole.DETAIL for r in usage)
        assert billed > 0 and abs(sum(r.computed_cost for r in usage) - billed) < Decimal("0.000001"), window
    long = [r for r in recs if r.line_item == "messages" and "200k-1M" in (r.note or "")]
    toks = fake.expected_tokens(SINCE, NOW, tier="standard", context_window="200k-1M")
    assert sum(r.usage.input_tokens for r in long if r.service_tier is ServiceTier.STANDARD) == toks[0]


def test_priority_on_demand_counts_once_whether_or_not_the_cost_report_has_it(fake: AnthropicFake,
                                                                              client: httpx.Client) -> None:
    def run() -> list:  # type: ignore[type-arg]
        sink = ListSink()
        sync().run(client, account(fake), SINCE, NOW, sink, PRICER)
        return sink.records

    def on_demand(recs: list) -> list:  # type: ignore[type-arg]
        return [r for r in recs if r.line_item == "messages" and "priority_on_demand" in r.dedup_key]

    absent = run()  # the documented case: the cost report does not carry it -> spend from usage
    assert on_demand(absent) and all(r.cost_role is CostRole.SPEND for r in on_demand(absent))
    fake.costed_tiers.add("priority_on_demand")  # the report carries it: usage becomes its detail
    present = run()
    assert on_demand(present) and all(r.cost_role is CostRole.DETAIL for r in on_demand(present))
    extra = fake.expected_cost(SINCE, NOW)
    fake.costed_tiers.discard("priority_on_demand")
    carried = extra - fake.expected_cost(SINCE, NOW)
    assert carried > 0
    # Same tokens either way; total spend differs only by report-vs-catalog pricing of those rows.
    spent_absent = sum(r.spend_cost for r in absent)
    spent_present = sum(r.spend_cost for r in present)
    priced = sum(r.computed_cost for r in on_demand(absent))
    assert spent_present == spent_absent - priced + carried
    assert {r.dedup_key for r in on_demand(absent)} == {r.dedup_key for r in on_demand(present)}


def test_window_without_a_complete_day_never_sends_a_future_ending_at(fake: AnthropicFake,
                                                                      client: httpx.Client) -> None:
    fake.reject_future_end = True  # strict: 400 for an ending_at after the clock
    today = datetime(2026, 3, 10, tzinfo=timezone.utc)
    for since in (today, NOW - timedelta(hours=1)):
        sink = ListSink()
        report = sync().run(client, account(fake), since, NOW + timedelta(days=2), sink, PRICER)
        assert report.pages == 2 and {r.bucket_start for r in sink.records} == {today}
        assert sum(r.reported_cost for r in sink.records if r.reported_cost is not None) == \
            fake.expected_cost(today, NOW)
    assert all(r.param("ending_at") is None for r in fake.requests)
    # A past window keeps an ending_at, never after the clock.
    fake.requests.clear()
    sync().run(client, account(fake), SINCE, datetime(2026, 3, 5, 6, tzinfo=timezone.utc), ListSink(), PRICER)
    assert {r.param("ending_at") for r in fake.requests} == {"2026-03-06T00:00:00Z"}
    # A window that starts after now asks nothing at all.
    fake.requests.clear()
    report = sync().run(client, account(fake), NOW + timedelta(days=1), NOW + timedelta(days=2), ListSink(), PRICER)
    assert report.requests == 0 and fake.requests == []
    # The fake is strict the way the brief's 400s are: ending_at at/before starting_at is refused.
    r = client.get(fake.base_url + "/v1/organizations/cost_report", headers={
        "x-api-key": ADMIN_KEY, "anthropic-version": "2023-06-01"},
        params={"starting_at": "2026-03-10T00:00:00Z", "ending_at": "2026-03-10T00:00:00Z"})
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
