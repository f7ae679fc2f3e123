"""Local-day sums from the daily roll-up: each UTC date's cells, moved by the hours the zone's offset puts
on a neighbouring local day (whole-hour zones only, where usage_hourly re-buckets exactly).

A UTC date's instant cells belong to its "home" local day (the local date of its 12:00 UTC); the hours of
that date whose local date differs (an hour or two a day in Europe, none in UTC) are read from usage_hourly,
taken off the home day and put on their own. A dated cell (a provider's daily figure) keeps its date.
So a year is a few thousand daily cells plus a few hundred hours, not every hourly cell.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import Date, cast, func, literal_column, select
from sqlalchemy.orm import Session

from aicost_desktop.domain.days import as_date, utc_midnight
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.query.filters import LedgerFilter, where_clauses
from aicost_desktop.storage.query.names import NameMaps
from aicost_desktop.storage.tables import UsageDaily, UsageHourly

# Columns a caller may sum (both roll-ups have them); reported and computed cost sum to None when no row has one.
SUMMABLE = ("rows", "cost", "reported_cost", "computed_cost", "input_tokens", "output_tokens", "cache_read_tokens",
            "cache_write_tokens", "requests", "unpriced_rows")
# A zone's offset is within +-14 h, so a local day's instants lie within its UTC date +-1; one more for safety.
_MARGIN = timedelta(days=2)

Key = tuple[date, tuple[Any, ...]]
RollupConditions = dict[Any, list[Any]]  # roll-up table -> its WHERE conditions


def _offset_hours(at: datetime, tz: ZoneInfo) -> int:
    off = at.astimezone(tz).utcoffset() or timedelta(0)
    return int(off.total_seconds() // 3600)


def home_day(u: date, tz: ZoneInfo) -> date:
    """The local day a UTC date's instant cells are counted on before the moved hours are corrected."""
    return datetime.combine(u, time(12), tzinfo=timezone.utc).astimezone(tz).date()


def moved_hours(first: date, last: date, tz: ZoneInfo) -> list[tuple[datetime, date, date]]:
    """(UTC hour, its home day, its local day) of every hour of UTC dates [first, last] whose local date is
    not its UTC date's home day."""
    out: list[tuple[datetime, date, date]] = []
    by_offset: dict[int, tuple[int, list[tuple[int, int]]]] = {}  # offset -> (home shift, [(hour, its shift)])
    one_day = timedelta(days=1)
    u = first
    while u <= last:
        midnight = utc_midnight(u)
        o0 = _offset_hours(midnight, tz)
        if o0 == _offset_hours(midnight + timedelta(hours=23), tz):  # no offset change: whole-hour arithmetic
            plan = by_offset.get(o0)
            if plan is None:
                home_shift = (12 + o0) // 24
                plan = by_offset[o0] = (home_shift, [(hh, (hh + o0) // 24) for hh in range(24)
                                                     if (hh + o0) // 24 != home_shift])
            home = u + timedelta(days=plan[0])
            out += [(midnight + timedelta(hours=hh), home, u + timedelta(days=shift)) for hh, shift in plan[1]]
        else:  # the date of a change: ask the zone hour by hour
            home = home_day(u, tz)
            for hh in range(24):
                at = midnight + timedelta(hours=hh)
                local = at.astimezone(tz).date()
                if local != home:
                    out.append((at, home, local))
        u += one_day
    return out


def _add(acc: dict[Key, list[Any]], key: Key, values: Sequence[Any], sign: int) -> None:
    """Add (sign 1) or take off (-1) a cell's sums; None (no value, as SQL SUM gives) adds nothing."""
    cur = acc.get(key)
    if cur is None:  # the common case: a dated and an instant cell of one day meet only on the same key
        acc[key] = list(values) if sign > 0 else [(-v if v is not None else None) for v in values]
        return
    for i, v in enumerate(values):
        if v is None:
            continue
        if cur[i] is None:
            cur[i] = v if sign > 0 else -v
        else:
            cur[i] = cur[i] + v if sign > 0 else cur[i] - v


def rollup_conditions(db: Database, flt: LedgerFilter, tz: ZoneInfo, names: NameMaps | None) -> RollupConditions:
    """`flt`'s conditions but its dates on each roll-up table, its values checked once (local_day_sums
    bounds the days itself)."""
    undated = flt.between(None, None)
    return {UsageDaily: where_clauses(db, undated, tz, UsageDaily, names),
            UsageHourly: where_clauses(db, undated, tz, UsageHourly, names, check=False)}


def local_day_sums(s: Session, tz: ZoneInfo, start: date, end: date, dims: Sequence[str], sums: Sequence[str],
                   where: RollupConditions) -> dict[Key, list[Any]]:
    """{(local day, values of `dims`): sums of `sums` (cell column names)} over local days [start, end].

    `where` holds the caller's other conditions per roll-up table (`rollup_conditions`). A group whose every
    row was moved to another day is not returned (its row count is 0)."""
    for c in sums:
        if c not in SUMMABLE:
            raise ValueError(f"not a roll-up sum: {c}")
    cols = ("rows", *sums)
    first, last = start - _MARGIN, end + _MARGIN
    acc: dict[Key, list[Any]] = {}
    D = UsageDaily
    dim_cols = [getattr(D, d) for d in dims]
    q = (select(D.day, D.dated, *dim_cols, *[func.sum(getattr(D, c)) for c in cols])
         .where(D.day >= first, D.day <= last, *where[D]).group_by(D.day, D.dated, *dim_cols))
    n = len(dims)
    homes: dict[date, date] = {}
    for row in s.execute(q):
        u = as_date(row[0])
        day = u if row[1] else homes.get(u)
        if day is None:
            day = homes[u] = home_day(u, tz)
        if start <= day <= end:
            _add(acc, (day, tuple(row[2:2 + n])), row[2 + n:], 1)
    moved = moved_hours(first, last, tz)
    if moved:
        # A UTC date's moved hours all go to one other local day: sum them per date in SQL.
        H = UsageHourly
        pair = {at.date(): (home, local) for at, home, local in moved}
        hours = sorted(at for at, home, local in moved if start <= home <= end or start <= local <= end)
        sqlite = s.get_bind().dialect.name == "sqlite"
        utc_date = (func.substr(H.hour_start, 1, 10) if sqlite else cast(H.hour_start, Date)).label("utc_date")
        hour_cols = [getattr(H, d) for d in dims]
        for chunk in _chunks(hours, 900):
            hq = (select(utc_date, *hour_cols, *[func.sum(getattr(H, c)) for c in cols])
                  .where(H.hour_start.in_(chunk), H.dated.is_(False), *where[H])
                  .group_by(literal_column("utc_date"), *hour_cols))
            for row in s.execute(hq):
                u = as_date(row[0])
                home, local = pair[u]
                keys, values = tuple(row[1:1 + n]), row[1 + n:]
                if start <= home <= end:
                    _add(acc, (home, keys), values, -1)
                if start <= local <= end:
                    _add(acc, (local, keys), values, 1)
    return {k: v[1:] for k, v in acc.items() if v[0]}


def _chunks(items: list[datetime], size: int) -> list[list[datetime]]:
    return [items[i:i + size] for i in range(0, len(items), size)]
