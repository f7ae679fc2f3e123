"""Spend grouped by local day/week/month and ledger dimensions, read from the hourly roll-up."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from aicost_desktop.domain.days import local_day, whole_hour_zone
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import ZERO
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.query import (COST_MODES, LedgerFilter, NameMaps, at_column, display_names,
                                          where_clauses, week_start_of)
from aicost_desktop.storage.query.daily import local_day_sums, rollup_conditions
from aicost_desktop.storage.rollup import overflowed
from aicost_desktop.storage.tables import UsageHourly, UsageRow

GROUP_FIELDS = ("day", "week", "month", "provider", "model", "account", "source", "workspace", "project")
TIME_FIELDS = ("day", "week", "month")
__all__ = ["COST_MODES", "GROUP_FIELDS", "Report", "ReportRow", "SpendSummary", "parse_group_by",
           "spend_report", "spend_summary"]


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


def _time_key(field_: str, d: date, week_start: int) -> str:
    if field_ == "day":
        return d.isoformat()
    if field_ == "week":
        return week_start_of(d, week_start).isoformat()
    return f"{d.year:04d}-{d.month:02d}"


# Report fields and the ledger column each needs (time fields need the row's local day instead).
_DIM_COLUMNS = {"provider": "provider", "model": "model", "account": "account_id", "source": "source",
                "workspace": "workspace_id", "project": "project"}


def spend_report(db: Database, tz: ZoneInfo, start: date, end: date, group_by: Sequence[str] = (),
                 filters: LedgerFilter | None = None, mode: str | None = None, fx: dict[str, Decimal] | None = None,
                 week_start: int = 0, currency: str = "USD") -> Report:
    """Sum spend over local days [start, end] grouped by `group_by`, converted to `currency`.

    [start, end] replace the filter's own dates; `mode` (None: the filter's) picks the cost column."""
    flt = (filters or LedgerFilter()).between(start, end)
    if mode is not None:
        flt = replace(flt, mode=mode)
    flt.validate()
    mode = flt.mode
    fx = fx or {"USD": Decimal(1)}
    T = UsageHourly if whole_hour_zone(tz, start, end) else UsageRow
    names = display_names(db)
    groups: dict[tuple[str, ...], ReportRow] = {}
    with db.session() as s:
        daily = T is UsageHourly
        if not (daily and _daily_groups(s, db, tz, start, end, group_by, flt, mode, fx, week_start, currency,
                                        names, groups)):
            groups.clear()
            cond = where_clauses(db, flt, tz, T, names, check=not daily)  # the daily path checked the values
            _add_hourly_groups(s, T, cond, tz, group_by, mode, fx, week_start, currency, names, groups)
    rows = sorted(groups.values(), key=lambda r: tuple(r.keys.values()))
    return Report(start=start, end=end, tz=tz.key, currency=currency, rows=rows)


def _group_values(dims: Sequence[str], values: Sequence[Any], names: NameMaps) -> dict[str, str]:
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


def _daily_groups(s: Session, db: Database, tz: ZoneInfo, start: date, end: date, group_by: Sequence[str],
                  flt: LedgerFilter, mode: str, fx: dict[str, Decimal], week_start: int, currency: str,
                  names: NameMaps, groups: dict[tuple[str, ...], ReportRow]) -> bool:
    """Roll-up path: sums per local day from the daily roll-up (storage/query/daily) and only the dimensions
    `group_by` needs, so a year comes back as a few thousand cells instead of every hourly cell.

    Returns False, leaving `groups` partial, when some amounts are in another currency than `currency`:
    the caller then converts per hourly cell, so rounding stays exactly as it always was."""
    cost_col = {"auto": "cost", "reported": "reported_cost", "computed": "computed_cost"}[mode]
    timed = any(f in TIME_FIELDS for f in group_by)
    dims = [f for f in dict.fromkeys(group_by) if f in _DIM_COLUMNS]
    where = rollup_conditions(db, flt, tz, names)
    try:
        sums = local_day_sums(s, tz, start, end, [_DIM_COLUMNS[f] for f in dims] + ["currency"],
                              [cost_col, "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
                               "requests", "unpriced_rows"], where)
    except OperationalError as exc:  # SQLite's SUM of int64 units overflowed (over 9.2e8 in one group)
        if overflowed(exc):
            return False
        raise
    for (day, keys), values in sums.items():
        cur = keys[-1]
        if cur != currency:
            return False
        by_field = _group_values(dims, keys[:-1], names)
        if timed:
            key = tuple(_time_key(f, day, week_start) if f in TIME_FIELDS else by_field[f] for f in group_by)
        else:
            key = tuple(by_field[f] for f in group_by)
        _add(groups, key, group_by, cur, values, fx, currency)
    return True


def _add_hourly_groups(s: Session, T: Any, cond: list[Any], tz: ZoneInfo, group_by: Sequence[str], mode: str,
                       fx: dict[str, Decimal], week_start: int, currency: str,
                       names: NameMaps, groups: dict[tuple[str, ...], ReportRow]) -> None:
    """Per hourly cell and every dimension (roll-up), or per raw row (zones with partial-hour offsets), with
    local days in Python: amounts are converted per cell, as they always were."""
    cost_col = {"auto": T.cost, "reported": T.reported_cost, "computed": T.computed_cost}[mode]
    at = at_column(T)
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


@dataclass(frozen=True)
class SpendSummary:
    """Header figures: spend this local month so far and today, in `currency`."""

    month_to_date: Decimal
    today: Decimal
    currency: str
    unpriced_rows: int


def spend_summary(db: Database, tz: ZoneInfo, fx: dict[str, Decimal] | None = None, currency: str = "USD",
                  today: date | None = None) -> SpendSummary:
    """Month-to-date and today's spend (auto mode) for the tray tooltip and the cost tracker header."""
    today = today or datetime.now(tz).date()
    rep = spend_report(db, tz, today.replace(day=1), today, group_by=["day"], fx=fx, currency=currency)
    day = next((r.cost for r in rep.rows if r.keys.get("day") == today.isoformat()), Decimal(0))
    return SpendSummary(rep.total, day, currency, sum(r.unpriced_rows for r in rep.rows))
