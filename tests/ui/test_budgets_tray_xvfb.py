"""A real tray notification for a budget alert, under Xvfb with a tray host (trayer); skips without them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.x11 import display_with_tray

SCRIPT = r'''
import json, sys
from datetime import datetime
from PySide6.QtWidgets import QApplication, QSystemTrayIcon
from PySide6.QtGui import QIcon, QPixmap, QColor
from PySide6.QtCore import QThreadPool, QTimer
app = QApplication([])
from aicost_desktop.app_context import AppContext
from aicost_desktop.secrets import MemorySecretStore
from aicost_desktop.budgets.model import BudgetSpec, add_budget
from aicost_desktop.runtime import Runtime
from aicost_desktop.ui.bus import LedgerBus
from aicost_desktop.ui.services import ShellHooks, build_services
from tests.unit.budgets.helpers import spend_on
ctx = AppContext(home=sys.argv[1], tz="UTC", secrets=MemorySecretStore())
out = {"available": QSystemTrayIcon.isSystemTrayAvailable(), "messages": QSystemTrayIcon.supportsMessages()}
pm = QPixmap(32, 32); pm.fill(QColor("#2f6fdb"))
icon = QSystemTrayIcon(QIcon(pm)); icon.show()
shown = []
def notify(title, text, on_click=None):
    icon.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 5000)
    shown.append([title, text])
runtime = Runtime(ctx)
services = build_services(ctx, runtime, pool=QThreadPool(), bus=LedgerBus(), shell=ShellHooks(notify=notify))
add_budget(ctx.db, BudgetSpec.build(name="OpenAI", amount="100"))
spend_on(ctx.db, datetime.now(ctx.tz).date(), "81", "a")
n = services.alerts
def done(_r):
    QTimer.singleShot(500, app.quit)
n.evaluated.connect(done)
n.evaluate_now()
QTimer.singleShot(15000, app.quit)
app.exec()
out["visible"] = icon.isVisible()
out["shown"] = shown
print(json.dumps(out))
runtime.stop()
services.pool.waitForDone(5000)
'''


@pytest.fixture
def display(tmp_path: Path):
    # Xvfb picks a free display and trayer's panel is waited for (tests/e2e/x11.py), no fixed sleeps.
    with display_with_tray(dict(os.environ), ()) as env:
        yield env


def test_tray_notification_for_threshold_alert(display: dict[str, str], tmp_path: Path) -> None:
    env = {**display, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "home")], env=env, capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0 and "could not connect to display" in r.stderr + r.stdout:
        pytest.skip("X display did not start")
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    if not out["available"]:
        pytest.skip("no system tray on the Xvfb display (trayer did not register)")
    assert out["visible"] is True
    assert out["shown"] == [["OpenAI: 80% of budget", out["shown"][0][1]]]
    assert "$81.00 of $100.00 (81%)" in out["shown"][0][1]
