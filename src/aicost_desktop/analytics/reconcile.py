"""Reconciliation: provider-reported vs catalog-computed cost per local day, account and model.

The comparison is per day and model where both sides exist: OpenAI and Anthropic describe one spend twice
(cost rows: SPEND with reported_cost; usage rows: DETAIL with tokens and computed_cost), OpenRouter reports
both on one row. Spellings of one model merge through the catalog's resolution when a resolver is given.
Reported money with no computed side (a model the catalog cannot price, a cost line without token detail)
is listed apart instead of showing up as drift; so are unpriced models (tokens with no price at all).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select, type_coerce

from aicost_desktop.analytics.query import NONE_LABEL
from aicost_desktop.domain.days import as_date
from aicost_desktop.domain.money import QUANT, ZERO
from aicost_desktop.pricing.normalize import undated
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.query import display_names, local_day_expr, source_table, time_window
from aicost_desktop.storage.tables import UNPRICED_ROWS, UsageRow
from aicost_desktop.storage.types import Money

if TYPE_CHECKING:
    from aicost_desktop.pricing.catalog import PriceCatalog

DRIFT_LIMIT = Decimal(2)  # percent: computed more than 2% away from reported is flagged
# Rows whose money the user typed: there is no provider figure and no catalog price to compare.
TYPED_SOURCES = ("manual", "subscription")


def _money(d: Decimal) -> str:
    """Exact JSON money at ledger scale ('0.0000000000', never '0' or '0E-10')."""
    return f"{d.quantize(QUANT):f}"


@dataclass
class ReconRow:
    """Reported vs computed for one day, account and model (model '*' = the account's compared models)."""

    day: date
    account: str
    provider: str
    model: str
    reported: Decimal
    computed: Decimal

    @property
    def drift_pct(self) -> float | None:
        """(computed - reported) / reported in percent; None when both are 0, inf when only reported is."""
        if not self.reported:
            return None if not self.computed else float("inf")
        return float((self.computed - self.reported) / self.reported * 100)

    @property
    def flagged(self) -> bool:
        if not self.reported:
            return bool(self.computed)
        # Exact: |computed - reported| > 2% of |reported|, in Decimal (no float rounding at the limit).
        return abs(self.computed - self.reported) * 100 > DRIFT_LIMIT * abs(self.reported)

    def as_json(self) -> dict[str, Any]:
        d = self.drift_pct
        return {"day": self.day.isoformat(), "account": self.account, "provider": self.provider,
                "model": self.model, "reported": _money(self.reported), "computed": _money(self.computed),
                "drift_pct": None if d is None or d == float("inf") else round(d, 2), "flagged": self.flagged}


@dataclass
class ReportedOnly:
    """Provider-reported money of a model we computed nothing for in the range (set a price to compare)."""

    account: str
    provider: str
    model: str
    reported: Decimal
    days: int

    def as_json(self) -> dict[str, Any]:
        return {"account": self.account, "provider": self.provider, "model": self.model,
                "reported": _money(self.reported), "days": self.days}


@dataclass
class UnpricedModel:
    """A model with token usage but no price: spend is understated until a price is set."""

    provider: str
    model: str
    rows: int
    tokens: int
    first_day: date
    last_day: date

    def as_json(self) -> dict[str, Any]:
        return {"provider": self.provider, "model": self.model, "rows": self.rows, "tokens": self.tokens,
                "first_day": self.first_day.isoformat(), "last_day": self.last_day.isoformat()}


@dataclass
class Reconciliation:
    start: date
    end: date
    accounts: list[ReconRow]  # per day and account, summed over the compared models only
    models: list[ReconRow]  # per day, account and model where both sides exist
    unpriced: list[UnpricedModel]
    reported_only: list[ReportedOnly]

    @property
    def flagged(self) -> list[ReconRow]:
        return [r for r in self.models if r.flagged]

    def as_json(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "drift_limit_pct": float(DRIFT_LIMIT),
                "models": [r.as_json() for r in self.models], "flagged": len(self.flagged),
                "accounts": [r.as_json() for r in self.accounts],
                "reported_only": [r.as_json() for r in self.reported_only],
                "unpriced": [u.as_json() for u in self.unpriced]}


def model_family(catalog: "PriceCatalog") -> Callable[[str], str | None]:
    """A `resolve` for reconcile: the catalog key of a name without its date suffix, so the cost rows'
    `claude-sonnet-4-5` and the usage rows' `claude-sonnet-4-5-20250929` (two keys of the snapshot) and a
    router spelling (`anthropic/claude-sonnet-4.5`) group as one model. Coarser groups still compare sums."""
    def family(model: str) -> str | None:
        key = catalog.resolve_key(model)
        return None if key is None else undated(key) or key

    return family


def reconcile(db: Database, tz: ZoneInfo, start: date, end: date,
              resolve: Callable[[str], str | None] | None = None) -> Reconciliation:
    """Compare reported and computed cost per local day, account and model in [start, end].

    `resolve` maps a model name to the name it is compared under (`model_family(catalog)`); names it maps to
    None, and every name without it, are compared as spelled."""
    # The hourly roll-up keeps reported and computed sums per (hour, account, model, cost_role) with SQL SUM
    # semantics (NULL when no row had one), so it answers this exactly without scanning the raw ledger.
    T = source_table(tz, start, end)
    day = local_day_expr(db, T, tz, start, end).label("day")
    rep = func.sum(type_coerce(case((T.reported_cost.is_not(None), T.reported_cost), else_=0), Money))
    comp = func.sum(type_coerce(case((T.computed_cost.is_not(None), T.computed_cost), else_=0), Money))
    rows = T.rows if T is not UsageRow else 1
    n_rep = func.sum(case((T.reported_cost.is_not(None), rows), else_=0))
    n_comp = func.sum(case((T.computed_cost.is_not(None), rows), else_=0))
    q = (select(day, T.account_id, T.provider, T.model, rep, comp, n_rep, n_comp)
         .where(time_window(start, end, tz, T), T.cost_role != "covered", T.source.not_in(TYPED_SOURCES),
                T.account_id.is_not(None))
         .group_by(day, T.account_id, T.provider, T.model))
    names = display_names(db)["account"]
    keys: dict[str, str] = {}
    groups: dict[tuple[date, Any, str, str], list[Any]] = {}
    with db.session() as s:
        for d, acc, prov, model, r, c, nr, nc in s.execute(q):
            label = model or NONE_LABEL
            if model and resolve is not None:
                if model not in keys:
                    keys[model] = resolve(model) or model
                label = keys[model]
            g = groups.setdefault((as_date(d), acc, prov, label), [ZERO, ZERO, 0, 0, set()])
            g[0] += Decimal(0) + (r or ZERO)
            g[1] += Decimal(0) + (c or ZERO)
            g[2] += int(nr or 0)
            g[3] += int(nc or 0)
            g[4].add(model or NONE_LABEL)
    accounts: dict[tuple[date, Any], ReconRow] = {}
    models: list[ReconRow] = []
    only: dict[tuple[Any, str, str], ReportedOnly] = {}
    for (d, acc, prov, key), (r, c, nr, nc, spellings) in groups.items():
        name = names.get(acc, str(acc))
        # Shown as the ledger spells it; as the catalog key only where several spellings were merged.
        model = next(iter(spellings)) if len(spellings) == 1 else key
        if nr and nc:
            models.append(ReconRow(d, name, prov, model, r, c))
            row = accounts.setdefault((d, acc), ReconRow(d, name, prov, "*", ZERO, ZERO))
            row.reported += r
            row.computed += c
        elif nr and r:
            o = only.setdefault((acc, prov, model), ReportedOnly(name, prov, model, ZERO, 0))
            o.reported += r
            o.days += 1
    return Reconciliation(start, end, sorted(accounts.values(), key=lambda r: (r.day, r.account), reverse=True),
                          sorted(models, key=lambda r: (r.day, r.account, r.model), reverse=True),
                          unpriced_models(db),
                          sorted(only.values(), key=lambda o: (-o.reported, o.account, o.model)))


def unpriced_models(db: Database) -> list[UnpricedModel]:
    """Models whose spend rows have neither a reported nor a computed cost (or detail rows no price)."""
    T = UsageRow
    tokens = T.input_tokens + T.output_tokens + T.cache_read_tokens + T.cache_write_5m_tokens + T.cache_write_1h_tokens
    # The condition is the partial index's own SQL text, so the planner reads only unpriced rows.
    q = (select(T.provider, T.model, func.count(), func.sum(tokens), func.min(T.bucket_start),
                func.max(T.bucket_start)).where(UNPRICED_ROWS).group_by(T.provider, T.model))
    with db.session() as s:
        out = [UnpricedModel(p, m, int(n), int(t or 0), as_date(lo), as_date(hi))
               for p, m, n, t, lo, hi in s.execute(q)
               if m is not None]  # never None (UNPRICED_ROWS says model IS NOT NULL): narrowed for the type
    return sorted(out, key=lambda u: (-u.tokens, u.model))

