"""A budget's projection is the one forecast (analytics.forecast): usage is projected, one-offs and
subscriptions are not extrapolated, renewals due later in the period are counted once."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from aicost_desktop.analytics.forecast import period_forecast, spend_forecast
from aicost_desktop.budgets.engine import statuses
from aicost_desktop.budgets.model import BudgetSpec, add_budget
from aicost_desktop.domain.enums import DataSource
from aicost_desktop.domain.money import format_money
from aicost_desktop.manual import ManualEntry, add_entry, add_subscription
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.query import LedgerFilter
from tests.unit.budgets.helpers import spend_on

UTC = ZoneInfo("UTC")
TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)
NOV = (date(2026, 11, 1), date(2026, 11, 30))
D = Decimal


def steady_usage(db: Database, days: int = 60, amount: str = "5") -> None:
    """`amount` of API usage every day before TODAY: the model's forecast is that amount a day."""
    for i in range(1, days + 1):
        spend_on(db, TODAY - timedelta(days=i), amount, f"u{i}", source=DataSource.API)


def month(db: Database, **kw: object) -> object:
    return period_forecast(db, UTC, *NOV, TODAY, **kw)  # type: ignore[arg-type]


def test_steady_usage_projects_its_rate_to_month_end_with_a_band(sqlite_db: Database) -> None:
    steady_usage(sqlite_db)
    f = month(sqlite_db)
    # Nov 1..19 spent 95; today (nothing yet) and the 10 days after at 5 a day.
    assert f.spent == 95 and f.amount == D("150.00") and f.known == 0
    assert f.lower < f.amount < f.upper and f.method == "trend+weekday"


def test_a_one_off_manual_entry_adds_its_amount_once(sqlite_db: Database) -> None:
    steady_usage(sqlite_db)
    before = month(sqlite_db)
    add_entry(sqlite_db, ManualEntry(service="Midjourney", amount="300", entry_date=date(2026, 11, 3)))
    after = month(sqlite_db)
    assert after.spent - before.spent == 300
    assert after.amount - before.amount == 300 and after.upper - before.upper == 300  # not a $300/day habit


def test_a_manual_entry_dated_later_in_the_period_counts_as_known(sqlite_db: Database) -> None:
    steady_usage(sqlite_db)
    add_entry(sqlite_db, ManualEntry(service="Conference", amount="40", entry_date=date(2026, 11, 27)))
    f = month(sqlite_db)
    assert f.spent == 95 and f.known == 40 and f.amount == D("190.00")


def test_a_subscription_is_not_extrapolated_and_its_renewal_in_the_period_counts_once(sqlite_db: Database) -> None:
    steady_usage(sqlite_db)
    base = month(sqlite_db)
    # Charged Sep 25, Oct 25 (in the ledger, outside November), due again Nov 25: +20 this month, once.
    add_subscription(sqlite_db, "ChatGPT Plus", "20", "monthly", date(2026, 9, 25), provider="openai", today=TODAY)
    f = month(sqlite_db)
    assert f.spent == base.spent and f.known == 20 and f.amount == base.amount + 20
    # Once charged (materialized on the 25th), it is spent, not known, and the projection stays the same.
    add_subscription(sqlite_db, "Claude Pro", "20", "monthly", date(2026, 11, 2), provider="anthropic", today=TODAY)
    g = month(sqlite_db)
    assert g.spent == base.spent + 20 and g.known == 20 and g.amount == base.amount + 40
    # Scoped to another provider: neither subscription belongs to it.
    h = month(sqlite_db, filters=LedgerFilter.of(provider="anthropic"))
    assert h.known == 0 and h.spent == 20


def test_breach_date_is_the_day_the_running_total_reaches_the_limit(sqlite_db: Database) -> None:
    steady_usage(sqlite_db)
    # 95 through Nov 19, +5 a day: 120 is reached on Nov 24.
    assert month(sqlite_db, limit=D(120)).breach_date == date(2026, 11, 24)
    assert month(sqlite_db, limit=D(500)).breach_date is None
    assert month(sqlite_db, limit=D(90)).breach_date == TODAY  # already over


def test_nothing_to_learn_from_projects_what_is_spent(sqlite_db: Database) -> None:
    add_entry(sqlite_db, ManualEntry(service="Replicate", amount="14.60", entry_date=date(2026, 11, 9)))
    f = month(sqlite_db)
    assert f.method == "none" and f.amount == f.lower == f.upper == D("14.60")


def test_budget_status_and_analytics_month_end_are_one_figure(sqlite_db: Database) -> None:
    steady_usage(sqlite_db, 90, "7.35")
    add_entry(sqlite_db, ManualEntry(service="Midjourney", amount="30", entry_date=date(2026, 11, 4)))
    add_subscription(sqlite_db, "Cursor Pro", "20", "monthly", date(2026, 8, 23), provider="cursor", today=TODAY)
    spend_on(sqlite_db, TODAY, "3.10", "today", source=DataSource.API)
    add_budget(sqlite_db, BudgetSpec.build(name="Everything", amount="200"))
    [st] = statuses(sqlite_db, UTC, now=NOW)
    fc = spend_forecast(sqlite_db, UTC, TODAY, days=14)
    assert (st.forecast.amount, st.forecast.lower, st.forecast.upper) == \
        (fc.month_projection, fc.month_lower, fc.month_upper)
    assert st.spent == fc.month_to_date
    assert st.forecast_text() == (f"projected {format_money(fc.month_projection)} ({format_money(fc.month_lower)}–"
                                  f"{format_money(fc.month_upper)}) by Nov 30")
