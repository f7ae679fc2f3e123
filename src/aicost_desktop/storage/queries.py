"""Reads the GUI and CLI show as they are: ledger rows newest first with local dates, balances, sync facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from aicost_desktop.domain.days import local_day
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.query import LedgerFilter, where_clauses
from aicost_desktop.storage.tables import Account, BalanceReading, UsageHourly, UsageRow


@dataclass(frozen=True, slots=True)
class LedgerRowView:
    """One ledger row as a table shows it: local date (per the `dated` rule), names joined, raw values."""

    id: int
    source: str
    provider: str
    account: str
    model: str
    project: str
    at: datetime                # bucket start, UTC
    local_date: date
    local_time: datetime | None  # bucket start in the user's zone; None for dated (whole-day) rows
    dated: bool
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    requests: int
    cost: Decimal               # what the row adds to spend (0 for detail/covered rows)
    reported_cost: Decimal | None
    computed_cost: Decimal | None
    cost_role: str
    currency: str
    note: str
    is_demo: bool

    @property
    def unpriced(self) -> bool:
        """A spend row with neither a reported nor a computed cost: shown as "unpriced", never $0."""
        return self.cost_role == "spend" and self.reported_cost is None and self.computed_cost is None


def _row_where(db: Database, tz: ZoneInfo, flt: LedgerFilter | None, text: str | None) -> list[Any]:
    """The filter's conditions on the ledger, plus a case-insensitive search of model, provider, note,
    project and account name."""
    cond = where_clauses(db, flt, tz, UsageRow) if flt is not None else []
    if text and text.strip():
        like = f"%{text.strip().lower()}%"
        cond.append(or_(*(func.lower(func.coalesce(c, "")).like(like) for c in
                          (UsageRow.model, UsageRow.provider, UsageRow.note, UsageRow.project, Account.name))))
    return cond


def _base(columns: list[Any]) -> Any:
    return select(*columns).select_from(UsageRow).outerjoin(Account, Account.id == UsageRow.account_id)


def list_records(db: Database, tz: ZoneInfo, filters: LedgerFilter | None = None,
                 limit: int = 5000, offset: int = 0, *, text: str | None = None) -> list[LedgerRowView]:
    """Ledger rows newest first (by bucket start, then id), at most `limit` from `offset`; `text` searches."""
    T = UsageRow
    # Plain columns, not ORM entities: building 5,000 instrumented objects costs more than the query.
    q = (_base([T.id, T.source, T.provider, Account.name, T.model, T.project, T.bucket_start, T.dated,
                T.input_tokens, T.output_tokens, T.cache_read_tokens, T.cache_write_5m_tokens,
                T.cache_write_1h_tokens, T.requests, T.cost, T.reported_cost, T.computed_cost, T.cost_role,
                T.currency, T.note, T.is_demo]).where(*_row_where(db, tz, filters, text))
         .order_by(T.bucket_start.desc(), T.id.desc()).limit(max(0, limit)).offset(max(0, offset)))
    out: list[LedgerRowView] = []
    with db.session() as s:
        for (id_, source, provider, account, model, project, at, dated, tin, tout, tcr, cw5, cw1, requests, cost,
             reported, computed, role, currency, note, is_demo) in s.execute(q):
            out.append(LedgerRowView(
                id=id_, source=source, provider=provider, account=account or "", model=model or "",
                project=project or "", at=at, local_date=local_day(at, dated, tz),
                local_time=None if dated else at.astimezone(tz), dated=dated, input_tokens=tin,
                output_tokens=tout, cache_read_tokens=tcr, cache_write_tokens=cw5 + cw1, requests=requests,
                cost=cost, reported_cost=reported, computed_cost=computed, cost_role=role, currency=currency,
                note=note or "", is_demo=is_demo))
    return out


def count_records(db: Database, tz: ZoneInfo, filters: LedgerFilter | None = None, *,
                  text: str | None = None) -> int:
    """How many rows `list_records` would return without a limit."""
    cond = _row_where(db, tz, filters, text)
    with db.session() as s:
        if not cond:  # the whole ledger: the roll-up counts rows per cell (a few thousand cells, not 1M rows)
            return int(s.scalar(select(func.sum(UsageHourly.rows))) or 0)
        return int(s.scalar(_base([func.count(UsageRow.id)]).where(*cond)) or 0)


def last_sync_at(db: Database) -> datetime | None:
    """The most recent successful sync of any account (status bar), or None if none ever ran."""
    with db.session() as s:
        return s.scalar(select(func.max(Account.last_success_at)))


@dataclass(frozen=True)
class LatestBalance:
    """The newest balance snapshot of an account (prepaid credit, not spend)."""

    account_id: int
    currency: str
    remaining: Decimal | None
    total: Decimal | None
    limit: Decimal | None
    used: Decimal | None
    taken_at: datetime


def latest_balances(db: Database) -> dict[int, LatestBalance]:
    """Each account's newest balance reading (the latest taken_at; of equal ones the last written), read as
    one row per account: a window function, on SQLite and PostgreSQL alike."""
    B = BalanceReading
    rank = func.row_number().over(partition_by=B.account_id, order_by=(B.taken_at.desc(), B.id.desc()))
    ranked = select(B.account_id, B.currency, B.remaining, B.total, B.limit, B.used, B.taken_at,
                    rank.label("rn")).subquery()
    q = select(*[c for c in ranked.c if c.name != "rn"]).where(ranked.c.rn == 1)
    with db.session() as s:
        return {row[0]: LatestBalance(*row) for row in s.execute(q)}


def shortest_sync_interval(db: Database) -> int | None:
    """The shortest sync interval (minutes) any enabled account sets, or None when none sets one."""
    with db.session() as s:
        return s.scalar(select(func.min(Account.sync_interval_minutes)).where(Account.enabled.is_(True)))


def accounts_of(db: Database, provider: str) -> list[tuple[int, str]]:
    """(id, name) of the provider's accounts, by name (e.g. the OpenRouter keys a budget may pause)."""
    with db.session() as s:
        return [(i, n) for i, n in s.execute(select(Account.id, Account.name)
                                             .where(Account.provider == provider).order_by(Account.name))]
