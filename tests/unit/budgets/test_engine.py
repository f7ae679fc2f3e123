"""The engine: spend per scope, alerts once per (budget, period, threshold), new periods, re-arming."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from aicost_desktop.budgets.engine import evaluate, history, statuses
from aicost_desktop.budgets.model import BudgetSpec, add_budget, find_budget, update_budget
from aicost_desktop.domain.enums import DataSource
from aicost_desktop.notify.alerts import list_alerts
from aicost_desktop.notify.outbox import outbox_rows
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import WorkspaceUsage
from tests.unit.budgets.helpers import spend_at, spend_on

BEL = ZoneInfo("Europe/Belgrade")
NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)


def budget(db: Database, **kw: object) -> int:
    args = {"name": "Monthly", "amount": "10", "period": "monthly", **kw}
    return add_budget(db, BudgetSpec.build(**args))  # type: ignore[arg-type]


def thresholds(db: Database) -> list[str]:
    return sorted(f"{a.threshold:.0f}" for a in list_alerts(db, type_="threshold"))


def test_threshold_fires_once_across_resync_and_restart(db: Database) -> None:
    budget(db)
    spend_on(db, date(2026, 11, 3), "6", "a")
    r = evaluate(db, BEL, now=NOW)
    assert len(r.new_alerts) == 1 and thresholds(db) == ["50"]
    # the same sync again (identical rows) and a fresh engine (restart): nothing new
    spend_on(db, date(2026, 11, 3), "6", "a")
    assert evaluate(db, BEL, now=NOW).new_alerts == []
    db2 = Database(db.engine)
    assert evaluate(db2, BEL, now=NOW).new_alerts == []
    [a] = list_alerts(db)
    assert a.budget == "Monthly" and a.current_usage == Decimal(6) and a.budget_limit == Decimal(10)
    assert "50% of budget reached" in a.message and a.period_start == datetime(2026, 10, 31, 23, tzinfo=timezone.utc)
    assert [(m.channel, m.status) for m in outbox_rows(db, a.id)] == [("tray", "pending")]


def test_one_sync_crossing_all_thresholds_raises_one_alert_for_the_highest(db: Database) -> None:
    budget(db, emails=["ops@example.com"])
    spend_on(db, date(2026, 11, 3), "12.5", "a")
    r = evaluate(db, BEL, now=NOW)
    assert thresholds(db) == ["100"] and len(r.new_alerts) == 1
    [top] = list_alerts(db)
    assert "over budget by $2.50 (125%)" in top.message
    assert sorted((m.channel, m.target) for m in outbox_rows(db)) == [("email", "ops@example.com"), ("tray", "")]
    assert all(m.alert_id == top.id for m in outbox_rows(db))
    assert r.statuses[0].state == "exceeded"


def test_new_period_starts_clean(db: Database) -> None:
    budget(db)
    spend_on(db, date(2026, 11, 3), "9", "a")
    evaluate(db, BEL, now=NOW)
    assert thresholds(db) == ["80"]
    dec = datetime(2026, 12, 2, 12, tzinfo=timezone.utc)
    r = evaluate(db, BEL, now=dec)
    assert r.new_alerts == [] and r.statuses[0].spent == 0
    spend_on(db, date(2026, 12, 2), "5", "b")
    r = evaluate(db, BEL, now=dec)
    assert len(r.new_alerts) == 1 and thresholds(db) == ["50", "80"]
    with db.session() as s:
        rows = list(s.scalars(select(WorkspaceUsage).order_by(WorkspaceUsage.period_start)))
    assert [(r.cost, r.budget_limit) for r in rows] == [(Decimal(9), Decimal(10)), (Decimal(5), Decimal(10))]
    assert rows[1].alert_threshold == Decimal(8) and rows[1].tokens == 1000


def test_raising_the_amount_rearms_thresholds_no_longer_crossed(db: Database) -> None:
    bid = budget(db)
    spend_on(db, date(2026, 11, 3), "9", "a")
    evaluate(db, BEL, now=NOW)
    assert thresholds(db) == ["80"]
    spec = BudgetSpec.from_row(find_budget(db, bid)).with_(amount=Decimal(15))
    update_budget(db, bid, spec)
    r = evaluate(db, BEL, now=NOW)  # 9 of 15 = 60%: 50 still crossed, 80 re-armed
    assert len(r.rearmed) == 1 and r.new_alerts == []
    spend_on(db, date(2026, 11, 4), "3", "b")  # 12 of 15 = 80%
    r = evaluate(db, BEL, now=NOW)
    assert len(r.new_alerts) == 1
    eighty = [a for a in list_alerts(db) if a.threshold == 80]
    assert len(eighty) == 2 and eighty[0].budget_limit == Decimal(15)  # history kept
    assert evaluate(db, BEL, now=NOW).new_alerts == []


def test_spend_dropping_without_amount_change_does_not_rearm(db: Database) -> None:
    budget(db)
    spend_on(db, date(2026, 11, 3), "6", "a")
    evaluate(db, BEL, now=NOW)
    spend_on(db, date(2026, 11, 3), "2", "a")  # provider restated the day lower
    assert evaluate(db, BEL, now=NOW).rearmed == []
    spend_on(db, date(2026, 11, 3), "6", "a")
    assert evaluate(db, BEL, now=NOW).new_alerts == []


@pytest.mark.parametrize("scope, expected", [
    ("everything", "7"), ("provider:openai", "4"), ("provider:anthropic", "3"), ("model:claude", "3"),
    ("project:alpha", "4"), ("source:manual", "7"), ("source:api", "0"), ("workspace:default", "7"),
])
def test_scopes(db: Database, scope: str, expected: str) -> None:
    budget(db, scope=scope)
    spend_on(db, date(2026, 11, 3), "4", "a", project="alpha")
    spend_on(db, date(2026, 11, 4), "3", "b", provider="anthropic", model="claude")
    [st] = statuses(db, BEL, now=NOW)
    assert st.spent == Decimal(expected)


def test_instants_counted_by_local_day_dated_rows_by_date(db: Database) -> None:
    budget(db, period="daily", amount="100")
    spend_at(db, datetime(2026, 11, 19, 23, tzinfo=timezone.utc), "2", "i1")  # 00:00 Nov 20 in Belgrade
    spend_at(db, datetime(2026, 11, 19, 22, tzinfo=timezone.utc), "5", "i2")  # 23:00 Nov 19 local
    spend_on(db, date(2026, 11, 20), "1", "d1")
    [st] = statuses(db, BEL, now=NOW)
    assert st.spent == Decimal(3)


def test_currency_conversion_and_by_model(db: Database) -> None:
    budget(db, currency="EUR", amount="100")
    spend_on(db, date(2026, 11, 3), "10.80", "a")  # USD
    spend_on(db, date(2026, 11, 3), "5", "b", currency="EUR", model="mistral")
    [st] = statuses(db, BEL, now=NOW, fx={"USD": Decimal(1), "EUR": Decimal("1.08")})
    assert st.spent == Decimal(15) and st.by_model == {"gpt-4o": Decimal(10), "mistral": Decimal(5)}


def test_forecast_alert_once_and_status_text(db: Database) -> None:
    budget(db, amount="100", forecast_alert=True)
    for d in range(13, 20):  # 7 recent days of $5 usage
        spend_on(db, date(2026, 11, d), "5", f"d{d}", source=DataSource.API)
    r = evaluate(db, ZoneInfo("UTC"), now=datetime(2026, 11, 20, tzinfo=timezone.utc))
    st = r.statuses[0]
    # spent 35; a median level of 5 a day for Nov 20..30 (11 days)
    assert st.forecast.amount == Decimal("90.00")
    assert list_alerts(db) == []  # 35% spent, projected 90: nothing to say
    spend_on(db, date(2026, 11, 20), "40", "big", source=DataSource.API)  # 75 spent, 10 days of 5 to come
    r = evaluate(db, ZoneInfo("UTC"), now=datetime(2026, 11, 21, tzinfo=timezone.utc))
    assert "forecast" in [a.type for a in list_alerts(db)]
    assert r.statuses[0].state in ("warning", "at_risk") and r.statuses[0].forecast_text().startswith("projected $")
    assert evaluate(db, ZoneInfo("UTC"), now=datetime(2026, 11, 21, tzinfo=timezone.utc)).new_alerts == []


def test_history_oldest_first(db: Database) -> None:
    bid = budget(db)
    spend_on(db, date(2026, 9, 3), "4", "a")
    spend_on(db, date(2026, 11, 3), "6", "b")
    h = history(db, find_budget(db, bid), BEL, now=NOW, count=3)
    assert [(p.period.first.month, p.spent) for p in h] == [(9, Decimal(4)), (10, Decimal(0)), (11, Decimal(6))]


def test_disabled_budget_not_evaluated(db: Database) -> None:
    bid = budget(db)
    update_budget(db, bid, BudgetSpec.from_row(find_budget(db, bid)).with_(enabled=False))
    spend_on(db, date(2026, 11, 3), "60", "a")
    assert evaluate(db, BEL, now=NOW).new_alerts == []


def test_an_evaluation_that_changes_nothing_writes_nothing(db: Database) -> None:
    # The app's ledger watcher sees every commit, its own process's too, and a change makes the app evaluate
    # again: rewriting workspace_usage.updated_at on every evaluation kept an idle window reloading every second.
    budget(db)
    spend_on(db, date(2026, 11, 3), "6", "a")
    evaluate(db, BEL, now=NOW)

    def usage() -> list[tuple[object, ...]]:
        with db.session() as s:
            return [(u.cost, u.forecast, u.updated_at) for u in s.scalars(select(WorkspaceUsage))]

    # SQLite: what the watcher reads (PRAGMA data_version moves when another connection commits a change).
    watcher = sqlite3.connect(str(db.engine.url.database)) if db.engine.dialect.name == "sqlite" else None

    def data_version() -> int | None:
        return None if watcher is None else int(watcher.execute("PRAGMA data_version").fetchone()[0])

    try:
        before, version = usage(), data_version()
        evaluate(db, BEL, now=NOW + timedelta(minutes=5))
        assert usage() == before
        assert data_version() == version
        spend_on(db, date(2026, 11, 4), "1", "b")  # a figure moves: the row is rewritten
        evaluate(db, BEL, now=NOW + timedelta(minutes=10))
        [(cost, _forecast, updated)] = usage()
        assert cost == Decimal(7) and updated != before[0][2]
        assert watcher is None or data_version() != version
    finally:
        if watcher is not None:
            watcher.close()
