"""run_scheduled_imports: every auto-import source, errors recorded per source, history kept."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select

from aicost_desktop.app_context import AppContext
from aicost_desktop.importers.runner import remember_source, run_scheduled_imports

from .conftest import ledger_totals


def test_scheduled_imports_run_auto_sources_and_survive_log_deletion(tmp_path: Path, claude_home: Path,
                                                                     codex_home: Path) -> None:
    from aicost_desktop.storage.tables import ImportSource

    logs = tmp_path / "claude"
    shutil.copytree(claude_home / ".claude", logs)
    ctx = AppContext(home=tmp_path / "home", db_url=f"sqlite:///{tmp_path}/l.db", tz="UTC")
    try:
        claude_id = remember_source(ctx.db, "claude-code", logs, "subscription")
        codex_id = remember_source(ctx.db, "codex", codex_home, "per_token", auto_import=False)
        gone_id = remember_source(ctx.db, "codex", tmp_path / "gone", "per_token")
        (tmp_path / "gone").mkdir(exist_ok=True)
        (tmp_path / "gone").rmdir()

        reports = run_scheduled_imports(ctx)
        assert set(reports) == {claude_id, gone_id}
        assert (reports[claude_id].added, reports[claude_id].rejected_total) == (6, 3)
        once = ledger_totals(ctx.db)
        assert once["rows"] == 6 and once["cost"] == 0  # subscription: covered, not spend

        shutil.rmtree(logs / "projects" / "-Users-alice-proj" / "session-a")  # Claude Code's 30-day cleanup
        again = run_scheduled_imports(ctx)
        assert (again[claude_id].added, again[claude_id].updated) == (0, 0)
        assert ledger_totals(ctx.db) == once

        with ctx.db.session() as s:
            rows = {r.id: r for r in s.scalars(select(ImportSource))}
            assert rows[claude_id].last_import_at is not None
            assert rows[claude_id].last_result == "added 0, updated 0, skipped 0, rejected 0"  # nothing read again
            assert rows[codex_id].last_import_at is None
            assert rows[gone_id].last_result is not None and "does not exist" in rows[gone_id].last_result
    finally:
        ctx.close()
