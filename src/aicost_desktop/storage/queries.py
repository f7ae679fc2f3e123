"""Reads the GUI and CLI show as they are: ledger rows newest first with local dates (raw, or folded into one
row per thing paid for), the total of a filter, balances, sync facts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal, or_, select
from sqlalchemy.orm import Session

from aicost_desktop.domain.days import as_date, local_day, whole_hour_zone
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import ZERO
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.query import LedgerFilter, check_known, where_clauses
from aicost_desktop.storage.query.daily import local_day_sums, rollup_conditions
from aicost_desktop.storage.tables import Account, BalanceReading, UsageDaily, UsageRow


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
    line_item: str = ""
    subscription_id: int | None = None
    key: str = ""               # stable across reloads: the fold key of a provider row, else "row:<id>"
    parts: tuple["LedgerRowView", ...] = ()  # the ledger rows folded into this one (two or more), else ()

    @property
    def unpriced(self) -> bool:
        """A spend row with neither a reported nor a computed cost: shown as "unpriced", never $0."""
        return self.cost_role == "spend" and self.reported_cost is None and self.computed_cost is None

    @property
    def label(self) -> str:
        """What was paid for: a subscription's or manual entry's service ("ChatGPT Plus"), else the model,
        else the provider's line item (OpenAI bills tool calls without a model)."""
        if self.source in ("subscription", "manual") and self.project:
            return f"{self.project} · {self.model}" if self.model else self.project
        return self.model or self.line_item

    @property
    def ids(self) -> tuple[int, ...]:
        """The ledger ids this row stands for."""
        return tuple(p.id for p in self.parts) if self.parts else (self.id,)

    @property
    def editable(self) -> bool:
        """Only what the user entered is theirs to change; provider, log and import rows are re-read."""
        return not self.parts and self.source in ("manual", "subscription")


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


# Sources whose rows of one bucket, account and model fold into one row: the providers' usage report (tokens,
# cost role detail) and cost report (money, spend; OpenAI one row per line item and project) of a model-day.
FOLDED_SOURCES = frozenset({"api"})
PAGE_ROWS = 1000  # ledger rows a page reads (folded, a page shows fewer)
# Sources with few rows (what the user entered): for them alone the (source, dedup_key) index finds the rows
# faster than walking the time index; for any other, SQLite would pick it too and sort every row of the source.
FEW_ROWS_SOURCES = frozenset({"manual", "subscription"})

_VIEW_COLUMNS = (UsageRow.id, UsageRow.source, UsageRow.provider, Account.name, UsageRow.model, UsageRow.project,
                 UsageRow.bucket_start, UsageRow.dated, UsageRow.input_tokens, UsageRow.output_tokens,
                 UsageRow.cache_read_tokens, UsageRow.cache_write_5m_tokens, UsageRow.cache_write_1h_tokens,
                 UsageRow.requests, UsageRow.cost, UsageRow.reported_cost, UsageRow.computed_cost,
                 UsageRow.cost_role, UsageRow.currency, UsageRow.note, UsageRow.is_demo, UsageRow.line_item,
                 UsageRow.subscription_id, UsageRow.account_id)


@dataclass(frozen=True)
class LedgerPage:
    """A page of folded rows, newest first. `oldest` is the oldest bucket start read (the next page reads
    rows before it; a reload through it keeps what was scrolled in); `has_more`: older rows exist."""

    rows: list[LedgerRowView]
    oldest: datetime | None
    has_more: bool


def _fold_key(source: str, provider: str, account_id: int | None, at: datetime, model: str | None,
              line_item: str | None, currency: str, row_id: int) -> str:
    if source not in FOLDED_SOURCES:
        return f"row:{row_id}"
    what = f"m:{model}" if model else f"li:{line_item or ''}"
    return f"{source}|{provider}|{account_id}|{at.isoformat()}|{what}|{currency}"


def _sum_known(values: list[Decimal | None]) -> Decimal | None:
    known = [v for v in values if v is not None]
    return sum(known, ZERO) if known else None


def _folded(key: str, parts: list[LedgerRowView]) -> LedgerRowView:
    """One row for the parts of a model-day: token and money sums; the spend row leads (its id, its role)."""
    if len(parts) == 1:
        return parts[0]
    roles = {p.cost_role for p in parts}
    role = "spend" if "spend" in roles else "covered" if "covered" in roles else "detail"
    head = next(p for p in parts if p.cost_role == role)
    projects = {p.project for p in parts}
    notes = list(dict.fromkeys(p.note for p in parts if p.note))
    return replace(
        head, key=key, parts=tuple(parts), cost_role=role, project=projects.pop() if len(projects) == 1 else "",
        input_tokens=sum(p.input_tokens for p in parts), output_tokens=sum(p.output_tokens for p in parts),
        cache_read_tokens=sum(p.cache_read_tokens for p in parts),
        cache_write_tokens=sum(p.cache_write_tokens for p in parts), requests=sum(p.requests for p in parts),
        cost=sum((p.cost for p in parts), ZERO), reported_cost=_sum_known([p.reported_cost for p in parts]),
        computed_cost=_sum_known([p.computed_cost for p in parts]), note="; ".join(notes),
        line_item=head.line_item if len({p.line_item for p in parts}) == 1 else "")


def ledger_page(db: Database, tz: ZoneInfo, filters: LedgerFilter | None = None, *, text: str | None = None,
                before: datetime | None = None, limit: int = PAGE_ROWS, through: datetime | None = None,
                cap: int | None = None) -> LedgerPage:
    """The ledger as the Cost tracker lists it: one row per thing paid for, newest first.

    A provider's usage and cost reports of one model-day (same source, provider, account, bucket, model and
    currency) fold into one row with their tokens and money, the parts kept in `parts`; other rows stand alone.
    A page reads the `limit` newest ledger rows before `before` plus every other row of the oldest bucket
    read, so a model-day is never split across pages; the index on bucket_start bounds the read, so paging
    costs the same on a 1M-row ledger. `through` reads at least down to that bucket (a reload keeping the
    rows scrolled in), at most `cap` ledger rows.
    """
    T = UsageRow
    sources = filters.sources if filters is not None else None
    if sources and not set(sources) <= FEW_ROWS_SOURCES and filters is not None:
        # Compared as an expression, so no index on source can be chosen: the walk is down the time index,
        # which stops after `limit` matches (0.7 s -> ms for API + Log on 1M rows).
        check_known(db, "source", sources)
        cond = _row_where(db, tz, replace(filters, sources=None), text)
        cond.append((T.source + literal("")).in_(sources))
    else:
        cond = _row_where(db, tz, filters, text)
    if before is not None:
        cond.append(T.bucket_start < before)

    def frm(cols: list[Any]) -> Any:
        return _base(cols) if text and text.strip() else select(*cols).select_from(T)

    def nth_bucket(s: Session, n: int) -> datetime | None:
        """The bucket start of the n-th newest row (None: fewer rows)."""
        q = frm([T.bucket_start]).where(*cond).order_by(T.bucket_start.desc()).limit(1).offset(max(0, n - 1))
        start: datetime | None = s.scalar(q)
        return start

    with db.session() as s:
        lo = nth_bucket(s, max(1, limit))
        if lo is not None and through is not None and through < lo:
            lo = through
            lo_cap = nth_bucket(s, cap) if cap else None
            if lo_cap is not None and lo < lo_cap:
                lo = lo_cap
        window = cond + ([T.bucket_start >= lo] if lo is not None else [])
        q = _base(list(_VIEW_COLUMNS)).where(*window).order_by(T.bucket_start.desc(), T.id.desc())
        groups: dict[str, list[LedgerRowView]] = {}
        oldest: datetime | None = None
        for (id_, source, provider, account, model, project, at, dated, tin, tout, tcr, cw5, cw1, requests, cost,
             reported, computed, role, currency, note, is_demo, line_item, sub_id, account_id) in s.execute(q):
            key = _fold_key(source, provider, account_id, at, model, line_item, currency, id_)
            oldest = at
            groups.setdefault(key, []).append(LedgerRowView(
                id=id_, source=source, provider=provider, account=account or "", model=model or "",
                project=project or "", at=at, local_date=local_day(at, dated, tz),
                local_time=None if dated else at.astimezone(tz), dated=dated, input_tokens=tin,
                output_tokens=tout, cache_read_tokens=tcr, cache_write_tokens=cw5 + cw1, requests=requests,
                cost=cost, reported_cost=reported, computed_cost=computed, cost_role=role, currency=currency,
                note=note or "", is_demo=is_demo, line_item=line_item or "", subscription_id=sub_id,
                key=key))
        has_more = lo is not None and s.scalar(
            frm([literal(1)]).where(*cond, T.bucket_start < lo).limit(1)) is not None
    return LedgerPage([_folded(k, parts) for k, parts in groups.items()], oldest, has_more)


def ledger_total(db: Database, tz: ZoneInfo, filters: LedgerFilter | None = None, *, text: str | None = None,
                 currency: str = "USD", fx: dict[str, Decimal] | None = None) -> Decimal:
    """What the rows `ledger_page` lists for this filter add to spend (auto mode), in `currency`.

    Without a text search the daily roll-up answers (the same rows, a few thousand cells; local days from it
    as storage/query/daily says); a zone whose offset at a date bound is not whole hours, or a text search,
    reads the ledger. InputError when a row's currency has no exchange rate.
    """
    flt = filters or LedgerFilter()
    fx = fx or {"USD": Decimal(1)}
    bounds = [d for d in (flt.start, flt.end) if d is not None]
    rollup = not (text and text.strip()) and (not bounds or whole_hour_zone(tz, min(bounds), max(bounds)))
    sums: dict[str, Decimal] = {}
    with db.session() as s:
        if rollup and not bounds:
            D = UsageDaily
            rows: Any = s.execute(select(D.currency, func.sum(D.cost)).where(*where_clauses(db, flt, tz, D))
                                  .group_by(D.currency))
        elif rollup:
            first, last = flt.start, flt.end
            if first is None or last is None:  # an open bound: the ledger's first / last UTC date, +-1 local day
                lo, hi = s.execute(select(func.min(UsageDaily.day), func.max(UsageDaily.day))).one()
                first = first or (as_date(lo) - timedelta(days=1) if lo is not None else None)
                last = last or (as_date(hi) + timedelta(days=1) if hi is not None else None)
            cells = local_day_sums(s, tz, first, last, ["currency"], ["cost"],
                                   rollup_conditions(db, flt, tz, None)) if first and last else {}
            rows = [(cur, cost) for (_day, (cur,)), (cost,) in cells.items()]
        else:
            rows = s.execute(_base([UsageRow.currency, func.sum(UsageRow.cost)])
                             .where(*_row_where(db, tz, flt, text)).group_by(UsageRow.currency))
        for cur, amount in rows:
            sums[cur] = sums.get(cur, ZERO) + (amount or ZERO)
    target = fx.get(currency, Decimal(1))
    total = ZERO
    for cur, amount in sums.items():
        if cur != currency:
            rate = fx.get(cur)
            if rate is None:
                raise InputError("currency", cur, "no exchange rate configured (setting fx_rates)")
            amount = amount * rate / target
        total += amount
    return total


def ledger_has_rows(db: Database) -> bool:
    """Whether the ledger has any row at all (an empty ledger shows next steps, an empty filter does not)."""
    with db.session() as s:
        return s.scalar(select(literal(1)).select_from(UsageRow).limit(1)) is not None


def count_records(db: Database, tz: ZoneInfo, filters: LedgerFilter | None = None, *,
                  text: str | None = None) -> int:
    """How many rows `list_records` would return without a limit."""
    cond = _row_where(db, tz, filters, text)
    with db.session() as s:
        if not cond:  # the whole ledger: the roll-up counts rows per cell (a few thousand cells, not 1M rows)
            return int(s.scalar(select(func.sum(UsageDaily.rows))) or 0)
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
