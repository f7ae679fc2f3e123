"""Another process's write is noticed by an open ledger within one poll, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from aicost_desktop.domain.enums import DataSource
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.storage.change_watch import CHANNEL, WATCHED_TABLES, ChangeWatch
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.ledger import upsert_records

WRITER = """
import sys
from datetime import datetime, timezone
from aicost_desktop.domain.enums import DataSource
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.ledger import upsert_records
db = Database.open(sys.argv[1])
at = datetime(2026, 11, 2, tzinfo=timezone.utc)
upsert_records(db, [UsageRecord(DataSource.MANUAL, sys.argv[2], "openai", at, at, usage=TokenUsage(input_tokens=1))])
db.dispose()
"""


def _write_from_another_process(url: str, key: str) -> None:
    subprocess.run([sys.executable, "-c", WRITER, url, key], check=True, timeout=60)


def _seen_within(watch: ChangeWatch, seconds: float = 2) -> bool:
    """poll() until it says changed: PostgreSQL's NOTIFY reaches the listener over its socket after the
    writer's commit, so the first poll may come before it (the window polls on a timer likewise)."""
    deadline = time.monotonic() + seconds
    while not (seen := watch.poll()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return seen


def test_a_write_by_another_process_is_seen_once_and_reads_are_not(db_url: str) -> None:
    db = Database.open(db_url)
    watch = ChangeWatch(db)
    try:
        assert watch.active
        assert watch.poll() is False
        _write_from_another_process(db_url, "other-1")
        assert _seen_within(watch)
        assert watch.poll() is False  # seen once
        with db.session() as s:  # reading (and committing a read-only transaction) is not a change
            s.execute(__import__("sqlalchemy").text("SELECT count(*) FROM usage_records"))
        assert watch.poll() is False
        _write_from_another_process(db_url, "other-2")
        assert _seen_within(watch)
    finally:
        watch.close()
        db.dispose()


def test_the_postgresql_triggers_cover_every_watched_table(pg_url: str) -> None:
    from sqlalchemy import text

    db = Database.open(pg_url)
    try:
        with db.session() as s:
            rows = s.execute(text("SELECT event_object_table FROM information_schema.triggers "
                                  "WHERE trigger_name LIKE 'aicost_notify_%'")).scalars().all()
        assert set(rows) == set(WATCHED_TABLES)
        watch = ChangeWatch(db)
        other = Database.open(pg_url)  # another engine: server processes this ledger's watch does not own
        at = datetime(2026, 11, 2, tzinfo=timezone.utc)
        upsert_records(other, [UsageRecord(DataSource.MANUAL, "o", "openai", at, at, usage=TokenUsage(input_tokens=1))])
        assert _seen_within(watch) and CHANNEL == "aicost_ledger_changed"
        watch.close()
        other.dispose()
    finally:
        db.dispose()


def test_an_in_memory_ledger_is_not_watched() -> None:
    db = Database.open("sqlite://")
    try:
        watch = ChangeWatch(db)
        assert not watch.active and watch.poll() is False
    finally:
        db.dispose()


def _write_without_the_app(path: Path, statement: str) -> None:
    """A commit by another tool on the same file (sqlite3 itself: it knows nothing of the write counter)."""
    raw = sqlite3.connect(path)
    try:
        raw.execute(statement)
        raw.commit()
    finally:
        raw.close()


def _own_write(db: Database, key: str) -> None:
    at = datetime(2026, 11, 2, tzinfo=timezone.utc)
    upsert_records(db, [UsageRecord(DataSource.MANUAL, key, "openai", at, at, usage=TokenUsage(input_tokens=1))])


def test_this_process_own_writes_are_left_out_and_anothers_beside_them_are_not(db_url: str) -> None:
    """The process announces its own writes in-process; the watch reporting them too made every view reload a
    second time. Another process's commit in the same poll interval, before or after one of ours, is reported."""
    db = Database.open(db_url)
    watch = ChangeWatch(db)
    try:
        _own_write(db, "own-1")
        _own_write(db, "own-2")
        assert not _seen_within(watch, 1.0)  # PostgreSQL: the NOTIFYs arrive, from our own server processes
        _own_write(db, "own-3")
        _write_from_another_process(db_url, "other-1")
        assert _seen_within(watch)
        _write_from_another_process(db_url, "other-2")
        _own_write(db, "own-4")
        assert _seen_within(watch)
        assert not _seen_within(watch, 0.5)
        # An own write no in-process listener hears of (an account, an alert, a delivery's outcome) is still
        # reported: the watch is how every view learns of it (SQLite: it takes a counter value nobody marks;
        # PostgreSQL: its NOTIFY names another table than the usage rows).
        from aicost_desktop.storage.tables import Workspace

        with db.write_session() as s:
            s.add(Workspace(name="team"))
        assert _seen_within(watch)
    finally:
        watch.close()
        db.dispose()


def test_a_sqlite_writer_that_does_not_count_is_reported_and_an_empty_write_counts_nothing(tmp_path) -> None:
    """Another tool (or an older version) writes without the counter: data_version alone moves, and that is
    another's change. A write transaction that changed nothing takes no counter value (other windows stay put)."""
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    db = Database.open(url)
    watch = ChangeWatch(db)
    try:
        counter = lambda: db.engine.connect().execute(text("SELECT seq FROM write_seq")).scalar()  # noqa: E731
        before = counter()
        with db.write_session() as s:
            s.execute(text("SELECT count(*) FROM usage_records"))
        assert counter() == before and watch.poll() is False
        _own_write(db, "own")
        assert counter() == before + 1 and watch.poll() is False
        _write_without_the_app(tmp_path / "ledger.sqlite3", "PRAGMA user_version = 7")
        assert watch.poll() is True
    finally:
        watch.close()
        db.dispose()


def test_a_syncs_bookkeeping_is_announced_and_not_reported(tmp_path) -> None:
    """ORM changes are flushed at commit; the counter still sees them (the sync's account status and sync state,
    which its finished event announces, used to make every view reload a second time)."""
    from aicost_desktop.storage.own_writes import will_announce
    from aicost_desktop.storage.tables import Workspace

    db = Database.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    watch = ChangeWatch(db)
    try:
        with db.write_session() as s:
            will_announce(s)
            s.add(Workspace(name="announced"))  # pending until the commit flushes it
        assert watch.poll() is False
    finally:
        watch.close()
        db.dispose()


def test_a_counter_dropped_under_the_running_app_never_fails_a_write(tmp_path) -> None:
    from sqlalchemy import func, select

    from aicost_desktop.storage.tables import UsageRow

    path = tmp_path / "ledger.sqlite3"
    db = Database.open(f"sqlite:///{path}")
    watch = ChangeWatch(db)
    try:
        _own_write(db, "before")
        assert watch.poll() is False  # the counter's existence is known now
        _write_without_the_app(path, "DROP TABLE write_seq")
        assert watch.poll() is True
        _own_write(db, "after")  # raised "no such table: write_seq" and lost the row
        assert watch.poll() is True  # no counter: an own write reads as another's (one extra reload)
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(UsageRow)) == 2
    finally:
        watch.close()
        db.dispose()


def test_a_hand_edited_counter_counts_nothing_and_fails_no_write(tmp_path) -> None:
    path = tmp_path / "ledger.sqlite3"
    db = Database.open(f"sqlite:///{path}")
    watch = ChangeWatch(db)
    try:
        for value in ("'abc'", "1.5", "9223372036854775807"):  # the last: + 1 overflows into a float
            _write_without_the_app(path, f"UPDATE write_seq SET seq = {value}")
            _own_write(db, f"k{value}")
            assert watch.poll() is True, value
    finally:
        watch.close()
        db.dispose()
