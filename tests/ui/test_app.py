"""`aicost-desktop --smoke-test` in-process and in a fresh process; argument parsing; logging to the home dir."""

from __future__ import annotations

import os
import subprocess
import sys

from aicost_desktop.ui.app import main, parse_args


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
