"""Setting a user price: store the override, reload the running catalog, reprice the ledger rows it covers.

`aicost prices set` and the Analytics dock's "Set price" both call `set_price`, so a price set either way
prices the same rows: every ledger spelling of the model the catalog resolves to that price (the dated and
undated names, a router prefix), from the price's first day on, with the hourly roll-up refreshed so
reports, budgets and exports see the new figures without a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy import and_, func, or_, select, update

from aicost_desktop.domain.enums import CostRole, ServiceTier
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import QUANT
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.notify.alerts import resolve_unpriced_models
from aicost_desktop.pricing.normalize import clean
from aicost_desktop.storage import rollup
from aicost_desktop.storage.ledger import notify_changed
from aicost_desktop.storage.tables import UNPRICED_ROWS, PriceOverride, UsageDaily, UsageRow

if TYPE_CHECKING:
    from aicost_desktop.pricing.catalog import PriceCatalog
    from aicost_desktop.storage.db import Database

# A price set without a first day prices every date: the usual reason to set one is an unpriced model
# whose past usage should get a cost.
ALL_DATES = date(1970, 1, 1)
RATE_FIELDS = ("input_per_mtok", "output_per_mtok", "cache_read_per_mtok", "cache_write_5m_per_mtok",
               "cache_write_1h_per_mtok")
MAX_KEY = 200  # price_overrides.model_key and usage_records.model are String(200)
PAGE_SIZE = 1000
# Sources whose rows carry an amount the user typed, never a catalog price.
UNPRICEABLE_SOURCES = ("manual", "subscription")


@dataclass
class PriceSet:
    """What one `set_price` did: the stored price, and the ledger rows it repriced."""

    model: str
    model_key: str
    effective_from: date
    replaced: bool
    rates: dict[str, Decimal | None]
    note: str | None
    models: list[str] = field(default_factory=list)  # ledger spellings priced by it
    rows_checked: int = 0
    rows_changed: int = 0
    still_unpriced: int = 0  # rows of those spellings still without a price (dated before the price, ...)
    alerts_closed: int = 0
    hours: set[datetime] = field(default_factory=set, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {"model": self.model, "model_key": self.model_key, "effective_from": self.effective_from.isoformat(),
                "replaced": self.replaced,
                **{k: None if v is None else f"{v.normalize():f}" for k, v in self.rates.items()},
                "note": self.note, "repriced": {"models": self.models, "rows_checked": self.rows_checked,
                                                "rows_changed": self.rows_changed,
                                                "still_unpriced": self.still_unpriced,
                                                "alerts_closed": self.alerts_closed}}


def _rates(values: dict[str, object]) -> dict[str, Decimal | None]:
    # object, not Decimal: callers outside mypy's view (the GUI, scripts) may pass floats, refused here.
    out: dict[str, Decimal | None] = {}
    for name in RATE_FIELDS:
        v = values.get(name)
        if v is None:
            if name in ("input_per_mtok", "output_per_mtok"):
                raise InputError(name, v, "is required")
            out[name] = None
            continue
        if isinstance(v, float) or not isinstance(v, (Decimal, int)):
            raise InputError(name, v, "must be a Decimal amount (USD per million tokens)")
        d = Decimal(v)
        if not d.is_finite() or d < 0:
            raise InputError(name, v, "must be a finite amount, not negative")
        out[name] = d.quantize(QUANT)
    return out


def set_price(db: "Database", catalog: "PriceCatalog", model: str, *,
              input_per_mtok: Decimal, output_per_mtok: Decimal, cache_read_per_mtok: Decimal | None = None,
              cache_write_5m_per_mtok: Decimal | None = None, cache_write_1h_per_mtok: Decimal | None = None,
              effective_from: date | None = None, note: str | None = None, page_size: int = PAGE_SIZE,
              progress: Callable[[int, int], None] | None = None) -> PriceSet:
    """Store a user price for `model` from `effective_from` (default: all dates), reload `catalog` and
    recompute `computed_cost` (and `cost`, where auto mode takes it from the computed cost) of the ledger rows
    it prices, a page per transaction. Safe from a worker thread; InputError for bad input, nothing stored."""
    rates = _rates({"input_per_mtok": input_per_mtok, "output_per_mtok": output_per_mtok,
                    "cache_read_per_mtok": cache_read_per_mtok, "cache_write_5m_per_mtok": cache_write_5m_per_mtok,
                    "cache_write_1h_per_mtok": cache_write_1h_per_mtok})
    if not isinstance(model, str) or not clean(model):
        raise InputError("model", model, "must not be empty")
    eff = effective_from or ALL_DATES
    # Stored under the catalog key, so every spelling of the model (dated, routed, Bedrock) finds it; a
    # model no source knows is stored under its cleaned name.
    key = catalog.resolve_key(model) or clean(model)
    if len(key) > MAX_KEY:
        raise InputError("model", model, f"is longer than {MAX_KEY} characters")
    with db.write_session() as s:
        row = s.scalar(select(PriceOverride).where(PriceOverride.model_key == key,
                                                   PriceOverride.effective_from == eff))
        replaced = row is not None
        if row is None:
            row = PriceOverride(model_key=key, effective_from=eff)
            s.add(row)
        for name, value in rates.items():
            setattr(row, name, value)
        row.note = note
    catalog.reload_overrides()
    result = PriceSet(model, key, eff, replaced, rates, note)
    result.models = priced_spellings(db, catalog, key, extra=(model,))
    if result.models:
        _reprice(db, catalog, result, page_size, progress)
        result.still_unpriced = _unpriced_rows(db, result.models)
    if not result.still_unpriced:
        result.alerts_closed = resolve_unpriced_models(db, [*result.models, model])
    return result


def priced_spellings(db: "Database", catalog: "PriceCatalog", key: str, extra: tuple[str, ...] = ()) -> list[str]:
    """Ledger model names the catalog resolves to user prices stored under `key` (its own resolution
    decides, so `claude-sonnet-4-5` covers `claude-sonnet-4-5-20250929` and `anthropic/claude-sonnet-4.5`)."""
    # The daily roll-up holds every model of the ledger in far fewer rows than the ledger itself.
    with db.session() as s:
        names: list[str] = [m for (m,) in s.execute(select(UsageDaily.model).distinct()) if m]
    names += [m for m in extra if m and m not in names]
    return sorted(m for m in names if any(clean(r.model_key) == key for r in catalog.overrides_for(m)))


def _candidates(models: list[str], eff: date) -> list[Any]:
    """Rows a catalog price applies to: the models' rows from `eff` (UTC date of the bucket, as the syncs
    and importers price them) that carry tokens or a computed cost, or count as unpriced. Money-only rows
    (an OpenAI cost line item, a manual entry) have no tokens to price."""
    T = UsageRow
    tokens = T.input_tokens + T.output_tokens + T.cache_read_tokens + T.cache_write_5m_tokens \
        + T.cache_write_1h_tokens + T.reasoning_tokens
    return [T.model.in_(models), T.bucket_start >= datetime.combine(eff, time(), timezone.utc),
            T.source.not_in(UNPRICEABLE_SOURCES),
            or_(T.computed_cost.is_not(None), tokens > 0, T.cost_role == CostRole.DETAIL.value)]


def _reprice(db: "Database", catalog: "PriceCatalog", result: PriceSet, page_size: int,
             progress: Callable[[int, int], None] | None) -> None:
    T = UsageRow
    cond = _candidates(result.models, result.effective_from)
    with db.session() as s:
        total = int(s.scalar(select(func.count()).select_from(T).where(*cond)) or 0)
    last_id = 0
    cols = (T.id, T.model, T.service_tier, T.bucket_start, T.input_tokens, T.output_tokens, T.cache_read_tokens,
            T.cache_write_5m_tokens, T.cache_write_1h_tokens, T.reasoning_tokens, T.reasoning_included,
            T.requests, T.reported_cost, T.computed_cost, T.cost, T.cost_role)
    while True:
        # One transaction per page under the write lock: a sync writing meanwhile waits a page, not the run.
        with db.write_session() as s:
            page = list(s.execute(select(*cols).where(*cond, T.id > last_id).order_by(T.id).limit(page_size)))
            if not page:
                break
            last_id = page[-1].id
            changes, hours = [], set()
            now = datetime.now(timezone.utc)
            for r in page:
                computed = _computed(catalog, r)
                if computed == r.computed_cost:
                    continue
                # Auto-mode spend (UsageRecord.spend_cost): the reported cost when there is one, else the
                # computed cost; detail and covered rows add nothing.
                cost = r.cost
                if r.cost_role == CostRole.SPEND.value and r.reported_cost is None:
                    cost = computed if computed is not None else Decimal(0)
                changes.append({"id": r.id, "computed_cost": computed, "cost": cost, "updated_at": now})
                hours.add(rollup.floor_hour(r.bucket_start))
            if changes:
                s.execute(update(T), changes)
                rollup.refresh_hours(s, hours)
        result.rows_checked += len(page)
        result.rows_changed += len(changes)
        result.hours |= hours
        if hours:
            notify_changed(hours)
        if progress is not None:
            progress(result.rows_checked, total)


def _computed(catalog: "PriceCatalog", r: Any) -> Decimal | None:
    usage = TokenUsage(input_tokens=r.input_tokens, output_tokens=r.output_tokens,
                       cache_read_tokens=r.cache_read_tokens, cache_write_5m_tokens=r.cache_write_5m_tokens,
                       cache_write_1h_tokens=r.cache_write_1h_tokens, reasoning_tokens=r.reasoning_tokens,
                       reasoning_included=bool(r.reasoning_included), requests=r.requests)
    try:
        tier = ServiceTier(r.service_tier)
    except ValueError:
        tier = ServiceTier.STANDARD
    value = catalog.cost_of(r.model, usage, tier, r.bucket_start.astimezone(timezone.utc).date())
    return None if value is None else value.quantize(QUANT)


def _unpriced_rows(db: "Database", models: list[str]) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(UsageRow)
                            .where(and_(UNPRICED_ROWS, UsageRow.model.in_(models)))) or 0)
