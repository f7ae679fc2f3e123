"""Spend series by dimension and granularity, breakdowns with share, month-over-month and top movers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from aicost_desktop.analytics.query import DIMENSIONS, CellCache, daily_cells
from aicost_desktop.storage.query import LedgerFilter, day_range, week_start_of
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import ZERO
from aicost_desktop.storage.db import Database

GRANULARITIES = ("day", "week", "month")
CENT = Decimal("0.01")


def _s(d: Decimal) -> str:
    return f"{d.quantize(CENT):f}"


def bucket_of(d: date, granularity: str, week_start: int = 0) -> date:
    if granularity == "day":
        return d
    if granularity == "week":
        return week_start_of(d, week_start)
    return d.replace(day=1)


def buckets(start: date, end: date, granularity: str, week_start: int = 0) -> list[date]:
    """Every bucket start covering [start, end] (continuous, so charts show empty days as 0)."""
    out: list[date] = []
    for d in day_range(start, end):
        b = bucket_of(d, granularity, week_start)
        if not out or out[-1] != b:
            out.append(b)
    return out


@dataclass
class Series:
    """Spend per bucket for each group; `values[key][i]` belongs to `buckets[i]`."""

    start: date
    end: date
    granularity: str
    dimension: str | None
    currency: str
    buckets: list[date]
    values: dict[str, list[Decimal]] = field(default_factory=dict)

    @property
    def totals(self) -> list[Decimal]:
        out = [ZERO] * len(self.buckets)
        for vals in self.values.values():
            out = [a + b for a, b in zip(out, vals)]
        return out

    @property
    def total(self) -> Decimal:
        return sum(self.totals, ZERO)

    def keys_by_total(self) -> list[str]:
        return sorted(self.values, key=lambda k: (-sum(self.values[k], ZERO), k))

    def as_json(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "granularity": self.granularity,
                "dimension": self.dimension, "currency": self.currency,
                "buckets": [b.isoformat() for b in self.buckets],
                "series": {k: [_s(v) for v in vals] for k, vals in self.values.items()},
                "total": _s(self.total)}


def spend_series(db: Database, tz: ZoneInfo, start: date, end: date, granularity: str = "day",
                 dimension: str | None = None, filters: LedgerFilter | None = None,
                 sources: Sequence[str] | None = None, mode: str = "auto", week_start: int = 0,
                 fx: dict[str, Decimal] | None = None, currency: str = "USD", cache: CellCache | None = None) -> Series:
    """Spend over local days [start, end] bucketed by day/week/month, one series per `dimension` value."""
    if granularity not in GRANULARITIES:
        raise InputError("granularity", granularity, f"use one of {', '.join(GRANULARITIES)}")
    if dimension is not None and dimension not in DIMENSIONS:
        raise InputError("group-by", dimension, f"use one of {', '.join(DIMENSIONS)}")
    dims = (dimension,) if dimension else ()
    cells = daily_cells(db, tz, start, end, dims, filters, sources, mode, fx, currency, cache)
    bks = buckets(start, end, granularity, week_start)
    index = {b: i for i, b in enumerate(bks)}
    values: dict[str, list[Decimal]] = {}
    for c in cells:
        key = c.keys[0] if dims else "total"
        row = values.setdefault(key, [ZERO] * len(bks))
        row[index[bucket_of(c.day, granularity, week_start)]] += c.cost
    return Series(start, end, granularity, dimension, currency, bks, values)


@dataclass
class BreakdownRow:
    """One group's spend, tokens and share of the period's total."""

    key: str
    provider: str
    cost: Decimal
    share: float
    tokens: int
    requests: int

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "provider": self.provider, "cost": _s(self.cost), "cost_exact": f"{self.cost:f}",
                "share": round(self.share, 4), "tokens": self.tokens, "requests": self.requests}


def breakdown(db: Database, tz: ZoneInfo, start: date, end: date, dimension: str = "model",
              filters: LedgerFilter | None = None, sources: Sequence[str] | None = None, mode: str = "auto",
              fx: dict[str, Decimal] | None = None, currency: str = "USD",
              cache: CellCache | None = None) -> list[BreakdownRow]:
    """Spend by `dimension` (with its provider) over [start, end], largest first, with share of total."""
    dims = (dimension, "provider") if dimension != "provider" else ("provider",)
    cells = daily_cells(db, tz, start, end, dims, filters, sources, mode, fx, currency, cache)
    acc: dict[tuple[str, str], list[Any]] = {}
    for c in cells:
        k = (c.keys[0], c.keys[-1])
        a = acc.setdefault(k, [ZERO, 0, 0])
        a[0] += c.cost
        a[1] += c.tokens
        a[2] += c.requests
    total = sum((a[0] for a in acc.values()), ZERO)
    rows = [BreakdownRow(k, p, a[0], float(a[0] / total) if total else 0.0, a[1], a[2])
            for (k, p), a in acc.items()]
    return sorted(rows, key=lambda r: (-r.cost, r.key))


@dataclass
class MonthOverMonth:
    """Cumulative spend by day of month: this month to `today` against the same days of last month."""

    this_month: date
    last_month: date
    this_cumulative: list[Decimal]   # one per elapsed day of this month (1..today.day)
    last_cumulative: list[Decimal]   # one per day of last month (all days)
    this_to_date: Decimal
    last_same_days: Decimal
    last_total: Decimal

    @property
    def change_pct(self) -> float | None:
        if not self.last_same_days:
            return None
        return float((self.this_to_date - self.last_same_days) / self.last_same_days * 100)

    def as_json(self) -> dict[str, Any]:
        pct = self.change_pct
        return {"this_month": self.this_month.isoformat()[:7], "last_month": self.last_month.isoformat()[:7],
                "this_to_date": _s(self.this_to_date), "last_same_days": _s(self.last_same_days),
                "last_total": _s(self.last_total), "change_pct": None if pct is None else round(pct, 2),
                "this_cumulative": [_s(v) for v in self.this_cumulative],
                "last_cumulative": [_s(v) for v in self.last_cumulative]}


def _cumulative(values: list[Decimal]) -> list[Decimal]:
    out, run = [], ZERO
    for v in values:
        run += v
        out.append(run)
    return out


def month_over_month_start(today: date) -> date:
    """The first local day month_over_month reads: the first of last month."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def month_over_month(db: Database, tz: ZoneInfo, today: date, filters: LedgerFilter | None = None,
                     sources: Sequence[str] | None = None, fx: dict[str, Decimal] | None = None,
                     currency: str = "USD", cache: CellCache | None = None) -> MonthOverMonth:
    """This month through `today` vs last month; 'same days' is days 1..today.day (clamped to its length)."""
    this_start = today.replace(day=1)
    last_end = this_start - timedelta(days=1)
    last_start = month_over_month_start(today)
    s = spend_series(db, tz, last_start, today, "day", None, filters, sources, fx=fx, currency=currency,
                     cache=cache)
    daily = dict(zip(s.buckets, s.totals))
    this_vals = [daily[d] for d in day_range(this_start, today)]
    last_vals = [daily[d] for d in day_range(last_start, last_end)]
    this_cum, last_cum = _cumulative(this_vals), _cumulative(last_vals)
    same = last_cum[min(today.day, len(last_cum)) - 1]
    return MonthOverMonth(this_start, last_start, this_cum, last_cum, this_cum[-1], same, last_cum[-1])


@dataclass
class Mover:
    """A group whose spend changed most between the previous and the current window."""

    key: str
    current: Decimal
    previous: Decimal

    @property
    def delta(self) -> Decimal:
        return self.current - self.previous

    @property
    def pct(self) -> float | None:
        return float(self.delta / self.previous * 100) if self.previous else None

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "current": _s(self.current), "previous": _s(self.previous),
                "delta": _s(self.delta), "pct": None if self.pct is None else round(self.pct, 2)}


def top_movers(db: Database, tz: ZoneInfo, end: date, days: int = 7, dimension: str = "model", n: int = 5,
               filters: LedgerFilter | None = None, sources: Sequence[str] | None = None,
               fx: dict[str, Decimal] | None = None, currency: str = "USD") -> list[Mover]:
    """Groups ranked by absolute change of spend: [end-days+1, end] against the `days` before it."""
    cur_start = end - timedelta(days=days - 1)
    prev_start = cur_start - timedelta(days=days)
    cells = daily_cells(db, tz, prev_start, end, (dimension,), filters, sources, fx=fx, currency=currency)
    acc: dict[str, list[Decimal]] = {}
    for c in cells:
        a = acc.setdefault(c.keys[0], [ZERO, ZERO])
        a[0 if c.day >= cur_start else 1] += c.cost
    movers = [Mover(k, a[0], a[1]) for k, a in acc.items() if a[0] != a[1]]
    return sorted(movers, key=lambda m: (-abs(m.delta), m.key))[:n]
