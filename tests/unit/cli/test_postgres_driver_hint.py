"""A PostgreSQL URL without the optional driver installed says the one command that adds it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from aicost_desktop.cli.main import main


def test_postgres_url_without_driver_prints_the_install_command(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "psycopg" or m.startswith(("psycopg.", "psycopg2"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` raises ImportError, as when absent
    monkeypatch.setitem(sys.modules, "psycopg2", None)
    code = main(["--home", str(tmp_path), "--db", "postgresql://me@127.0.0.1:1/ledger", "report"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1, err
    assert err.rstrip().endswith(f"the PostgreSQL driver is not installed; add it with: {sys.executable} -m pip "
                                 "install 'psycopg[binary]>=3.1'")
