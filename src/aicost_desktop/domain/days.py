"""Calendar arithmetic in the user's time zone: local days of ledger rows and UTC bounds of local dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from aicost_desktop.domain.limits import EARLIEST_USAGE, latest_usage_day

DAY = timedelta(days=1)
_FIRST_SCAN = datetime.combine(EARLIEST_USAGE, time(0), tzinfo=timezone.utc) - DAY


def _last_scan() -> datetime:
    return datetime.combine(latest_usage_day(), time(0), tzinfo=timezone.utc) + DAY


def is_dated_bucket(start: datetime, end: datetime) -> bool:
    """True for buckets of whole UTC days starting at UTC midnight (provider daily buckets, manual dates).

    Such rows carry a calendar date, not an instant: they belong to that date in every zone.
    """
    s = start.astimezone(timezone.utc)
    span = end - start
    return s.time() == time(0) and span >= DAY and span % DAY == timedelta(0)


def as_date(value: Any) -> date:
    """A date column's value as a backend returns it: a date (PostgreSQL), a datetime, or 'YYYY-MM-DD…' text
    (SQLite)."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def utc_midnight(d: date) -> datetime:
    """The UTC instant that labels a dated bucket for calendar date `d`."""
    return datetime.combine(d, time(0), tzinfo=timezone.utc)


def local_midnight_utc(d: date, tz: ZoneInfo) -> datetime:
    """The UTC instant of local midnight starting date `d` (DST-safe: uses the zone's rules)."""
    return datetime.combine(d, time(0), tzinfo=tz).astimezone(timezone.utc)


def local_day(instant: datetime, dated: bool, tz: ZoneInfo) -> date:
    """The local calendar day a row belongs to."""
    if dated:
        return instant.astimezone(timezone.utc).date()
    return instant.astimezone(tz).date()


def whole_hour_zone(tz: ZoneInfo, start: date, end: date) -> bool:
    """True when the zone's UTC offset is a whole number of hours over [start, end].

    Hourly UTC roll-ups re-bucket exactly only in such zones; others (Asia/Kolkata +5:30)
    are read from the raw ledger.
    """
    d = start
    step = max(1, (end - start).days // 24 or 1)
    while d <= end:
        off = datetime.combine(d, time(12), tzinfo=tz).utcoffset() or timedelta(0)
        if off.total_seconds() % 3600:
            return False
        d += timedelta(days=step)
    off = datetime.combine(end, time(12), tzinfo=tz).utcoffset() or timedelta(0)
    return off.total_seconds() % 3600 == 0


def utc_offset_changes(tz: ZoneInfo, lo: datetime, hi: datetime) -> list[tuple[datetime, timedelta]]:
    """UTC offsets of `tz` from a day before `lo` to a day after `hi` (aware or naive-UTC instants):
    [(utc_from, offset), ...] in order, the first from datetime.min, each change located to the second.

    SQL turns instants into local days with one CASE over these (one branch per DST change in range)."""
    def off(at: datetime) -> timedelta:
        return at.astimezone(tz).utcoffset() or timedelta(0)

    lo, hi = (x if x.tzinfo else x.replace(tzinfo=timezone.utc) for x in (lo, hi))
    # Usage lies in domain/limits.py's range; a ledger written before dates were checked may hold
    # year 1 or 9999 rows, which keep the offset at the edge of the range (8,000 years of DST
    # changes would be one CASE branch each).
    lo, hi = (min(max(x.astimezone(timezone.utc), _FIRST_SCAN), _last_scan()) for x in (lo, hi))
    t = lo.replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    out = [(datetime.min.replace(tzinfo=timezone.utc), off(t))]
    step = timedelta(hours=6)  # no zone changes its offset twice within 6 hours
    stop = hi.astimezone(timezone.utc) + timedelta(days=1)
    while t < stop:
        nxt = t + step
        if off(nxt) != out[-1][1]:
            a, b = t, nxt  # off(a) is the current offset, off(b) the new one
            while b - a > timedelta(seconds=1):
                mid = (a + (b - a) / 2).replace(microsecond=0)
                if mid <= a:
                    break
                if off(mid) == out[-1][1]:
                    a = mid
                else:
                    b = mid
            out.append((b, off(b)))
        t = nxt
    return out
