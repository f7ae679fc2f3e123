"""Reading ahead of the ledger: worker processes started from the stored file states before the import
loads SQLAlchemy give the import exactly what it would have read itself, and when the import's own
plan differs (a file changed in between) it reads itself instead of using stale scans."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aicost_desktop.app_context import AppContext
from aicost_desktop.importers import claude_files, claude_read
from aicost_desktop.importers.runner import import_claude_code
from aicost_desktop.storage.quick_state import stored_states

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from benchmarks.claude_logs_gen import generate  # noqa: E402

ROW = "SELECT dedup_key, model, input_tokens, output_tokens, cache_read_tokens, cache_write_5m_tokens, " \
      "cache_write_1h_tokens, computed_cost, bucket_start, line_item FROM usage_records ORDER BY dedup_key"


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    generate(tmp_path / "claude", days=2, sessions_per_day=4, seed=7)
    return tmp_path / "claude"


def _ahead(ctx: AppContext, logs: Path, workers: int = 2) -> claude_read.ReadAhead:
    """A read-ahead as the CLI starts it, whatever the folder's size (the CLI's threshold is 64 MB)."""
    roots = claude_files.roots_for_path(logs)
    listing = claude_files.list_files(roots)
    states = stored_states(ctx.db_url, claude_files.KIND)
    assert states is not None
    keys = claude_files.state_keys(roots, listing)
    jobs = [(full, 0, i) for i, (_root, full, _rel) in enumerate(listing) if keys[i] not in states]
    return claude_read.ReadAhead(listing, jobs, workers)


def _rows(ctx: AppContext) -> list[tuple]:
    with ctx.db.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(ROW)]


def _taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records, per import, whether it used the read-ahead's scans."""
    seen: list[bool] = []
    take = claude_read.ReadAhead.take

    def spy(self: claude_read.ReadAhead, jobs: list) -> object:
        got = take(self, jobs)
        seen.append(got is not None)
        return got

    monkeypatch.setattr(claude_read.ReadAhead, "take", spy)
    return seen


def test_the_import_uses_what_was_read_ahead_and_stores_the_same_rows(tmp_path: Path, logs: Path, ctx: AppContext,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _taken(monkeypatch)
    ahead = _ahead(ctx, logs)
    got = import_claude_code(ctx.db, ctx.catalog.cost_of, logs, ahead=ahead)
    assert seen == [True]
    assert ahead._pool is None  # the import closed it
    plain = AppContext(home=tmp_path / "plain", tz="UTC")
    try:
        want = import_claude_code(plain.db, plain.catalog.cost_of, logs)
        assert got.to_dict() == want.to_dict() and got.added > 0
        assert _rows(ctx) == _rows(plain)
    finally:
        plain.close()


def test_a_file_changed_after_the_read_ahead_is_read_by_the_import(logs: Path, ctx: AppContext,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    first = import_claude_code(ctx.db, ctx.catalog.cost_of, logs)
    # Plan the read-ahead as if nothing had been imported yet: the import's own plan (read from the
    # ledger) reads nothing of the unchanged files and only the appended line of the grown one.
    roots = claude_files.roots_for_path(logs)
    listing = claude_files.list_files(roots)
    ahead = claude_read.ReadAhead(listing, [(full, 0, i) for i, (_r, full, _rel) in enumerate(listing)], 2)
    grown = Path(listing[0][1])
    line = json.loads(next(ln for ln in grown.read_text().splitlines() if '"usage"' in ln))
    line["message"]["id"], line["requestId"] = "msg_appended_after_read_ahead", "req_appended"
    with grown.open("a") as fh:
        fh.write(json.dumps(line, separators=(",", ":")) + "\n")
    seen = _taken(monkeypatch)
    again = import_claude_code(ctx.db, ctx.catalog.cost_of, logs, ahead=ahead)
    assert seen == [False] and ahead._pool is None
    assert (again.added, again.updated) == (1, 0) and first.added > 0
    assert any("msg_appended_after_read_ahead" in r[0] for r in _rows(ctx))


def test_no_read_ahead_where_the_states_cannot_be_read_without_the_ledger(tmp_path: Path, logs: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(claude_read, "can_fork", lambda: True)  # as in the CLI (a test worker has threads)
    roots = claude_files.roots_for_path(logs)
    listing = claude_files.list_files(roots)
    assert claude_read.read_ahead(roots, listing, "per_token", "postgresql+psycopg://u@127.0.0.1/x") is None
    other = tmp_path / "other.sqlite3"
    other.write_bytes(b"")  # not a ledger at this schema revision
    assert claude_read.read_ahead(roots, listing, "per_token", f"sqlite:///{other}") is None
    # A small folder is read by the import itself, in its own process; a big one (here: any) ahead.
    new = f"sqlite:///{tmp_path}/new.sqlite3"
    assert claude_read.read_ahead(roots, listing, "per_token", new) is None
    monkeypatch.setattr(claude_read, "PARALLEL_BYTES", 0)
    with claude_read.read_ahead(roots, listing, "per_token", new) as ahead:  # type: ignore[union-attr]
        assert [j[0] for j in ahead.jobs] == [full for _root, full, _rel in listing]


def test_the_cli_reads_a_big_folder_ahead_and_imports_it_whole(tmp_path: Path, logs: Path) -> None:
    """The CLI process (single-threaded, so it may fork) starts the workers before SQLAlchemy is loaded."""
    code = (
        "import sys\n"
        "from aicost_desktop.importers import claude_read\n"
        "claude_read.PARALLEL_BYTES = 0  # this folder is small: read it ahead anyway\n"
        "started = []\n"
        "real = claude_read.ReadAhead.__init__\n"
        "def init(self, *a, **k):\n"
        "    started.append('sqlalchemy' in sys.modules)\n"
        "    real(self, *a, **k)\n"
        "claude_read.ReadAhead.__init__ = init\n"
        "from aicost_desktop.cli.main import main\n"
        f"rc = main(['--home', {str(tmp_path / 'home')!r}, '--tz', 'UTC', 'import', 'claude-code', '--path', "
        f"{str(logs)!r}, '--json'])\n"
        "print('STARTED', started, file=sys.stderr)\n"
        "sys.exit(rc)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "STARTED [False]" in done.stderr  # read ahead, before SQLAlchemy was imported
    report = json.loads(done.stdout)
    plain = AppContext(home=tmp_path / "plain", tz="UTC")
    try:
        want = import_claude_code(plain.db, plain.catalog.cost_of, logs).to_dict()
    finally:
        plain.close()
    assert report == want and report["added"] > 0
