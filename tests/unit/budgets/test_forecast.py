"""Forecast arithmetic against hand-computed cases (see budgets/forecast.py for the formula)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from aicost_desktop.budgets.forecast import forecast_spend, recent_window
from aicost_desktop.budgets.periods import period_containing

UTC = ZoneInfo("UTC")
D = Decimal


def test_mid_month_blend() -> None:
    # November: 30 days. Now = Nov 10 00:00 -> elapsed 9 days, w = 9/30 = 0.3, remaining 21 days.
    # spent 45 -> run rate 5/day; recent average 4/day. rate = 0.3*5 + 0.7*4 = 4.3/day.
    # forecast = 45 + 4.3*21 = 135.3; limit 100 reached after (100-45)/4.3 = 12.79 days -> Nov 22.
    p = period_containing("monthly", date(2026, 11, 10), UTC)
    f = forecast_spend(D(45), p, datetime(2026, 11, 10, tzinfo=timezone.utc), D(4), D(100), UTC)
    assert f.weight == D("0.3") and f.run_rate == D(5) and f.rate == D("4.3")
    assert f.amount == D("135.3")
    assert f.breach_date == date(2026, 11, 22)


def test_first_hours_use_a_one_day_floor() -> None:
    # Nov 1 06:00: elapsed 0.25 days, floor 1 day -> run rate = 8/1 = 8; w = 0.25/30.
    # rate = 8/120 + (1 - 1/120) * 2 = 0.0666.. + 1.98333.. = 2.05; forecast = 8 + 2.05 * 29.75 = 68.9875
    p = period_containing("monthly", date(2026, 11, 1), UTC)
    f = forecast_spend(D(8), p, datetime(2026, 11, 1, 6, tzinfo=timezone.utc), D(2), D(100), UTC)
    assert f.run_rate == D(8)
    assert f.amount == D("68.9875")
    assert f.breach_date is None


def test_daily_budget_floor_is_a_tenth_of_the_day() -> None:
    # Daily, 01:00: elapsed 1/24 day < floor 0.1 -> run rate = 3/0.1 = 30; w = 1/24.
    # rate = 30/24 + (23/24)*12 = 1.25 + 11.5 = 12.75; forecast = 3 + 12.75 * 23/24 = 15.21875
    p = period_containing("daily", date(2026, 11, 20), UTC)
    f = forecast_spend(D(3), p, datetime(2026, 11, 20, 1, tzinfo=timezone.utc), D(12), D(20), UTC)
    assert f.run_rate == D(30) and f.amount == D("15.21875") and f.breach_date is None


def test_end_of_period_forecast_equals_spent_and_exceeded_breach_is_today() -> None:
    p = period_containing("weekly", date(2026, 11, 20), UTC)
    f = forecast_spend(D(70), p, p.end_utc, D(50), D(60), UTC)
    assert f.amount == D(70) and f.weight == 1
    f2 = forecast_spend(D(70), p, datetime(2026, 11, 20, 12, tzinfo=timezone.utc), D(0), D(60), UTC)
    assert f2.breach_date == date(2026, 11, 20)


def test_zero_spend_zero_history_projects_zero() -> None:
    p = period_containing("monthly", date(2026, 11, 10), UTC)
    f = forecast_spend(D(0), p, datetime(2026, 11, 10, tzinfo=timezone.utc), D(0), D(100), UTC)
    assert f.amount == 0 and f.breach_date is None


def test_dst_month_uses_real_hours() -> None:
    # Los Angeles November has 721 hours; at the period's midpoint in real time w is exactly 0.5.
    la = ZoneInfo("America/Los_Angeles")
    p = period_containing("monthly", date(2026, 11, 10), la)
    mid = p.start_utc + (p.end_utc - p.start_utc) / 2
    f = forecast_spend(D(50), p, mid, D(0), None, la)
    # run rate = 50 / 15.0208333 days; rate = 0.5 * that; forecast = 50 + rate * 15.0208333 = 75
    assert f.weight == D("0.5") and f.amount == D(75)


def test_recent_window_is_seven_full_days_before_today() -> None:
    assert recent_window(date(2026, 3, 1)) == (date(2026, 2, 22), date(2026, 2, 28))
