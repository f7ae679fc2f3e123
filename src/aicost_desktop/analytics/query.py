"""Daily aggregation in SQL: local-day expressions per dialect and a grouped, filtered spend query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import Date, String, case, cast, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from aicost_desktop.analytics.report import Filters, _conditions, _names
from aicost_desktop.domain.days import local_midnight_utc, utc_offset_changes, whole_hour_zone
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import ZERO
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import UsageHourly, UsageRow

# Dimensions a series or breakdown can be grouped by (None = one series "total").
DIMENSIONS = ("provider", "model", "account", "project", "source", "workspace")
NONE_LABEL = "(none)"


def offset_changes(tz: ZoneInfo, start: date, end: date) -> list[tuple[datetime, timedelta]]:
    """UTC offsets of `tz` over [start - 1 day, end + 2 days]: [(utc_from, offset), ...] in order."""
    return utc_offset_changes(tz, datetime.combine(start, time(0), tzinfo=timezone.utc),
                              datetime.combine(end + timedelta(days=1), time(0), tzinfo=timezone.utc))


def local_day_expr(db: Database, T: Any, tz: ZoneInfo, start: date, end: date) -> ColumnElement:
    """SQL expression of a row's local calendar day as 'YYYY-MM-DD' text (dated rows keep their date)."""
    at = T.hour_start if T is UsageHourly else T.bucket_start
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


def source_table(tz: ZoneInfo, start: date, end: date) -> Any:
    """The roll-up when the zone re-buckets exactly by whole UTC hours, else the raw ledger."""
    return UsageHourly if whole_hour_zone(tz, start, end) else UsageRow


@dataclass(frozen=True)
class Cell:
    """One aggregated cell: a local day, the dimension values asked for, and the sums."""

    day: date
    keys: tuple[str, ...]
    cost: Decimal
    tokens: int
    requests: int


def daily_cells(db: Database, tz: ZoneInfo, start: date, end: date, dims: Sequence[str] = (),
                filters: Filters | None = None, sources: Sequence[str] | None = None, mode: str = "auto",
                fx: dict[str, Decimal] | None = None, currency: str = "USD") -> list[Cell]:
    """Spend per local day and `dims` over [start, end], grouped in SQL (one small result set)."""
    for d in dims:
        if d not in DIMENSIONS:
            raise InputError("group-by", d, f"use one of {', '.join(DIMENSIONS)}")
    if end < start:
        raise InputError("to", end.isoformat(), f"is before from={start.isoformat()}")
    filters = filters or Filters()
    fx = fx or {"USD": Decimal(1)}
    T = source_table(tz, start, end)
    cond = _conditions(db, T, start, end, tz, filters, mode)
    if sources:
        cond.append(T.source.in_(list(sources)))
    cost_col = {"auto": T.cost, "reported": T.reported_cost, "computed": T.computed_cost}[mode]
    cols = {"provider": T.provider, "model": T.model, "account": T.account_id, "project": T.project,
            "source": T.source, "workspace": T.workspace_id}
    day = local_day_expr(db, T, tz, start, end).label("day")
    tokens = T.input_tokens + T.output_tokens + T.cache_read_tokens + (
        T.cache_write_tokens if T is UsageHourly else T.cache_write_5m_tokens + T.cache_write_1h_tokens)
    group = [day, *[cols[d] for d in dims], T.currency]
    q = (select(*group, func.sum(cost_col), func.sum(tokens), func.sum(T.requests))
         .where(*cond).group_by(*group))
    names = _names(db) if ("account" in dims or "workspace" in dims) else {"account": {}, "workspace": {}}
    acc: dict[tuple[date, tuple[str, ...]], list[Any]] = {}
    with db.session() as s:
        for row in s.execute(q):
            d = row[0] if isinstance(row[0], date) else date.fromisoformat(str(row[0])[:10])
            keys = []
            for i, dim in enumerate(dims):
                v = row[1 + i]
                if dim in ("account", "workspace"):
                    v = names[dim].get(v) if v is not None else None
                keys.append(str(v) if v not in (None, "") else NONE_LABEL)
            cur = row[1 + len(dims)]
            cost = row[2 + len(dims)] or ZERO
            if cur != currency:
                if cur not in fx:
                    raise InputError("currency", cur, "no exchange rate configured (setting fx_rates)")
                cost = cost * fx[cur] / fx.get(currency, Decimal(1))
            k = (d, tuple(keys))
            a = acc.get(k)
            if a is None:
                acc[k] = [cost, int(row[3 + len(dims)] or 0), int(row[4 + len(dims)] or 0)]
            else:
                a[0] += cost
                a[1] += int(row[3 + len(dims)] or 0)
                a[2] += int(row[4 + len(dims)] or 0)
    return [Cell(d, k, v[0], v[1], v[2]) for (d, k), v in sorted(acc.items())]


def day_range(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def utc_bounds(tz: ZoneInfo, start: date, end: date) -> tuple[datetime, datetime]:
    return local_midnight_utc(start, tz), local_midnight_utc(end + timedelta(days=1), tz)
