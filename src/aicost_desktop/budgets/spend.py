"""Spend of a budget's scope over local dates, from the ledger in auto cost mode (reuses the report's rules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select

from aicost_desktop.domain.days import local_day, whole_hour_zone
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import ZERO
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.query import LedgerFilter, at_column, display_names, where_clauses
from aicost_desktop.storage.tables import UsageHourly, UsageRow

SCOPE_KINDS = ("all", "workspace", "provider", "account", "project", "model", "source")
SOURCES = ("api", "import", "log", "manual", "subscription", "proxy")


@dataclass(frozen=True)
class Scope:
    """What a budget counts: everything, or rows whose `kind` column equals `value`."""

    kind: str = "all"
    value: str | None = None

    @classmethod
    def parse(cls, text: str | None, field_: str = "scope") -> "Scope":
        """`everything`/`all`, or `KIND:VALUE` (e.g. `provider:openai`, `account:work`)."""
        if text is None or text.strip().lower() in ("", "all", "everything"):
            return cls()
        kind, sep, value = text.partition(":")
        kind, value = kind.strip().lower(), value.strip()
        if not sep or kind not in SCOPE_KINDS or kind == "all":
            raise InputError(field_, text, "use everything or KIND:VALUE with KIND one of "
                             + ", ".join(SCOPE_KINDS[1:]))
        if not value:
            raise InputError(field_, text, f"{kind}: needs a value")
        if kind == "source" and value not in SOURCES:
            raise InputError(field_, text, f"source must be one of {', '.join(SOURCES)}")
        return cls(kind, value)

    def __str__(self) -> str:
        return "everything" if self.kind == "all" else f"{self.kind}:{self.value}"


@dataclass
class ScopeSpend:
    """Money (in the budget currency), tokens and a per-model split of one scope over some days."""

    cost: Decimal = ZERO
    tokens: int = 0
    requests: int = 0
    unpriced_rows: int = 0
    by_model: dict[str, Decimal] = field(default_factory=dict)
    by_day: dict[date, Decimal] = field(default_factory=dict)


def scope_filter(scope: Scope) -> LedgerFilter:
    """The ledger filter of a budget scope (everything: no condition)."""
    v = scope.value
    if scope.kind == "all" or not v:
        return LedgerFilter()
    return LedgerFilter.of(provider=v if scope.kind == "provider" else None,
                           model=v if scope.kind == "model" else None,
                           account=v if scope.kind == "account" else None,
                           workspace=v if scope.kind == "workspace" else None,
                           project=v if scope.kind == "project" else None,
                           source=v if scope.kind == "source" else None)


def scope_spend(db: Database, tz: ZoneInfo, first: date, last: date, scope: Scope, currency: str = "USD",
                fx: dict[str, Decimal] | None = None, *, by_day: bool = False) -> ScopeSpend:
    """Spend of `scope` over local dates [first, last] in `currency` (auto cost mode, spend rows only).

    Dated rows (whole UTC days) count on their date in every zone, instants by local time: the
    same `time_window` rules as the spend report, so a budget and a report never disagree.
    """
    fx = fx or {"USD": Decimal(1)}
    T: Any = UsageHourly if whole_hour_zone(tz, first, last) else UsageRow
    out = ScopeSpend()
    try:
        cond = where_clauses(db, scope_filter(scope).between(first, last), tz, T)
    except InputError:
        return out  # nothing has the scope's name (yet, or any more: a deleted account): nothing to count
    at = at_column(T)
    if T is UsageHourly:
        tokens = T.input_tokens + T.output_tokens + T.cache_read_tokens + T.cache_write_tokens
        unpriced = func.sum(T.unpriced_rows)
    else:
        tokens = (T.input_tokens + T.output_tokens + T.cache_read_tokens + T.cache_write_5m_tokens
                  + T.cache_write_1h_tokens)
        unpriced = func.sum(case((and_(T.reported_cost.is_(None), T.computed_cost.is_(None)), 1), else_=0))
    keys = [T.model, T.currency] + ([at, T.dated] if by_day else [])
    q = (select(*keys, func.sum(T.cost), func.sum(tokens), func.sum(T.requests), unpriced)
         .where(*cond).group_by(*keys))
    target = fx.get(currency, Decimal(1))
    with db.session() as s:
        for row in s.execute(q):
            model, cur = row[0], row[1]
            cost, tok, req, unp = row[-4:]
            cost = cost or ZERO
            if cur != currency:
                rate = fx.get(cur)
                if rate is None:
                    raise InputError("currency", cur, "no exchange rate configured (setting fx_rates)")
                cost = cost * rate / target
            out.cost += cost
            out.tokens += int(tok or 0)
            out.requests += int(req or 0)
            out.unpriced_rows += int(unp or 0)
            name = model or "(no model)"
            out.by_model[name] = out.by_model.get(name, ZERO) + cost
            if by_day:
                d = local_day(row[2], row[3], tz)
                out.by_day[d] = out.by_day.get(d, ZERO) + cost
    return out


def known_names(db: Database) -> dict[str, set[str]]:
    """Account and workspace names, for validating a scope when a budget is created."""
    names = display_names(db)
    return {k: {n for n in v.values()} for k, v in names.items()}
