"""End to end: the real `aicost-desktop --demo` on a private Xvfb display with a tray host (trayer).

Checks that the main window maps, that the tray icon docks into trayer's panel, that the demo
data loads, and saves a screenshot to test-artifacts/gui-demo.png. External processes are
polled (there is no Qt signal to wait on across processes).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
TOOLS = ("Xvfb", "trayer", "xwininfo", "import")


def _need_tools() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"e2e GUI test needs {', '.join(missing)} (apt-get install xvfb trayer x11-utils imagemagick)")


def _wait(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            pytest.fail(f"app exited with {proc.returncode} while waiting for {what}\n{tail}")
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{tail}")


def _tree(env: dict[str, str]) -> str:
    return subprocess.run(["xwininfo", "-root", "-tree"], env=env, capture_output=True, text=True,
                          timeout=20).stdout


def _tray_docked(tree: str) -> bool:
    """True when trayer's "panel" window has an "AI Cost Tracker" window (our icon) among its descendants."""
    lines = tree.splitlines()
    for i, line in enumerate(lines):
        if '"panel"' in line and "trayer" in line:
            indent = len(line) - len(line.lstrip())
            for sub in lines[i + 1:]:
                if sub.strip() and len(sub) - len(sub.lstrip()) <= indent:
                    break
                if '"AI Cost Tracker"' in sub:
                    return True
    return False


def _main_window_mapped(tree: str) -> bool:
    for m in re.finditer(r'"AI Cost Tracker": \([^)]*\)\s+(\d+)x(\d+)', tree):
        if int(m.group(1)) > 400 and int(m.group(2)) > 300:
            return True
    return False


@pytest.fixture
def xdisplay(tmp_path):
    _need_tools()
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    procs = [xvfb]
    try:
        with os.fdopen(read_fd) as fh:
            number = fh.readline().strip()
        if not number:
            pytest.skip("Xvfb did not start (no display number on -displayfd)")
        env = {**os.environ, "DISPLAY": f":{number}", "QT_QPA_PLATFORM": "xcb"}
        trayer = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                                   "--height", "24"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(trayer)
        _wait(lambda: '"panel"' in _tree(env), 20, "trayer's panel")
        yield env
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def test_demo_window_tray_and_screenshot(xdisplay, tmp_path):
    env = {**xdisplay, "AICOST_TZ": "Europe/Belgrade"}
    env.pop("AICOST_HOME", None)
    home = tmp_path / "home"
    out = (tmp_path / "app.out").open("w")
    app = subprocess.Popen([sys.executable, "-m", "aicost_desktop", "--demo", "--home", str(home)],
                           env=env, stdout=out, stderr=subprocess.STDOUT)
    log = home / "logs" / "aicost.log"
    try:
        _wait(lambda: _main_window_mapped(_tree(env)), 60, "the main window", app, log)
        _wait(lambda: "tray icon shown" in (log.read_text() if log.exists() else ""), 30, "tray log line", app, log)
        _wait(lambda: _tray_docked(_tree(env)), 30, "the tray icon to dock in trayer", app, log)
        _wait(lambda: "sample data loaded" in log.read_text(), 120, "demo data", app, log)
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
