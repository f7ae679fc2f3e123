"""Reconciliation: provider-reported vs catalog-computed cost per local day, account and model.

OpenAI describes one spend twice (costs rows: SPEND with reported_cost; usage rows: DETAIL with tokens
and computed_cost), often with different model labels, so the account/day level is the primary check
and the model level is shown where both sides name the same model. Also lists unpriced models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select, type_coerce

from aicost_desktop.analytics.query import NONE_LABEL, local_day_expr, source_table
from aicost_desktop.analytics.report import _names, time_window
from aicost_desktop.domain.money import ZERO
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import UNPRICED_ROWS, PriceOverride, UsageRow
from aicost_desktop.storage.types import Money

DRIFT_LIMIT = 5.0  # percent


@dataclass
class ReconRow:
    """Reported vs computed for one day and account (model '*' = whole account)."""

    day: date
    account: str
    provider: str
    model: str
    reported: Decimal
    computed: Decimal

    @property
    def drift_pct(self) -> float | None:
        if not self.reported:
            return None if not self.computed else float("inf")
        return float((self.computed - self.reported) / self.reported * 100)

    @property
    def flagged(self) -> bool:
        d = self.drift_pct
        return d is not None and abs(d) > DRIFT_LIMIT

    def as_json(self) -> dict[str, Any]:
        d = self.drift_pct
        return {"day": self.day.isoformat(), "account": self.account, "provider": self.provider,
                "model": self.model, "reported": f"{self.reported:f}", "computed": f"{self.computed:f}",
                "drift_pct": None if d is None or d == float("inf") else round(d, 2), "flagged": self.flagged}


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
    accounts: list[ReconRow]
    models: list[ReconRow]
    unpriced: list[UnpricedModel]

    def as_json(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "drift_limit_pct": DRIFT_LIMIT,
                "accounts": [r.as_json() for r in self.accounts], "models": [r.as_json() for r in self.models],
                "flagged": sum(r.flagged for r in self.accounts + self.models),
                "unpriced": [u.as_json() for u in self.unpriced]}


def reconcile(db: Database, tz: ZoneInfo, start: date, end: date) -> Reconciliation:
    """Compare reported and computed cost for accounts that have both in [start, end]."""
    # The hourly roll-up keeps reported and computed sums per (hour, account, model, cost_role) with SQL SUM
    # semantics (NULL when no row had one), so it answers this exactly without scanning the raw ledger.
    T = source_table(tz, start, end)
    day = local_day_expr(db, T, tz, start, end).label("day")
    rep = func.sum(type_coerce(case((T.reported_cost.is_not(None), T.reported_cost), else_=0), Money))
    comp = func.sum(type_coerce(case((T.computed_cost.is_not(None), T.computed_cost), else_=0), Money))
    n_rep = func.sum(case((T.reported_cost.is_not(None), 1), else_=0))
    n_comp = func.sum(case((T.computed_cost.is_not(None), 1), else_=0))
    q = (select(day, T.account_id, T.provider, T.model, rep, comp, n_rep, n_comp)
         .where(time_window(start, end, tz, T), T.cost_role != "covered")
         .group_by(day, T.account_id, T.provider, T.model))
    names = _names(db)["account"]
    by_model: list[tuple[date, Any, str, str, Decimal, Decimal, int, int]] = []
    with db.session() as s:
        for d, acc, prov, model, r, c, nr, nc in s.execute(q):
            by_model.append((date.fromisoformat(str(d)[:10]), acc, prov, model or NONE_LABEL,
                             Decimal(0) + (r or ZERO), Decimal(0) + (c or ZERO), int(nr or 0), int(nc or 0)))
    has = {}
    for _d, acc, _p, _m, _r, _c, nr, nc in by_model:
        h = has.setdefault(acc, [0, 0])
        h[0] += nr
        h[1] += nc
    both = {acc for acc, (nr, nc) in has.items() if nr and nc and acc is not None}
    accounts: dict[tuple[date, Any], ReconRow] = {}
    models: list[ReconRow] = []
    for d, acc, prov, model, r, c, nr, nc in by_model:
        if acc not in both:
            continue
        name = names.get(acc, str(acc))
        row = accounts.setdefault((d, acc), ReconRow(d, name, prov, "*", ZERO, ZERO))
        row.reported += r
        row.computed += c
        if nr and nc:
            models.append(ReconRow(d, name, prov, model, r, c))
    return Reconciliation(start, end, sorted(accounts.values(), key=lambda r: (r.day, r.account), reverse=True),
                          sorted(models, key=lambda r: (r.day, r.account, r.model), reverse=True),
                          unpriced_models(db))


def unpriced_models(db: Database) -> list[UnpricedModel]:
    """Models whose spend rows have neither a reported nor a computed cost (or detail rows no price)."""
    T = UsageRow
    tokens = T.input_tokens + T.output_tokens + T.cache_read_tokens + T.cache_write_5m_tokens + T.cache_write_1h_tokens
    # The condition is the partial index's own SQL text, so the planner reads only unpriced rows.
    q = (select(T.provider, T.model, func.count(), func.sum(tokens), func.min(T.bucket_start),
                func.max(T.bucket_start)).where(UNPRICED_ROWS).group_by(T.provider, T.model))
    with db.session() as s:
        out = [UnpricedModel(p, m, int(n), int(t or 0), _d(lo), _d(hi)) for p, m, n, t, lo, hi in s.execute(q)]
    return sorted(out, key=lambda u: (-u.tokens, u.model))


def _d(v: Any) -> date:
    if isinstance(v, datetime):
        return v.date()
    return date.fromisoformat(str(v)[:10])


def set_price(db: Database, model: str, input_per_mtok: Decimal, output_per_mtok: Decimal,
              effective_from: date | None = None, cache_read_per_mtok: Decimal | None = None,
              note: str = "set from the Analytics dock") -> None:
    """Write a user price override (the one-click 'set price'); the pricing helper's recompute picks it up.

    Prefer the pricing package's own setter when it exists, so validation and recomputation are shared.
    """
    try:
        from aicost_desktop.pricing import overrides as _ov  # type: ignore[attr-defined]

        setter = getattr(_ov, "set_override", None)
    except ImportError:
        setter = None
    eff = effective_from or date(2000, 1, 1)
    if setter is not None:
        setter(db, model, effective_from=eff, input_per_mtok=input_per_mtok, output_per_mtok=output_per_mtok,
               cache_read_per_mtok=cache_read_per_mtok, note=note)
        return
    with db.write_session() as s:
        row = s.scalar(select(PriceOverride).where(PriceOverride.model_key == model,
                                                   PriceOverride.effective_from == eff))
        if row is None:
            row = PriceOverride(model_key=model, effective_from=eff)
            s.add(row)
        row.input_per_mtok, row.output_per_mtok = input_per_mtok, output_per_mtok
        row.cache_read_per_mtok, row.note = cache_read_per_mtok, note
        row.created_at = datetime.now(timezone.utc)
