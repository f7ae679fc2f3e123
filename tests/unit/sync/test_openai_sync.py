"""OpenAISync end to end against the real-HTTP fake: totals to the cent, pagination, failures, ledger."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from aicost_desktop.domain.enums import CostRole, ServiceTier
from aicost_desktop.sync.base import AccountInfo, AuthError, ProviderError
from aicost_desktop.sync.http import HttpPolicy
from aicost_desktop.sync.openai import OpenAISync
from tests.fakes.http_fake import FakeResponse, serving
from tests.fakes.openai_fake import ADMIN_KEY, MODELS, PROJECT_KEY, ListSink, OpenAIFake, table_pricer

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=timezone.utc)
SINCE = datetime(2026, 2, 1, tzinfo=timezone.utc)
PRICER = table_pricer({MODELS[0]: ("2.50", "10"), MODELS[1]: ("0.15", "0.60"), MODELS[2]: ("2", "8"),
                       "text-embedding-3-small": ("0.02", "0")})


@pytest.fixture
def fake() -> Iterator[OpenAIFake]:
    with serving(OpenAIFake(now=NOW, days=45)) as f:
        yield f


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


def account(fake: OpenAIFake, key: str = ADMIN_KEY) -> AccountInfo:
    return AccountInfo(id=1, name="acme", provider="openai", base_url=fake.base_url + "/v1",
                       workspace_id=1, api_key=key)


def sync(limit: int = 7, now: datetime = NOW) -> OpenAISync:
    return OpenAISync(HttpPolicy(sleep=lambda d: None, jitter=lambda: 0.0), costs_limit=limit, usage_limit=limit,
                      clock=lambda: now)


def test_totals_match_to_the_cent_and_pages_are_followed(fake: OpenAIFake, client: httpx.Client) -> None:
    sink, progress = ListSink(), []
    report = sync().run(client, account(fake), SINCE, NOW, sink, PRICER, lambda d, t: progress.append((d, t)))
    recs = sink.records
    spend = [r for r in recs if r.cost_role is CostRole.SPEND]
    detail = [r for r in recs if r.cost_role is CostRole.DETAIL]
    assert sum(r.reported_cost for r in spend) == fake.expected_cost(SINCE, NOW)
    assert sum(r.spend_cost for r in recs) == fake.expected_cost(SINCE, NOW)  # detail adds nothing
    comp = [r for r in detail if r.line_item == "completions"]
    want = fake.expected_tokens(SINCE, NOW)
    assert sum(r.usage.input_tokens for r in comp) == want["input"]
    assert sum(r.usage.cache_read_tokens for r in comp) == want["cache_read"]
    assert sum(r.usage.cache_write_tokens for r in comp) == want["cache_write"] > 0
    assert sum(r.usage.output_tokens for r in comp) == want["output"]
    assert sum(r.usage.requests for r in comp) == want["requests"]
    emb = [r for r in detail if r.line_item == "embeddings"]
    assert sum(r.usage.input_tokens for r in emb) == fake.expected_tokens(SINCE, NOW, "embeddings")["input"]
    # 38 daily buckets (Feb 1 .. Mar 10) in pages of 7 -> 6 pages per endpoint, 3 endpoints.
    assert report.pages == 18 and report.requests == 18 and report.retries == 0
    assert len(fake.requests_to("/v1/organization/costs")) == 6
    assert report.records == len(recs)
    assert progress[-1] == (18, 18)
    keys = [r.dedup_key for r in recs]
    assert len(keys) == len(set(keys))
    assert {r.service_tier for r in comp} == {ServiceTier.STANDARD, ServiceTier.BATCH, ServiceTier.FLEX}
    unpriced = {r.model for r in comp if r.computed_cost is None}
    assert unpriced == {MODELS[3]}  # not in our price table: unpriced, never $0
    assert all(r.bucket_start >= SINCE for r in recs)


def test_today_grows_and_resync_keeps_keys(fake: OpenAIFake, client: httpx.Client) -> None:
    first = ListSink()
    sync().run(client, account(fake), NOW - timedelta(days=2), NOW, first, PRICER)
    fake.now = NOW + timedelta(hours=6)
    second = ListSink()
    sync(now=fake.now).run(client, account(fake), NOW - timedelta(days=2), fake.now, second, PRICER)
    a = {r.dedup_key: r for r in first.records}
    b = {r.dedup_key: r for r in second.records}
    assert a.keys() == b.keys()
    today = [k for k in a if "costs:2026-03-10" in k]
    assert today and all(b[k].reported_cost > a[k].reported_cost for k in today)  # type: ignore[operator]
    assert sum(r.reported_cost for r in second.records if r.reported_cost) == \
        fake.expected_cost(datetime(2026, 3, 8, tzinfo=timezone.utc), fake.now)  # since snapped to midnight


def test_has_more_without_cursor_fails(fake: OpenAIFake, client: httpx.Client) -> None:
    fake.disagree = True
    sink = ListSink()
    with pytest.raises(ProviderError, match="has_more"):
        sync().run(client, account(fake), SINCE, NOW, sink, PRICER)
    assert sink == []  # the disagreeing page is not written


def test_truncated_page_aborts_and_earlier_pages_stay(fake: OpenAIFake, client: httpx.Client) -> None:
    sink = ListSink()
    orig = fake.handle
    calls = []

    def handle(req):  # type: ignore[no-untyped-def]
        calls.append(req.path)
        if len(calls) == 3:
            fake.inject_truncated()
        return orig(req)

    fake.handle = handle  # type: ignore[method-assign]
    with pytest.raises(ProviderError, match="invalid JSON"):
        sync().run(client, account(fake), SINCE, NOW, sink, PRICER)
    assert len(sink) == 2 and len(calls) == 3


def test_rate_limits_and_overload_are_retried(fake: OpenAIFake, client: httpx.Client) -> None:
    sleeps: list[float] = []
    fake.inject(OpenAIFake.error(429, "Rate limit reached for requests", "requests", code="rate_limit_exceeded",
                                 headers={"Retry-After": "3"}))
    fake.inject(FakeResponse.json_({"error": {"message": "overloaded", "type": "server_error",
                                              "param": None, "code": None}}, 503))
    s = OpenAISync(HttpPolicy(sleep=sleeps.append, jitter=lambda: 0.0), clock=lambda: NOW)
    report = s.run(client, account(fake), SINCE, NOW, ListSink(), PRICER)
    assert sleeps == [3.0, 1.0] and report.retries == 2 and report.requests == report.pages + 2


@pytest.mark.parametrize("key,status", [(PROJECT_KEY, "403"), ("sk-wrong-123456789", "401")])
def test_wrong_key_kind_is_auth_error_naming_admin_key(fake: OpenAIFake, client: httpx.Client,
                                                      key: str, status: str) -> None:
    with pytest.raises(AuthError) as ei:
        sync().run(client, account(fake, key), SINCE, NOW, ListSink(), PRICER)
    assert status in str(ei.value) and "sk-admin-" in str(ei.value)
    with pytest.raises(AuthError):
        sync().test_connection(client, account(fake, key))


def test_test_connection_ok(fake: OpenAIFake, client: httpx.Client) -> None:
    assert sync().test_connection(client, account(fake)).startswith("OpenAI Admin key OK")
    [req] = fake.requests
    assert req.param("limit") == "2" and req.header("authorization") == f"Bearer {ADMIN_KEY}"


def test_future_until_is_clamped_to_now(fake: OpenAIFake, client: httpx.Client) -> None:
    sync().run(client, account(fake), NOW - timedelta(days=1), NOW + timedelta(days=5), ListSink(), PRICER)
    assert {r.param("end_time") for r in fake.requests} == {str(int(NOW.timestamp()))}


def test_cancel_stops_between_pages(fake: OpenAIFake, client: httpx.Client) -> None:
    cancel = threading.Event()
    sink = ListSink()

    def sink_then_cancel(records: list) -> None:  # type: ignore[type-arg]
        sink(records)
        cancel.set()

    report = sync().run(client, account(fake), SINCE, NOW, sink_then_cancel, PRICER, cancel=cancel)
    assert report.warnings == ["cancelled"] and len(sink) == 1 and len(fake.requests) == 1


def test_fake_validates_params(fake: OpenAIFake, client: httpx.Client) -> None:
    h = {"Authorization": f"Bearer {ADMIN_KEY}"}
    url = fake.base_url + "/v1/organization/costs"
    r = client.get(url, headers=h)
    assert r.status_code == 400 and r.json()["error"]["param"] == "start_time"
    assert client.get(url, params={"start_time": 1, "limit": 181}, headers=h).status_code == 400
    assert client.get(url, params={"start_time": 1, "bucket_width": "1h"}, headers=h).status_code == 400
    u = fake.base_url + "/v1/organization/usage/completions"
    assert client.get(u, params={"start_time": 1, "limit": 32}, headers=h).status_code == 400
    start = int((NOW - timedelta(days=3, hours=5)).timestamp())
    body = client.get(u + f"?start_time={start}&group_by[]=model&limit=7", headers=h).json()
    first = body["data"][0]
    assert first["start_time"] == start and first["end_time"] % 86400 == 0  # unaligned first bucket
    assert {r["project_id"] for b in body["data"] for r in b["results"]} == {None}
    assert set(r.json()["error"]) == {"message", "type", "param", "code"}


def test_second_sync_into_real_ledger_changes_nothing(fake: OpenAIFake, client: httpx.Client,
                                                      tmp_path: Path) -> None:
    from aicost_desktop.storage.db import Database
    from aicost_desktop.storage.ledger import upsert_records
    from aicost_desktop.storage.tables import Account

    db = Database.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        with db.session() as s:
            acct = Account(name="acme", provider="openai", workspace_id=db.default_workspace_id())
            s.add(acct)
            s.flush()
            acct_id = acct.id
        info = AccountInfo(id=acct_id, name="acme", provider="openai", base_url=fake.base_url,
                           workspace_id=db.default_workspace_id(), api_key=ADMIN_KEY)
        results = []
        for _ in range(2):
            pages: list = []  # type: ignore[type-arg]
            sync().run(client, info, SINCE, NOW, lambda recs: pages.append(upsert_records(db, recs)), PRICER)
            results.append((sum(p.added for p in pages), sum(p.updated for p in pages),
                            sum(p.unchanged for p in pages)))
        (added1, updated1, _), (added2, updated2, unchanged2) = results
        assert added1 > 0 and updated1 == 0
        assert (added2, updated2, unchanged2) == (0, 0, added1)
    finally:
        db.dispose()


def test_a_costs_result_without_an_amount_is_skipped_not_fatal(fake: OpenAIFake, client: httpx.Client,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    fake.null_amounts = True  # every costs bucket also holds {"amount": null, ...} (OAI-PY: Optional)
    sink = ListSink()
    with caplog.at_level("WARNING", logger="aicost.sync.openai"):
        report = sync().run(client, account(fake), SINCE, NOW, sink, PRICER)
    assert sum(r.reported_cost for r in sink.records if r.reported_cost is not None) == fake.expected_cost(SINCE, NOW)
    skipped = [m for m in caplog.messages if "without an amount skipped" in m]
    assert skipped and all(ADMIN_KEY not in m for m in caplog.messages)
    assert report.warnings == [f"openai: {len(skipped)} costs result(s) without an amount skipped"]
    assert any(r.line_item == "completions" for r in sink.records)  # the usage passes still ran


def test_a_window_without_a_complete_day_asks_nothing_after_now(fake: OpenAIFake, client: httpx.Client) -> None:
    fake.reject_future_end = True
    today = datetime(2026, 3, 10, tzinfo=timezone.utc)
    for since in (today, NOW - timedelta(hours=1)):
        fake.requests.clear()
        sink = ListSink()
        sync().run(client, account(fake), since, NOW + timedelta(days=2), sink, PRICER)
        assert {r.bucket_start for r in sink.records} == {today}
        assert {r.param("end_time") for r in fake.requests} == {str(int(NOW.timestamp()))}
        assert {r.param("start_time") for r in fake.requests} == {str(int(today.timestamp()))}
    fake.requests.clear()
    report = sync().run(client, account(fake), NOW + timedelta(days=1), NOW + timedelta(days=2), ListSink(), PRICER)
    assert report.requests == 0 and fake.requests == []
    assert client.get(fake.base_url + "/v1/organization/costs", headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                      params={"start_time": int(today.timestamp()),
                              "end_time": int(NOW.timestamp()) + 86400}).status_code == 400
