"""Sub-agents: agent_progress copies in the parent transcript count once, and only when the sub-agent's
own file does not have the message; Task tool results (toolUseResult.usage) are not requests."""

from __future__ import annotations

import shutil
from pathlib import Path

from aicost_desktop.importers.base import ImportReport, collect
from aicost_desktop.importers.claude_code import ClaudeCodeImporter
from aicost_desktop.importers.runner import import_claude_code

from .conftest import FIXTURES, ledger_totals

AGENTS = FIXTURES / "claude" / "agents"
SUBAGENT = Path("projects/-Users-bob-app/sess-1/subagents/agent-a1.jsonl")


def _records(root: Path, pricer) -> tuple[dict[str, object], ImportReport]:
    report = ImportReport()
    recs = collect(ClaudeCodeImporter([root / "projects"], pricer, report).records())
    return {r.dedup_key: r for r in recs}, report


def test_progress_copies_count_once_and_the_subagent_file_wins(pricer) -> None:
    recs, report = _records(AGENTS, pricer)
    assert set(recs) == {"claude-code:msg_P1:req_P1", "claude-code:msg_S1:req_S1", "claude-code:msg_S2:req_S2",
                         "claude-code:msg_S3:req_S3"}
    s1 = recs["claude-code:msg_S1:req_S1"]
    # The progress copy of msg_S1 has more output (45); the sub-agent file's copy (40) is the one counted.
    assert (s1.usage.output_tokens, s1.line_item) == (40, "sidechain")
    s2 = recs["claude-code:msg_S2:req_S2"]  # agent a2's file is gone: its two progress copies are one request
    assert (s2.usage.output_tokens, s2.usage.cache_write_1h_tokens, s2.line_item) == (20, 200, "sidechain-progress")
    assert s2.bucket_start.isoformat() == "2026-04-01T09:00:09+00:00"  # the sub-agent message's own time
    assert s2.model == "claude-haiku-4-5-20251001" and s2.usage.requests == 1
    assert recs["claude-code:msg_P1:req_P1"].line_item is None
    # 6 usage lines (P1, 3 progress copies, S1, S3) -> 4 rows; the Task result's usage is not a usage line
    assert report.skipped == 2 and report.rejected_total == 0


def test_without_the_subagent_file_its_progress_copies_count(tmp_path: Path, pricer) -> None:
    shutil.copytree(AGENTS, tmp_path / "c")
    (tmp_path / "c" / SUBAGENT).unlink()
    recs, _ = _records(tmp_path / "c", pricer)
    assert set(recs) == {"claude-code:msg_P1:req_P1", "claude-code:msg_S1:req_S1", "claude-code:msg_S2:req_S2"}
    s1 = recs["claude-code:msg_S1:req_S1"]
    assert (s1.usage.output_tokens, s1.line_item) == (45, "sidechain-progress")


def test_a_subagent_file_that_appears_later_replaces_the_progress_rows(tmp_path: Path, pricer, db) -> None:
    shutil.copytree(AGENTS, tmp_path / "c")
    sub = tmp_path / "c" / SUBAGENT
    content = sub.read_bytes()
    sub.unlink()
    first = import_claude_code(db, pricer, path=tmp_path / "c")
    assert (first.added, first.updated) == (3, 0)
    sub.write_bytes(content)
    second = import_claude_code(db, pricer, path=tmp_path / "c")
    assert (second.added, second.updated) == (1, 1)  # msg_S3 is new; msg_S1 now from the sub-agent file
    once_db_rows = ledger_totals(db)
    report = ImportReport()
    want = collect(ClaudeCodeImporter([AGENTS / "projects"], pricer, report).records())
    assert once_db_rows["rows"] == len(want) == 4
    assert once_db_rows["output"] == sum(r.usage.output_tokens for r in want)


def _usage_line(mid: str, rid: str, out: int, *, sidechain: bool, second: int = 0) -> str:
    import json

    return json.dumps({"parentUuid": None, "isSidechain": sidechain, "sessionId": "s", "message": {
        "model": "claude-sonnet-4-5-20250929", "id": mid, "type": "message", "role": "assistant", "content": [],
        "usage": {"input_tokens": 10, "output_tokens": out}}, "requestId": rid, "type": "assistant",
        "timestamp": f"2026-04-01T09:00:{second:02d}.000Z"}, separators=(",", ":")) + "\n"


def _write_early_and_later(config: Path) -> None:
    project = config / "projects" / "-Users-bob-app"
    early = "".join([
        _usage_line("msg_A", "req_A1", 5, sidechain=True),   # a non-sidechain copy comes later, another request
        _usage_line("msg_B", "req_B", 5, sidechain=True),    # ... the same request
        _usage_line("msg_C", "req_C", 5, sidechain=True),    # a better sidechain copy, the same request
        _usage_line("msg_D", "req_D1", 5, sidechain=True),   # a better sidechain copy, another request
        _usage_line("msg_E", "req_E", 5, sidechain=True),    # nothing better comes
    ])
    later = "".join([
        _usage_line("msg_A", "req_A2", 7, sidechain=False, second=1),
        _usage_line("msg_B", "req_B", 3, sidechain=False, second=1),
        _usage_line("msg_C", "req_C", 9, sidechain=True, second=1),
        _usage_line("msg_D", "req_D2", 11, sidechain=True, second=1),
        _usage_line("msg_E", "req_E", 2, sidechain=True, second=1),
    ])
    (project / "s1" / "subagents").mkdir(parents=True)
    (project / "s1" / "subagents" / "agent-1.jsonl").write_text(early)
    (project / "s2.jsonl").write_text(later)  # after s1/ in path order


def test_sidechain_copies_written_as_they_come_are_settled_like_held_ones(tmp_path: Path, pricer, db) -> None:
    """A first import writes a message's first sidechain copy as it comes; a later copy that makes it
    redundant (a non-sidechain copy, a better sidechain copy under the same or another requestId)
    leaves the ledger and the report exactly as holding every sidechain copy to the end does."""
    _write_early_and_later(tmp_path / "c")
    report = import_claude_code(db, pricer, path=tmp_path / "c")
    want, held = _records(tmp_path / "c", pricer)  # the records: every sidechain copy held to the end
    assert set(want) == {"claude-code:msg_A:req_A2", "claude-code:msg_B:req_B", "claude-code:msg_C:req_C",
                         "claude-code:msg_D:req_D2", "claude-code:msg_E:req_E"}
    from sqlalchemy import select

    from aicost_desktop.storage.tables import UsageRow as U

    with db.session() as s:
        stored = {r.dedup_key: (r.output_tokens, r.line_item) for r in s.execute(select(U.dedup_key, U.output_tokens,
                                                                                         U.line_item))}
    assert stored == {k: (r.usage.output_tokens, r.line_item) for k, r in want.items()}
    assert stored["claude-code:msg_B:req_B"] == (3, None)  # the non-sidechain copy, though smaller
    assert (report.added, report.updated, report.skipped) == (5, 0, held.skipped) and held.skipped == 5
    assert ledger_totals(db)["rows"] == 5


def test_an_import_stopped_before_settling_them_is_settled_by_the_next(tmp_path: Path, pricer, db,
                                                                       monkeypatch) -> None:
    from aicost_desktop.importers import claude_code

    _write_early_and_later(tmp_path / "c")

    def stop(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(claude_code, "_delete", stop)  # rows written and committed, the redundant ones still there
    try:
        import_claude_code(db, pricer, path=tmp_path / "c")
    except KeyboardInterrupt:
        pass
    assert ledger_totals(db)["rows"] == 7  # msg_A and msg_D twice
    monkeypatch.undo()
    import_claude_code(db, pricer, path=tmp_path / "c")
    want, _ = _records(tmp_path / "c", pricer)
    got = ledger_totals(db)
    assert (got["rows"], got["output"]) == (5, sum(r.usage.output_tokens for r in want.values()))
