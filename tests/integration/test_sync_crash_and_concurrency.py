"""A sync killed mid-way leaves a consistent ledger that the next sync completes; two processes sharing
one PostgreSQL ledger can sync the same account at once with exact totals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from aicost_desktop.analytics.report import spend_report
from aicost_desktop.storage.query import LedgerFilter
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import UsageHourly, UsageRow
from tests.fakes.openai_fake import ADMIN_KEY, OpenAIFake

SCRIPT = Path(__file__).with_name("sync_worker_script.py")
ROOT = Path(__file__).parents[2]


def spawn(home: Path, db_url: str, base: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, str(SCRIPT), str(home), db_url, base, ADMIN_KEY], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def openai_total(db: Database, now: datetime) -> Decimal:
    return spend_report(db, ZoneInfo("UTC"), (now - timedelta(days=120)).date(), now.date(),
                        filters=LedgerFilter.of(provider="openai")).total


def consistent(db: Database) -> tuple[int, bool]:
    with db.session() as s:
        n = s.scalar(select(func.count()).select_from(UsageRow))
        raw = s.scalar(select(func.sum(UsageRow.cost)))
        rolled = s.scalar(select(func.sum(UsageHourly.cost)))
        rows = s.scalar(select(func.sum(UsageHourly.rows)))
    return n, raw == rolled and (rows or 0) == n


def wait_for(predicate, timeout: float = 60.0) -> None:
    # Polling a cross-process condition (no Qt signal exists for another process): bounded and fast.
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the other process")
        time.sleep(0.05)


def test_process_killed_mid_sync_then_restarted(tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with OpenAIFake(now=now, days=40) as fake:
        fake.inject_delay(0, times=4)
        fake.inject_delay(60, times=1)  # the 5th request hangs: the process is mid-sync when killed
        proc = spawn(tmp_path / "home", url, fake.base_url + "/v1")
        try:
            wait_for(lambda: len(fake.requests) >= 5)
            time.sleep(0.3)  # let the committed pages settle; the kill is what we test
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
        db = Database.open(url)
        n, ok = consistent(db)
        assert n > 0 and ok, "the ledger after a kill holds whole pages and a matching roll-up"
        partial = openai_total(db, now)
        fake.clear_injections()
        again = spawn(tmp_path / "home", url, fake.base_url + "/v1")
        out, err = again.communicate(timeout=120)
        assert again.returncode == 0, err[-2000:]
        expected = fake.expected_cost(now - timedelta(days=90), now + timedelta(days=1))
        assert openai_total(db, now) == expected
        assert partial <= expected
        assert consistent(db)[1]
        db.dispose()


def test_two_processes_sync_same_account_on_postgres(pg_url: str, tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    Database.open(pg_url).dispose()  # migrate once before the race
    with OpenAIFake(now=now, days=40) as fake:
        procs = [spawn(tmp_path / f"home{i}", pg_url, fake.base_url + "/v1") for i in range(2)]
        outs = [p.communicate(timeout=180) for p in procs]
        for p, (out, err) in zip(procs, outs):
            assert p.returncode == 0, err[-2000:] + out[-500:]
            assert "deadlock" not in err.lower()
        expected = fake.expected_cost(now - timedelta(days=90), now + timedelta(days=1))
    db = Database.open(pg_url)
    assert openai_total(db, now) == expected
    assert consistent(db)[1]
    with db.session() as s:
        dupes = s.execute(select(UsageRow.source, UsageRow.dedup_key, func.count())
                          .group_by(UsageRow.source, UsageRow.dedup_key).having(func.count() > 1)).all()
    assert dupes == []
    db.dispose()
