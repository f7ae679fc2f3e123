"""A Claude Code re-import with nothing new answers from the stored file states, without loading the
ledger's machinery, and says exactly what the full import would say."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from aicost_desktop.cli.main import main
from aicost_desktop.importers import claude_files
from aicost_desktop.storage.quick_state import files_unchanged


@pytest.fixture
def logs(tmp_path: Path, claude_home: Path) -> Path:
    dst = tmp_path / "claude"
    shutil.copytree(claude_home / ".claude", dst)
    return dst


@pytest.fixture
def run(tmp_path: Path, capsys):
    def _run(*argv: str) -> dict:
        assert main(["--home", str(tmp_path / "home"), "--tz", "UTC", *argv, "--json"]) == 0
        return json.loads(capsys.readouterr().out)
    return _run


def _full_import(tmp_path: Path, logs: Path) -> dict:
    """What the full import path reports on the same ledger."""
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.importers.runner import import_claude_code

    ctx = AppContext(home=tmp_path / "home", tz="UTC")
    try:
        return import_claude_code(ctx.db, ctx.catalog.cost_of, logs).to_dict()
    finally:
        ctx.close()


def test_nothing_new_reports_as_the_full_import_does(tmp_path: Path, logs: Path, run) -> None:
    first = run("import", "claude-code", "--path", str(logs))
    assert first["added"] > 0
    quick = run("import", "claude-code", "--path", str(logs))
    assert quick == _full_import(tmp_path, logs)
    assert (quick["added"], quick["files"]) == (0, first["files"])


def test_nothing_new_loads_no_sqlalchemy(tmp_path: Path, logs: Path, run) -> None:
    # A scheduled re-import is mostly the interpreter's start and imports: none of the ledger's machinery, nor
    # the GUI's log file handler (logging.handlers brings socket, pickle and queue).
    run("import", "claude-code", "--path", str(logs))
    code = ("import sys; from aicost_desktop.cli.main import main; "
            f"main(['--home', {str(tmp_path / 'home')!r}, 'import', 'claude-code', '--path', {str(logs)!r}]); "
            "print([m for m in ('sqlalchemy', 'logging.handlers') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.splitlines() == ["added 0, updated 0, skipped 0, rejected 0", "[]"], out.stderr


def test_a_grown_file_or_new_billing_goes_through_the_full_import(logs: Path, run) -> None:
    run("import", "claude-code", "--path", str(logs))
    session = sorted(logs.rglob("*.jsonl"))[0]
    line = {"timestamp": "2026-01-09T10:00:00.000Z", "sessionId": "s-new", "requestId": "req-new",
            "message": {"role": "assistant", "id": "msg-new", "model": "claude-sonnet-4-5-20250929",
                        "usage": {"input_tokens": 100, "output_tokens": 50}}}
    with session.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")
    assert run("import", "claude-code", "--path", str(logs))["added"] == 1
    again = run("import", "claude-code", "--path", str(logs), "--billing", "subscription")
    assert again["updated"] > 0  # every row re-made as covered by the plan: not answered from the states


def test_the_states_prove_nothing_when_in_doubt(tmp_path: Path, logs: Path, run) -> None:
    run("import", "claude-code", "--path", str(logs))
    db = tmp_path / "home" / "ledger.sqlite3"
    url = f"sqlite:///{db}"
    files = claude_files.file_keys(claude_files.roots_for_path(logs))
    settings = claude_files.settings_key("per_token", None)
    assert files_unchanged(url, "claude-code", files, settings)
    assert not files_unchanged(url, "claude-code", files, claude_files.settings_key("subscription", None))
    assert not files_unchanged(url, "claude-code", [*files, (str(logs / "new.jsonl"), str(logs / "new.jsonl"))], settings)
    assert not files_unchanged("postgresql://x/y", "claude-code", files, settings)
    assert not files_unchanged(f"sqlite:///{tmp_path}/missing.db", "claude-code", files, settings)
    with sqlite3.connect(db) as con:  # a ledger at another schema revision needs the real open (migrations)
        con.execute("UPDATE alembic_version SET version_num = '0004'")
    assert not files_unchanged(url, "claude-code", files, settings)
