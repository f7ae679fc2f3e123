"""The runtime's ledger watch: a CLI write from another process is announced within 2 seconds."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from aicost_desktop.runtime.ledger_watch import LedgerWatchService
from aicost_desktop.storage.db import Database


def test_a_cli_write_is_announced_within_two_seconds(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cli = [sys.executable, "-m", "aicost_desktop.cli.main", "--home", str(home)]
    subprocess.run([*cli, "manual", "list"], check=True, capture_output=True, timeout=60)  # creates the ledger
    db = Database.open(f"sqlite:///{home / 'ledger.sqlite3'}")
    service = LedgerWatchService(db, interval_s=0.2)
    seen = threading.Event()
    service.changed.connect(seen.set)
    service.start()
    try:
        assert service.ready.wait(10)  # the watch's first reading is taken before the write
        assert not seen.is_set()
        subprocess.run([*cli, "manual", "add", "--service", "X", "--amount", "3", "--date", "2026-11-02"],
                       check=True, capture_output=True, timeout=60)
        wrote = time.monotonic()
        assert seen.wait(2.0), "no change announced within 2 s of the CLI's commit"
        assert time.monotonic() - wrote < 2.0
    finally:
        service.stop()
        db.dispose()
