"""storage.queries: ledger rows for tables (newest first, local days per the `dated` rule), balances, accounts."""

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


def test_latest_balance_is_one_row_per_account_the_newest(db):
    from aicost_desktop.storage.queries import latest_balances
    from aicost_desktop.storage.tables import BalanceReading

    t0 = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    with db.write_session() as s:
        ids = []
        for name in ("a", "b", "c"):
            acc = Account(name=name, provider="deepseek", workspace_id=db.default_workspace_id())
            s.add(acc)
            s.flush()
            ids.append(acc.id)
        a, b, _ = ids
        # Written out of time order; b has two readings at the same instant (the later written wins).
        for acc, hours, remaining in ((a, 5, "7.50"), (a, 1, "9.00"), (a, 3, "8.25"), (b, 2, "1.00"), (b, 2, "0.75")):
            s.add(BalanceReading(account_id=acc, taken_at=t0 + timedelta(hours=hours), currency="USD",
                                 remaining=Decimal(remaining), total=Decimal("10")))
    from sqlalchemy import event

    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        latest = latest_balances(db)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    # One query, and the database itself sends one row per account (not every reading to be folded here).
    (statement, parameters), = [x for x in statements if "balance_snapshots" in x[0]]
    with db.engine.connect() as conn:
        assert len(conn.exec_driver_sql(statement, parameters).all()) == 2
    assert sorted(latest) == [a, b]  # c has no reading
    assert (latest[a].remaining, latest[a].taken_at, latest[a].total) == (Decimal("7.50"), t0 + timedelta(hours=5),
                                                                        Decimal("10"))
    assert latest[b].remaining == Decimal("0.75") and latest[b].limit is None and latest[b].currency == "USD"


def test_sync_interval_and_provider_accounts(db):
    from aicost_desktop.storage.queries import accounts_of, shortest_sync_interval

    assert shortest_sync_interval(db) is None
    with db.write_session() as s:
        for name, provider, interval, enabled in (("z", "openrouter", 30, True), ("y", "openrouter", 5, False),
                                                   ("x", "openai", 45, True)):
            s.add(Account(name=name, provider=provider, workspace_id=db.default_workspace_id(),
                          sync_interval_minutes=interval, enabled=enabled))
    assert shortest_sync_interval(db) == 30  # the disabled account's 5 does not count
    assert [n for _, n in accounts_of(db, "openrouter")] == ["y", "z"]
