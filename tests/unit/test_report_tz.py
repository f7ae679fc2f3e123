"""Spend reports bucket by the user's local day, across DST, for instants and dated rows alike."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from aicost_desktop.analytics.report import parse_group_by, spend_report
from aicost_desktop.storage.query import LedgerFilter
from aicost_desktop.domain import DataSource, InputError, UsageRecord
from aicost_desktop.domain.days import is_dated_bucket, local_midnight_utc, whole_hour_zone
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.ledger import upsert_records


def instant(key: str, at: datetime, cost: str, provider: str = "openai") -> UsageRecord:
    return UsageRecord(DataSource.LOG, key, provider, at, at, reported_cost=Decimal(cost))


def days(report) -> dict[str, Decimal]:
    return {r.keys["day"]: r.cost for r in report.rows}


def test_belgrade_spring_forward_day_has_23_hours(db: Database) -> None:
    tz = ZoneInfo("Europe/Belgrade")
    # 2026-03-29: clocks jump 02:00 -> 03:00 local. 21:59 UTC on the 28th is 22:59 local (28th);
    # 22:30 UTC on the 28th is 23:30 local (still the 28th); 22:59 UTC on the 29th is 00:59 local on the 30th.
    upsert_records(db, [instant("a", datetime(2026, 3, 28, 21, 59, tzinfo=timezone.utc), "1"),
                        instant("b", datetime(2026, 3, 28, 23, 30, tzinfo=timezone.utc), "2"),
                        instant("c", datetime(2026, 3, 29, 21, 59, tzinfo=timezone.utc), "4"),
                        instant("d", datetime(2026, 3, 29, 22, 1, tzinfo=timezone.utc), "8")])
    r = spend_report(db, tz, date(2026, 3, 28), date(2026, 3, 30), ["day"])
    assert days(r) == {"2026-03-28": Decimal("1"), "2026-03-29": Decimal("6"), "2026-03-30": Decimal("8")}
    assert local_midnight_utc(date(2026, 3, 30), tz) - local_midnight_utc(date(2026, 3, 29), tz) == timedelta(hours=23)


def test_los_angeles_fall_back_day_has_25_hours(db: Database) -> None:
    tz = ZoneInfo("America/Los_Angeles")
    # 2026-11-01: PDT -> PST. Local midnight Nov 1 = 07:00 UTC; local midnight Nov 2 = 08:00 UTC.
    upsert_records(db, [instant("a", datetime(2026, 11, 1, 6, 59, tzinfo=timezone.utc), "1"),   # Oct 31 23:59
                        instant("b", datetime(2026, 11, 1, 7, 0, tzinfo=timezone.utc), "2"),    # Nov 1 00:00
                        instant("c", datetime(2026, 11, 2, 7, 59, tzinfo=timezone.utc), "4"),   # Nov 1 23:59 PST
                        instant("d", datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc), "8")])   # Nov 2 00:00
    r = spend_report(db, tz, date(2026, 10, 31), date(2026, 11, 2), ["day"])
    assert days(r) == {"2026-10-31": Decimal("1"), "2026-11-01": Decimal("6"), "2026-11-02": Decimal("8")}


def test_dated_rows_keep_their_date_in_every_zone(sqlite_db: Database) -> None:
    start = datetime(2026, 11, 3, tzinfo=timezone.utc)
    upsert_records(sqlite_db, [UsageRecord(DataSource.API, "d", "openai", start, start + timedelta(days=1),
                                           reported_cost=Decimal("3"))])
    assert is_dated_bucket(start, start + timedelta(days=1))
    for zone in ("Pacific/Auckland", "America/Los_Angeles", "Asia/Kolkata"):
        r = spend_report(sqlite_db, ZoneInfo(zone), date(2026, 11, 1), date(2026, 11, 5), ["day"])
        assert days(r) == {"2026-11-03": Decimal("3")}, zone


def test_half_hour_zone_reads_raw_ledger(sqlite_db: Database) -> None:
    tz = ZoneInfo("Asia/Kolkata")
    assert not whole_hour_zone(tz, date(2026, 1, 1), date(2026, 1, 2))
    # 18:45 UTC = 00:15 IST next day; an hourly roll-up would put it on the previous day.
    upsert_records(sqlite_db, [instant("a", datetime(2026, 1, 1, 18, 45, tzinfo=timezone.utc), "5")])
    r = spend_report(sqlite_db, tz, date(2026, 1, 1), date(2026, 1, 2), ["day"])
    assert days(r) == {"2026-01-02": Decimal("5")}


def test_group_by_week_month_provider_and_filters(sqlite_db: Database) -> None:
    upsert_records(sqlite_db, [instant("a", datetime(2026, 11, 2, 12, tzinfo=timezone.utc), "1"),
                               instant("b", datetime(2026, 11, 8, 12, tzinfo=timezone.utc), "2", "anthropic"),
                               instant("c", datetime(2026, 11, 9, 12, tzinfo=timezone.utc), "4")])
    tz = ZoneInfo("UTC")
    r = spend_report(sqlite_db, tz, date(2026, 11, 1), date(2026, 11, 30), ["week", "provider"])
    assert [(x.keys["week"], x.keys["provider"], x.cost) for x in r.rows] == [
        ("2026-11-02", "anthropic", Decimal("2")), ("2026-11-02", "openai", Decimal("1")),
        ("2026-11-09", "openai", Decimal("4"))]
    sunday = spend_report(sqlite_db, tz, date(2026, 11, 1), date(2026, 11, 30), ["week"], week_start=6)
    assert [x.keys["week"] for x in sunday.rows] == ["2026-11-01", "2026-11-08"]
    only = spend_report(sqlite_db, tz, date(2026, 11, 1), date(2026, 11, 30), ["month"], LedgerFilter.of(provider="openai"))
    assert [(x.keys["month"], x.cost) for x in only.rows] == [("2026-11", Decimal("5"))]


def test_bad_group_by_and_range_name_the_field(sqlite_db: Database) -> None:
    with pytest.raises(InputError, match="group-by='colour'"):
        parse_group_by("day,colour")
    with pytest.raises(InputError, match="to="):
        spend_report(sqlite_db, ZoneInfo("UTC"), date(2026, 2, 1), date(2026, 1, 1))
    with pytest.raises(InputError, match="account='nobody'"):
        spend_report(sqlite_db, ZoneInfo("UTC"), date(2026, 1, 1), date(2026, 1, 2), filters=LedgerFilter.of(account="nobody"))


# Not traced for coverage (pytest-cov's no_cover): it runs code the other tests cover, many times over, and
# under the tracer took twice as long.
@pytest.mark.no_cover
@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60 * 24 * 20), st.integers(1, 10_000)), min_size=1, max_size=40),
       st.sampled_from(["Europe/Belgrade", "America/Los_Angeles", "Pacific/Auckland", "UTC"]))
def test_rollup_report_equals_direct_aggregation(tmp_path_factory, points, zone) -> None:
    db = Database.open(f"sqlite:///{tmp_path_factory.mktemp('h') / 'l.db'}")
    tz = ZoneInfo(zone)
    base = datetime(2026, 10, 20, tzinfo=timezone.utc)
    recs = [instant(f"k{i}", base + timedelta(minutes=m), f"{c}.01") for i, (m, c) in enumerate(points)]
    upsert_records(db, recs)
    expected: dict[str, Decimal] = {}
    for r in recs:
        d = r.bucket_start.astimezone(tz).date().isoformat()
        expected[d] = expected.get(d, Decimal(0)) + r.reported_cost
    got = days(spend_report(db, tz, date(2026, 10, 18), date(2026, 11, 12), ["day"]))
    assert got == expected
    db.dispose()


def test_utc_offset_changes_finds_each_change_to_the_second() -> None:
    from aicost_desktop.domain.days import utc_offset_changes

    ny = utc_offset_changes(ZoneInfo("America/New_York"), datetime(2026, 1, 1, tzinfo=timezone.utc),
                            datetime(2026, 12, 31, tzinfo=timezone.utc))
    assert [(at, off) for at, off in ny[1:]] == [
        (datetime(2026, 3, 8, 7, 0, tzinfo=timezone.utc), timedelta(hours=-4)),
        (datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc), timedelta(hours=-5))]
    assert ny[0][1] == timedelta(hours=-5)
    # Lord Howe moves by 30 minutes; naive instants are taken as UTC.
    lh = utc_offset_changes(ZoneInfo("Australia/Lord_Howe"), datetime(2026, 3, 1), datetime(2026, 5, 1))
    assert [off for _, off in lh] == [timedelta(hours=11), timedelta(hours=10, minutes=30)]
    assert lh[1][0] == datetime(2026, 4, 4, 15, 0, tzinfo=timezone.utc)
    assert utc_offset_changes(ZoneInfo("UTC"), datetime(2026, 1, 1), datetime(2026, 2, 1))[1:] == []
