"""`aicost import ...`: output, JSON, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aicost_desktop.cli.main import main


@pytest.fixture
def run(tmp_path: Path, capsys):
    def _run(*argv: str) -> tuple[int, str, str]:
        code = main(["--home", str(tmp_path / "home"), "--db", f"sqlite:///{tmp_path}/l.db", *argv])
        out, err = capsys.readouterr()
        return code, out, err
    return _run


def test_claude_code_import_prints_counts_and_rejects(run, claude_home: Path) -> None:
    code, out, _ = run("import", "claude-code", "--path", str(claude_home / ".claude"))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "added 6, updated 0, skipped 5, rejected 3"
    assert lines[1].endswith("session-a.jsonl:6: malformed JSON (Expecting value at column 74)")
    assert "session-a.jsonl:13: message.usage.input_tokens='many'" in lines[2]
    code, out, _ = run("import", "claude-code", "--path", str(claude_home / ".claude"))
    assert out.splitlines()[0] == "added 0, updated 0, skipped 0, rejected 0"  # unchanged files are not read again


def test_json_report(run, codex_home: Path) -> None:
    code, out, _ = run("import", "codex", "--path", str(codex_home), "--billing", "subscription", "--json")
    data = json.loads(out)
    assert code == 0
    assert (data["added"], data["updated"], data["skipped"], data["rejected"], data["files"]) == (6, 0, 1, 1, 3)
    assert data["rejected_rows"][0]["line"] == 9 and data["rejected_rows"][0]["file"].endswith("aaaa.jsonl")


def test_csv_import(run, csv_dir: Path) -> None:
    code, out, _ = run("import", "csv", "--format", "anthropic-cost", str(csv_dir / "anthropic_cost.csv"))
    assert code == 0
    assert out.splitlines() == [
        "added 5, updated 0, skipped 0, rejected 2",
        "  line 7: cost_usd='-0.30': must not be negative",
        "  line 8: usage_date_utc='August': must be a date YYYY-MM-DD or an ISO 8601 timestamp"]


def test_generic_csv_with_maps(run, csv_dir: Path) -> None:
    code, out, _ = run("import", "csv", "--format", "generic", str(csv_dir / "generic.csv"),
                       "--map", "Day=date", "--map", "Cost=amount", "--map", "Cur=currency", "--map", "Memo=note")
    assert code == 0 and out.startswith("added 5, updated 0, skipped 0, rejected 2")


@pytest.mark.parametrize("argv,needle", [
    (["import", "claude-code", "--path", "/nonexistent/claude"], "path='/nonexistent/claude': does not exist"),
    (["import", "codex", "--path", "/nonexistent/codex"], "path='/nonexistent/codex': does not exist"),
    (["import", "csv", "--format", "openai-costs", "/nonexistent/x.csv"], "FILE='/nonexistent/x.csv': does not exist"),
    (["import", "csv", "--format", "generic", "FIXTURE"], "map="),
    (["import", "csv", "--format", "generic", "FIXTURE", "--map", "Day=when"], "unknown field 'when'"),
    (["import", "csv", "--format", "openai-costs", "FIXTURE"], "missing column(s) amount_value"),
    (["import", "csv", "--format", "excel", "FIXTURE"], "invalid choice"),
    (["import", "claude-code", "--billing", "free"], "invalid choice"),
    (["import", "claude-code", "--auto"], "--auto needs --path"),
    (["import"], "required"),
])
def test_bad_input_exits_2_naming_it(run, csv_dir: Path, argv: list[str], needle: str) -> None:
    argv = [str(csv_dir / "generic.csv") if a == "FIXTURE" else a for a in argv]
    code, out, err = run(*argv)
    assert code == 2 and needle in err and out == ""


def test_auto_remembers_the_folder(run, tmp_path: Path, claude_home: Path) -> None:
    from aicost_desktop.storage.db import Database
    from aicost_desktop.storage.tables import ImportSource

    code, _, _ = run("import", "claude-code", "--path", str(claude_home / ".claude"), "--billing",
                     "subscription", "--auto")
    assert code == 0
    db = Database.open(f"sqlite:///{tmp_path}/l.db")
    try:
        with db.session() as s:
            rows = [(r.kind, r.path, r.billing, r.auto_import) for r in s.query(ImportSource)]
    finally:
        db.dispose()
    assert rows == [("claude-code", str((claude_home / ".claude").resolve()), "subscription", True)]
