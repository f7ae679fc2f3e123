"""Eight `aicost` writers at once on one new SQLite ledger: `prices set` and `accounts add` queue for
the write lock (as the ledger writers do) instead of failing with "database is locked"."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
WRITERS, ROUNDS = 8, 3


def test_parallel_prices_set_and_accounts_add_never_fail_with_database_is_locked(tmp_path: Path) -> None:
    for binary in ("dbus-run-session", "gnome-keyring-daemon"):
        if shutil.which(binary) is None:
            pytest.skip(f"{binary} not installed (apt-get install dbus gnome-keyring); .ci/run installs it")
    pytest.importorskip("secretstorage")
    # The keys go to a real keychain (gnome-keyring in a private dbus session) shared by all writers.
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "xdg-data"), WRITER_KEY="sk-parallel-writer-key",
               AICOST_TZ="UTC", PYTHONPATH=os.pathsep.join([str(HERE.parent.parent / "src"), env.get("PYTHONPATH", "")]))
    script = (f"echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; "
              f"exec {sys.executable} {HERE / 'parallel_writers_session.py'} {tmp_path / 'home'} {WRITERS} {ROUNDS}")
    proc = subprocess.run(["dbus-run-session", "--", "sh", "-c", script], env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    assert data["crashes"] == []
    failed = [r for r in data["results"] if r["code"] != 0]
    assert failed == [], failed[:3]
    assert len(data["results"]) == 2 * WRITERS * ROUNDS
    n = WRITERS * ROUNDS
    # Every price and account (with its own workspace, plus 'default') was written exactly once.
    assert data["counts"] == {"accounts": n, "workspaces": n + 1, "price_overrides": n}
