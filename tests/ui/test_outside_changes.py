"""Views are never stale: a write by another process (the CLI here) shows in the open window within 2 s."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest


@pytest.mark.slow
def test_a_cli_manual_entry_shows_in_the_open_window_within_two_seconds(qtbot, ctx):
    from aicost_desktop.ui.main_window import MainWindow

    win = MainWindow(ctx)  # builds and starts its own runtime, ledger watch included
    qtbot.addWidget(win)
    try:
        win.show()
        win.refresh_status()  # as ui/app.py does once the window is up
        qtbot.waitUntil(lambda: win.mtd_label.text() == "This month: $0.00", timeout=10_000)
        today = datetime.now(timezone.utc).date().isoformat()
        subprocess.run([sys.executable, "-m", "aicost_desktop.cli.main", "--home", str(ctx.paths.home), "--tz", "UTC",
                        "manual", "add", "--service", "Cursor", "--amount", "20", "--date", today],
                       check=True, capture_output=True, timeout=60)
        wrote = time.monotonic()
        qtbot.waitUntil(lambda: win.mtd_label.text() == "This month: $20.00", timeout=2_000)
        assert time.monotonic() - wrote < 2.0
    finally:
        win.runtime.stop(wait_s=10)
        win.close()
