"""Budget periods: local-midnight bounds across DST in three zones, month ends, Feb 29, week start."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from aicost_desktop.budgets.periods import current_period, period_bounds, period_containing, recent_periods
from aicost_desktop.domain.errors import InputError

BEL, LA, AKL = ZoneInfo("Europe/Belgrade"), ZoneInfo("America/Los_Angeles"), ZoneInfo("Pacific/Auckland")


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=timezone.utc)


@pytest.mark.parametrize("tz, day, start, end, hours", [
    # Belgrade spring forward 2026-03-29 (23 h day), fall back 2026-10-25 (25 h day)
    (BEL, date(2026, 3, 29), utc(2026, 3, 28, 23), utc(2026, 3, 29, 22), 23),
    (BEL, date(2026, 10, 25), utc(2026, 10, 24, 22), utc(2026, 10, 25, 23), 25),
    # Los Angeles: 2026-03-08 spring forward, 2026-11-01 fall back
    (LA, date(2026, 3, 8), utc(2026, 3, 8, 8), utc(2026, 3, 9, 7), 23),
    (LA, date(2026, 11, 1), utc(2026, 11, 1, 7), utc(2026, 11, 2, 8), 25),
    # Auckland: DST ends 2026-04-05 (25 h), starts 2026-09-27 (23 h); NZDT is UTC+13
    (AKL, date(2026, 4, 5), utc(2026, 4, 4, 11), utc(2026, 4, 5, 12), 25),
    (AKL, date(2026, 9, 27), utc(2026, 9, 26, 12), utc(2026, 9, 27, 11), 23),
])
def test_daily_period_across_dst(tz: ZoneInfo, day: date, start: datetime, end: datetime, hours: int) -> None:
    p = period_containing("daily", day, tz)
    assert (p.start_utc, p.end_utc, p.hours) == (start, end, hours)


def test_monthly_belgrade_march_has_one_hour_less() -> None:
    p = period_containing("monthly", date(2026, 3, 15), BEL)
    assert (p.first, p.last) == (date(2026, 3, 1), date(2026, 3, 31))
    assert p.start_utc == utc(2026, 2, 28, 23)   # CET +1
    assert p.end_utc == utc(2026, 3, 31, 22)     # CEST +2
    assert p.hours == 31 * 24 - 1


def test_monthly_auckland_new_year_starts_the_previous_utc_day() -> None:
    p = current_period("monthly", utc(2026, 12, 31, 11, 30), AKL)  # 00:30 on Jan 1 in Auckland
    assert (p.first, p.last) == (date(2027, 1, 1), date(2027, 1, 31))
    assert p.start_utc == utc(2026, 12, 31, 11)
    p2 = current_period("monthly", utc(2026, 12, 31, 10, 59), AKL)  # 23:59 Dec 31 local
    assert p2.first == date(2026, 12, 1) and p2.end_utc == p.start_utc


def test_los_angeles_month_end_is_local_not_utc() -> None:
    # 2026-11-30 20:00 in LA is Dec 1 04:00 UTC: still November's budget.
    p = current_period("monthly", utc(2026, 12, 1, 4), LA)
    assert p.first == date(2026, 11, 1) and p.end_utc == utc(2026, 12, 1, 8)
    assert p.hours == 30 * 24 + 1  # November contains the fall-back hour


@pytest.mark.parametrize("day, first, last", [
    (date(2024, 2, 29), date(2024, 2, 1), date(2024, 2, 29)),
    (date(2025, 2, 28), date(2025, 2, 1), date(2025, 2, 28)),
    (date(2026, 1, 31), date(2026, 1, 1), date(2026, 1, 31)),
    (date(2026, 4, 30), date(2026, 4, 1), date(2026, 4, 30)),
    (date(2026, 12, 31), date(2026, 12, 1), date(2026, 12, 31)),
])
def test_month_ends_and_leap_day(day: date, first: date, last: date) -> None:
    assert period_bounds("monthly", day) == (first, last)


def test_feb_29_daily_weekly_quarterly_yearly() -> None:
    d = date(2028, 2, 29)  # a Tuesday
    assert period_bounds("daily", d) == (d, d)
    assert period_bounds("weekly", d, 0) == (date(2028, 2, 28), date(2028, 3, 5))
    assert period_bounds("quarterly", d) == (date(2028, 1, 1), date(2028, 3, 31))
    assert period_bounds("yearly", d) == (date(2028, 1, 1), date(2028, 12, 31))
    p = period_containing("daily", d, AKL)
    assert p.start_utc == utc(2028, 2, 28, 11) and p.hours == 24
    assert p.next(AKL).first == date(2028, 3, 1)
    assert period_containing("yearly", d, BEL).days == 366


@pytest.mark.parametrize("week_start, first", [(0, date(2026, 11, 16)), (6, date(2026, 11, 15)),
                                               (2, date(2026, 11, 18))])
def test_week_start_setting(week_start: int, first: date) -> None:
    first_, last = period_bounds("weekly", date(2026, 11, 20), week_start)  # a Friday
    assert first_ == first and (last - first_).days == 6


def test_weekly_period_across_la_fall_back_is_169_hours() -> None:
    p = period_containing("weekly", date(2026, 11, 1), LA, week_start=6)  # Sunday-start week with the change
    assert p.first == date(2026, 11, 1) and p.hours == 7 * 24 + 1


def test_quarters() -> None:
    assert period_bounds("quarterly", date(2026, 5, 31)) == (date(2026, 4, 1), date(2026, 6, 30))
    assert period_bounds("quarterly", date(2026, 10, 1)) == (date(2026, 10, 1), date(2026, 12, 31))


def test_recent_periods_newest_first_and_previous_wraps_year() -> None:
    ps = recent_periods("monthly", utc(2026, 2, 10), BEL, 3)
    assert [p.first for p in ps] == [date(2026, 2, 1), date(2026, 1, 1), date(2025, 12, 1)]
    assert all(a.start_utc == b.end_utc for a, b in zip(ps, ps[1:]))


def test_days_left_and_elapsed() -> None:
    p = period_containing("monthly", date(2026, 11, 10), LA)
    assert p.days_left(date(2026, 11, 30)) == 1 and p.days_left(date(2026, 11, 1)) == 30
    assert p.elapsed_days(p.start_utc) == 0 and p.remaining_days(p.end_utc) == 0


def test_bad_period_and_naive_now() -> None:
    with pytest.raises(InputError, match="period='hourly'"):
        period_bounds("hourly", date(2026, 1, 1))
    with pytest.raises(ValueError):
        current_period("daily", datetime(2026, 1, 1), BEL)
