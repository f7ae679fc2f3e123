"""Forecast: weekly seasonality, known trend, fallbacks with little history, bands, month projection."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from aicost_desktop.analytics.forecast import backtest_mape, forecast_daily, spend_forecast, synthetic_trend_series
from tests.unit.analytics.ledger_data import build_ledger


def test_known_trend_and_weekly_pattern_are_recovered() -> None:
    y = synthetic_trend_series(150, base=20, slope=0.2, noise=0.0, seed=1)
    r = forecast_daily(y, 14, first_weekday=0)
    truth = synthetic_trend_series(164, base=20, slope=0.2, noise=0.0, seed=1)[150:]
    assert r.method == "trend+weekday"
    assert np.max(np.abs(r.mean - truth) / truth) < 0.06
    # Day 0 is a Monday, so day 150 is a Thursday: future index 2 is a Saturday, 4 a Monday.
    assert r.mean[2] < 0.8 * r.mean[4]
    assert np.all(r.lower <= r.mean) and np.all(r.mean <= r.upper)
    assert r.total_lower <= r.total_mean <= r.total_upper


def test_backtest_mape_is_small_on_a_noisy_known_trend() -> None:
    y = synthetic_trend_series(180, seed=4)
    m7 = backtest_mape(y, 7)
    assert m7["total_mape"] < 10 and m7["daily_mape"] < 20


def test_fallbacks_with_little_history() -> None:
    assert forecast_daily([], 7).method == "none" and forecast_daily([], 7).total_mean == 0
    assert forecast_daily([0, 0, 0], 7).method == "none"
    r = forecast_daily([5.0, 7.0], 7)
    assert r.method == "last-value" and r.mean[0] == 7.0 and r.upper[0] > 7.0
    r = forecast_daily([5, 6, 5, 7, 6, 5, 6, 5], 7)
    assert r.method == "median" and np.allclose(r.mean, 5.5)
    assert forecast_daily(list(range(1, 16)), 7).method == "weekday-median"
    # Leading zero days (before the user started) do not drag the level down.
    assert forecast_daily([0] * 30 + [10.0] * 5, 3).mean[0] == 10.0


def test_spend_forecast_from_the_ledger(sqlite_db) -> None:
    end = date(2026, 3, 31)
    build_ledger(sqlite_db, end, 60)
    fc = spend_forecast(sqlite_db, ZoneInfo("UTC"), date(2026, 3, 20), days=30)
    assert len(fc.days) == 30 and fc.days[0] == date(2026, 3, 20)
    assert fc.total_lower <= fc.total <= fc.total_upper
    assert fc.month_lower <= fc.month_projection <= fc.month_upper
    assert fc.month_projection > fc.month_to_date > 0
    data = fc.as_json()
    assert data["daily"][0]["day"] == "2026-03-20" and isinstance(data["total"]["mean"], str)
    # Empty ledger: zeros, no crash.
    fc = spend_forecast(sqlite_db, ZoneInfo("UTC"), date(2020, 1, 10), days=7)
    assert fc.method == "none" and fc.total == 0 and fc.month_projection == 0
    assert fc.days[-1] == date(2020, 1, 10) + timedelta(days=6)
