"""Block budgets: admission against period spend + pending + in-flight reservations, thread-safe, re-read safely."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from aicost_desktop.budgets.model import BudgetSpec, add_budget, find_budget, update_budget
from aicost_desktop.domain.enums import DataSource
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.gateway.guard import Blocked, BudgetGuard
from aicost_desktop.gateway.meter import RequestInfo
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.ledger import upsert_records

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc)
D = Decimal


def info(provider: str = "openai", model: str = "gpt-4o", project: str | None = None) -> RequestInfo:
    return RequestInfo(provider, "chat.completions", model, False, 100, 10, project=project)


def spend(db: Database, amount: str, key: str, at: datetime = NOW - timedelta(days=1)) -> None:
    upsert_records(db, [UsageRecord(DataSource.API, key, "openai", at, at + timedelta(hours=1), model="gpt-4o",
                                    usage=TokenUsage(input_tokens=1), reported_cost=D(amount))])


def guard(db: Database) -> BudgetGuard:
    g = BudgetGuard(db, ZoneInfo("UTC"), clock=lambda: NOW)
    g.reload()
    return g


def test_block_is_a_budget_action() -> None:
    assert BudgetSpec.build(name="cap", amount="5", on_exceed="block").on_exceed == "block"
    with pytest.raises(InputError, match="block"):
        BudgetSpec.build(name="cap", amount="5", on_exceed="refuse")


def test_the_period_spend_in_the_ledger_blocks_once_the_limit_is_reached(ledger: Database) -> None:
    add_budget(ledger, BudgetSpec.build(name="cap", amount="10", on_exceed="block"))
    add_budget(ledger, BudgetSpec.build(name="notify only", amount="1"))  # not a block budget: never refuses
    spend(ledger, "9.99", "a")
    spend(ledger, "100", "last-month", at=datetime(2026, 2, 20, tzinfo=timezone.utc))  # another period
    g = guard(ledger)
    adm = g.admit(info(), D("0.5"))
    with pytest.raises(Blocked) as exc:  # 9.99 + 0.5 in flight >= 10
        g.admit(info(), D("0.01"))
    assert exc.value.budget == "cap" and "'cap' reached" in exc.value.message
    g.settle(adm, D("0.005"))  # cheaper than reserved: 9.995 < 10 lets the next one through
    g.admit(info(), D("0.01"))
    assert g.blocking() == ["cap"]  # 9.995 + 0.01 in flight: reached


def test_pending_and_committed_costs_are_counted_once_across_a_reload(ledger: Database) -> None:
    add_budget(ledger, BudgetSpec.build(name="cap", amount="1", on_exceed="block"))
    g = guard(ledger)
    adm = g.admit(info(), D("0.2"))
    charges = g.settle(adm, D("0.6"))
    [b] = g.snapshot()
    assert (b.base, b.pending, b.reserved) == (0, D("0.6"), 0)
    g.reload()  # before the row is written: still pending, not lost
    assert g.snapshot()[0].spent == D("0.6")
    spend(ledger, "0.6", "the gateway's row")  # the writer commits it...
    g.committed([charges])  # ...and says so
    g.reload()
    [b] = g.snapshot()
    assert (b.base, b.pending) == (D("0.6"), 0)


def test_scopes_pick_the_requests_they_count(ledger: Database) -> None:
    add_budget(ledger, BudgetSpec.build(name="claude", amount="1", scope="provider:anthropic", on_exceed="block"))
    add_budget(ledger, BudgetSpec.build(name="alpha", amount="1", scope="project:alpha", on_exceed="block"))
    g = guard(ledger)
    g.admit(info("anthropic", "claude-sonnet-4-5"), D("1"))
    with pytest.raises(Blocked, match="claude"):
        g.admit(info("anthropic", "claude-sonnet-4-5"), D("0"))
    g.admit(info("openai"), D("5"))  # neither budget counts it
    g.admit(info(project="alpha"), D("1"))
    with pytest.raises(Blocked, match="alpha"):
        g.admit(info(project="alpha"), D("0"))


def test_raising_the_budget_lets_requests_through_again(ledger: Database) -> None:
    add_budget(ledger, BudgetSpec.build(name="cap", amount="1", on_exceed="block"))
    spend(ledger, "1", "a")
    g = guard(ledger)
    with pytest.raises(Blocked):
        g.admit(info(), D("0"))
    assert g.blocking() == ["cap"]
    b = find_budget(ledger, "cap")
    update_budget(ledger, b.id, BudgetSpec.from_row(b).with_(amount=D("2")))
    g.reload()
    g.admit(info(), D("0.5"))
    assert g.blocking() == []


def test_a_new_period_starts_from_nothing(ledger: Database) -> None:
    add_budget(ledger, BudgetSpec.build(name="cap", amount="1", period="daily", on_exceed="block"))
    spend(ledger, "1", "today", at=NOW)
    clock = [NOW]
    g = BudgetGuard(ledger, ZoneInfo("UTC"), clock=lambda: clock[0])
    g.reload()
    with pytest.raises(Blocked):
        g.admit(info(), D("0"))
    clock[0] = NOW + timedelta(days=1)
    g.admit(info(), D("0.1"))


def test_concurrent_admissions_overshoot_by_at_most_one_reservation(ledger: Database) -> None:
    add_budget(ledger, BudgetSpec.build(name="cap", amount="1", on_exceed="block"))
    g = guard(ledger)
    admitted: list[object] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def worker() -> None:
        start.wait()
        for _ in range(200):
            try:
                adm = g.admit(info(), D("0.03"))
            except Blocked:
                continue
            with lock:
                admitted.append(adm)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = len(admitted) * D("0.03")
    assert D("1") <= total < D("1") + D("0.03")
    assert len(admitted) == 34  # ceil(1 / 0.03)
