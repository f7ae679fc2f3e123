"""Spend of a budget's scope over local dates, from the ledger in auto cost mode (reuses the report's rules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select

from aicost_desktop.analytics.report import Filters, _conditions, _names
from aicost_desktop.domain.days import whole_hour_zone
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import ZERO
from aicost_desktop.storage.db import Database
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


def _filters(scope: Scope) -> Filters:
    f = Filters()
    if scope.kind in ("provider", "account", "model", "source", "workspace"):
        setattr(f, scope.kind, scope.value)
    return f


def scope_spend(db: Database, tz: ZoneInfo, first: date, last: date, scope: Scope, currency: str = "USD",
                fx: dict[str, Decimal] | None = None, *, by_day: bool = False) -> ScopeSpend:
    """Spend of `scope` over local dates [first, last] in `currency` (auto cost mode, spend rows only).

    Dated rows (whole UTC days) count on their date in every zone, instants by local time: the
    same `time_window` rules as the spend report, so a budget and a report never disagree.
    """
    from aicost_desktop.domain.days import local_day

    fx = fx or {"USD": Decimal(1)}
    T: Any = UsageHourly if whole_hour_zone(tz, first, last) else UsageRow
    out = ScopeSpend()
    try:
        cond = _conditions(db, T, first, last, tz, _filters(scope), "auto")
    except InputError:
        return out  # the scope's account/workspace was deleted: nothing to count
    if scope.kind == "project":
        cond.append(T.project == scope.value)
    at = T.hour_start if T is UsageHourly else T.bucket_start
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
    names = _names(db)
    return {k: {n for n in v.values()} for k, v in names.items()}
