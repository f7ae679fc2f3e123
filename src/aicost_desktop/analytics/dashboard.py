"""Everything the Analytics dock shows, computed off the GUI thread in one plain-Python call (no Qt)."""

from __future__ import annotations

import threading
import time

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select

from aicost_desktop.analytics.anomalies import MIN_DOLLARS, Anomaly, find_anomalies, history_start
from aicost_desktop.analytics.forecast import (HISTORY_DAYS, SpendForecast, forecast_horizon, outlook_span,
                                               spend_forecast)
from aicost_desktop.analytics.query import LEAF_DIMENSIONS, CellCache
from aicost_desktop.analytics.reconcile import Reconciliation, ReconRow, ReportedOnly, reconcile
from aicost_desktop.analytics.series import (BreakdownRow, MonthOverMonth, Series, breakdown, month_over_month,
                                             month_over_month_start, spend_series)
from aicost_desktop.domain.days import local_day
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import format_money
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.query import time_window
from aicost_desktop.storage.tables import Budget, UsageRow

PERIODS = (("7d", "Last 7 days"), ("30d", "Last 30 days"), ("90d", "Last 90 days"), ("mtd", "Month to date"),
           ("quarter", "This quarter"), ("year", "This year"), ("custom", "Custom…"))


def period_range(key: str, today: date, custom: tuple[date, date] | None = None) -> tuple[date, date]:
    if key in ("7d", "30d", "90d"):
        return today - timedelta(days=int(key[:-1]) - 1), today
    if key == "mtd":
        return today.replace(day=1), today
    if key == "quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    if key == "year":
        return date(today.year, 1, 1), today
    if custom is None:
        return today - timedelta(days=29), today
    return min(custom), max(custom)


@dataclass
class AnalyticsQuery:
    today: date
    period: str = "30d"
    custom: tuple[date, date] | None = None
    granularity: str = "day"
    group_by: str | None = "provider"
    sources: Sequence[str] | None = None
    currency: str = "USD"  # the display currency every figure is in (a change of it is another query)

    @property
    def range(self) -> tuple[date, date]:
        return period_range(self.period, self.today, self.custom)


@dataclass
class AnalyticsData:
    query: AnalyticsQuery
    series: Series
    forecast: SpendForecast | None
    anomalies: list[Anomaly]
    manual_days: dict[date, str]
    mom: MonthOverMonth
    month_forecast: SpendForecast
    budget: tuple[str, Decimal] | None
    breakdown: list[BreakdownRow]
    reconciliation: Reconciliation
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        """The currency of every money figure above (the display currency of the query)."""
        return self.query.currency


def convert(amount: Decimal, from_currency: str, to_currency: str, fx: dict[str, Decimal]) -> Decimal:
    """`amount` in `to_currency`, through the user's rates to USD (the same rule as the spend report)."""
    if from_currency == to_currency:
        return amount
    rates = []
    for code in (from_currency, to_currency):
        rate = Decimal(1) if code == "USD" else fx.get(code)
        if rate is None:  # never a silent 1: a figure in the wrong currency looks right
            raise InputError("currency", code, "no exchange rate configured (setting fx_rates)")
        rates.append(rate)
    return amount * rates[0] / rates[1]


def _manual_days(db: Database, tz: ZoneInfo, start: date, end: date, fx: dict[str, Decimal],
                 currency: str) -> dict[date, str]:
    """Chart notes of manual entries: the amount in the display currency, and as typed when that differs."""
    out: dict[date, list[str]] = {}
    q = (select(UsageRow.bucket_start, UsageRow.dated, UsageRow.project, UsageRow.note, UsageRow.reported_cost,
                UsageRow.currency)
         .where(UsageRow.source == "manual", time_window(start, end, tz, UsageRow)).order_by(UsageRow.bucket_start))
    with db.session() as s:
        for at, dated, project, note, amount, cur in s.execute(q):
            shown = ""
            if amount is not None:
                shown = format_money(convert(amount, cur, currency, fx), currency)
                if cur != currency:
                    shown += f" ({format_money(amount, cur)})"
            label = " ".join(x for x in (project, shown) if x)
            if note:
                label += f": {note}"
            out.setdefault(local_day(at, dated, tz), []).append(label or "manual entry")
    return {d: "; ".join(v) for d, v in out.items()}


def _budget(db: Database, fx: dict[str, Decimal], currency: str) -> tuple[str, Decimal] | None:
    """The first enabled monthly budget over all spend (the cumulative chart's budget line), its amount in
    the display currency."""
    with db.session() as s:
        b = s.scalar(select(Budget).where(Budget.enabled.is_(True), Budget.period == "monthly",
                                          Budget.scope_kind == "all").order_by(Budget.id))
        return (b.name, convert(b.amount, b.currency, currency, fx)) if b is not None else None


def _reconciliation_in(rec: Reconciliation, fx: dict[str, Decimal], currency: str) -> Reconciliation:
    """Reconciliation figures in the display currency. Both sides are USD: providers report in USD and the
    catalog prices in USD (typed manual entries and subscriptions, the only other currencies, are not compared).
    Drift is a ratio, so it is the same in any currency."""
    if currency == "USD":
        return rec

    def row(r: ReconRow) -> ReconRow:
        return ReconRow(r.day, r.account, r.provider, r.model, convert(r.reported, "USD", currency, fx),
                        convert(r.computed, "USD", currency, fx))

    only = [ReportedOnly(o.account, o.provider, o.model, convert(o.reported, "USD", currency, fx), o.days)
            for o in rec.reported_only]
    return Reconciliation(rec.start, rec.end, [row(r) for r in rec.accounts], [row(r) for r in rec.models],
                          rec.unpriced, only)


FORECAST_DAYS = 14  # the chart's forecast; the month-end projection comes with it


def _cells_span(q: AnalyticsQuery, start: date, end: date) -> tuple[date, date]:
    """The local days every figure of a load reads: the period, the anomalies' baseline before it, the
    forecast's history and days ahead, and last month (month over month)."""
    fc_first, fc_last = outlook_span(q.today, forecast_horizon(q.today, FORECAST_DAYS), HISTORY_DAYS)
    return (min(history_start(start), fc_first, month_over_month_start(q.today)),
            max(end, fc_last, q.today))


def load_analytics(db: Database, tz: ZoneInfo, q: AnalyticsQuery, fx: dict[str, Decimal] | None = None,
                   cancel: threading.Event | None = None) -> AnalyticsData | None:
    """Every figure of the dock for one query (runs in a worker), money in the query's currency through the
    `fx` rates (to USD). Returns None as soon as `cancel` is set (the user picked another period): a superseded
    query should not keep a core busy."""
    fx = fx or {"USD": Decimal(1)}
    cur = q.currency
    t: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(name: str) -> bool:
        t[name] = time.perf_counter() - t0
        return cancel is not None and cancel.is_set()

    start, end = q.range
    # One read of the day cells every figure below sums its own way (see CellCache).
    first, last = _cells_span(q, start, end)
    dims = LEAF_DIMENSIONS + ((q.group_by,) if q.group_by and q.group_by not in LEAF_DIMENSIONS else ())
    cells = CellCache.read(db, tz, first, last, dims, fx=fx, currency=cur)
    if lap("cells"):
        return None
    series = spend_series(db, tz, start, end, q.granularity, q.group_by, sources=q.sources, fx=fx, currency=cur,
                          cache=cells)
    if lap("series"):
        return None
    month_fc = spend_forecast(db, tz, q.today, days=FORECAST_DAYS, sources=q.sources, fx=fx, currency=cur,
                              cache=cells)
    fc = month_fc if end == q.today and q.granularity == "day" else None
    if lap("forecast"):
        return None
    # The "worth telling" floor is $5 whatever the currency (not 5 yen).
    floor = float(convert(Decimal(str(MIN_DOLLARS)), "USD", cur, fx))
    anomalies = find_anomalies(db, tz, start, end, sources=q.sources or ("api", "import", "log", "proxy"),
                               min_dollars=floor, fx=fx, currency=cur, today=q.today, cache=cells)
    if lap("anomalies"):
        return None
    data = AnalyticsData(
        query=q, series=series, forecast=fc, anomalies=anomalies,
        manual_days=_manual_days(db, tz, start, end, fx, cur),
        mom=month_over_month(db, tz, q.today, sources=q.sources, fx=fx, currency=cur, cache=cells),
        month_forecast=month_fc, budget=_budget(db, fx, cur),
        breakdown=breakdown(db, tz, start, end, "model", sources=q.sources, fx=fx, currency=cur, cache=cells),
        reconciliation=_reconciliation_in(reconcile(db, tz, max(start, end - timedelta(days=89)), end), fx, cur),
        timings=t)
    lap("total")
    return data


def anomaly_notes(anomalies: Sequence[Anomaly]) -> dict[date, str]:
    """One line per day for chart markers: the largest provider-level anomaly, else the largest one."""
    best: dict[date, Anomaly] = {}
    for a in anomalies:
        cur = best.get(a.day)
        rank = (a.dimension == "provider", abs(a.delta))
        if cur is None or rank > (cur.dimension == "provider", abs(cur.delta)):
            best[a.day] = a
    return {d: a.explanation for d, a in best.items()}
