"""Budget periods aligned to the calendar in the user's zone: local midnight, week start, 1st of month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from aicost_desktop.domain.days import local_midnight_utc
from aicost_desktop.domain.errors import InputError

PERIODS = ("daily", "weekly", "monthly", "quarterly", "yearly")
DAY = timedelta(days=1)


@dataclass(frozen=True)
class BudgetPeriod:
    """One calendar period: local dates [first, last] and the UTC instants of its bounds.

    `start_utc`/`end_utc` are local midnights converted with the zone's rules, so a day across a
    DST change lasts 23 or 25 hours and a month starts at local midnight of the 1st.
    """

    kind: str
    first: date
    last: date
    start_utc: datetime
    end_utc: datetime

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def hours(self) -> float:
        return (self.end_utc - self.start_utc).total_seconds() / 3600

    def contains(self, instant: datetime) -> bool:
        return self.start_utc <= instant < self.end_utc

    def elapsed_days(self, now: datetime) -> float:
        """Elapsed time in days of 24 real hours, clamped to the period."""
        now = min(max(now, self.start_utc), self.end_utc)
        return (now - self.start_utc).total_seconds() / 86400

    def remaining_days(self, now: datetime) -> float:
        now = min(max(now, self.start_utc), self.end_utc)
        return (self.end_utc - now).total_seconds() / 86400

    def days_left(self, today: date) -> int:
        """Calendar days left including today (1 on the last day)."""
        return max(0, (self.last - today).days + 1)

    def previous(self, tz: ZoneInfo, week_start: int = 0) -> "BudgetPeriod":
        return period_containing(self.kind, self.first - DAY, tz, week_start)

    def next(self, tz: ZoneInfo, week_start: int = 0) -> "BudgetPeriod":
        return period_containing(self.kind, self.last + DAY, tz, week_start)


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, 1)


def period_bounds(kind: str, day: date, week_start: int = 0) -> tuple[date, date]:
    """First and last local date of the `kind` period containing `day` (week_start: 0=Monday)."""
    if kind == "daily":
        return day, day
    if kind == "weekly":
        first = day - timedelta(days=(day.weekday() - week_start) % 7)
        return first, first + timedelta(days=6)
    if kind == "monthly":
        first = day.replace(day=1)
        return first, _add_months(first, 1) - DAY
    if kind == "quarterly":
        first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return first, _add_months(first, 3) - DAY
    if kind == "yearly":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    raise InputError("period", kind, f"use one of {', '.join(PERIODS)}")


def period_containing(kind: str, day: date, tz: ZoneInfo, week_start: int = 0) -> BudgetPeriod:
    first, last = period_bounds(kind, day, week_start)
    return BudgetPeriod(kind, first, last, local_midnight_utc(first, tz), local_midnight_utc(last + DAY, tz))


def current_period(kind: str, now: datetime, tz: ZoneInfo, week_start: int = 0) -> BudgetPeriod:
    """The period containing the instant `now` as seen in `tz`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return period_containing(kind, now.astimezone(tz).date(), tz, week_start)


def recent_periods(kind: str, now: datetime, tz: ZoneInfo, count: int, week_start: int = 0) -> list[BudgetPeriod]:
    """The current period and the `count - 1` before it, newest first."""
    p = current_period(kind, now, tz, week_start)
    out = [p]
    while len(out) < count:
        p = p.previous(tz, week_start)
        out.append(p)
    return out


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
