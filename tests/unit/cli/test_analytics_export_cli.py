"""`aicost export` and `aicost analytics` end to end: sums equal `aicost report --json`, injection, errors."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from aicost_desktop.cli.main import main


def run(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--home", str(home), *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def home(ledger_home: Path, capsys) -> Path:
    h = ledger_home
    assert run(capsys, h, "demo", "--days", "60", "--seed", "4")[0] == 0
    return h


@pytest.mark.parametrize("tz", ["UTC", "America/Los_Angeles"])
def test_export_sum_equals_report_total_to_the_cent(home: Path, tmp_path: Path, capsys, tz: str) -> None:
    out = tmp_path / "all.csv"
    rng = ("--from", "2000-01-01", "--to", "2100-01-01")
    code, text, _ = run(capsys, home, "--tz", tz, "export", "--format", "csv", "--out", str(out), *rng)
    assert code == 0 and "exported" in text
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    code, text, _ = run(capsys, home, "--tz", tz, "report", "--json", *rng)
    report = json.loads(text)
    total = sum(Decimal(r["cost"]) for r in rows)
    assert total.quantize(Decimal("0.01")) == Decimal(report["total"])
    # The same window on both sides: `report` ends today by default and `export` takes every row, which differ
    # while a provider's UTC-dated bucket for tomorrow exists (in Los Angeles, from 16:00 local time on).
    code, text, _ = run(capsys, home, "--tz", tz, "report", "--json", *rng, "--provider", "openai")
    out2 = tmp_path / "oa.ndjson"
    run(capsys, home, "--tz", tz, "export", "--format", "ndjson", "--out", str(out2), *rng, "--provider", "openai")
    rows2 = [json.loads(x) for x in out2.read_text().splitlines()]
    assert sum(Decimal(r["cost"]) for r in rows2).quantize(Decimal("0.01")) == Decimal(json.loads(text)["total"])


def test_hyperlink_note_exports_inert(tmp_path: Path, capsys) -> None:
    home = tmp_path / "h"
    code, _, err = run(capsys, home, "manual", "add", "--service", "Test", "--amount", "5", "--date", "2026-03-01",
                       "--note", '=HYPERLINK("http://x")')
    assert code == 0, err
    out = tmp_path / "m.csv"
    assert run(capsys, home, "export", "--out", str(out), "--bom", "--columns", "id,note,cost")[0] == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"'=HYPERLINK" in raw
    with out.open(encoding="utf-8-sig", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["note"] == '\'=HYPERLINK("http://x")' and row["cost"] == "5.00"


def test_export_errors(tmp_path: Path, capsys) -> None:
    home = tmp_path / "h"
    code, _, err = run(capsys, home, "export", "--out", str(tmp_path / "x.csv"), "--columns", "id,nope")
    assert code == 2 and "columns" in err
    code, _, err = run(capsys, home, "export", "--out", str(tmp_path / "no" / "x.csv"))
    assert code == 1 and "does not exist" in err
    code, _, err = run(capsys, home, "export", "--out", str(tmp_path / "x.csv"), "--account", "ghost")
    assert code == 2 and "account" in err
    assert not (tmp_path / "x.csv").exists()


def test_analytics_commands(home: Path, capsys) -> None:
    code, text, _ = run(capsys, home, "analytics", "forecast", "--days", "30", "--json")
    data = json.loads(text)
    assert code == 0 and len(data["daily"]) == 30 and Decimal(data["month"]["projection"]) > 0
    code, text, _ = run(capsys, home, "analytics", "forecast")
    assert code == 0 and "This month" in text
    code, text, _ = run(capsys, home, "analytics", "anomalies", "--json", "--alert")
    data = json.loads(text)
    assert code == 0 and data["anomalies"] and data["alerts_raised"] == len(data["anomalies"])
    assert any("gpt-5" in a["explanation"] for a in data["anomalies"])
    code, text, _ = run(capsys, home, "analytics", "reconcile", "--json")
    assert code == 0 and "accounts" in json.loads(text)
    code, text, _ = run(capsys, home, "analytics", "reconcile", "--all")
    assert code == 0 and "Reported vs computed" in text
    code, _, err = run(capsys, home, "analytics", "anomalies", "--from", "2026-02-01", "--to", "2026-01-01")
    assert code == 2 and "before" in err
