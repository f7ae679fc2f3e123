"""Spend grouped by local day/week/month and ledger dimensions, read from the hourly roll-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select

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
    inst = and_(table.dated.is_(False), at >= local_midnight_utc(start, tz),
                at < local_midnight_utc(end + timedelta(days=1), tz))
    dated = and_(table.dated.is_(True), at >= utc_midnight(start), at < utc_midnight(end + timedelta(days=1)))
    return or_(inst, dated)


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
    cond = _conditions(db, T, start, end, tz, filters, mode)
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
    names = _names(db)
    groups: dict[tuple[str, ...], ReportRow] = {}
    with db.session() as s:
        for row in s.execute(query):
            hour, dated, provider, model, account_id, source, ws_id, project, cur = row[:9]
            cost, tin, tout, tcr, tcw, req, unpriced = row[9:]
            day = local_day(hour, dated, tz)
            values = {"provider": provider, "model": model or "", "account": names["account"].get(account_id, ""),
                      "source": source, "workspace": names["workspace"].get(ws_id, ""), "project": project or ""}
            key = tuple(_time_key(f, day, week_start) if f in TIME_FIELDS else str(values[f]) for f in group_by)
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
    rows = sorted(groups.values(), key=lambda r: tuple(r.keys.values()))
    return Report(start=start, end=end, tz=tz.key, currency=currency, rows=rows)


def _conditions(db: Database, T: Any, start: date, end: date, tz: ZoneInfo, filters: Filters, mode: str) -> list[Any]:
    """WHERE clauses shared by reports and exports (works on UsageHourly and UsageRow)."""
    # No cost_role filter: detail/covered rows carry cost 0 in auto mode, and their tokens still count.
    cond = [time_window(start, end, tz, T)]
    for name in ("provider", "model", "source"):
        value = getattr(filters, name)
        if value:
            cond.append(getattr(T, name) == value)
    if filters.account or filters.workspace:
        names = _names(db)
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


