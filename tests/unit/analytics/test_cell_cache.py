"""A dashboard load reads its day cells once (CellCache), and every figure it shows equals the figure read on its
own: in zones of whole and half hours and across DST, by every grouping, source picker and period, in USD and
in another display currency."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aicost_desktop.analytics import query as query_module
from aicost_desktop.analytics.anomalies import MIN_DOLLARS, find_anomalies
from aicost_desktop.analytics.dashboard import AnalyticsQuery, convert, load_analytics
from aicost_desktop.analytics.forecast import spend_forecast
from aicost_desktop.analytics.query import CellCache, daily_cells
from aicost_desktop.analytics.series import breakdown, month_over_month, spend_series
from aicost_desktop.app_context import AppContext
from aicost_desktop.demo import load_demo
from aicost_desktop.secrets import MemorySecretStore

TODAY = date(2026, 11, 3)  # two days after the US leaves DST, a month after Europe's change was due
FX = {"USD": Decimal(1), "EUR": Decimal("1.08")}
ZONES = ("UTC", "Europe/Belgrade", "America/New_York", "Asia/Kolkata")  # Kolkata: +05:30 reads the raw ledger
QUERIES = {
    "default": {},
    "90 days by model": {"period": "90d", "group_by": "model"},
    "7 days, API only, no grouping": {"period": "7d", "group_by": None, "sources": ("api",)},
    "by project, typed spend": {"group_by": "project", "sources": ("manual", "subscription", "import")},
    "a year by week and source": {"period": "custom", "custom": (date(2025, 11, 4), TODAY), "granularity": "week",
                                  "group_by": "source"},
    "by account in EUR": {"group_by": "account", "currency": "EUR"},
}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    ctx = AppContext(home=tmp_path_factory.mktemp("cells"), tz="UTC", secrets=MemorySecretStore())
    load_demo(ctx, days=150, seed=3, today=TODAY)
    yield ctx.db
    ctx.close()


def _same(a: Any, b: Any, exact: bool, where: str = "") -> None:
    """Equal, field by field; in another currency than the rows' a sum's 28th digit may differ (each cell is
    converted before it is summed), so money and scores there agree to 1e-12."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), exact, f"{where}.{f.name}")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _same(a[k], b[k], exact, f"{where}[{k}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, exact, f"{where}[{i}]")
    elif isinstance(a, (Decimal, float)) and not exact:
        assert abs(a - b) <= abs(b) * type(b)("1e-12") + type(b)("1e-12"), (where, a, b)
    elif hasattr(a, "tolist"):  # numpy arrays
        _same(a.tolist(), b.tolist(), exact, where)
    else:
        assert a == b, (where, a, b)


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("name", list(QUERIES))
def test_every_figure_of_a_load_equals_its_own_read(demo_db, monkeypatch, zone, name):  # type: ignore[no-untyped-def]
    tz, q = ZoneInfo(zone), AnalyticsQuery(today=TODAY, **QUERIES[name])
    reads: list[tuple[date, date]] = []
    real = query_module.source_table

    def counted(tz_: ZoneInfo, start: date, end: date) -> Any:  # only the SQL path picks a table
        reads.append((start, end))
        return real(tz_, start, end)

    monkeypatch.setattr(query_module, "source_table", counted)
    data = load_analytics(demo_db, tz, q, fx=FX)
    assert data is not None
    assert len(reads) == 1, f"the load read day cells {len(reads)} times: {reads}"
    monkeypatch.setattr(query_module, "source_table", real)

    start, end, cur, src = *q.range, q.currency, q.sources
    exact = cur == "USD"
    assert data.series.total > 0, "the demo ledger has spend in every query's period"
    _same(data.series, spend_series(demo_db, tz, start, end, q.granularity, q.group_by, sources=src, fx=FX,
                                    currency=cur), exact, "series")
    _same(data.month_forecast, spend_forecast(demo_db, tz, TODAY, days=14, sources=src, fx=FX, currency=cur),
          exact, "forecast")
    floor = float(convert(Decimal(str(MIN_DOLLARS)), "USD", cur, FX))
    _same(data.anomalies, find_anomalies(demo_db, tz, start, end, sources=src or ("api", "import", "log", "proxy"),
                                         min_dollars=floor, fx=FX, currency=cur, today=TODAY), exact, "anomalies")
    _same(data.mom, month_over_month(demo_db, tz, TODAY, sources=src, fx=FX, currency=cur), exact, "mom")
    _same(data.breakdown, breakdown(demo_db, tz, start, end, "model", sources=src, fx=FX, currency=cur), exact,
          "breakdown")


def test_a_call_the_cache_does_not_cover_reads_sql(demo_db, monkeypatch):  # type: ignore[no-untyped-def]
    """Days outside it, a dimension it lacks, another filter or currency: the cache is not asked, SQL is."""
    from aicost_desktop.storage.query import LedgerFilter

    tz = ZoneInfo("Europe/Belgrade")
    cache = CellCache.read(demo_db, tz, date(2026, 10, 1), TODAY, fx=FX)
    covered = daily_cells(demo_db, tz, date(2026, 10, 5), TODAY, ("provider",), sources=["api"], fx=FX, cache=cache)
    assert covered == daily_cells(demo_db, tz, date(2026, 10, 5), TODAY, ("provider",), sources=["api"], fx=FX)
    assert covered, "the demo ledger has API spend then"

    def refuse(*_a: Any, **_k: Any) -> list[Any]:
        raise AssertionError("answered from the cache")

    monkeypatch.setattr(CellCache, "rollup", refuse)
    for kwargs in ({"start": date(2026, 9, 30)}, {"dims": ("project",)}, {"currency": "EUR"},
                   {"filters": LedgerFilter.of(provider="openai")}, {"mode": "computed"}):
        args = {"start": date(2026, 10, 5), "dims": ("provider",), "currency": "USD", **kwargs}
        daily_cells(demo_db, tz, args.pop("start"), TODAY, args.pop("dims"), fx=FX, cache=cache, **args)
