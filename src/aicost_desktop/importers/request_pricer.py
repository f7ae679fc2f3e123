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
from aicost_desktop.storage.types import money_to_units
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
        self._thresholds: dict[int, list[int]] = {}  # id(price) -> its long-context thresholds
        self._units: dict[tuple[int, ServiceTier, int], tuple[int, ...] | None] = {}

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


    def units(self, model: str | None, tier: ServiceTier, day: date, inp: int, out: int, cr: int, w5: int,
              w1: int) -> tuple[int | None, Decimal | None]:
        """The cost of one request of these tokens (output includes reasoning) in ledger units of
        1e-10 (storage.types.money_to_units of what `__call__` returns), and that Decimal when it was
        computed (None when the integer rates gave the units). Integer arithmetic where a rate table's
        per-token rates are whole units, which is exact: tokens x rate / 1M x 1e10."""
        if self._catalog is None or model is None:
            return _units_of(self(model, TokenUsage(inp, out, cr, w5, w1, 0, True, 1), tier, day))
        pk = (model, day)
        try:
            price = self._prices[pk]
        except KeyError:
            price = self._prices[pk] = self._catalog.lookup(model, day)
        if price is None:
            return None, None
        pid = id(price)
        try:
            thresholds = self._thresholds[pid]
        except KeyError:
            thresholds = self._thresholds[pid] = price.thresholds
        above = 0
        if thresholds:  # long_context_threshold of one request
            prompt = inp + cr + w5 + w1
            for t in thresholds:
                if prompt > t:
                    above = t
        rk = (pid, tier, above)
        try:
            table = self._units[rk]
        except KeyError:  # first use: the Decimal path (which checks its own table against compute_cost)
            units, exact = got = _units_of(self(model, TokenUsage(inp, out, cr, w5, w1, 0, True, 1), tier, day))
            rates = self._rates.get(rk)
            table = _whole_units(rates) if rates is not None else None
            if table is not None and (inp * table[0] + cr * table[1] + w5 * table[2] + w1 * table[3]
                                      + out * table[4]) != units:
                table = None
            self._units[rk] = table
            return got
        if table is None:
            return _units_of(self(model, TokenUsage(inp, out, cr, w5, w1, 0, True, 1), tier, day))
        return inp * table[0] + cr * table[1] + w5 * table[2] + w1 * table[3] + out * table[4], None


_MTOK = Decimal(1_000_000)
_PER_TOKEN_UNITS = Decimal(10_000)  # a per-million rate x 1e10 units / 1e6 tokens


def _units_of(cost: Decimal | None) -> tuple[int | None, Decimal | None]:
    return (None, None) if cost is None else (money_to_units(cost), cost)


def _whole_units(rates: tuple[Decimal, ...]) -> tuple[int, ...] | None:
    """Per-token rates in ledger units, when each is a whole number of units (else None)."""
    out = []
    for r in rates:
        u = r * _PER_TOKEN_UNITS
        if u != u.to_integral_value():
            return None
        out.append(int(u))
    return tuple(out)


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
