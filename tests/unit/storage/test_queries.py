"""storage.queries: ledger rows for tables, newest first, with local days per the `dated` rule."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from aicost_desktop.domain.enums import DataSource
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.storage.ledger import upsert_records
from aicost_desktop.analytics.report import spend_summary
from aicost_desktop.storage.query import LedgerFilter
from aicost_desktop.storage.queries import count_records, list_records
from aicost_desktop.storage.tables import Account

TZ = ZoneInfo("America/Los_Angeles")


def _rec(key, start, end, source=DataSource.API, model="gpt-4.1", computed="1.5", note=None, account_id=None):
    return UsageRecord(source, key, "openai", start, end, usage=TokenUsage(10, 5), model=model,
                       computed_cost=Decimal(computed) if computed is not None else None, note=note,
                       account_id=account_id)


def test_local_dates_follow_the_dated_rule(sqlite_db):
    utc = timezone.utc
    # 03:00 UTC on Jan 2 is still Jan 1 in Los Angeles; a whole-day bucket keeps its calendar date.
    upsert_records(sqlite_db, [
        _rec("inst", datetime(2025, 1, 2, 3, tzinfo=utc), datetime(2025, 1, 2, 4, tzinfo=utc)),
        _rec("day", datetime(2025, 1, 2, tzinfo=utc), datetime(2025, 1, 3, tzinfo=utc)),
    ])
    rows = {r.id: r for r in list_records(sqlite_db, TZ)}
    by_key = {("inst" if not r.dated else "day"): r for r in rows.values()}
    assert by_key["inst"].local_date == date(2025, 1, 1)
    assert by_key["inst"].local_time.hour == 19
    assert by_key["day"].local_date == date(2025, 1, 2)
    assert by_key["day"].local_time is None


def test_newest_first_limit_offset_and_count(sqlite_db):
    t0 = datetime(2025, 3, 1, tzinfo=timezone.utc)
    upsert_records(sqlite_db, [_rec(f"k{i}", t0 + timedelta(hours=i), t0 + timedelta(hours=i + 1)) for i in range(7)])
    rows = list_records(sqlite_db, TZ, limit=3, offset=1)
    assert [r.at for r in rows] == [t0 + timedelta(hours=h) for h in (5, 4, 3)]
    assert count_records(sqlite_db, TZ) == 7


def test_filters_account_names_and_unpriced(sqlite_db):
    with sqlite_db.write_session() as s:
        acc = Account(name="OpenAI prod", provider="openai", workspace_id=sqlite_db.default_workspace_id())
        s.add(acc)
        s.flush()
        acc_id = acc.id
    t = datetime(2025, 3, 1, 12, tzinfo=timezone.utc)
    upsert_records(sqlite_db, [
        _rec("a", t, t + timedelta(hours=1), account_id=acc_id),
        _rec("b", t, t + timedelta(hours=1), source=DataSource.LOG, model="mystery-model", computed=None,
             note="from laptop"),
    ])
    api = list_records(sqlite_db, TZ, LedgerFilter.of(source="api"))
    assert [r.account for r in api] == ["OpenAI prod"]
    assert count_records(sqlite_db, TZ, LedgerFilter.of(account="OpenAI prod")) == 1
    (log,) = list_records(sqlite_db, TZ, text="LAPTOP")
    assert log.unpriced and log.cost == 0 and log.account == ""
    assert list_records(sqlite_db, TZ, LedgerFilter(start=date(2025, 3, 2))) == []
    assert len(list_records(sqlite_db, TZ, LedgerFilter(end=date(2025, 3, 1)))) == 2


def test_spend_summary_and_fx(sqlite_db):
    today = date(2025, 3, 10)
    at = datetime(2025, 3, 10, 18, tzinfo=timezone.utc)
    early = datetime(2025, 3, 2, 18, tzinfo=timezone.utc)
    upsert_records(sqlite_db, [_rec("t", at, at + timedelta(hours=1), computed="2.25"),
                               _rec("e", early, early + timedelta(hours=1), computed="1.00")])
    s = spend_summary(sqlite_db, TZ, today=today)
    assert (s.month_to_date, s.today) == (Decimal("3.25"), Decimal("2.25"))
    from aicost_desktop.domain.money import parse_fx_rates as fx_rates

    assert fx_rates({"eur": "1.1", "bad": "x"}) == {"EUR": Decimal("1.1"), "USD": Decimal(1)}

