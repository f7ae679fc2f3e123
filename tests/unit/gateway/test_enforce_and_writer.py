"""Block budgets over HTTP (429 in each provider's envelope) and a ledger writer that never fails a request."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Callable

import httpx
from sqlalchemy import func, select

from aicost_desktop.budgets.model import BudgetSpec, add_budget, find_budget, update_budget
from aicost_desktop.domain.enums import DataSource
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.gateway.host import GatewayHost
from aicost_desktop.gateway.writer import LedgerWriter
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.ledger import upsert_records
from aicost_desktop.storage.tables import UsageRow

MSG = {"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
CHAT = {"model": "gpt-4o-mini", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}


def spent(db: Database) -> Decimal:
    with db.session() as s:
        return s.scalar(select(func.coalesce(func.sum(UsageRow.cost), 0)).where(UsageRow.source == "proxy"))


def test_a_block_budget_refuses_with_429_in_each_envelope_and_raising_it_unblocks(
        make_gateway: Callable[..., GatewayHost], ledger: Database) -> None:
    add_budget(ledger, BudgetSpec.build(name="Team cap", amount="0.001", on_exceed="block"))
    gw = make_gateway()
    h = {"X-AICost-Token": gw.token or "", "X-Fake-Prompt": "10", "X-Fake-Output": "100"}
    first = httpx.post(gw.base_url + "/anthropic/v1/messages", json=MSG, headers=h)
    assert first.status_code == 200  # $0.00153: over the limit now
    an = httpx.post(gw.base_url + "/anthropic/v1/messages", json=MSG, headers=h)
    oa = httpx.post(gw.base_url + "/openai/v1/chat/completions", json={**CHAT, "stream": True}, headers=h)
    assert an.status_code == oa.status_code == 429
    assert an.headers["x-should-retry"] == "false"  # the SDKs would otherwise retry with backoff
    assert an.json()["type"] == "error" and an.json()["error"]["type"] == "rate_limit_error"
    assert "'Team cap' reached" in an.json()["error"]["message"]
    err = oa.json()["error"]
    assert set(err) == {"message", "type", "param", "code"} and err["code"] == "budget_exceeded"
    assert "'Team cap'" in err["message"]
    assert gw.flush()
    with ledger.session() as s:
        assert s.scalar(select(func.count()).select_from(UsageRow)) == 1  # refused calls never went upstream
    b = find_budget(ledger, "Team cap")
    update_budget(ledger, b.id, BudgetSpec.from_row(b).with_(amount=Decimal("1")))
    gw.reload_budgets()
    assert httpx.post(gw.base_url + "/anthropic/v1/messages", json=MSG, headers=h).status_code == 200


def test_concurrent_requests_overshoot_a_block_budget_by_at_most_one_reservation(
        make_gateway: Callable[..., GatewayHost], ledger: Database) -> None:
    limit = Decimal("0.05")
    add_budget(ledger, BudgetSpec.build(name="cap", amount=str(limit), on_exceed="block"))
    gw = make_gateway()
    h = {"X-AICost-Token": gw.token or "", "X-Fake-Prompt": "10", "X-Fake-Output": "100", "X-Fake-Delay": "0.01",
         "X-Fake-Chunks": "3"}

    async def run() -> list[int]:
        sem = asyncio.Semaphore(50)
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=50)) as client:
            async def one(i: int) -> int:
                async with sem:
                    r = await client.post(gw.base_url + "/anthropic/v1/messages",
                                          json={**MSG, "stream": i % 2 == 0}, headers=h)
                    return r.status_code
            return await asyncio.gather(*(one(i) for i in range(200)))

    codes = asyncio.run(run())
    assert set(codes) == {200, 429}
    assert gw.flush()
    # One request's reservation: its body (under 200 bytes, so at most 50 tokens) as input at $3/M plus
    # its 100 max_tokens at $15/M; each request really costs 10 x $3/M + 100 x $15/M = $0.00153.
    reservation = 50 * Decimal("0.000003") + 100 * Decimal("0.000015")
    total = spent(ledger)
    assert codes.count(200) * Decimal("0.00153") == total
    assert limit - 50 * reservation < total <= limit + reservation


def test_the_writer_retries_a_failing_ledger_and_the_requests_do_not_wait(ledger: Database) -> None:
    calls: list[int] = []
    release = threading.Event()

    def flaky(db: Database, records: list[UsageRecord]) -> object:
        calls.append(len(records))
        if len(calls) <= 2:
            raise RuntimeError("database is locked")
        release.wait(10)
        return upsert_records(db, records)

    w = LedgerWriter(ledger, write=flaky)
    w.start()
    at = datetime.now(timezone.utc)
    for i in range(10):
        w.put(UsageRecord(DataSource.PROXY, f"gw:{i}", "openai", at, at + timedelta(seconds=1),
                          usage=TokenUsage(input_tokens=1, requests=1), computed_cost=Decimal("0.01")))
    assert w.pending == 10  # put() returned at once although the database fails and then blocks
    release.set()
    assert w.flush(20)
    w.stop()
    assert w.failures == 2 and sum(calls[2:]) == 10
    assert spent(ledger) == Decimal("0.10")


def test_a_flush_under_steady_traffic_waits_for_the_rows_put_before_it_only(ledger: Database) -> None:
    at = datetime.now(timezone.utc)
    more = threading.Event()
    more.set()
    w: LedgerWriter

    def row(i: int) -> UsageRecord:
        return UsageRecord(DataSource.PROXY, f"gw:{i}", "openai", at, at, usage=TokenUsage(requests=1),
                           computed_cost=Decimal("0.01"))

    def busy(db: Database, records: list[UsageRecord]) -> object:
        # Traffic never pauses: every commit sees a new call arrive, so the queue is never empty.
        if more.is_set():
            w.put(row(1000 + len(calls)))
        calls.append(len(records))
        threading.Event().wait(0.02)
        return upsert_records(db, records)

    calls: list[int] = []
    w = LedgerWriter(ledger, write=busy)
    w.start()
    for i in range(3):
        w.put(row(i))
    try:
        assert w.flush(5)  # before: waited for an empty queue, which steady traffic never gives
        assert w.pending >= 1
    finally:
        more.clear()
        w.stop()
    with ledger.session() as s:
        keys = set(s.scalars(select(UsageRow.dedup_key)))
    assert {"gw:0", "gw:1", "gw:2"} <= keys


def test_rows_are_idempotent_so_a_retried_batch_is_written_once(ledger: Database) -> None:
    at = datetime.now(timezone.utc)
    rec = UsageRecord(DataSource.PROXY, "gw:same", "openai", at, at, usage=TokenUsage(requests=1),
                      computed_cost=Decimal("0.5"))
    upsert_records(ledger, [rec])
    upsert_records(ledger, [rec])
    assert spent(ledger) == Decimal("0.5")
