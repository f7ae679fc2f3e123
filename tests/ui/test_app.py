"""`aicost-desktop --smoke-test` in-process and in a fresh process; argument parsing; logging to the home dir."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aicost_desktop.ui.app import main, parse_args
from aicost_desktop.ui.main_window import WINDOW_INI


def test_smoke_test_in_process(tmp_path, capsys):
    assert main(["--home", str(tmp_path / "h"), "--smoke-test"]) == 0
    assert "smoke-test: ok (5 docks)" in capsys.readouterr().out
    assert (tmp_path / "h" / "ledger.sqlite3").exists()  # migrations ran on start
    assert "starting AI Cost Tracker" in (tmp_path / "h" / "logs" / "aicost.log").read_text()


def test_smoke_test_fresh_process_offscreen(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-m", "aicost_desktop", "--home", str(tmp_path / "h"), "--smoke-test",
                           "--tz", "Asia/Kolkata"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "smoke-test: ok" in proc.stdout


def test_smoke_test_fails_on_bad_database(tmp_path, capsys):
    assert main(["--home", str(tmp_path / "h"), "--db", "mysql://nope", "--smoke-test"]) == 1
    assert "cannot open the ledger" in capsys.readouterr().err


def test_parse_args():
    a = parse_args(["--home", "/x", "--db", "sqlite:///y", "--tz", "UTC", "--demo"])
    assert (a.home, a.db, a.tz, a.demo, a.smoke_test) == ("/x", "sqlite:///y", "UTC", True, False)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_terminate_or_interrupt_signal_quits_like_file_quit(tmp_path, signum):
    """`kill` (a logout, a service manager) or Ctrl+C: the app quits the File > Quit way, exit code 0, the
    layout saved and its single-instance socket removed, instead of dying with the socket left in /tmp."""
    from aicost_desktop.ui.single_instance import server_name

    import shutil
    import tempfile

    home = tmp_path / "h"
    # Qt's socket is in TMPDIR: a short one (a Unix socket path has 107 bytes, which tmp_path may exceed)
    tmp = Path(tempfile.mkdtemp(prefix="aq", dir="/tmp" if os.path.isdir("/tmp") else None))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TMPDIR": str(tmp)}
    proc = subprocess.Popen([sys.executable, "-m", "aicost_desktop", "--home", str(home), "--tz", "UTC"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log_file = home / "logs" / "aicost.log"
    socket_file = tmp / server_name(str(home))
    try:
        deadline = time.monotonic() + 90
        while not (log_file.exists() and "main window ready" in log_file.read_text()):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1][-2000:]
            time.sleep(0.1)
        assert socket_file.exists()
        proc.send_signal(signum)
        _out, err = proc.communicate(timeout=60)
        gone = not socket_file.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    assert proc.returncode == 0, err[-2000:]
    # stderr too: a signal Python ran no handler for says so there ("Signal 15 ignored due to race condition")
    assert f"{signal.Signals(signum).name} received: quitting" in log_file.read_text(), err[-2000:]
    assert gone, err[-2000:]
    assert "window\\state" in (home / WINDOW_INI).read_text() or "[window]" in (home / WINDOW_INI).read_text()
