"""Streaming export: round trip, filters, formula injection, cancel, unwritable targets."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from aicost_desktop.analytics.report import spend_report
from aicost_desktop.storage.query import LedgerFilter
from aicost_desktop.domain import DataSource, InputError, UsageRecord
from aicost_desktop.domain.errors import OperationError
from aicost_desktop.export import ExportCancelled, ExportSpec, export, parse_columns
from aicost_desktop.export.writer import money_text, neutralize
from aicost_desktop.storage.ledger import upsert_records
from tests.unit.analytics.ledger_data import build_ledger

END = date(2026, 3, 31)
TZ = ZoneInfo("America/New_York")


def parse(path: Path, fmt: str) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        text = fh.read()
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(text)))
    if fmt == "json":
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line]


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
def test_round_trip_sums_and_counts_match_the_report(sqlite_db, tmp_path: Path, fmt: str) -> None:
    build_ledger(sqlite_db, END, 45)
    out = tmp_path / f"x.{fmt}"
    start = date(2026, 3, 1)
    calls: list[tuple[int, int]] = []
    res = export(sqlite_db, TZ, ExportSpec(fmt, out, start, END, batch_size=97), progress=lambda a, b: calls.append((a, b)))
    rows = parse(out, fmt)
    assert len(rows) == res.rows > 0
    total = sum(Decimal(r["cost"]) for r in rows)
    report_total = spend_report(sqlite_db, TZ, start, END).total
    assert total == report_total == res.totals["USD"] and list(res.totals) == ["USD"]
    assert calls[-1] == (res.rows, res.rows) and len(calls) > 2
    assert all(start.isoformat() <= r["local_day"] <= END.isoformat() for r in rows)
    assert rows[0]["start_utc"].endswith("Z")
    assert [int(r["id"]) for r in rows] == sorted(int(r["id"]) for r in rows)


def test_everything_when_no_range_and_filters_select_rows(sqlite_db, tmp_path: Path) -> None:
    build_ledger(sqlite_db, END, 20)
    out = tmp_path / "all.csv"
    n_all = export(sqlite_db, TZ, ExportSpec("csv", out)).rows
    res = export(sqlite_db, TZ, ExportSpec("csv", out, filters=LedgerFilter.of(provider="openai", account="prod")))
    rows = parse(out, "csv")
    assert 0 < res.rows < n_all and {r["provider"] for r in rows} == {"openai"} and {r["account"] for r in rows} == {"prod"}
    res = export(sqlite_db, TZ, ExportSpec("csv", out, filters=LedgerFilter.of(source="manual")))
    assert res.rows == 2 and {r["source"] for r in parse(out, "csv")} == {"manual"}
    res = export(sqlite_db, TZ, ExportSpec("csv", out, filters=LedgerFilter.of(model="gpt-5"), sources=["api"]))
    assert {r["model"] for r in parse(out, "csv")} == {"gpt-5"}
    export(sqlite_db, TZ, ExportSpec("csv", out, filters=LedgerFilter.of(workspace="default"), columns=("id", "cost")))
    assert out.read_text().splitlines()[0] == "id,cost"
    with pytest.raises(InputError):
        export(sqlite_db, TZ, ExportSpec("csv", out, filters=LedgerFilter.of(account="nope")))


def test_formula_injection_is_neutralized(sqlite_db, tmp_path: Path) -> None:
    day = datetime(2026, 3, 5, tzinfo=timezone.utc)
    notes = ['=HYPERLINK("http://x")', "+1+2", "-3", "@SUM(A1)", "\tx", "\rx", "ok, fine", 'say "hi"']
    upsert_records(sqlite_db, [UsageRecord(DataSource.MANUAL, f"m{i}", "manual", day, day.replace(day=6),
                                           reported_cost=Decimal("-1.5") if i == 2 else Decimal("1"), note=n)
                               for i, n in enumerate(notes)])
    out = tmp_path / "inj.csv"
    export(sqlite_db, TZ, ExportSpec("csv", out, bom=True))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = parse(out, "csv")
    got = {r["note"] for r in rows}
    assert "'=HYPERLINK(\"http://x\")" in got and "'+1+2" in got and "'-3" in got and "'@SUM(A1)" in got
    assert "'\tx" in got and "'\rx" in got and "ok, fine" in got and 'say "hi"' in got
    assert not any(r["note"][0] in "=+-@\t\r" for r in rows)
    # Numbers we generate stay numbers, negative money included.
    assert "-1.50" in {r["cost"] for r in rows}
    # JSON keeps the text as it is (it is data there, not a spreadsheet cell).
    export(sqlite_db, TZ, ExportSpec("ndjson", tmp_path / "inj.ndjson"))
    assert '=HYPERLINK("http://x")' in {r["note"] for r in parse(tmp_path / "inj.ndjson", "ndjson")}
    assert neutralize("=1") == "'=1" and neutralize("a=1") == "a=1"


def test_money_text_is_exact() -> None:
    assert money_text(12_500_000_000) == "1.25"
    assert money_text(1) == "0.0000000001"
    assert money_text(-10_000_000_000) == "-1.00"
    assert money_text(None) is None


def test_cancel_leaves_no_file_and_keeps_an_existing_one(sqlite_db, tmp_path: Path) -> None:
    build_ledger(sqlite_db, END, 20)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "c.csv"
    out.write_text("previous")
    seen = []

    def progress(done: int, total: int) -> None:
        seen.append(done)

    with pytest.raises(ExportCancelled):
        export(sqlite_db, TZ, ExportSpec("csv", out, batch_size=10), progress=progress,
               cancelled=lambda: len(seen) >= 2)
    assert out.read_text() == "previous"
    assert os.listdir(tmp_path / "out") == ["c.csv"]


def test_failure_mid_write_leaves_no_partial_file(sqlite_db, tmp_path: Path, monkeypatch) -> None:
    build_ledger(sqlite_db, END, 10)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "f.json"

    def boom(done: int, total: int) -> None:
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        export(sqlite_db, TZ, ExportSpec("json", out, batch_size=5), progress=boom)
    assert os.listdir(tmp_path / "out") == []


def test_read_only_target_dir_is_a_clear_error(sqlite_db, tmp_path: Path, monkeypatch) -> None:
    build_ledger(sqlite_db, END, 5)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.geteuid() == 0:  # root ignores directory permissions: simulate what the OS would say
            import tempfile

            def denied(*a, **k):
                raise PermissionError(13, "Permission denied")

            monkeypatch.setattr(tempfile, "mkstemp", denied)
        with pytest.raises(OperationError, match="cannot write to folder .*ro.*Permission denied"):
            export(sqlite_db, TZ, ExportSpec("csv", ro / "x.csv"))
        assert os.listdir(ro) == []
    finally:
        ro.chmod(0o755)
    with pytest.raises(OperationError, match="does not exist"):
        export(sqlite_db, TZ, ExportSpec("csv", tmp_path / "missing" / "x.csv"))


def test_bad_columns_and_format() -> None:
    with pytest.raises(InputError):
        parse_columns("id,bogus")
    assert parse_columns("id, cost") == ("id", "cost")
    with pytest.raises(InputError):
        ExportSpec("xml", Path("x")).validate()


def test_local_day_of_dated_and_instant_rows(sqlite_db, tmp_path: Path) -> None:
    at = datetime(2026, 3, 8, 3, 30, tzinfo=timezone.utc)  # Mar 7 22:30 in New York
    day = datetime(2026, 3, 8, tzinfo=timezone.utc)
    upsert_records(sqlite_db, [UsageRecord(DataSource.LOG, "i", "openai", at, at, computed_cost=Decimal("1")),
                               UsageRecord(DataSource.API, "d", "openai", day, day.replace(day=9),
                                           reported_cost=Decimal("2"))])
    out = tmp_path / "d.csv"
    export(sqlite_db, TZ, ExportSpec("csv", out, columns=("source", "start_utc", "local_day")))
    rows = {r["source"]: r for r in parse(out, "csv")}
    assert rows["log"]["local_day"] == "2026-03-07" and rows["log"]["start_utc"] == "2026-03-08T03:30:00Z"
    assert rows["api"]["local_day"] == "2026-03-08"
