"""Daily aggregation in SQL: spend per local day and dimensions, grouped and filtered in one query; and a
load's shared read of those cells at their finest grain, which each figure of the load rolls up."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from aicost_desktop.domain.days import as_date
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import ZERO
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.query.daily import local_day_sums, rollup_conditions
from aicost_desktop.storage.query import (LedgerFilter, display_names, where_clauses, local_day_expr,
                                          source_table)
from aicost_desktop.storage.tables import UsageHourly

# Dimensions a series or breakdown can be grouped by (None = one series "total").
DIMENSIONS = ("provider", "model", "account", "project", "source", "workspace")
NONE_LABEL = "(none)"
_TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
# The grain a dashboard load reads once: every dimension its figures group by or filter on.
LEAF_DIMENSIONS = ("provider", "model", "account", "source")


class Cell(NamedTuple):
    """One aggregated cell: a local day, the dimension values asked for, and the sums. (A tuple: a load
    builds thousands, and a frozen dataclass's __init__ costs several times a tuple's.)"""

    day: date
    keys: tuple[str, ...]
    cost: Decimal
    tokens: int
    requests: int


@dataclass(frozen=True)
class CellCache:
    """One read of the day cells of [start, end] by `dims`, for several figures of one load.

    The Analytics dock's figures (series, breakdown, month over month, forecast, anomalies) each asked SQL for
    the same days grouped their own way: five reads, and five times the Python that turns roll-up rows into
    local days. Read once at the finest grain they need, each is a sum of these cells: the same figures
    (money is Decimal; with a display currency other than a row's, each cell is converted before it is summed,
    which moves nothing a cent shows). `daily_cells(..., cache=)` answers from it what it covers."""

    start: date
    end: date
    dims: tuple[str, ...]
    fx: dict[str, Decimal]
    currency: str
    cells: list[Cell]  # every row of the ledger (no filter, cost mode auto)

    @classmethod
    def read(cls, db: Database, tz: ZoneInfo, start: date, end: date, dims: Sequence[str] = LEAF_DIMENSIONS,
             fx: dict[str, Decimal] | None = None, currency: str = "USD") -> "CellCache":
        dims = tuple(dict.fromkeys([*dims, "source"]))  # a figure's source picker filters on it
        fx = fx or {"USD": Decimal(1)}
        return cls(start, end, dims, fx, currency, daily_cells(db, tz, start, end, dims, fx=fx, currency=currency))

    def answers(self, start: date, end: date, dims: Sequence[str], flt: LedgerFilter, fx: dict[str, Decimal],
                currency: str) -> bool:
        """Whether a daily_cells call with these arguments (its filter already narrowed) is a sum of the cells:
        its days inside the cache's, its dims among the cache's, and no filter but sources."""
        return (self.start <= start and end <= self.end and all(d in self.dims for d in dims)
                and replace(flt, start=None, end=None, sources=None) == LedgerFilter()
                and fx == self.fx and currency == self.currency)

    def rollup(self, start: date, end: date, dims: Sequence[str], sources: Sequence[str] | None) -> list[Cell]:
        """The cells of [start, end] from rows of `sources` (None: any) summed by `dims`, as daily_cells sorts them."""
        pos = [self.dims.index(d) for d in dims]
        at_source = self.dims.index("source")
        wanted = None if sources is None else set(sources)
        acc: dict[tuple[date, tuple[str, ...]], list[Any]] = {}
        for c in self.cells:
            if c.day < start or c.day > end or (wanted is not None and c.keys[at_source] not in wanted):
                continue
            k = (c.day, tuple(c.keys[i] for i in pos))
            a = acc.get(k)
            if a is None:
                acc[k] = [c.cost, c.tokens, c.requests]
            else:
                a[0] += c.cost
                a[1] += c.tokens
                a[2] += c.requests
        return [Cell(d, k, v[0], v[1], v[2]) for (d, k), v in sorted(acc.items())]


def daily_cells(db: Database, tz: ZoneInfo, start: date, end: date, dims: Sequence[str] = (),
                filters: LedgerFilter | None = None, sources: Sequence[str] | None = None, mode: str = "auto",
                fx: dict[str, Decimal] | None = None, currency: str = "USD",
                cache: CellCache | None = None) -> list[Cell]:
    """Spend per local day and `dims` over [start, end], grouped in SQL (one small result set), or summed from
    `cache` when it holds those days at a finer grain under the same filter."""
    for dim in dims:
        if dim not in DIMENSIONS:
            raise InputError("group-by", dim, f"use one of {', '.join(DIMENSIONS)}")
    # `sources` narrows the filter (the dock's source picker); an empty list, like None, means any.
    flt = (filters or LedgerFilter()).between(start, end).narrowed(sources=list(sources) if sources else None)
    flt = replace(flt, mode=mode)
    flt.validate()
    fx = fx or {"USD": Decimal(1)}
    if cache is not None and cache.answers(start, end, dims, flt, fx, currency):
        return cache.rollup(start, end, dims, flt.sources)
    T = source_table(tz, start, end)
    shown = "account" in dims or "workspace" in dims
    names = display_names(db) if shown else {"account": {}, "workspace": {}}
    cost_col = flt.cost_column(T)
    cols = {"provider": T.provider, "model": T.model, "account": T.account_id, "project": T.project,
            "source": T.source, "workspace": T.workspace_id}
    acc: dict[tuple[date, tuple[str, ...]], list[Any]] = {}

    def add(d: date, values: Sequence[Any], cur: str, cost: Decimal | None, tokens: int, requests: int) -> None:
        keys = []
        for dim, v in zip(dims, values):
            if dim in ("account", "workspace"):
                v = names[dim].get(v) if v is not None else None
            keys.append(str(v) if v not in (None, "") else NONE_LABEL)
        cost = cost or ZERO
        if cur != currency:
            if cur not in fx:
                raise InputError("currency", cur, "no exchange rate configured (setting fx_rates)")
            cost = cost * fx[cur] / fx.get(currency, Decimal(1))
        k = (d, tuple(keys))
        a = acc.get(k)
        if a is None:
            acc[k] = [cost, tokens, requests]
        else:
            a[0] += cost
            a[1] += tokens
            a[2] += requests

    with db.session() as s:
        if T is UsageHourly:
            # The daily roll-up: a few thousand cells a year instead of every hourly cell (storage/query/daily).
            sums = local_day_sums(s, tz, start, end, [cols[d].key for d in dims] + ["currency"],
                                  [cost_col.key, *_TOKENS, "requests"],
                                  rollup_conditions(db, flt, tz, names if shown else None))
            for (d, values), (cost, *tokens, requests) in sums.items():
                add(d, values[:-1], values[-1], cost, sum(tokens), int(requests))
        else:
            cond = where_clauses(db, flt, tz, T, names if shown else None)
            day = local_day_expr(db, T, tz, start, end).label("day")
            tokens = T.input_tokens + T.output_tokens + T.cache_read_tokens + (
                T.cache_write_5m_tokens + T.cache_write_1h_tokens)
            group = [day, *[cols[d] for d in dims], T.currency]
            q = (select(*group, func.sum(cost_col), func.sum(tokens), func.sum(T.requests))
                 .where(*cond).group_by(*group))
            for row in s.execute(q):
                d = as_date(row[0])
                n = len(dims)
                add(d, row[1:1 + n], row[1 + n], row[2 + n], int(row[3 + n] or 0), int(row[4 + n] or 0))
    return [Cell(d, k, v[0], v[1], v[2]) for (d, k), v in sorted(acc.items())]
