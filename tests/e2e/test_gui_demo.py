"""End to end: the real `aicost-desktop --demo` on a private Xvfb display with a tray host (trayer).

Checks that the main window maps, that the tray icon docks into trayer's panel, that the demo
data loads, and saves a screenshot to test-artifacts/gui-demo.png. External processes are
polled (there is no Qt signal to wait on across processes).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.x11 import display_with_tray, main_window_mapped, tray_docked, wait, window_tree

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def xdisplay():
    with display_with_tray(dict(os.environ), ("import",)) as env:
        yield env


def test_demo_window_tray_and_screenshot(xdisplay, tmp_path):
    env = {**xdisplay, "AICOST_TZ": "Europe/Belgrade"}
    env.pop("AICOST_HOME", None)
    home = tmp_path / "home"
    out = (tmp_path / "app.out").open("w")
    app = subprocess.Popen([sys.executable, "-m", "aicost_desktop", "--demo", "--home", str(home)],
                           env=env, stdout=out, stderr=subprocess.STDOUT)
    log = home / "logs" / "aicost.log"
    try:
        wait(lambda: main_window_mapped(window_tree(env)), 60, "the main window", app, log)
        wait(lambda: "tray icon shown" in (log.read_text() if log.exists() else ""), 30, "tray log line", app, log)
        wait(lambda: tray_docked(window_tree(env)), 30, "the tray icon to dock in trayer", app, log)
        wait(lambda: "sample data loaded" in log.read_text(), 120, "demo data", app, log)
        time.sleep(1.5)  # let the coalesced refresh repaint the docks before the screenshot
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "gui-demo.png"
        subprocess.run(["import", "-window", "root", str(shot)], env=env, check=True, timeout=60)
        assert shot.stat().st_size > 10_000
        text = log.read_text()
        assert "uncaught exception" not in text and " ERROR " not in text, text[-3000:]
    finally:
        app.send_signal(signal.SIGTERM)
        try:
            app.wait(15)
        except subprocess.TimeoutExpired:
            app.kill()
        out.close()
