"""Local-day windows and expressions in a zone: WHERE bounds of local dates, SQL local day of a row."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, String, and_, case, cast, func, literal, or_
from sqlalchemy.sql.elements import ColumnElement

from aicost_desktop.domain.days import local_midnight_utc, utc_midnight, utc_offset_changes, whole_hour_zone
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import UsageHourly, UsageRow


def at_column(table: Any) -> Any:
    """The instant column of a table: hour_start of the roll-up, bucket_start of the ledger."""
    return table.hour_start if table is UsageHourly else table.bucket_start


def source_table(tz: ZoneInfo, start: date, end: date) -> Any:
    """The roll-up when the zone re-buckets exactly by whole UTC hours, else the raw ledger."""
    return UsageHourly if whole_hour_zone(tz, start, end) else UsageRow


def week_start_of(d: date, week_start: int) -> date:
    """The first day of the week holding `d` (week_start: 0 = Monday ... 6 = Sunday)."""
    return d - timedelta(days=(d.weekday() - week_start) % 7)


def day_range(start: date, end: date) -> list[date]:
    """Every date of [start, end]."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def time_window(start: date | None, end: date | None, tz: ZoneInfo, table: Any = UsageHourly) -> Any:
    """SQL condition selecting rows of local days [start, end]: instants by local time, dated rows by date.

    `table` is UsageHourly (column hour_start) or UsageRow (column bucket_start); a None bound is open.
    """
    at = at_column(table)
    inst_lo = local_midnight_utc(start, tz) if start is not None else None
    dated_lo = utc_midnight(start) if start is not None else None
    inst_hi = local_midnight_utc(end + timedelta(days=1), tz) if end is not None else None
    dated_hi = utc_midnight(end + timedelta(days=1)) if end is not None else None

    def bounds(lo: datetime | None, hi: datetime | None) -> list[Any]:
        return ([at >= lo] if lo is not None else []) + ([at < hi] if hi is not None else [])

    inst = and_(table.dated.is_(False), *bounds(inst_lo, inst_hi))
    dated = and_(table.dated.is_(True), *bounds(dated_lo, dated_hi))
    # The enclosing range is implied by the two branches; stated once, it lets the database scan one index
    # range instead of two (SQLite's multi-index OR reads every row of the range twice).
    outer = bounds(min(inst_lo, dated_lo) if inst_lo is not None and dated_lo is not None else None,
                   max(inst_hi, dated_hi) if inst_hi is not None and dated_hi is not None else None)
    return and_(*outer, or_(inst, dated))


def offset_changes(tz: ZoneInfo, start: date, end: date) -> list[tuple[datetime, timedelta]]:
    """UTC offsets of `tz` over [start - 1 day, end + 2 days]: [(utc_from, offset), ...] in order."""
    return utc_offset_changes(tz, datetime.combine(start, time(0), tzinfo=timezone.utc),
                              datetime.combine(end + timedelta(days=1), time(0), tzinfo=timezone.utc))


def local_day_expr(db: Database, T: Any, tz: ZoneInfo, start: date, end: date) -> ColumnElement[str]:
    """SQL expression of a row's local calendar day as 'YYYY-MM-DD' text (dated rows keep their date)."""
    at = at_column(T)
    if db.dialect == "postgresql":
        local = cast(func.timezone(tz.key, func.timezone("UTC", at)), Date)
        return case((T.dated.is_(True), cast(cast(at, Date), String)), else_=cast(local, String))
    changes = offset_changes(tz, start, end)

    def modifier(o: timedelta) -> str:
        return f"{int(o.total_seconds() // 60):+d} minutes"

    if len(changes) == 1:
        shifted: Any = func.date(at, modifier(changes[0][1]))
    else:
        whens = [(at < changes[i + 1][0], literal(modifier(changes[i][1]))) for i in range(len(changes) - 1)]
        shifted = func.date(at, case(*whens, else_=literal(modifier(changes[-1][1]))))
    return case((T.dated.is_(True), func.date(at)), else_=shifted)
