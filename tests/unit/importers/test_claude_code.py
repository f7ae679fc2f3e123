"""Claude Code transcripts: roots, de-duplication rules, token mapping, rejects, idempotent import."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from aicost_desktop.domain.enums import CostRole, DataSource
from aicost_desktop.domain.errors import InputError
from aicost_desktop.importers.base import Billing, ImportReport, collect
from aicost_desktop.importers.claude_code import ClaudeCodeImporter, discover_roots, roots_for_path
from aicost_desktop.importers.runner import import_claude_code

from .conftest import ledger_totals

SESSION_A = Path("-Users-alice-proj") / "session-a.jsonl"


def _import(claude_home: Path, pricer, billing: Billing = Billing.PER_TOKEN):
    report = ImportReport()
    roots = discover_roots(env={}, home=claude_home)
    records = collect(ClaudeCodeImporter(roots, pricer, report, billing).records())
    return {r.dedup_key: r for r in records}, report


def test_default_roots_are_xdg_config_then_dot_claude(claude_home: Path) -> None:
    assert discover_roots(env={}, home=claude_home) == [
        claude_home / ".config/claude/projects", claude_home / ".claude/projects"]


def test_xdg_config_home_moves_the_config_root(claude_home: Path, tmp_path: Path) -> None:
    assert discover_roots(env={"XDG_CONFIG_HOME": str(tmp_path)}, home=claude_home) == [
        claude_home / ".claude/projects"]


def test_claude_config_dir_replaces_defaults_and_accepts_projects_dirs(claude_home: Path) -> None:
    env = {"CLAUDE_CONFIG_DIR": f" {claude_home / '.claude'} ,{claude_home / '.config/claude/projects'},"}
    assert discover_roots(env=env, home=Path("/nonexistent")) == [
        claude_home / ".claude/projects", claude_home / ".config/claude/projects"]


def test_claude_config_dir_without_projects_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        discover_roots(env={"CLAUDE_CONFIG_DIR": str(tmp_path)}, home=tmp_path)
    assert exc.value.field == "CLAUDE_CONFIG_DIR" and str(tmp_path) in str(exc.value)


def test_missing_path_names_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        roots_for_path(tmp_path / "nope")


def test_fixture_yields_exactly_the_deduplicated_entries(claude_home: Path, pricer) -> None:
    recs, report = _import(claude_home, pricer)
    keyless = [k for k in recs if k.startswith("claude-code:line:")]
    assert len(keyless) == 1
    assert set(recs) - set(keyless) == {
        "claude-code:msg_A1:req_A1", "claude-code:msg_A2:req_A2", "claude-code:msg_F1:req_F1",
        "claude-code:msg_C1:req_C1", "claude-code:msg_B1:req_B2", "claude-code:msg_D1:req_D1",
        "claude-code:msg_E1:"}
    assert sum(r.usage.input_tokens for r in recs.values()) == 229
    assert sum(r.usage.output_tokens for r in recs.values()) == 698
    assert sum(r.usage.cache_read_tokens for r in recs.values()) == 21522
    assert sum(r.usage.cache_write_5m_tokens for r in recs.values()) == 1125
    assert sum(r.usage.cache_write_1h_tokens for r in recs.values()) == 234
    assert report.files == 3 and report.skipped == 7
    for r in recs.values():
        assert (r.source, r.provider, r.cost_role) == (DataSource.LOG, "anthropic", CostRole.SPEND)
        assert r.bucket_start == r.bucket_end and r.usage.requests == 1


def test_rejected_lines_carry_file_line_and_reason(claude_home: Path, pricer) -> None:
    _recs, report = _import(claude_home, pricer)
    got = [(Path(r.file).name, r.line) for r in report.rejected]  # type: ignore[arg-type]
    assert got == [("session-a.jsonl", 6), ("session-a.jsonl", 13), ("session-a.jsonl", 14)]
    assert "malformed JSON" in report.rejected[0].reason
    assert "message.usage.input_tokens='many'" in report.rejected[1].reason
    assert report.rejected[2].reason.startswith("timestamp=")


def test_streaming_updates_keep_the_larger_copy(claude_home: Path, pricer) -> None:
    recs, _ = _import(claude_home, pricer)
    assert recs["claude-code:msg_A1:req_A1"].usage.output_tokens == 50  # 5 in the earlier line


def test_duplicates_across_files_keep_the_larger_whichever_comes_first(claude_home: Path, pricer) -> None:
    recs, _ = _import(claude_home, pricer)
    a2, d1 = recs["claude-code:msg_A2:req_A2"], recs["claude-code:msg_D1:req_D1"]
    assert (a2.usage.output_tokens, a2.project) == (87, "-Users-alice-proj")      # larger read first
    assert (d1.usage.output_tokens, d1.project) == (300, "-Users-alice-other")   # larger read later


def test_sidechain_replays_are_dropped_and_sidechain_copies_collapse(claude_home: Path, pricer) -> None:
    recs, _ = _import(claude_home, pricer)
    assert not any("req_SIDE1" in k for k in recs)
    assert "claude-code:msg_B1:req_B1" not in recs
    b1 = recs["claude-code:msg_B1:req_B2"]
    assert (b1.usage.output_tokens, b1.line_item, b1.project) == (8, "sidechain", "-Users-alice-proj")


def test_synthetic_and_api_error_entries_are_skipped(claude_home: Path, pricer) -> None:
    recs, _ = _import(claude_home, pricer)
    assert all(r.model != "<synthetic>" for r in recs.values())
    assert not any("msg_S1" in k or "msg_E0" in k for k in recs)


def test_nested_cache_creation_replaces_the_flat_count(claude_home: Path, pricer) -> None:
    recs, _ = _import(claude_home, pricer)
    a2 = recs["claude-code:msg_A2:req_A2"].usage
    assert (a2.input_tokens, a2.cache_read_tokens, a2.cache_write_5m_tokens, a2.cache_write_1h_tokens) == (
        4, 20512, 1000, 234)
    a1 = recs["claude-code:msg_A1:req_A1"].usage
    assert (a1.cache_write_5m_tokens, a1.cache_write_1h_tokens) == (100, 0)


def test_fast_speed_is_priced_as_fast_model_or_left_unpriced(claude_home: Path, pricer) -> None:
    recs, _ = _import(claude_home, pricer)
    f1 = recs["claude-code:msg_F1:req_F1"]
    assert f1.model == "claude-opus-4-6-fast" and f1.computed_cost is None and not f1.priced


def test_cost_usd_becomes_reported_cost_and_computed_is_kept(claude_home: Path, pricer) -> None:
    recs, _ = _import(claude_home, pricer)
    c1 = recs["claude-code:msg_C1:req_C1"]
    assert c1.reported_cost == Decimal("0.12") and c1.computed_cost == Decimal("0.000185")
    assert c1.spend_cost == Decimal("0.12")
    a1 = recs["claude-code:msg_A1:req_A1"]
    assert a1.reported_cost is None and a1.computed_cost == Decimal("0.001160")


def test_subscription_billing_marks_rows_covered(claude_home: Path, pricer) -> None:
    recs, _ = _import(claude_home, pricer, Billing.SUBSCRIPTION)
    assert {r.cost_role for r in recs.values()} == {CostRole.COVERED}
    assert sum(r.spend_cost for r in recs.values()) == 0
    assert recs["claude-code:msg_A1:req_A1"].computed_cost == Decimal("0.001160")


def test_importing_twice_gives_the_same_ledger_as_once(claude_home: Path, pricer, db, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(claude_home))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    first = import_claude_code(db, pricer, page_size=3)
    once = ledger_totals(db)
    second = import_claude_code(db, pricer, page_size=3)
    # msg_D1's larger copy comes in a later file: its row is rewritten, and still counts as one added.
    assert (first.added, first.updated, first.skipped, first.rejected_total) == (8, 0, 7, 3)
    assert (second.added, second.updated, second.skipped) == (0, 0, 0)  # nothing changed: nothing read
    assert ledger_totals(db) == once
    # Other settings (here the workspace) read every file again; equal rows are left as they are.
    third = ClaudeCodeImporter(discover_roots(), pricer, ImportReport(), Billing.PER_TOKEN, 1).import_into(db, 3)
    assert (third.added, third.updated, third.skipped, third.rejected_total) == (0, 0, 7 + 8, 3)
    assert ledger_totals(db) == once
    # $0.12 reported for msg_C1 + computed $1/Mtok for the rest (msg_F1 fast is unpriced)
    computed = Decimal(1160 + 21837 + 15 + 305 + 2 + 4) * Decimal("0.000001")
    assert once == {"rows": 8, "input": 229, "output": 698, "cache_read": 21522, "w5": 1125, "w1": 234,
                    "cost": Decimal("0.12") + computed}


def test_a_path_option_reads_one_config_dir(claude_home: Path, pricer, db) -> None:
    report = import_claude_code(db, pricer, path=claude_home / ".config/claude")
    assert (report.files, report.added) == (1, 4)


@pytest.mark.parametrize("enabled", [True, False])
def test_an_import_leaves_garbage_collection_as_it_found_it(claude_home: Path, pricer, db, monkeypatch,
                                                             enabled: bool) -> None:
    """The import turns collection off while it reads (millions of acyclic objects) and back on only
    once its structures are freed; a caller that had it off (a benchmark, a worker) keeps it off."""
    import gc

    monkeypatch.setenv("HOME", str(claude_home))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        seen: list[bool] = []
        monkeypatch.setattr(ClaudeCodeImporter, "_flush",
                            lambda self, *a, _f=ClaudeCodeImporter._flush: seen.append(gc.isenabled()) or _f(self, *a))
        assert import_claude_code(db, pricer, page_size=3).added == 8
        assert seen and not any(seen)  # off while reading and writing
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_a_first_import_commits_its_last_rows_and_its_file_states_together(tmp_path: Path, pricer, db,
                                                                            monkeypatch) -> None:
    """On SQLite the file states go into the last bulk transaction: when writing them fails (a full disk),
    the rows of that transaction are not stored either (no file is marked read without its rows), the
    import fails instead of hanging, and the next import stores exactly what a clean one does."""
    import json

    from sqlalchemy import func, select

    from aicost_desktop.importers import file_state_store
    from aicost_desktop.storage.tables import ImportFileState, UsageRow

    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL writes pages through the general path, the states in their own transaction")
    folder = tmp_path / "projects" / "-home-me-app"
    folder.mkdir(parents=True)
    for f in range(2):  # distinct requests only: no later copy rewrites or deletes a row
        lines = [{"type": "assistant", "isSidechain": False, "requestId": f"req_{f}_{i}",
                  "timestamp": f"2026-03-0{f + 1}T10:0{i}:00.000Z",
                  "message": {"id": f"msg_{f}_{i}", "role": "assistant", "model": "claude-sonnet-4-5",
                              "content": [{"type": "text", "text": "ok"}],
                              "usage": {"input_tokens": 10 + i, "output_tokens": 5}}} for i in range(4)]
        (folder / f"s{f}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    real = file_state_store.save_sqlite_in

    def fail_after_writing(cur, kind, states) -> None:  # type: ignore[no-untyped-def]
        real(cur, kind, states)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(file_state_store, "save_sqlite_in", fail_after_writing)
    with pytest.raises(OSError):
        import_claude_code(db, pricer, tmp_path, page_size=3)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(UsageRow)) == 0
        assert s.scalar(select(func.count()).select_from(ImportFileState)) == 0
    monkeypatch.setattr(file_state_store, "save_sqlite_in", real)
    report = import_claude_code(db, pricer, tmp_path, page_size=3)
    assert (report.added, report.updated) == (8, 0)
    assert ledger_totals(db)["rows"] == 8
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ImportFileState)) == 2
