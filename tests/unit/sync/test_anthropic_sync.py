"""AnthropicSync end to end against the real-HTTP fake: cents, priority tier, pagination, failures, ledger."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from aicost_desktop.domain.enums import CostRole, ServiceTier
from aicost_desktop.sync.anthropic import AnthropicSync
from aicost_desktop.sync.base import AccountInfo, AuthError, ProviderError
from aicost_desktop.sync.http import HttpPolicy
from tests.fakes.anthropic_fake import ADMIN_KEY, MODELS, WORKSPACE_KEY, AnthropicFake
from tests.fakes.http_fake import FakeResponse, serving
from tests.fakes.openai_fake import ListSink, table_pricer

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=timezone.utc)
SINCE = datetime(2026, 2, 1, tzinfo=timezone.utc)
PRICER = table_pricer({m: (str(pin), str(pout)) for m, (_, pin, pout) in MODELS.items()
                       if not m.startswith("claude-3")})


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
