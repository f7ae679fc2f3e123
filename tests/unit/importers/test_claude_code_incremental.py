"""Re-imports read only what changed: unchanged files are skipped, grown files are read from where the
last import stopped, a partial last line waits for its newline, truncated or rewritten files are read
whole; copies arriving in a later import settle against the stored rows by the same rules."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy import select

from aicost_desktop.domain.enums import CostRole
from aicost_desktop.importers.runner import import_claude_code

from .conftest import ledger_totals


def _line(mid: str, rid: str | None, out: int, *, ts: str = "2026-03-01T10:00:00.000Z", sidechain: bool = False,
          cache_read: int = 1000, text: str = "ok") -> str:
    d = {"parentUuid": None, "isSidechain": sidechain, "userType": "external", "cwd": "/w", "sessionId": "s",
         "version": "2.1.63", "gitBranch": "main",
         "message": {"model": "claude-sonnet-4-5-20250929", "id": mid, "type": "message", "role": "assistant",
                     "content": [{"type": "text", "text": text}], "stop_reason": None, "stop_sequence": None,
                     "usage": {"input_tokens": 3, "cache_creation_input_tokens": 0,
                               "cache_read_input_tokens": cache_read, "output_tokens": out,
                               "service_tier": "standard"}},
         "type": "assistant", "uuid": f"u-{mid}-{out}", "timestamp": ts}
    if rid is not None:
        d["requestId"] = rid
    return json.dumps(d, separators=(",", ":")) + "\n"


def _user(text: str = "hi") -> str:
    return json.dumps({"type": "user", "message": {"role": "user", "content": text},
                       "timestamp": "2026-03-01T10:00:00.000Z"}) + "\n"


def _setup(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "claude"
    (root / "projects" / "p").mkdir(parents=True)
    return root, root / "projects" / "p" / "s1.jsonl"


def _rows(db) -> dict[str, tuple[int, str | None, str]]:
    from aicost_desktop.storage.tables import UsageRow as U

    with db.session() as s:
        return {k: (o, li, role) for k, o, li, role in s.execute(
            select(U.dedup_key, U.output_tokens, U.line_item, U.cost_role))}


def _import(db, pricer, root: Path, billing: str = "per_token"):
    return import_claude_code(db, pricer, path=root, billing=billing, page_size=2)


def test_an_unchanged_file_is_not_read_again(tmp_path: Path, pricer, db) -> None:
    root, f = _setup(tmp_path)
    f.write_text(_user() + _line("m1", "r1", 10))
    assert _import(db, pricer, root).added == 1
    st = f.stat()
    # Same size and mtime but other content: a re-import that read the file would see output 99.
    f.write_text(_user() + _line("m1", "r1", 99))
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = _import(db, pricer, root)
    assert (again.added, again.updated, again.skipped, again.files) == (0, 0, 0, 1)
    assert _rows(db)["claude-code:m1:r1"][0] == 10


def test_a_grown_file_is_read_from_where_the_last_import_stopped(tmp_path: Path, pricer, db) -> None:
    root, f = _setup(tmp_path)
    first = _user("x" * 5000) + _line("m1", "r1", 10, text="y" * 300) + _line("m2", "r2", 20)
    f.write_text(first)
    assert _import(db, pricer, root).added == 2
    # Change m1's output in place (outside the probed head and tail bytes) and append m3: only m3
    # is read, so m1 keeps its stored 10.
    changed = first.replace('"output_tokens":10,', '"output_tokens":90,')
    assert len(changed) == len(first)
    f.write_text(changed + _line("m3", "r3", 30))
    again = _import(db, pricer, root)
    assert (again.added, again.updated, again.skipped) == (1, 0, 0)
    assert {k: v[0] for k, v in _rows(db).items()} == {"claude-code:m1:r1": 10, "claude-code:m2:r2": 20,
                                                       "claude-code:m3:r3": 30}


def test_a_partial_last_line_is_read_once_complete(tmp_path: Path, pricer, db) -> None:
    root, f = _setup(tmp_path)
    full = _line("m2", "r2", 20)
    f.write_text(_line("m1", "r1", 10) + full[:40])
    first = _import(db, pricer, root)
    assert (first.added, first.rejected_total) == (1, 0)
    with f.open("a") as fh:
        fh.write(full[40:-1])  # still no newline
    assert _import(db, pricer, root).added == 0
    with f.open("a") as fh:
        fh.write("\n")
    assert _import(db, pricer, root).added == 1
    assert set(_rows(db)) == {"claude-code:m1:r1", "claude-code:m2:r2"}


def test_truncated_and_rewritten_files_are_read_whole(tmp_path: Path, pricer, db) -> None:
    root, f = _setup(tmp_path)
    f.write_text(_line("m1", "r1", 10) + _line("m2", "r2", 20))
    _import(db, pricer, root)
    f.write_text(_line("m3", "r3", 30))  # shorter than what was read: truncated and rewritten
    assert _import(db, pricer, root).added == 1
    f.write_text(_line("m4", "r4", 40) + _line("m3", "r3", 30) + _line("m5", "r5", 50))  # head changed, longer
    again = _import(db, pricer, root)
    assert (again.added, again.updated) == (2, 0)
    # Rows of lines no longer in the files stay: the ledger outlives Claude Code's log cleanup.
    assert set(_rows(db)) == {f"claude-code:m{i}:r{i}" for i in range(1, 6)}


def test_a_larger_streaming_copy_in_a_later_import_replaces_the_row(tmp_path: Path, pricer, db) -> None:
    root, f = _setup(tmp_path)
    f.write_text(_line("m1", "r1", 5))
    _import(db, pricer, root)
    with f.open("a") as fh:
        fh.write(_line("m1", "r1", 50, ts="2026-03-01T10:00:02.000Z"))
    again = _import(db, pricer, root)
    assert (again.added, again.updated) == (0, 1)
    assert _rows(db)["claude-code:m1:r1"][0] == 50


def test_a_smaller_or_equal_copy_in_a_later_import_keeps_the_row(tmp_path: Path, pricer, db) -> None:
    root, f = _setup(tmp_path)
    f.write_text(_line("m1", "r1", 50))
    _import(db, pricer, root)
    (f.parent / "s2.jsonl").write_text(_line("m1", "r1", 5) + _line("m1", "r1", 50, ts="2026-03-02T10:00:00.000Z"))
    again = _import(db, pricer, root)
    assert (again.added, again.updated, again.skipped) == (0, 0, 2)
    with db.session() as s:
        from aicost_desktop.storage.tables import UsageRow as U

        assert s.scalar(select(U.bucket_start)).isoformat().startswith("2026-03-01")  # the first copy stays


def test_sidechain_copies_settle_against_stored_rows(tmp_path: Path, pricer, db) -> None:
    root, f = _setup(tmp_path)
    side = f.parent / "s1" / "subagents" / "agent-x.jsonl"
    side.parent.mkdir(parents=True)
    side.write_text(_line("m1", "r-side", 8, sidechain=True) + _line("m2", "r-side2", 7, sidechain=True))
    _import(db, pricer, root)
    assert {k: v[1] for k, v in _rows(db).items()} == {"claude-code:m1:r-side": "sidechain",
                                                       "claude-code:m2:r-side2": "sidechain"}
    # The parent's own copy of m1 arrives: the sidechain row is a replay and goes.
    f.write_text(_line("m1", "r1", 8))
    # A further replay of m2 with yet another requestId and more tokens: the sidechain copies collapse.
    with side.open("a") as fh:
        fh.write(_line("m2", "r-side3", 9, sidechain=True) + _line("m1", "r-side4", 99, sidechain=True))
    _import(db, pricer, root)
    assert {k: v[:2] for k, v in _rows(db).items()} == {"claude-code:m1:r1": (8, None),
                                                        "claude-code:m2:r-side3": (9, "sidechain")}
    assert ledger_totals(db)["rows"] == 2


def test_changing_the_billing_rewrites_the_rows(tmp_path: Path, pricer, db) -> None:
    root, f = _setup(tmp_path)
    f.write_text(_line("m1", "r1", 10))
    _import(db, pricer, root)
    again = _import(db, pricer, root, billing="subscription")
    assert (again.added, again.updated) == (0, 1)
    assert _rows(db)["claude-code:m1:r1"][2] == CostRole.COVERED.value
