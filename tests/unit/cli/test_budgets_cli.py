"""`aicost budgets|alerts|check`: the done-when scenario, JSON shapes, and bad input for every flag."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from aicost_desktop.cli.main import main
from aicost_desktop.storage.db import Database
from tests.unit.budgets.helpers import spend_on

ALERT_KEYS = {"id", "type", "budget", "threshold", "message", "current_usage", "budget_limit", "currency",
              "period_start", "sent_at", "acknowledged"}


def run(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--home", str(home), "--tz", "UTC", *args])
    out, err = capsys.readouterr()
    return code, out, err


def set_spend(home: Path, amount: str) -> None:
    """Today's manual-like spend (one dated row, re-upserted with a new amount: a re-sync)."""
    db = Database.open(f"sqlite:///{home / 'ledger.sqlite3'}")
    try:
        spend_on(db, datetime.now(ZoneInfo("UTC")).date(), amount, "manual:today")
    finally:
        db.dispose()


def test_done_when_four_checks_three_threshold_alerts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, tmp_path, "budgets", "add", "--name", "Monthly", "--amount", "10",
                         "--period", "monthly", "--thresholds", "50,80,100")
    assert code == 0, err
    for amount in ("4", "6", "9", "11"):
        set_spend(tmp_path, amount)
        code, out, err = run(capsys, tmp_path, "check")
        assert code == 0, err
    code, out, _ = run(capsys, tmp_path, "alerts", "list", "--json")
    alerts = json.loads(out)
    assert code == 0 and len(alerts) == 3
    assert all(set(a) == ALERT_KEYS for a in alerts)
    assert sorted(a["threshold"] for a in alerts) == ["100", "50", "80"]
    assert all(a["type"] == "threshold" and a["budget"] == "Monthly" and a["currency"] == "USD" for a in alerts)
    by = {a["threshold"]: a for a in alerts}
    assert (by["50"]["current_usage"], by["80"]["current_usage"], by["100"]["current_usage"]) == ("6.00", "9.00", "11.00")
    assert by["100"]["budget_limit"] == "10.00" and by["100"]["acknowledged"] is False
    run(capsys, tmp_path, "check")
    set_spend(tmp_path, "11")
    run(capsys, tmp_path, "check")
    code, out, _ = run(capsys, tmp_path, "alerts", "list", "--json")
    assert len(json.loads(out)) == 3


def test_status_ack_and_unacknowledged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, tmp_path, "budgets", "add", "--name", "B", "--amount", "10", "--email", "a@example.com",
        "b@example.com", "--forecast", "--on-exceed", "require_ack")
    set_spend(tmp_path, "12")
    code, out, _ = run(capsys, tmp_path, "check")
    assert code == 0 and "2 email(s) waiting" in out
    code, out, _ = run(capsys, tmp_path, "budgets", "status", "--json")
    [st] = json.loads(out)
    assert (st["spent"], st["limit"], st["percent"], st["state"]) == ("12.00", "10.00", "120.0", "exceeded")
    assert set(st) >= {"forecast", "days_left", "period_start", "period_end"}
    code, out, _ = run(capsys, tmp_path, "budgets", "list", "--json")
    [b] = json.loads(out)
    assert b["emails"] == ["a@example.com", "b@example.com"] and b["forecast_alert"] is True
    ids = [a["id"] for a in json.loads(run(capsys, tmp_path, "alerts", "list", "--json")[1])]
    code, out, _ = run(capsys, tmp_path, "alerts", "ack", str(ids[0]))
    assert code == 0 and "acknowledged" in out
    left = json.loads(run(capsys, tmp_path, "alerts", "list", "--json", "--unacknowledged")[1])
    assert [a["id"] for a in left] == ids[1:]
    assert run(capsys, tmp_path, "alerts", "ack", "999")[0] == 2
    assert run(capsys, tmp_path, "alerts", "ack", "x")[0] == 2
    code, out, _ = run(capsys, tmp_path, "budgets", "status")
    assert "exceeded" in out and "left" in out
    assert run(capsys, tmp_path, "budgets", "remove", "B")[0] == 0
    assert json.loads(run(capsys, tmp_path, "budgets", "list", "--json")[1]) == []
    assert len(json.loads(run(capsys, tmp_path, "alerts", "list", "--json")[1])) == len(ids)  # log kept
    assert run(capsys, tmp_path, "budgets", "remove", "B")[0] == 2


BASE = ["budgets", "add", "--name", "N", "--amount", "10"]


@pytest.mark.parametrize("args, flag, value", [
    (["budgets", "add", "--name", "", "--amount", "10"], "name", ""),
    (["budgets", "add", "--name", "x" * 121, "--amount", "10"], "name", "x" * 121),
    (["budgets", "add", "--name", "N", "--amount", "ten"], "amount", "ten"),
    (["budgets", "add", "--name", "N", "--amount", "0"], "amount", "0"),
    (["budgets", "add", "--name", "N", "--amount=-5"], "amount", "-5"),
    (["budgets", "add", "--name", "N", "--amount", "NaN"], "amount", "NaN"),
    (BASE + ["--period", "hourly"], "period", "hourly"),
    (BASE + ["--scope", "team:x"], "scope", "team:x"),
    (BASE + ["--scope", "provider:"], "scope", "provider:"),
    (BASE + ["--scope", "account:nope"], "scope", "account:nope"),
    (BASE + ["--scope", "source:fax"], "scope", "source:fax"),
    (BASE + ["--thresholds", "80,50"], "thresholds", "80,50"),
    (BASE + ["--thresholds", "0,50"], "thresholds", "0,50"),
    (BASE + ["--thresholds", "50,1001"], "thresholds", "50,1001"),
    (BASE + ["--thresholds", "50,,100"], "thresholds", "50,,100"),
    (BASE + ["--thresholds", "fifty"], "thresholds", "fifty"),
    (BASE + ["--email", "not-an-email"], "email", "not-an-email"),
    (BASE + ["--email", "ok@example.com", "x@y"], "email", "x@y"),
    (BASE + ["--currency", "XYZ"], "currency", "XYZ"),
    (BASE + ["--on-exceed", "explode"], "on-exceed", "explode"),
    (BASE + ["--on-exceed", "pause_key"], "on-exceed", "pause_key"),
    (BASE + ["--on-exceed", "pause_key", "--pause-account", "nope", "--pause-key", "h"], "pause-account", "nope"),
    (BASE + ["--quiet-start", "25:00", "--quiet-end", "07:00"], "quiet-start", "25:00"),
    (BASE + ["--quiet-start", "22:00"], "quiet-end", "22:00"),
])
def test_bad_input_exits_2_naming_flag_and_value(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 args: list[str], flag: str, value: str) -> None:
    code, out, err = run(capsys, tmp_path, *args)
    assert code == 2, (out, err)
    assert err.startswith(f"error: {flag}={value!r}") or (flag in err and value in err), err
    assert json.loads(run(capsys, tmp_path, "budgets", "list", "--json")[1]) == []


def test_duplicate_name_and_argparse_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, tmp_path, *BASE)[0] == 0
    code, _, err = run(capsys, tmp_path, *BASE)
    assert code == 2 and "name='N'" in err
    code, _, err = run(capsys, tmp_path, "budgets", "add", "--name", "M")
    assert code == 2 and "--amount" in err
    code, _, err = run(capsys, tmp_path, "budgets", "add", "--name", "M", "--amount", "1", "--email")
    assert code == 2 and "--email" in err
    assert len(json.loads(run(capsys, tmp_path, "budgets", "list", "--json")[1])) == 1


def test_check_with_no_budgets_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, tmp_path, "check")
    assert code == 0 and "0 new alert(s)" in out
    assert json.loads(run(capsys, tmp_path, "alerts", "list", "--json")[1]) == []


def test_status_text_shows_the_forecast_band_and_the_state_in_words(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from decimal import Decimal

    from aicost_desktop.domain.money import format_money

    assert run(capsys, tmp_path, "demo", "--days", "40")[0] == 0
    run(capsys, tmp_path, "budgets", "add", "--name", "Monthly", "--amount", "100000")
    [st] = json.loads(run(capsys, tmp_path, "budgets", "status", "--json")[1])
    lower, upper = Decimal(st["forecast_lower"]), Decimal(st["forecast_upper"])
    assert lower <= Decimal(st["forecast"]) <= upper and lower < upper
    code, out, _ = run(capsys, tmp_path, "budgets", "status")
    header, row = out.splitlines()[:2]
    assert "80% band" in header and "on track" in row and "ok" not in row.split()
    assert f"{format_money(lower)}–{format_money(upper)}" in row  # the band the window shows, in the one format
