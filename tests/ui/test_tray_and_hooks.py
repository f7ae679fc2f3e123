"""Tray tooltip text, theme palettes, and the global excepthook (logs, counts, never silent)."""

from __future__ import annotations

import logging
import sys
import threading
from decimal import Decimal

from PySide6.QtGui import QPalette

from aicost_desktop.analytics.report import SpendSummary
from aicost_desktop.ui import excepthook, theme
from aicost_desktop.ui.tray import tooltip_text


def test_tooltip_text():
    s = SpendSummary(Decimal("1234.5"), Decimal("3"), "USD", 0)
    assert tooltip_text(s) == "AI Cost Tracker — $1,234.50 this month"
    assert tooltip_text(None) == "AI Cost Tracker"


def test_light_and_dark_palettes_are_readable():
    for kind in ("light", "dark"):
        pal = theme.palette(kind)
        text, base = pal.color(QPalette.ColorRole.Text), pal.color(QPalette.ColorRole.Base)
        assert abs(text.lightness() - base.lightness()) > 150, kind
        disabled = pal.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        assert abs(disabled.lightness() - base.lightness()) > 60, kind  # greyed, still legible


def test_app_icon_is_never_null(qapp):
    assert not theme.app_icon().isNull()


def test_excepthook_logs_and_counts(caplog, tmp_path):
    hook = excepthook.install(str(tmp_path / "log"), show_dialog=False)
    try:
        with caplog.at_level(logging.CRITICAL, logger="aicost.crash"):
            try:
                raise RuntimeError("kaboom")
            except RuntimeError:
                sys.excepthook(*sys.exc_info())
            t = threading.Thread(target=lambda: 1 / 0)
            t.start()
            t.join()
    finally:
        hook.uninstall()
    assert hook.errors == ["RuntimeError: kaboom", "ZeroDivisionError: division by zero"]
    assert "kaboom" in caplog.text
    assert sys.excepthook is not hook


def test_the_crash_dialog_shows_no_registered_secret(qtbot, tmp_path):
    """An uncaught error whose text holds a key (a provider echoing the Authorization header) reaches the
    dialog, its details and the log with the key replaced, whatever the key looks like."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    from aicost_desktop.domain import redact

    key = "gw_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    redact.register(key)
    hook = excepthook.install(str(tmp_path / "log"), show_dialog=True)
    try:
        try:
            raise RuntimeError(f"400 Bad Request: echo Authorization: Bearer {key}")
        except RuntimeError:
            sys.excepthook(*sys.exc_info())
        qtbot.waitUntil(lambda: any(isinstance(w, QMessageBox) and w.isVisible()
                                    for w in QApplication.topLevelWidgets()))
        box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
        shown = box.text() + box.detailedText()
        assert "400 Bad Request" in shown and key not in shown
        assert key not in hook.errors[0]
        box.close()
    finally:
        hook.uninstall()
