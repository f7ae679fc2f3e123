"""usage_daily: always usage_hourly summed per UTC date, and local-day sums read from it equal the raw ledger's."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import create_engine, func, select, text

import aicost_desktop.analytics.query as query_mod
import aicost_desktop.analytics.report as report_mod
import aicost_desktop.storage.queries as queries_mod
from aicost_desktop.analytics.query import daily_cells
from aicost_desktop.analytics.report import spend_report
from aicost_desktop.domain.enums import DataSource
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.storage import migrate, rollup
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.ledger import delete_where, upsert_records
from aicost_desktop.storage.query import LedgerFilter
from aicost_desktop.storage.queries import count_records, ledger_total
from aicost_desktop.storage.query.daily import home_day, moved_hours
from aicost_desktop.storage.query.names import filter_choices, known_values
from aicost_desktop.storage.tables import UsageDaily, UsageHourly, UsageRow

UTC = timezone.utc
# DST both ways, a negative and two large offsets, none: every way an hour can land on another local day.
ZONES = ("Europe/Belgrade", "America/Los_Angeles", "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC")
DIMS = ("dated", "workspace_id", "account_id", "provider", "model", "source", "project", "currency", "cost_role")
SUMS = ("rows", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "requests", "cost",
        "reported_cost", "computed_cost", "unpriced_rows")


def _records(n: int, seed: int = 3) -> list[UsageRecord]:
    """Rows every few hours across the 2026 autumn DST change (Europe Oct 25, US Nov 1), some dated, some
    with only a reported or only a computed cost or neither (unpriced)."""
    rng = random.Random(seed)
    start = datetime(2026, 10, 20, tzinfo=UTC)
    out = []
    for i in range(n):
        at = start + timedelta(minutes=rng.randrange(0, 20 * 24 * 60))
        dated = rng.random() < 0.1
        if dated:
            at = at.replace(hour=0, minute=0)
        model = rng.choice(["gpt-5", "gpt-5-mini", "claude-sonnet-4-5", None])
        kind = rng.randrange(3)
        out.append(UsageRecord(
            rng.choice([DataSource.API, DataSource.LOG]), f"k{i}", "anthropic" if model and "claude" in model
            else "openai", at, at + (timedelta(days=1) if dated else timedelta(minutes=1)),
            usage=TokenUsage(rng.randrange(1000), rng.randrange(100), rng.randrange(50), requests=1), model=model,
            project=rng.choice(["web", None]),
            reported_cost=Decimal(rng.randrange(1, 10**6)).scaleb(-6) if kind != 1 else None,
            computed_cost=Decimal(rng.randrange(1, 10**6)).scaleb(-6) if kind != 2 or rng.random() < 0.5 else None))
    return out


def _daily_from_hourly(db: Database) -> list[tuple[Any, ...]]:
    """usage_hourly summed per UTC date, as usage_daily must hold it."""
    with db.session() as s:
        day = (func.substr(UsageHourly.hour_start, 1, 10) if db.dialect == "sqlite"
               else func.to_char(UsageHourly.hour_start, "YYYY-MM-DD"))
        dims = [getattr(UsageHourly, c) for c in DIMS]
        want = s.execute(select(day, *dims, *[func.sum(getattr(UsageHourly, c)) for c in SUMS])
                         .group_by(day, *dims)).all()
        have = s.execute(select(UsageDaily.day, *[getattr(UsageDaily, c) for c in DIMS + SUMS])).all()
    norm = sorted(((str(r[0])[:10], *r[1:]) for r in want), key=repr)  # repr: None and text both sort
    assert sorted(((r[0].isoformat(), *r[1:]) for r in have), key=repr) == norm
    return norm


def test_every_write_path_keeps_the_daily_rollup_equal_to_the_hourly_one(db: Database) -> None:
    recs = _records(600)
    upsert_records(db, recs[:300])                      # new rows (SQLite: the raw cursor's cells)
    upsert_records(db, recs[250:600])                   # some already there, the rest new
    changed = [UsageRecord(r.source, r.dedup_key, r.provider, r.bucket_start, r.bucket_end, usage=r.usage,
                           model=r.model, project=r.project, reported_cost=Decimal("1.5"))
               for r in recs[100:150]]
    upsert_records(db, changed)                          # updated rows: their hours refreshed
    assert delete_where(db, UsageRow.model == "gpt-5-mini") > 0
    cells = _daily_from_hourly(db)
    assert len(cells) > 100
    with db.write_session() as s:                        # the repair path
        rollup.rebuild(s)
    assert _daily_from_hourly(db) == cells


def test_the_migration_fills_the_daily_rollup_of_an_existing_ledger(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    db = Database.open(url)
    upsert_records(db, _records(200))
    db.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:  # back to 0011: no usage_daily, the cells only hourly
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0011")
        assert not conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'usage_daily'")).first()
    engine.dispose()
    db = Database.open(url)
    try:
        assert len(_daily_from_hourly(db)) > 50
    finally:
        db.dispose()


def test_moved_hours_are_the_hours_whose_local_date_is_not_their_utc_dates_home() -> None:
    for name in ZONES:
        tz = ZoneInfo(name)
        first, last = date(2026, 10, 20), date(2026, 11, 5)
        moved = {at: (home, local) for at, home, local in moved_hours(first, last, tz)}
        for i in range(((last - first).days + 1) * 24):
            at = datetime.combine(first, datetime.min.time(), tzinfo=UTC) + timedelta(hours=i)
            local, home = at.astimezone(tz).date(), home_day(at.date(), tz)
            assert moved.get(at) == ((home, local) if local != home else None), (name, at)


@pytest.mark.parametrize("zone", ZONES)
def test_local_day_sums_from_the_daily_rollup_equal_the_raw_ledgers(db: Database, zone: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    upsert_records(db, _records(1500))
    tz = ZoneInfo(zone)
    ranges = [(date(2026, 10, 22), date(2026, 11, 3)), (date(2026, 10, 25), date(2026, 10, 25)),
              (date(2026, 11, 1), date(2026, 11, 1)), (date(2026, 10, 1), date(2026, 12, 31))]
    asks = [("daily", ("model",), "auto"), ("daily", ("provider", "project", "source"), "reported"),
            ("daily", (), "computed"), ("report", ("day", "model"), "auto"), ("report", ("week", "source"), "reported"),
            ("report", ("provider",), "computed"), ("report", (), "auto")]

    def run(kind: str, dims: tuple[str, ...], mode: str, start: date, end: date) -> Any:
        if kind == "daily":
            return daily_cells(db, tz, start, end, dims, mode=mode)
        return [(r.keys, r.cost, r.input_tokens, r.output_tokens, r.cache_read_tokens, r.requests, r.unpriced_rows)
                for r in spend_report(db, tz, start, end, list(dims), mode=mode).rows]

    fast = {(k, d, m, a, b): run(k, d, m, a, b) for k, d, m in asks for a, b in ranges}
    # The same questions answered from usage_records itself (the path of zones with partial-hour offsets).
    monkeypatch.setattr(query_mod, "source_table", lambda tz, start, end: UsageRow)
    monkeypatch.setattr(report_mod, "whole_hour_zone", lambda tz, start, end: False)
    for (k, d, m, a, b), got in fast.items():
        assert got == run(k, d, m, a, b), (zone, k, d, m, a, b)
    assert any(fast.values())


@pytest.mark.parametrize("zone", ZONES)
def test_the_ledgers_filter_total_from_the_daily_rollup_equals_the_raw_ledgers(db: Database, zone: str,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    upsert_records(db, _records(1500))
    tz = ZoneInfo(zone)
    d1, d2 = date(2026, 10, 25), date(2026, 11, 1)  # the DST dates: an open bound reads from either side
    filters = [LedgerFilter(), LedgerFilter(start=d1), LedgerFilter(end=d2), LedgerFilter(start=d1, end=d2),
               LedgerFilter(start=d2, end=d2), LedgerFilter.of(provider="anthropic", end=d1),
               LedgerFilter.of(source="log"), LedgerFilter(start=date(2027, 1, 1))]
    fast = [ledger_total(db, tz, f) for f in filters]
    monkeypatch.setattr(queries_mod, "whole_hour_zone", lambda tz, start, end: False)  # the ledger's own rows
    with db.session() as s:
        everything = s.scalar(select(func.sum(UsageRow.cost)))
    assert fast[0] == everything and fast[-1] == 0
    assert fast == [ledger_total(db, tz, f) for f in filters], zone
    assert len(set(fast)) > 5


def test_the_names_a_filter_offers_are_the_ledgers(db: Database) -> None:
    upsert_records(db, _records(400))
    with db.session() as s:
        def ledger(col: Any) -> list[str]:
            return sorted(v for (v,) in s.execute(select(col).distinct()) if v)

        want = {"provider": ledger(UsageRow.provider), "model": ledger(UsageRow.model),
                "source": ledger(UsageRow.source), "project": ledger(UsageRow.project)}
        rows = s.scalar(select(func.count()).select_from(UsageRow))
    choices = filter_choices(db)
    shown = ("provider", "model", "source")
    assert {k: choices[k] for k in shown} == {k: want[k] for k in shown}
    assert sorted(known_values(db, "project")) == want["project"] == ["web"]
    assert count_records(db, ZoneInfo("UTC")) == rows == 400


def test_a_group_whose_rows_all_moved_to_another_day_is_not_an_empty_row(db: Database) -> None:
    at = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 01:30 on July 2 in Belgrade (UTC+2)
    upsert_records(db, [UsageRecord(DataSource.API, "late", "openai", at, at + timedelta(minutes=1),
                                    usage=TokenUsage(10, 1, requests=1), model="gpt-5", computed_cost=Decimal("2"))])
    tz = ZoneInfo("Europe/Belgrade")
    rep = spend_report(db, tz, date(2026, 7, 1), date(2026, 7, 2), ["day", "model"])
    assert [(r.keys, r.cost, r.requests) for r in rep.rows] == [({"day": "2026-07-02", "model": "gpt-5"},
                                                                  Decimal("2"), 1)]
    assert spend_report(db, tz, date(2026, 7, 1), date(2026, 7, 1), ["model"]).rows == []
    cells = daily_cells(db, tz, date(2026, 7, 1), date(2026, 7, 2), ("model",),
                        filters=LedgerFilter.of(model="gpt-5"))
    assert [(c.day, c.cost) for c in cells] == [(date(2026, 7, 2), Decimal("2"))]


def test_a_day_whose_sum_is_beyond_64_bits_is_still_written_and_reported(db: Database) -> None:
    # Each row is within the money column ($922M), as a ledger written before one row was limited to a
    # million may hold; their day is not: the roll-up keeps that day's hours.
    at = datetime(2026, 7, 1, 9, tzinfo=UTC)
    recs = [UsageRecord(DataSource.API, f"big{i}", "openai", at + timedelta(hours=i),
                        at + timedelta(hours=i, minutes=1),
                        usage=TokenUsage(requests=1), model="gpt-5") for i in range(2)]
    for r in recs:
        r.reported_cost = Decimal("600000000")  # past UsageRecord's check of today
    upsert_records(db, recs)
    tz = ZoneInfo("UTC")
    assert spend_report(db, tz, date(2026, 7, 1), date(2026, 7, 1)).total == Decimal("1200000000")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(UsageDaily)) == 2  # one per hour, not one overflowing
