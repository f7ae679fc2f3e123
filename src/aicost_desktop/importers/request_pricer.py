"""Pricing many single requests quickly with the catalog's own rules (a rate table per model, day,
tier and long-context tier), for log imports that price one ledger row per API request."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Callable

from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.pricing.catalog import PriceCatalog
from aicost_desktop.pricing.compute import compute_cost, long_context_threshold
from aicost_desktop.pricing.model import KINDS, ModelPrice
from aicost_desktop.sync.base import Pricer

_UNIT = TokenUsage(input_tokens=1, output_tokens=1, cache_read_tokens=1, cache_write_5m_tokens=1,
                   cache_write_1h_tokens=1, requests=1)


class RequestPricer:
    """`pricer(model, usage, tier, day)` with the same result, faster for PriceCatalog.cost_of.

    The catalog's cost of one request is, per (price, tier, long-context tier), the sum of tokens x
    rate / 1M over the token kinds (pricing.compute.compute_cost). So the rates are read once from
    compute_cost's own cost lines, and each request is checked against compute_cost the first time
    a rate table is used; any table that does not reproduce it, or a price with more than one
    long-context tier, is priced by compute_cost for every request. Other pricers are called as is.
    """

    def __init__(self, pricer: Pricer) -> None:
        self._pricer = pricer
        self._catalog = _catalog_of(pricer)
        self._prices: dict[tuple[str, date], ModelPrice | None] = {}
        self._rates: dict[tuple[int, ServiceTier, int], tuple[Decimal, ...] | None] = {}

    def warm(self) -> None:
        """Load the catalog now (a second or so on a cold start), e.g. while files are being read."""
        if self._catalog is not None:
            self._catalog.lookup("claude-sonnet-4-5", date.today())

    def __call__(self, model: str | None, usage: TokenUsage, tier: ServiceTier, day: date) -> Decimal | None:
        if self._catalog is None or model is None:
            return self._pricer(model, usage, tier, day)
        pk = (model, day)
        try:  # a miss (once per model and day) pays for the exception, a hit is one lookup
            price = self._prices[pk]
        except KeyError:
            price = self._prices[pk] = self._catalog.lookup(model, day)
        if price is None:
            return None
        above = long_context_threshold(price, usage)
        rk = (id(price), tier, above)
        try:
            rates = self._rates[rk]
        except KeyError:
            rates = self._rates[rk] = _rate_table(price, tier, above)
            if rates is not None:
                exact = compute_cost(price, usage, tier)
                if exact is None or _total(rates, usage) != exact.total:
                    self._rates[rk] = None
                    return None if exact is None else exact.total
        if rates is None:
            exact = compute_cost(price, usage, tier)
            return None if exact is None else exact.total
        return _total(rates, usage)


_MTOK = Decimal(1_000_000)


def _total(rates: tuple[Decimal, ...], u: TokenUsage) -> Decimal:
    r_in, r_cr, r_w5, r_w1, r_out = rates
    return (u.input_tokens * r_in + u.cache_read_tokens * r_cr + u.cache_write_5m_tokens * r_w5
            + u.cache_write_1h_tokens * r_w1 + u.billable_output_tokens * r_out) / _MTOK


def _rate_table(price: ModelPrice, tier: ServiceTier, above: int) -> tuple[Decimal, ...] | None:
    """Per-million rates (input, cache read, 5m write, 1h write, output) from compute_cost's cost
    lines for a unit request on the same side of the long-context threshold; None when not linear."""
    thresholds = price.thresholds
    if above and (not thresholds or above != thresholds[0]):
        return None
    got = compute_cost(price, _UNIT, tier, long_context=bool(above))
    if got is None or got.above_tokens != above:
        return None
    by_kind = {line.kind: line.per_mtok for line in got.lines}
    if set(by_kind) != set(KINDS):
        return None
    return tuple(by_kind[k] for k in KINDS)


def _catalog_of(pricer: Callable[..., object]) -> PriceCatalog | None:
    owner = getattr(pricer, "__self__", None)
    if isinstance(owner, PriceCatalog) and getattr(pricer, "__func__", None) is PriceCatalog.cost_of:
        return owner
    return None
