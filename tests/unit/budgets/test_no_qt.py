"""The budget engine and the notifier core import no Qt (the GUI is the only Qt user)."""

from __future__ import annotations

import subprocess
import sys


def test_budgets_and_notify_import_without_qt() -> None:
    code = ("import sys, aicost_desktop.budgets.service, aicost_desktop.notify.alerts, aicost_desktop.notify.email;"
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'shiboken'))];"
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
