"""Series, breakdown, month-over-month and movers read the roll-up and agree with the spend report."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from aicost_desktop.analytics.report import spend_report
from aicost_desktop.storage.query import LedgerFilter, offset_changes
from aicost_desktop.analytics.series import breakdown, buckets, month_over_month, spend_series, top_movers
from aicost_desktop.domain import DataSource, InputError, UsageRecord
from aicost_desktop.storage.ledger import upsert_records
from tests.unit.analytics.ledger_data import build_ledger

END = date(2026, 3, 31)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Belgrade", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham"])
def test_daily_series_matches_report_in_every_zone(sqlite_db, zone) -> None:
    build_ledger(sqlite_db, END, 60)
    tz = ZoneInfo(zone)
    start = END - timedelta(days=40)
    s = spend_series(sqlite_db, tz, start, END, "day", "provider")
    rep = spend_report(sqlite_db, tz, start, END, ["day", "provider"])
    expected = {(r.keys["day"], r.keys["provider"]): r.cost for r in rep.rows if r.cost}
    got = {(b.isoformat(), k): v for k, vals in s.values.items() for b, v in zip(s.buckets, vals) if v}
    assert got == expected
    assert s.total == rep.total


def test_week_and_month_buckets_sum_to_the_same_total(sqlite_db) -> None:
    build_ledger(sqlite_db, END, 60)
    tz = ZoneInfo("Europe/Belgrade")
    totals = {g: spend_series(sqlite_db, tz, date(2026, 2, 1), END, g).total for g in ("day", "week", "month")}
    assert len(set(totals.values())) == 1
    assert buckets(date(2026, 2, 1), END, "month") == [date(2026, 2, 1), date(2026, 3, 1)]
    assert buckets(date(2026, 3, 4), date(2026, 3, 17), "week")[0] == date(2026, 3, 2)


def test_dst_rebucketing_moves_an_instant_to_the_local_day(sqlite_db) -> None:
    tz = ZoneInfo("America/Los_Angeles")
    at = datetime(2026, 11, 2, 7, 30, tzinfo=timezone.utc)  # Nov 1 23:30 PST (after fall-back)
    upsert_records(sqlite_db, [UsageRecord(DataSource.LOG, "x", "anthropic", at, at, computed_cost=Decimal("2"))])
    s = spend_series(sqlite_db, tz, date(2026, 10, 31), date(2026, 11, 3))
    assert dict(zip(s.buckets, s.totals))[date(2026, 11, 1)] == Decimal("2")
    # In UTC the same row is on Nov 2.
    s = spend_series(sqlite_db, ZoneInfo("UTC"), date(2026, 10, 31), date(2026, 11, 3))
    assert dict(zip(s.buckets, s.totals))[date(2026, 11, 2)] == Decimal("2")
    changes = offset_changes(tz, date(2026, 10, 30), date(2026, 11, 3))
    assert [c[0] for c in changes[1:]] == [datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)]


def test_breakdown_shares_sum_to_one_and_sort_by_cost(sqlite_db) -> None:
    build_ledger(sqlite_db, END, 30)
    rows = breakdown(sqlite_db, ZoneInfo("UTC"), date(2026, 3, 1), END)
    assert rows[0].key == "gpt-5" and rows[0].provider == "openai"
    assert abs(sum(r.share for r in rows) - 1) < 1e-9
    assert [r.cost for r in rows] == sorted((r.cost for r in rows), reverse=True)
    # Detail rows (OpenAI usage) add tokens, never cost.
    assert sum(r.cost for r in rows) == spend_report(sqlite_db, ZoneInfo("UTC"), date(2026, 3, 1), END).total


def test_filters_and_source_filter(sqlite_db) -> None:
    build_ledger(sqlite_db, END, 30)
    tz = ZoneInfo("UTC")
    only = spend_series(sqlite_db, tz, date(2026, 3, 1), END, filters=LedgerFilter.of(provider="anthropic"))
    assert set(only.values) == {"total"}
    logs = spend_series(sqlite_db, tz, date(2026, 3, 1), END, sources=["log"])
    assert only.total == logs.total
    manual = spend_series(sqlite_db, tz, date(2026, 3, 1), END, dimension="source", sources=["manual"])
    assert set(manual.values) == {"manual"} and manual.total == Decimal("30")
    with pytest.raises(InputError):
        spend_series(sqlite_db, tz, date(2026, 3, 1), END, granularity="hour")


def test_month_over_month_compares_the_same_days(sqlite_db) -> None:
    tz = ZoneInfo("UTC")
    recs = []
    for d in (date(2026, 2, 3), date(2026, 2, 20), date(2026, 3, 2), date(2026, 3, 25)):
        at = datetime(d.year, d.month, d.day, 12, tzinfo=timezone.utc)
        recs.append(UsageRecord(DataSource.LOG, str(d), "openai", at, at, computed_cost=Decimal("10")))
    upsert_records(sqlite_db, recs)
    m = month_over_month(sqlite_db, tz, date(2026, 3, 10))
    assert m.this_to_date == Decimal("10") and m.last_same_days == Decimal("10") and m.last_total == Decimal("20")
    assert m.change_pct == 0.0 and len(m.this_cumulative) == 10 and len(m.last_cumulative) == 28
    # March 31 against a 28-day February: same days = the whole of February.
    assert month_over_month(sqlite_db, tz, date(2026, 3, 31)).last_same_days == Decimal("20")


def test_top_movers(sqlite_db) -> None:
    tz = ZoneInfo("UTC")
    recs = []
    for i, (model, amt) in enumerate([("a", "5"), ("b", "1"), ("a", "1"), ("b", "9")]):
        d = date(2026, 3, 1) + timedelta(days=0 if i < 2 else 7)
        at = datetime(d.year, d.month, d.day, 12, tzinfo=timezone.utc)
        recs.append(UsageRecord(DataSource.LOG, f"{i}", "openai", at, at, model=model, computed_cost=Decimal(amt)))
    upsert_records(sqlite_db, recs)
    movers = top_movers(sqlite_db, tz, date(2026, 3, 8), days=7)
    assert [(m.key, m.delta) for m in movers] == [("b", Decimal("8")), ("a", Decimal("-4"))]
