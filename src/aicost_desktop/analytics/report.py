"""Spend grouped by local day/week/month and ledger dimensions, read from the hourly roll-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal_column, or_, select
from sqlalchemy.exc import OperationalError

from aicost_desktop.domain.days import local_day, local_midnight_utc, utc_midnight, whole_hour_zone
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import ZERO
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import Account, UsageHourly, UsageRow, Workspace

GROUP_FIELDS = ("day", "week", "month", "provider", "model", "account", "source", "workspace", "project")
COST_MODES = ("auto", "reported", "computed")
TIME_FIELDS = ("day", "week", "month")


@dataclass
class Filters:
    """Optional equality filters; None means 'any'."""

    provider: str | None = None
    account: str | None = None
    model: str | None = None
    source: str | None = None
    workspace: str | None = None


@dataclass
class ReportRow:
    """One group of a report: its keys and sums."""

    keys: dict[str, str]
    cost: Decimal = ZERO
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    requests: int = 0
    unpriced_rows: int = 0

    def as_json(self) -> dict[str, Any]:
        return {**self.keys, "cost": f"{self.cost.quantize(Decimal('0.01')):f}", "cost_exact": f"{self.cost:f}",
                "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "cache_read_tokens": self.cache_read_tokens, "cache_write_tokens": self.cache_write_tokens,
                "requests": self.requests, "unpriced_rows": self.unpriced_rows}


@dataclass
class Report:
    start: date
    end: date
    tz: str
    currency: str
    rows: list[ReportRow] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((r.cost for r in self.rows), ZERO)

    def as_json(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "tz": self.tz,
                "currency": self.currency, "total": f"{self.total.quantize(Decimal('0.01')):f}",
                "total_exact": f"{self.total:f}", "rows": [r.as_json() for r in self.rows]}


def parse_group_by(text: str | None) -> list[str]:
    if not text:
        return []
    fields = [f.strip() for f in text.split(",") if f.strip()]
    for f in fields:
        if f not in GROUP_FIELDS:
            raise InputError("group-by", f, f"unknown field; use {', '.join(GROUP_FIELDS)}")
    return fields


def week_start_of(d: date, week_start: int) -> date:
    return d - timedelta(days=(d.weekday() - week_start) % 7)


def _time_key(field_: str, d: date, week_start: int) -> str:
    if field_ == "day":
        return d.isoformat()
    if field_ == "week":
        return week_start_of(d, week_start).isoformat()
    return f"{d.year:04d}-{d.month:02d}"


def time_window(start: date, end: date, tz: ZoneInfo, table: Any = UsageHourly) -> Any:
    """SQL condition selecting rows of local days [start, end]: instants by local time, dated rows by date.

    `table` is UsageHourly (column hour_start) or UsageRow (column bucket_start).
    """
    at = table.hour_start if table is UsageHourly else table.bucket_start
    inst_lo, inst_hi = local_midnight_utc(start, tz), local_midnight_utc(end + timedelta(days=1), tz)
    dated_lo, dated_hi = utc_midnight(start), utc_midnight(end + timedelta(days=1))
    inst = and_(table.dated.is_(False), at >= inst_lo, at < inst_hi)
    dated = and_(table.dated.is_(True), at >= dated_lo, at < dated_hi)
    # The enclosing range is implied by the two branches; stated once, it lets the database scan one index
    # range instead of two (SQLite's multi-index OR reads every row of the range twice).
    return and_(at >= min(inst_lo, dated_lo), at < max(inst_hi, dated_hi), or_(inst, dated))


# Report fields and the ledger column each needs (time fields need the row's local day instead).
_DIM_COLUMNS = {"provider": "provider", "model": "model", "account": "account_id", "source": "source",
                "workspace": "workspace_id", "project": "project"}


def spend_report(db: Database, tz: ZoneInfo, start: date, end: date, group_by: Sequence[str] = (),
                 filters: Filters | None = None, mode: str = "auto", fx: dict[str, Decimal] | None = None,
                 week_start: int = 0, currency: str = "USD") -> Report:
    """Sum spend over local days [start, end] grouped by `group_by`, converted to `currency`."""
    if end < start:
        raise InputError("to", end.isoformat(), f"is before from={start.isoformat()}")
    if mode not in COST_MODES:
        raise InputError("mode", mode, f"use one of {', '.join(COST_MODES)}")
    filters = filters or Filters()
    fx = fx or {"USD": Decimal(1)}
    T = UsageHourly if whole_hour_zone(tz, start, end) else UsageRow
    names = _names(db)
    cond = _conditions(db, T, start, end, tz, filters, mode, names)
    groups: dict[tuple[str, ...], ReportRow] = {}
    with db.session() as s:
        if not (T is UsageHourly and _daily_groups(s, db, tz, start, end, group_by, cond, mode, fx, week_start,
                                                   currency, names, groups)):
            groups.clear()
            _add_hourly_groups(s, T, cond, tz, group_by, mode, fx, week_start, currency, names, groups)
    rows = sorted(groups.values(), key=lambda r: tuple(r.keys.values()))
    return Report(start=start, end=end, tz=tz.key, currency=currency, rows=rows)


def _group_values(dims: Sequence[str], values: Sequence[Any], names: dict[str, dict[int | None, str]]) -> dict[str, str]:
    """Report text of each dimension value, as the key of a group."""
    out = {}
    for f, v in zip(dims, values):
        if f == "account" or f == "workspace":
            out[f] = str(names[f].get(v, ""))
        elif f == "model" or f == "project":
            out[f] = str(v or "")
        else:
            out[f] = str(v)
    return out


def _add(groups: dict[tuple[str, ...], ReportRow], key: tuple[str, ...], group_by: Sequence[str], cur: str,
         sums: Sequence[Any], fx: dict[str, Decimal], currency: str) -> None:
    cost, tin, tout, tcr, tcw, req, unpriced = sums
    g = groups.get(key)
    if g is None:
        g = groups[key] = ReportRow(keys=dict(zip(group_by, key)))
    rate = fx.get(cur)
    if rate is None:
        raise InputError("currency", cur, "no exchange rate configured (setting fx_rates)")
    to_target = rate / fx.get(currency, Decimal(1))
    g.cost += (cost or ZERO) * to_target if cur != currency else (cost or ZERO)
    g.input_tokens += int(tin or 0)
    g.output_tokens += int(tout or 0)
    g.cache_read_tokens += int(tcr or 0)
    g.cache_write_tokens += int(tcw or 0)
    g.requests += int(req or 0)
    g.unpriced_rows += int(unpriced or 0)


def _daily_groups(s: Any, db: Database, tz: ZoneInfo, start: date, end: date, group_by: Sequence[str],
                  cond: list[Any], mode: str, fx: dict[str, Decimal], week_start: int, currency: str,
                  names: dict[str, dict[int | None, str]], groups: dict[tuple[str, ...], ReportRow]) -> bool:
    """Roll-up path: sum in SQL per local day (only when a time field is asked for) and only the dimensions
    `group_by` needs, so a year comes back as a few thousand rows instead of every hourly cell.

    Returns False, leaving `groups` partial, when some amounts are in another currency than `currency`:
    the caller then converts per hourly cell, so rounding stays exactly as it always was."""
    T = UsageHourly
    cost_col = {"auto": T.cost, "reported": T.reported_cost, "computed": T.computed_cost}[mode]
    timed = any(f in TIME_FIELDS for f in group_by)
    dims = [f for f in dict.fromkeys(group_by) if f in _DIM_COLUMNS]
    group = [getattr(T, _DIM_COLUMNS[f]) for f in dims] + [T.currency]
    if timed:
        group.insert(0, _hour_day_expr(db, tz, start, end).label("day"))
    # GROUP BY positions: the day expression is computed once per cell, not again for grouping.
    query = (select(*group, func.sum(cost_col), func.sum(T.input_tokens), func.sum(T.output_tokens),
                    func.sum(T.cache_read_tokens), func.sum(T.cache_write_tokens), func.sum(T.requests),
                    func.sum(T.unpriced_rows)).where(*cond)
             .group_by(*[literal_column(str(i + 1)) for i in range(len(group))]))
    n = len(group)
    try:
        result = s.execute(query).all()
    except OperationalError as exc:  # SQLite's SUM of int64 units overflowed (over 9.2e8 in one group)
        if "overflow" in str(exc):
            return False
        raise
    for row in result:
        cur = row[n - 1]
        if cur != currency:
            return False
        values = _group_values(dims, row[1:n - 1] if timed else row[:n - 1], names)
        if timed:
            day = date.fromisoformat(str(row[0])[:10])
            key = tuple(_time_key(f, day, week_start) if f in TIME_FIELDS else values[f] for f in group_by)
        else:
            key = tuple(values[f] for f in group_by)
        _add(groups, key, group_by, cur, row[n:], fx, currency)
    return True


def _hour_day_expr(db: Database, tz: ZoneInfo, start: date, end: date) -> Any:
    """SQL text 'YYYY-MM-DD' of the local day of a roll-up cell (dated cells keep their date).

    On SQLite, where hour_start is text 'YYYY-MM-DD HH:00:00.000000' and the zone's offsets are whole hours,
    the day is the UTC date unless the hour is within the offset of midnight: a substring and one comparison
    per cell, date() arithmetic only for those few hours. Otherwise the general expression of analytics.query.
    """
    from aicost_desktop.analytics.query import local_day_expr, offset_changes  # imports this module

    T = UsageHourly
    changes = offset_changes(tz, start, end) if db.dialect == "sqlite" else []
    if not changes or any(off.total_seconds() % 3600 for _, off in changes):
        return local_day_expr(db, T, tz, start, end)
    at = T.hour_start
    utc_date, hh = func.substr(at, 1, 10), func.substr(at, 12, 2)

    def day_at(off: timedelta) -> Any:
        hours = int(off.total_seconds() // 3600)
        if hours == 0:
            return utc_date
        if hours > 0:  # the last `hours` UTC hours of a date are the next local day
            return case((hh < f"{24 - hours:02d}", utc_date), else_=func.date(at, f"+{hours} hours"))
        return case((hh >= f"{-hours:02d}", utc_date), else_=func.date(at, f"{hours} hours"))

    if len(changes) == 1:
        inst = day_at(changes[0][1])
    else:
        inst = case(*[(at < changes[i + 1][0], day_at(changes[i][1])) for i in range(len(changes) - 1)],
                    else_=day_at(changes[-1][1]))
    return case((T.dated.is_(True), utc_date), else_=inst)


def _add_hourly_groups(s: Any, T: Any, cond: list[Any], tz: ZoneInfo, group_by: Sequence[str], mode: str,
                       fx: dict[str, Decimal], week_start: int, currency: str,
                       names: dict[str, dict[int | None, str]], groups: dict[tuple[str, ...], ReportRow]) -> None:
    """Per hourly cell and every dimension (roll-up), or per raw row (zones with partial-hour offsets), with
    local days in Python: amounts are converted per cell, as they always were."""
    cost_col = {"auto": T.cost, "reported": T.reported_cost, "computed": T.computed_cost}[mode]
    at = T.hour_start if T is UsageHourly else T.bucket_start
    dims = (T.provider, T.model, T.account_id, T.source, T.workspace_id, T.project, T.currency)
    if T is UsageHourly:
        extra = (func.sum(T.cache_write_tokens), func.sum(T.requests), func.sum(T.unpriced_rows))
    else:
        unpriced = case((and_(T.cost_role == "spend", T.reported_cost.is_(None), T.computed_cost.is_(None)), 1),
                        else_=0)
        extra = (func.sum(T.cache_write_5m_tokens + T.cache_write_1h_tokens), func.sum(T.requests),
                 func.sum(unpriced))
    query = (select(at, T.dated, *dims, func.sum(cost_col), func.sum(T.input_tokens), func.sum(T.output_tokens),
                    func.sum(T.cache_read_tokens), *extra).where(*cond).group_by(at, T.dated, *dims))
    fields = ("provider", "model", "account", "source", "workspace", "project")
    for row in s.execute(query):
        hour, dated = row[0], row[1]
        values = _group_values(fields, row[2:8], names)
        day = local_day(hour, dated, tz)
        key = tuple(_time_key(f, day, week_start) if f in TIME_FIELDS else values[f] for f in group_by)
        _add(groups, key, group_by, row[8], row[9:], fx, currency)


def _conditions(db: Database, T: Any, start: date, end: date, tz: ZoneInfo, filters: Filters, mode: str,
                names: dict[str, dict[int | None, str]] | None = None) -> list[Any]:
    """WHERE clauses shared by reports and exports (works on UsageHourly and UsageRow).

    `names` (from `_names`) saves a query when the caller already has them.
    """
    # No cost_role filter: detail/covered rows carry cost 0 in auto mode, and their tokens still count.
    cond = [time_window(start, end, tz, T)]
    for name in ("provider", "model", "source"):
        value = getattr(filters, name)
        if value:
            cond.append(getattr(T, name) == value)
    if filters.account or filters.workspace:
        names = names or _names(db)
        for name, col in (("account", T.account_id), ("workspace", T.workspace_id)):
            value = getattr(filters, name)
            if value:
                ids = [i for i, n in names[name].items() if n == value]
                if not ids:
                    raise InputError(name, value, f"no such {name}")
                cond.append(col.in_(ids))
    return cond


def _names(db: Database) -> dict[str, dict[int | None, str]]:
    with db.session() as s:
        accounts = {i: n for i, n in s.execute(select(Account.id, Account.name))}
        workspaces = {i: n for i, n in s.execute(select(Workspace.id, Workspace.name))}
    return {"account": accounts, "workspace": workspaces}


def month_to_date(db: Database, tz: ZoneInfo, today: date | None = None, fx: dict[str, Decimal] | None = None) -> Decimal:
    """Spend of the current local month so far (the tray tooltip and Cost tracker header)."""
    today = today or datetime.now(tz).date()
    return spend_report(db, tz, today.replace(day=1), today, fx=fx).total


