"""Codex session logs: cumulative vs per-turn usage, model switches, fallback, archived copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aicost_desktop.domain.enums import CostRole, DataSource
from aicost_desktop.domain.errors import InputError
from aicost_desktop.importers.base import Billing, ImportReport, collect
from aicost_desktop.importers.codex import (
    FALLBACK_MODEL, CodexImporter, dirs_for_path, discover_homes, session_dirs,
)
from aicost_desktop.importers.runner import import_codex

from .conftest import ledger_totals



def _import(codex_home: Path, pricer, billing: Billing = Billing.PER_TOKEN):
    """Records by their instant ("MM-DD HH:MM"): keys are digests, instants name fixture lines."""
    report = ImportReport()
    recs = collect(CodexImporter(session_dirs([codex_home]), pricer, report, billing).records())
    return {r.bucket_start.strftime("%m-%d %H:%M"): r for r in recs}, report


def test_codex_home_env_is_comma_separated(codex_home: Path, tmp_path: Path) -> None:
    env = {"CODEX_HOME": f"{codex_home}, {tmp_path / 'missing'},{tmp_path}"}
    assert discover_homes(env=env, home=tmp_path) == [codex_home, tmp_path]
    assert discover_homes(env={}, home=tmp_path) == []


def test_sessions_dirs_come_before_archived(codex_home: Path) -> None:
    assert session_dirs([codex_home]) == [codex_home / "sessions", codex_home / "archived_sessions"]
    assert dirs_for_path(codex_home / "sessions") == [codex_home / "sessions"]
    with pytest.raises(InputError, match="does not exist"):
        dirs_for_path(codex_home / "nope")


def test_every_turn_once_with_exact_tokens(codex_home: Path, pricer) -> None:
    recs, report = _import(codex_home, pricer)
    got = {k: (r.model, r.usage.input_tokens, r.usage.cache_read_tokens, r.usage.output_tokens,
               r.usage.reasoning_tokens) for k, r in recs.items()}
    assert got == {
        "05-13 09:01": ("gpt-5.2-codex", 750, 250, 125, 75),        # first total == last turn
        "05-13 09:02": ("gpt-5.2-codex", 500, 0, 75, 25),           # step of the cumulative total
        "05-13 09:04": ("gpt-5.1-codex-mini", 200, 100, 40, 10),    # after a turn_context switch
        "05-13 09:06": ("gpt-5.2-codex", 10, 0, 5, 0),              # the event's own info.model wins
        "05-14 08:01": (FALLBACK_MODEL, 150, 50, 20, 5),
        "05-01 07:01": ("gpt-5", 100, 0, 10, 0),
    }
    assert all(k.startswith("codex:t:") for k in (r.dedup_key for r in recs.values()))
    assert (report.files, report.skipped, report.rejected_total) == (3, 1, 1)
    assert report.rejected[0].line == 9 and "malformed JSON" in report.rejected[0].reason
    assert any("archived_sessions" in w and "counted once" in w for w in report.warnings)


def test_reasoning_is_inside_output_not_added_again(codex_home: Path, pricer) -> None:
    recs, _ = _import(codex_home, pricer)
    r = recs["05-13 09:01"]
    assert r.usage.reasoning_included and r.usage.billable_output_tokens == 125
    assert r.usage.total_tokens == 1000 + 125
    assert r.computed_cost is not None and r.computed_cost * 1_000_000 == 1125


def test_session_without_model_is_priced_as_fallback_and_flagged(codex_home: Path, pricer) -> None:
    recs, _ = _import(codex_home, pricer)
    b = recs["05-14 08:01"]
    assert b.model == "gpt-5" and b.note and "approximate" in b.note and b.computed_cost is not None
    assert recs["05-13 09:01"].note == "tier not recorded in log; standard price"


def test_rows_are_openai_log_rows_with_the_billing_role(codex_home: Path, pricer) -> None:
    recs, _ = _import(codex_home, pricer, Billing.SUBSCRIPTION)
    assert {(r.source, r.provider, r.cost_role) for r in recs.values()} == {
        (DataSource.LOG, "openai", CostRole.COVERED)}


def test_an_archived_only_copy_keeps_the_same_keys(codex_home: Path, pricer, tmp_path: Path) -> None:
    """A session first imported live and later found only in archived_sessions adds nothing."""
    live, _ = _import(codex_home, pricer)
    home = tmp_path / "codex"
    (home / "archived_sessions").mkdir(parents=True)
    shutil.copy(codex_home / "archived_sessions/rollout-2026-05-13T09-00-00-aaaa.jsonl", home / "archived_sessions")
    archived, _ = _import(home, pricer)
    assert len(archived) == 4
    assert {r.dedup_key for r in archived.values()} <= {r.dedup_key for r in live.values()}


def test_importing_twice_gives_the_same_ledger_as_once(codex_home: Path, pricer, db) -> None:
    first = import_codex(db, pricer, path=codex_home, page_size=2)
    once = ledger_totals(db)
    second = import_codex(db, pricer, path=codex_home)
    assert (first.added, second.added, second.updated, second.skipped) == (6, 0, 0, 1 + 6)
    assert ledger_totals(db) == once
    assert (once["rows"], once["input"], once["cache_read"], once["output"]) == (6, 1710, 400, 275)
