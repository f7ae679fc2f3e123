"""A subscription's charge is in the ledger from its due day on, whatever ran that day: the CLI's commands that
show spend and the runtime's hourly tick write the charges that fell due since the subscription was added."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from aicost_desktop.app_context import AppContext
from aicost_desktop.domain.days import utc_midnight
from aicost_desktop.cli.main import main
from aicost_desktop.manual import add_subscription, charge_dates, materialize
from aicost_desktop.runtime import Runtime
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.ledger import delete_where
from aicost_desktop.storage.tables import UsageRow
from tests.unit.runtime.recorder import Recorder


def _charges(db: Database) -> list[str]:
    with db.session() as s:
        return sorted(d.date().isoformat() for d in s.scalars(
            select(UsageRow.bucket_start).where(UsageRow.source == "subscription")))


def _added_two_months_ago(db: Database) -> tuple[int, date]:
    """A monthly subscription added 61 days ago, starting that day: one charge then, one or two due since."""
    today = date.today()
    start = today - timedelta(days=61)
    sub = add_subscription(db, "ChatGPT Plus", "20", "monthly", start, provider="openai", today=start)
    assert _charges(db) == [start.isoformat()]
    return sub, start


def _due(start: date) -> list[str]:
    return [d.isoformat() for d in charge_dates(start, None, "monthly", date.today())]


def test_charges_that_fell_due_since_the_add_are_written_once(sqlite_db: Database) -> None:
    _, start = _added_two_months_ago(sqlite_db)
    due = _due(start)
    assert len(due) >= 3  # 61 days: the start and two renewals at least
    assert materialize(sqlite_db) == len(due) - 1
    assert _charges(sqlite_db) == due
    assert materialize(sqlite_db) == 0 and _charges(sqlite_db) == due


def test_with_nothing_due_it_takes_no_write_lock(tmp_path: Path) -> None:
    # Every reading CLI command calls it: it must not queue behind (or block) a writer when nothing is due.
    db = Database.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    add_subscription(db, "Claude Pro", "20", "monthly", date.today() - timedelta(days=3))
    writer = sqlite3.connect(tmp_path / "ledger.sqlite3", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        t = time.monotonic()
        assert materialize(db) == 0
        assert time.monotonic() - t < 2  # the busy timeout is 10 s: waiting for the lock would show
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        db.dispose()


def test_a_cli_report_shows_charges_that_fell_due_since_the_add(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    assert main(["--home", str(home), "--tz", "UTC", "manual", "list"]) == 0  # creates the ledger
    ctx = AppContext(home=home, tz="UTC")
    _, start = _added_two_months_ago(ctx.db)
    ctx.close()
    capsys.readouterr()
    assert main(["--home", str(home), "--tz", "UTC", "report", "--json", "--group-by", "day",
                 "--from", start.isoformat(), "--to", date.today().isoformat()]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [r["day"] for r in rows] == _due(start)
    # A command that shows no spend leaves the ledger alone.
    ctx = AppContext(home=home, tz="UTC")
    delete_where(ctx.db, UsageRow.source == "subscription", UsageRow.bucket_start > utc_midnight(start))
    assert main(["--home", str(home), "--tz", "UTC", "prices", "show", "gpt-4o"]) == 0
    assert _charges(ctx.db) == [start.isoformat()]
    ctx.close()


def test_the_runtime_tick_writes_due_charges_and_says_the_ledger_changed(ctx) -> None:  # type: ignore[no-untyped-def]
    _, start = _added_two_months_ago(ctx.db)
    rt = Runtime(ctx, alert_interval_s=3600)
    rec = Recorder()
    rec.listen(rt.sync.imports_finished, "imports_finished")
    wrote = threading.Event()
    rt.sync.wrote.connect(wrote.set)
    try:
        assert rt.sync.tick()
        rec.wait(lambda r: bool(r.of("imports_finished")))
        assert wrote.wait(5)
        assert _charges(ctx.db) == _due(start)
    finally:
        rt.stop(wait_s=10)


def test_an_edit_that_fails_half_way_leaves_the_subscription_and_its_charges_as_they_were(
        sqlite_db: Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import aicost_desktop.manual as manual

    sub, start = _added_two_months_ago(sqlite_db)
    materialize(sqlite_db)
    before = _charges(sqlite_db)

    def broken(**_kw: object) -> None:
        raise OSError("disk full")  # as if writing the new schedule failed after the old one was dropped

    monkeypatch.setattr(manual, "UsageRecord", broken)
    try:
        manual.update_subscription(sqlite_db, sub, "ChatGPT Pro", "200", "monthly", start, provider="openai")
    except OSError:
        pass
    else:
        raise AssertionError("the edit did not fail")
    monkeypatch.undo()
    assert _charges(sqlite_db) == before
    assert manual.get_subscription(sqlite_db, sub).service == "ChatGPT Plus"
    manual.update_subscription(sqlite_db, sub, "ChatGPT Pro", "200", "monthly", start, provider="openai")
    assert _charges(sqlite_db) == before  # the same dates, now at the new amount
    with sqlite_db.session() as s:
        assert set(s.scalars(select(UsageRow.reported_cost).where(UsageRow.subscription_id == sub))) == {200}
    manual.remove_subscription(sqlite_db, sub)
    assert _charges(sqlite_db) == []


def test_a_reading_command_that_fails_leaves_the_due_charges_unwritten(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    # A rejected command writes nothing (issue 15): the charges due are written before the handler reads spend,
    # and taken back when it then fails, at parsing its flags or at a filter naming nothing in the ledger.
    home = tmp_path / "home"
    assert main(["--home", str(home), "--tz", "UTC", "manual", "list"]) == 0
    ctx = AppContext(home=home, tz="UTC")
    _, start = _added_two_months_ago(ctx.db)
    capsys.readouterr()
    for argv in (["report", "--from", "2026-13-01"], ["report", "--provider", "opnai"],
                 ["export", "--format", "csv", "--out", str(tmp_path / "no" / "such" / "dir" / "x.csv")],
                 ["analytics", "reconcile", "--to", "yesterday"], ["analytics", "anomalies", "--min-dollars", "1e400"]):
        code = main(["--home", str(home), "--tz", "UTC", *argv])
        err = capsys.readouterr().err
        assert code in (1, 2) and err.startswith("error:"), (argv, code, err)
        assert _charges(ctx.db) == [start.isoformat()], argv
    # The next command that succeeds writes them.
    assert main(["--home", str(home), "--tz", "UTC", "report", "--json"]) == 0
    assert _charges(ctx.db) == _due(start)
    ctx.close()
