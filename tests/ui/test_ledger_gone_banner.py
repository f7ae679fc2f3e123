"""A ledger file deleted under the running window is noticed by the periodic check and shown in a banner."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel

from aicost_desktop.ui.main_window import LEDGER_CHECK_MS, MainWindow


def test_deleted_ledger_shows_a_banner_and_checking_stops(qtbot, ctx) -> None:
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    try:
        assert w._ledger_check.isActive() and w._ledger_check.interval() == LEDGER_CHECK_MS
        assert w.check_ledger_file() and w.findChild(QLabel, "ledgerGoneBanner") is None
        for suffix in ("", "-wal", "-shm"):
            Path(f"{ctx.paths.database}{suffix}").unlink(missing_ok=True)
        assert not w.check_ledger_file()
        banner = w.findChild(QLabel, "ledgerGoneBanner")
        assert banner is not None and not banner.isHidden() and "was deleted or replaced" in banner.text()
        assert str(ctx.paths.database) in banner.text()
        assert not w._ledger_check.isActive()
    finally:
        w.shutdown()
