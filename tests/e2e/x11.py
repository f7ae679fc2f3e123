"""What the end-to-end GUI tests share: a private Xvfb display with trayer as tray host, polling helpers,
and reading the window tree (external processes have no Qt signal to wait on, so they are polled)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


def tail(path: Path | None, n: int = 3000) -> str:
    return path.read_text(errors="replace")[-n:] if path is not None and path.exists() else ""


def wait(predicate: Callable[[], Any], timeout: float, what: str, proc: subprocess.Popen | None = None,
         log: Path | None = None) -> Any:
    """Poll until predicate() is truthy (returns it); fails naming `what`, with the app log's tail, when the
    time runs out or `proc` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"app exited with {proc.returncode} while waiting for {what}\n{tail(log)}")
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{tail(log)}")


def window_tree(env: dict[str, str]) -> str:
    return subprocess.run(["xwininfo", "-root", "-tree"], env=env, capture_output=True, text=True,
                          timeout=20).stdout


def main_window_mapped(tree: str) -> bool:
    return any(int(w) > 400 and int(h) > 300
               for w, h in re.findall(r'"AI Cost Tracker": \([^)]*\)\s+(\d+)x(\d+)', tree))


def tray_docked(tree: str) -> bool:
    """trayer's "panel" window has our icon window ("AI Cost Tracker") among its descendants."""
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


@contextmanager
def display_with_tray(base_env: dict[str, str], tools: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """Start Xvfb (it picks a free display) and trayer on it; yields `base_env` with DISPLAY set and Qt on xcb.
    Skips when a tool is missing (CI=true turns that skip into a failure)."""
    missing = [t for t in ("Xvfb", "trayer", "xwininfo", *tools) if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install xvfb trayer x11-utils xdotool imagemagick)")
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    procs = [xvfb]
    try:
        with os.fdopen(read_fd) as fh:
            number = fh.readline().strip()
        assert number, "Xvfb did not report a display number"
        env = {**base_env, "DISPLAY": f":{number}", "QT_QPA_PLATFORM": "xcb"}
        procs.append(_start_trayer(env))
        yield env
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def _start_trayer(env: dict[str, str], attempts: int = 3, timeout: float = 30) -> subprocess.Popen:
    """trayer on env's display once its panel is mapped. One that exits, or shows no panel in `timeout` (seen
    once on a loaded 2-core machine, after 20 s), is started again; the failure says what it printed."""
    said = ""
    for _ in range(attempts):
        with tempfile.TemporaryFile("w+") as err:  # a file, not a pipe: trayer lives as long as the display
            proc = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                                     "--height", "24"], env=env, stdout=subprocess.DEVNULL, stderr=err)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and proc.poll() is None:
                if '"panel"' in window_tree(env):
                    return proc
                time.sleep(0.2)
            proc.kill()
            proc.wait()
            err.seek(0)
            said = err.read()[-2000:]
    pytest.fail(f"trayer showed no panel in {attempts} tries of {timeout:.0f}s; it said:\n{said}")
