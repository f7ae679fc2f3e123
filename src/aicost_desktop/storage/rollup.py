"""Keeps `usage_hourly` equal to an aggregation of `usage_records` per UTC hour, and `usage_daily` of
`usage_hourly` per UTC date, refreshed per affected hour and date."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Sequence

from sqlalchemy import and_, case, delete, func, insert, literal_column, or_, select, text
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from aicost_desktop.storage.tables import UsageDaily, UsageHourly, UsageRow

HOUR = timedelta(hours=1)
# A cell's key and its sums, in both roll-ups' column order.
_DIMS = ("dated", "workspace_id", "account_id", "provider", "model", "source", "project", "currency", "cost_role")
_SUMS = ("rows", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "requests", "cost",
         "reported_cost", "computed_cost", "unpriced_rows")


def floor_hour(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def _hour_expr(dialect: str) -> ColumnElement[str | datetime]:  # text on SQLite, a timestamp on PostgreSQL
    if dialect == "sqlite":
        # Same text format SQLAlchemy's SQLite DateTime writes, so UTCDateTime reads it back.
        return func.strftime("%Y-%m-%d %H:00:00.000000", UsageRow.bucket_start)
    return func.date_trunc("hour", UsageRow.bucket_start)


def _ranges(hours: Iterable[datetime]) -> list[tuple[datetime, datetime]]:
    """Merge sorted hours into contiguous [start, end) ranges to keep the WHERE clause short."""
    out: list[tuple[datetime, datetime]] = []
    for h in sorted(set(hours)):
        if out and out[-1][1] == h:
            out[-1] = (out[-1][0], h + HOUR)
        else:
            out.append((h, h + HOUR))
    return out


def refresh_hours(session: Session, hours: Iterable[datetime]) -> None:
    """Recompute the roll-up cells of the given UTC hours from the raw ledger, inside the caller's
    transaction (so a crash leaves both tables at the previous state)."""
    ranges = _ranges(hours)
    if not ranges:
        return
    dialect = session.get_bind().dialect.name
    for chunk_start in range(0, len(ranges), 200):
        chunk = ranges[chunk_start:chunk_start + 200]
        hourly_cond = or_(*[and_(UsageHourly.hour_start >= a, UsageHourly.hour_start < b) for a, b in chunk])
        session.execute(delete(UsageHourly).where(hourly_cond))
        row_cond = or_(*[and_(UsageRow.bucket_start >= a, UsageRow.bucket_start < b) for a, b in chunk])
        hour = _hour_expr(dialect).label("hour_start")
        unpriced = case((and_(UsageRow.cost_role == "spend", UsageRow.reported_cost.is_(None),
                              UsageRow.computed_cost.is_(None)), 1), else_=0)
        dims = (UsageRow.dated, UsageRow.workspace_id, UsageRow.account_id, UsageRow.provider, UsageRow.model,
                UsageRow.source, UsageRow.project, UsageRow.currency, UsageRow.cost_role)
        sel = (
            select(hour, *dims, func.count().label("rows"),
                   func.sum(UsageRow.input_tokens), func.sum(UsageRow.output_tokens),
                   func.sum(UsageRow.cache_read_tokens),
                   func.sum(UsageRow.cache_write_5m_tokens + UsageRow.cache_write_1h_tokens),
                   func.sum(UsageRow.requests), func.sum(UsageRow.cost), func.sum(UsageRow.reported_cost),
                   func.sum(UsageRow.computed_cost), func.sum(unpriced))
            .where(row_cond)
            .group_by(literal_column("hour_start"), *dims)
        )
        cols = ["hour_start", "dated", "workspace_id", "account_id", "provider", "model", "source", "project",
                "currency", "cost_role", "rows", "input_tokens", "output_tokens", "cache_read_tokens",
                "cache_write_tokens", "requests", "cost", "reported_cost", "computed_cost", "unpriced_rows"]
        session.execute(insert(UsageHourly).from_select(cols, sel))
    refresh_days(session, {a.date() + timedelta(days=i) for a, b in ranges
                           for i in range(((b - HOUR).date() - a.date()).days + 1)})


def _day_ranges(days: Iterable[date]) -> list[tuple[date, date]]:
    """Merge dates into contiguous [first, last] ranges."""
    out: list[tuple[date, date]] = []
    for d in sorted(set(days)):
        if out and out[-1][1] + timedelta(days=1) == d:
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def _daily_sql(dialect: str, grouped: bool) -> str:
    """INSERT of usage_daily's cells for hours [:lo, :hi) from usage_hourly: summed per (UTC date, key), or
    (`grouped` False) each hourly cell as it is. Named parameters, for SQLAlchemy's text() and sqlite3 alike."""
    # SQLite keeps hour_start as 'YYYY-MM-DD HH:..' text and a date as 'YYYY-MM-DD'; PostgreSQL casts.
    day = "substr(hour_start, 1, 10)" if dialect == "sqlite" else "CAST(hour_start AS DATE)"
    dims = ", ".join(_DIMS)
    sums = ", ".join(f"sum({c})" if grouped else c for c in _SUMS)
    group = f" GROUP BY {day}, {dims}" if grouped else ""
    return (f"INSERT INTO usage_daily (day, {dims}, {', '.join(_SUMS)}) SELECT {day}, {dims}, {sums} "
            f"FROM usage_hourly WHERE hour_start >= :lo AND hour_start < :hi{group}")


_DAILY_DELETE = "DELETE FROM usage_daily WHERE day BETWEEN :first AND :last"
_SQLITE_DAILY, _SQLITE_DAILY_CELLS = _daily_sql("sqlite", True), _daily_sql("sqlite", False)  # the raw cursor's


def _day_params(dialect: str, first: date, last: date) -> dict[str, Any]:
    """The bounds of UTC dates [first, last] as each backend stores them (naive UTC on PostgreSQL)."""
    lo, hi = datetime.combine(first, datetime.min.time()), datetime.combine(last + timedelta(days=1),
                                                                          datetime.min.time())
    if dialect == "sqlite":
        return {"first": first.isoformat(), "last": last.isoformat(),
                "lo": f"{lo:%Y-%m-%d %H:%M:%S}.000000", "hi": f"{hi:%Y-%m-%d %H:%M:%S}.000000"}
    return {"first": first, "last": last, "lo": lo, "hi": hi}


def refresh_days(session: Session, days: Iterable[date]) -> None:
    """Recompute the daily cells of the given UTC dates from usage_hourly, in the caller's transaction.

    A day whose sum is beyond 64 bits (rows near the money column's limit) keeps its hourly cells as its daily
    cells: queries sum them, and a report falls back to the hourly path when that sum overflows."""
    dialect = session.get_bind().dialect.name
    for first, last in _day_ranges(days):
        params = _day_params(dialect, first, last)
        session.execute(text(_DAILY_DELETE), params)
        summed = text(_daily_sql(dialect, True))
        try:
            if dialect == "sqlite":  # a failed statement undoes itself and leaves the transaction usable
                session.execute(summed, params)
            else:  # PostgreSQL aborts the transaction on an error: only the savepoint is lost
                with session.begin_nested():
                    session.execute(summed, params)
        except (OperationalError, DataError) as exc:
            if not overflowed(exc):
                raise
            session.execute(text(_daily_sql(dialect, False)), params)


def overflowed(exc: BaseException) -> bool:
    """True for a 64-bit sum or value out of range (SQLite "integer overflow", PostgreSQL "out of range")."""
    message = str(exc)
    return "integer overflow" in message or "out of range" in message


def rebuild(session: Session) -> None:
    """Recompute the whole roll-up (after a bulk delete or a repair)."""
    session.execute(delete(UsageHourly))
    session.execute(delete(UsageDaily))
    hours = {floor_hour(h) for (h,) in session.execute(select(UsageRow.bucket_start).distinct())}
    refresh_hours(session, hours)


# --- Incremental path for pages of brand-new rows (SQLite, raw DBAPI cursor) ------------------------------

_HOURLY_INSERT = (f"INSERT INTO usage_hourly (hour_start, {', '.join(_DIMS)}, {', '.join(_SUMS)}) "
                  f"VALUES ({', '.join('?' * (1 + len(_DIMS) + len(_SUMS)))})")
_HOURLY_UPDATE = f"UPDATE usage_hourly SET {', '.join(f'{c} = ?' for c in _SUMS)} WHERE id = ?"
_HOURLY_SELECT = f"SELECT id, hour_start, {', '.join(_DIMS)}, {', '.join(_SUMS)} FROM usage_hourly WHERE hour_start IN "
_TEXT_DIMS = (4, 6, 8, 9)  # provider, source, currency, cost_role (NOT NULL text) in a cell key
_NULLABLE_TEXT_DIMS = (5, 7)  # model, project
_CHUNK = 500


def _nullable_add(a: int | None, b: int | None) -> int | None:
    """SQL SUM semantics over a nullable column: NULL only when every value is NULL."""
    if b is None:
        return a
    return b if a is None else a + b


# One page's (or transaction's) roll-up of new rows: hour text (as usage_hourly stores it) -> cell key
# (the _DIMS values) -> the _SUMS values.
Cells = dict[str, dict[tuple[Any, ...], list[Any]]]


def new_cells(rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> Cells | None:
    """The roll-up cells of new rows (DB-native values, times as SQLite DateTime text, in `columns`
    order), aggregated per (UTC hour, dims) exactly as refresh_hours does; None when a value is not
    of the type SQLite groups it as. Pure: no database, so it can run away from the writing thread."""
    ix = {c: i for i, c in enumerate(columns)}
    bs, dt, ws, acc, prov, model, src, proj, curr, role = (
        ix["bucket_start"], ix["dated"], ix["workspace_id"], ix["account_id"], ix["provider"], ix["model"],
        ix["source"], ix["project"], ix["currency"], ix["cost_role"])
    tin, tout, tcr, cw5, cw1, req, cost, rep_i, comp_i = (
        ix["input_tokens"], ix["output_tokens"], ix["cache_read_tokens"], ix["cache_write_5m_tokens"],
        ix["cache_write_1h_tokens"], ix["requests"], ix["cost"], ix["reported_cost"], ix["computed_cost"])
    cells: dict[tuple[Any, ...], list[Any]] = {}
    for r in rows:
        key = (r[bs][:13], r[dt], r[ws], r[acc], r[prov], r[model], r[src], r[proj], r[curr], r[role])
        rep, comp = r[rep_i], r[comp_i]
        c = cells.get(key)
        if c is None:
            cells[key] = [1, r[tin], r[tout], r[tcr], r[cw5] + r[cw1], r[req], r[cost], rep, comp,
                          1 if rep is None and comp is None and r[role] == "spend" else 0]
        else:
            c[0] += 1
            c[1] += r[tin]
            c[2] += r[tout]
            c[3] += r[tcr]
            c[4] += r[cw5] + r[cw1]
            c[5] += r[req]
            c[6] += r[cost]
            if rep is not None:
                c[7] = rep if c[7] is None else c[7] + rep
            if comp is not None:
                c[8] = comp if c[8] is None else c[8] + comp
            elif rep is None and r[role] == "spend":
                c[9] += 1
    # Group keys must compare in Python exactly as SQLite's GROUP BY compares the stored values.
    for key, c in cells.items():
        if not (type(key[0]) is str and len(key[0]) == 13 and key[1] in (0, 1) and type(key[2]) is int
                and (key[3] is None or type(key[3]) is int)
                and all(type(key[i]) is str for i in _TEXT_DIMS)
                and all(key[i] is None or type(key[i]) is str for i in _NULLABLE_TEXT_DIMS)
                and all(type(v) is int for v in c[:7])):
            return None
    by_hour: Cells = {}
    for key, c in cells.items():
        by_hour.setdefault(key[0] + ":00:00.000000", {})[key[1:]] = c
    return by_hour


def merge_cells(into: Cells, cells: Cells) -> None:
    """Add `cells` to `into` (taking over its lists): the cells of both pages' rows together."""
    for hour, page in cells.items():
        acc = into.get(hour)
        if acc is None:
            into[hour] = page
            continue
        for key, new in page.items():
            old = acc.get(key)
            acc[key] = new if old is None else _sum_cells(old, new)


def _sum_cells(o: list[Any], n: list[Any]) -> list[Any]:
    return [o[0] + n[0], o[1] + n[1], o[2] + n[2], o[3] + n[3], o[4] + n[4], o[5] + n[5], o[6] + n[6],
            _nullable_add(o[7], n[7]), _nullable_add(o[8], n[8]), o[9] + n[9]]


def cell_hours(cells: Cells) -> set[datetime]:
    """The UTC hours `cells` are in."""
    return {datetime.fromisoformat(h[:19]).replace(tzinfo=timezone.utc) for h in cells}


def write_cells_sqlite(cur: Any, by_hour: Cells) -> None:
    """Merge new rows' cells (`new_cells`, `merge_cells`) into usage_hourly through the raw cursor,
    inside the transaction that inserted the rows (their hours are `cell_hours`, known when the cells
    were made). Consumes `by_hour`."""
    hour_texts = sorted(by_hour)
    updates: list[tuple[Any, ...]] = []
    for i in range(0, len(hour_texts), _CHUNK):
        chunk = hour_texts[i:i + _CHUNK]
        cur.execute(_HOURLY_SELECT + f"({', '.join('?' * len(chunk))})", chunk)
        for old in cur.fetchall():
            new = by_hour[old[1]].pop(tuple(old[2:11]), None)
            if new is None:
                continue
            updates.append((*_sum_cells(list(old[11:]), new), old[0]))
    if updates:
        cur.executemany(_HOURLY_UPDATE, updates)
    inserts = [(h, *k, *c) for h in hour_texts for k, c in by_hour[h].items()]
    if inserts:
        cur.executemany(_HOURLY_INSERT, inserts)
    for first, last in _day_ranges(date.fromisoformat(h[:10]) for h in hour_texts):  # as refresh_days
        params = _day_params("sqlite", first, last)
        cur.execute(_DAILY_DELETE, params)
        try:
            cur.execute(_SQLITE_DAILY, params)
        except sqlite3.OperationalError as exc:
            if not overflowed(exc):
                raise
            cur.execute(_SQLITE_DAILY_CELLS, params)
