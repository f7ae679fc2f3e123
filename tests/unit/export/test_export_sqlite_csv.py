"""CSV export on SQLite (lines formatted by SQLite, checked in bulk) writes the general path's exact bytes."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aicost_desktop.storage.query import LedgerFilter
from aicost_desktop.domain import DataSource, UsageRecord
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.export import ALL_COLUMNS, DEFAULT_COLUMNS, ExportSpec, export
from aicost_desktop.export import sqlite_csv, sqlite_line
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.ledger import upsert_records
from tests.unit.analytics.ledger_data import add_account

UTC = timezone.utc
NOTES = [None, "", "plain", "=1+2", "+1", "-3", "@x", "\tx", "\rx", "a,b", 'say "hi"', "line\nbreak", "tail\r",
         "ünïcødé ✓ 日本", "\x1dsep", "\x1cmark", "x\x1d=y", "'quoted", " =space first", "-", "="]
MONEY = [Decimal(0), Decimal("0.0000000001"), Decimal("-0.0000000001"), Decimal(1), Decimal("-1.5"),
         Decimal("12.345"), Decimal("0.032754"), Decimal("123456.7890123456"), Decimal("922337203.6854775807"),
         Decimal("-922337203.6854775808"), Decimal("0.01"), Decimal("0.1"), Decimal(100), Decimal("-0.00000001")]
# Instants next to local midnights and DST changes of New York, Kolkata (+5:30) and Lord Howe (+10:30/+11).
INSTANTS = [datetime(2026, m, d, h, mi, s, us, tzinfo=UTC)
            for m, d in ((3, 8), (4, 4), (10, 3), (11, 1), (11, 2))
            for h, mi, s, us in ((3, 59, 59, 999999), (4, 0, 0, 0), (4, 59, 59, 0), (5, 0, 0, 0), (6, 59, 59, 500000),
                                 (7, 0, 0, 0), (13, 0, 0, 0), (13, 29, 59, 0), (13, 30, 0, 0), (15, 0, 0, 0),
                                 (15, 30, 0, 1), (18, 29, 59, 0), (18, 30, 0, 0), (23, 59, 59, 100000))]


def _written_before_the_row_limit(rec: UsageRecord, reported: Decimal | None, computed: Decimal | None) -> UsageRecord:
    """A row as a ledger written before one row's money was limited to a million may hold it: any amount the
    64-bit columns hold (set past UsageRecord's check, which today refuses more than a million)."""
    rec.reported_cost, rec.computed_cost = reported, computed
    return rec


def tricky_ledger(db: Database) -> None:
    """Rows whose cells need quoting or neutralizing next to plain rows, names that need quoting, NULLs,
    dated rows, instants at local midnights and DST changes, the largest and smallest money values the
    columns hold (rows of a ledger written before one row's money was limited)."""
    accounts = [add_account(db, n, "openai") for n in ("prod", "Acme, Inc.", 'say "hi"', "=evil", "new\nline", "ünï")]
    team = db.workspace_id("Team, A", create=True)
    recs: list[UsageRecord] = []
    for i, at in enumerate(INSTANTS):
        note = NOTES[(i // 3) % len(NOTES)] if i % 3 == 0 else None  # runs of plain rows between odd ones
        recs.append(_written_before_the_row_limit(UsageRecord(
            DataSource.LOG if i % 2 else DataSource.API, f"i{i}", "+prov" if i == 7 else "openai", at,
            at + timedelta(hours=i % 3), model=None if i % 5 == 0 else ("m,odel" if i == 11 else "gpt-5"),
            account_id=accounts[i % len(accounts)] if i % 4 else None, workspace_id=team if i % 6 == 1 else None,
            project="p" if i % 7 == 0 else None, note=note,
            usage=TokenUsage(input_tokens=i * 1000, output_tokens=i, cache_write_5m_tokens=i % 4,
                             cache_write_1h_tokens=2)),
            MONEY[i % len(MONEY)] if i % 2 else None, MONEY[(i * 5) % len(MONEY)] if i % 3 else None))
    for i in range(len(MONEY)):  # dated rows (whole UTC days), some of them in the DST weeks
        day = datetime(2026, 3, 1 + i, tzinfo=UTC)
        recs.append(_written_before_the_row_limit(UsageRecord(
            DataSource.API, f"d{i}", "anthropic", day, day + timedelta(days=1 + i % 2), model="claude",
            account_id=accounts[i % len(accounts)], note=NOTES[(i * 7) % len(NOTES)]), MONEY[i], None))
    upsert_records(db, recs)


def both_paths(db: Database, tz: ZoneInfo, spec: ExportSpec, monkeypatch: pytest.MonkeyPatch,
               tmp_path: Path) -> tuple[bytes, bytes, dict[str, int]]:
    """(fast path bytes, general path bytes, what the fast path did: runs, rows it sent to the general path,
    and per query whether text cells came raw for Python to check (True) or quoted by SQLite (False))."""
    seen: dict[str, Any] = {"fast": 0, "general_rows": 0, "marked": []}
    real_fast, real_general, real_line = sqlite_csv.csv_sqlite, sqlite_csv._general_lines, sqlite_line.line

    def fast(*a: Any, **k: Any) -> Any:
        res = real_fast(*a, **k)
        seen["fast"] += res is not None
        return res

    def general(*a: Any, **k: Any) -> Any:
        seen["general_rows"] += len(a[-1])
        return real_general(*a, **k)

    def line(*a: Any) -> Any:
        seen["marked"].append(a[-1])
        return real_line(*a)

    monkeypatch.setattr(sqlite_csv, "csv_sqlite", fast)
    monkeypatch.setattr(sqlite_line, "line", line)
    monkeypatch.setattr(sqlite_csv, "_general_lines", general)
    fast_out, general_out = tmp_path / "fast.csv", tmp_path / "general.csv"
    a = export(db, tz, ExportSpec("csv", fast_out, spec.start, spec.end, spec.filters, columns=spec.columns,
                                  bom=spec.bom, batch_size=spec.batch_size))
    monkeypatch.setattr(sqlite_csv, "csv_sqlite", lambda *a, **k: None)
    b = export(db, tz, ExportSpec("csv", general_out, spec.start, spec.end, spec.filters, columns=spec.columns,
                                  bom=spec.bom, batch_size=spec.batch_size))
    assert (a.rows, a.cost_units) == (b.rows, b.cost_units)
    return fast_out.read_bytes(), general_out.read_bytes(), seen


@pytest.mark.parametrize("tz", ["America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"])
@pytest.mark.parametrize("columns", [DEFAULT_COLUMNS, ALL_COLUMNS, ("note", "id", "cost", "account", "local_day")])
@pytest.mark.parametrize("batch_size", [4, 5000])
def test_fast_path_writes_the_general_paths_bytes(sqlite_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  tz: str, columns: tuple[str, ...], batch_size: int) -> None:
    tricky_ledger(sqlite_db)
    spec = ExportSpec("csv", tmp_path / "x.csv", columns=columns, batch_size=batch_size, bom=batch_size == 4)
    fast, general, seen = both_paths(sqlite_db, ZoneInfo(tz), spec, monkeypatch, tmp_path)
    assert seen["fast"] == 1 and 0 < seen["general_rows"] < fast.count(b"\n") // 2  # only the odd rows
    assert seen["marked"] == [True, False]  # so many odd rows that SQLite quotes text cells after the first
    assert fast == general


def test_rare_odd_rows_are_formatted_by_the_general_path(sqlite_db, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    at = datetime(2026, 3, 8, 4, tzinfo=UTC)
    odd = {50: "=1+2", 51: "a,b", 299: 'say "hi"'}
    upsert_records(sqlite_db, [UsageRecord(DataSource.LOG, f"r{i}", "openai", at + timedelta(minutes=i),
                                           at + timedelta(minutes=i), model="gpt-5", computed_cost=Decimal(i) / 7,
                                           note=odd.get(i, "fine" if i % 2 else None))
                               for i in range(300)])
    spec = ExportSpec("csv", tmp_path / "x.csv", columns=ALL_COLUMNS, batch_size=100)
    fast, general, seen = both_paths(sqlite_db, ZoneInfo("America/New_York"), spec, monkeypatch, tmp_path)
    assert seen == {"fast": 1, "general_rows": 3, "marked": [True]} and fast == general


def test_fast_path_with_a_range_and_filters(sqlite_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tricky_ledger(sqlite_db)
    spec = ExportSpec("csv", tmp_path / "x.csv", date(2026, 3, 3), date(2026, 10, 3),
                      filters=LedgerFilter.of(provider="openai"), columns=ALL_COLUMNS, batch_size=7)
    fast, general, seen = both_paths(sqlite_db, ZoneInfo("Australia/Lord_Howe"), spec, monkeypatch, tmp_path)
    assert seen["fast"] == 1 and fast == general and fast.count(b"\n") > 10
    assert seen["marked"] == [True, False]


def test_names_that_need_quoting_do_not_send_plain_rows_to_the_general_path(
        sqlite_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = [add_account(sqlite_db, n, "openai") for n in ("Acme, Inc.", 'say "hi"', "new\r\nline", "=x")]
    team = sqlite_db.workspace_id("Team, A", create=True)
    at = datetime(2026, 5, 1, 12, tzinfo=UTC)
    upsert_records(sqlite_db, [UsageRecord(DataSource.LOG, f"k{i}", "openai", at, at, model="gpt-5",
                                           account_id=accounts[i % 4] if i % 5 else None,
                                           workspace_id=team if i % 2 else None, computed_cost=Decimal(i))
                               for i in range(40)])
    spec = ExportSpec("csv", tmp_path / "x.csv", columns=("account", "workspace") + DEFAULT_COLUMNS, batch_size=9)
    fast, general, seen = both_paths(sqlite_db, ZoneInfo("Europe/Belgrade"), spec, monkeypatch, tmp_path)
    assert seen == {"fast": 1, "general_rows": 0, "marked": [True]} and fast == general
    rows = list(csv.DictReader(io.StringIO(fast.decode())))
    assert {r["account"] for r in rows} == {"", "Acme, Inc.", 'say "hi"', "new\r\nline", "'=x"}
    assert {r["workspace"] for r in rows} == {"default", "Team, A"}


def test_tricky_cells_on_every_backend(db, tmp_path: Path) -> None:
    """The same cells from the SQLite fast path and from the general path PostgreSQL takes."""
    tricky_ledger(db)
    out = tmp_path / "t.csv"
    export(db, ZoneInfo("America/New_York"), ExportSpec("csv", out, columns=ALL_COLUMNS))
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8"), newline="")))
    by_key = {r["dedup_key"]: r for r in rows}
    assert by_key["i0"]["start_utc"] == "2026-03-08T03:59:59.999999Z" and by_key["i0"]["local_day"] == "2026-03-07"
    assert by_key["i2"]["local_day"] == "2026-03-07" and by_key["i3"]["local_day"] == "2026-03-08"  # EST midnight
    assert by_key["i17"]["local_day"] == "2026-04-04"  # 04:00 UTC on Apr 4 is midnight EDT
    assert by_key["i4"]["start_utc"] == "2026-03-08T06:59:59.5Z"
    assert by_key["d0"]["local_day"] == "2026-03-01" and by_key["d0"]["dated"] == "True"
    assert {r["reported_cost"] for r in rows} >= {"922337203.6854775807", "-922337203.6854775808", "0.0000000001",
                                                  "-0.0000000001", "12.345", "-1.50", "0.00", ""}
    notes = {r["note"] for r in rows}
    assert {"'=1+2", "'+1", "'-3", "'@x", "'\tx", "'\rx", "a,b", 'say "hi"', "line\nbreak"} <= notes
    assert "ünïcødé ✓ 日本" in notes
    assert {r["account"] for r in rows} >= {"Acme, Inc.", 'say "hi"', "'=evil", "new\nline", ""}
    assert "'+prov" in {r["provider"] for r in rows} and "m,odel" in {r["model"] for r in rows}
