"""History that forks and sub-agents copy into their own files is counted once, whichever file comes first."""

from __future__ import annotations

import shutil
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aicost_desktop.importers.base import ImportReport, collect
from aicost_desktop.importers.codex import CodexImporter, session_dirs
from aicost_desktop.importers.runner import import_codex

from .conftest import ledger_totals

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))
from codex_logs import Thread  # noqa: E402

DAY = datetime(2026, 4, 6, 9, 0, tzinfo=timezone.utc)
PARENT, CHILD, CHILD2 = "019d0000-0000-7000-8000-0000000000p1", "019d-child-1", "019d-child-2"


def _parent() -> Thread:
    p = Thread.start(PARENT, DAY)
    p.turn_context(DAY + timedelta(seconds=1), "gpt-5")
    p.request(DAY + timedelta(minutes=1), 10_000, 0, 500, 200)
    p.reemit(DAY + timedelta(minutes=1, seconds=1))
    p.request(DAY + timedelta(minutes=2), 12_000, 9_000, 300, 100)
    return p


def _import(home: Path, pricer):
    report = ImportReport()
    recs = collect(CodexImporter(session_dirs([home]), pricer, report).records())
    return sorted(recs, key=lambda r: (r.bucket_start, r.dedup_key)), report


def _summary(recs) -> list[tuple[str, int, int, int]]:
    return [(r.bucket_start.strftime("%d %H:%M:%S"), r.usage.input_tokens + r.usage.cache_read_tokens,
             r.usage.cache_read_tokens, r.usage.output_tokens) for r in recs]


PARENT_ROWS = [("06 09:01:00", 10_000, 0, 500), ("06 09:02:00", 12_000, 9_000, 300)]


def test_a_fork_copying_history_at_the_original_instants_counts_it_once(tmp_path: Path, pricer) -> None:
    parent = _parent()
    child = parent.fork(CHILD, DAY + timedelta(hours=1))
    child.request(DAY + timedelta(hours=1, minutes=1), 13_000, 12_000, 100, 0)
    parent.write(tmp_path)
    child.write(tmp_path)
    recs, report = _import(tmp_path, pricer)
    assert _summary(recs) == PARENT_ROWS + [("06 10:01:00", 13_000, 12_000, 100)]
    assert report.skipped == 2 + 2          # two re-emits (one copied) and two copied turns


def test_a_sub_agent_replaying_history_at_the_spawn_instant_counts_it_once(tmp_path: Path, pricer) -> None:
    parent = _parent()
    spawned = DAY + timedelta(days=1)
    child = parent.spawn(CHILD, spawned)
    child.request(spawned + timedelta(minutes=1), 14_000, 12_000, 200, 50)
    parent.write(tmp_path)
    child.write(tmp_path)
    recs, _ = _import(tmp_path, pricer)
    # The parent's turns keep their own day; the replay on the next day adds nothing.
    assert _summary(recs) == PARENT_ROWS + [("07 09:01:00", 14_000, 12_000, 200)]


def test_a_sub_agent_whose_counter_restarts_after_the_replay(tmp_path: Path, pricer) -> None:
    parent = _parent()
    spawned = DAY + timedelta(hours=2)
    child = parent.spawn(CHILD, spawned, continue_counter=False)
    child.request(spawned + timedelta(minutes=1), 3_000, 0, 40, 0)
    child.request(spawned + timedelta(minutes=2), 3_500, 2_900, 60, 0)
    parent.write(tmp_path)
    child.write(tmp_path)
    recs, _ = _import(tmp_path, pricer)
    assert _summary(recs) == PARENT_ROWS + [("06 11:01:00", 3_000, 0, 40), ("06 11:02:00", 3_500, 2_900, 60)]


def test_two_sub_agents_of_one_parent_replay_it_once_between_them(tmp_path: Path, pricer) -> None:
    parent = _parent()
    for n, cid in enumerate((CHILD, CHILD2)):
        at = DAY + timedelta(hours=3 + n)
        child = parent.spawn(cid, at)
        child.request(at + timedelta(minutes=1), 13_000 + n, 12_000, 100, 0)
        child.write(tmp_path)
    parent.write(tmp_path)
    recs, _ = _import(tmp_path, pricer)
    assert _summary(recs) == PARENT_ROWS + [("06 12:01:00", 13_000, 12_000, 100),
                                            ("06 13:01:00", 13_001, 12_000, 100)]


def _rows(home: Path, pricer) -> list[tuple[str, str, int]]:
    recs, _ = _import(home, pricer)
    return sorted((r.dedup_key, r.bucket_start.isoformat(), r.usage.total_tokens) for r in recs)


def test_keys_and_rows_do_not_depend_on_which_file_is_read_first(tmp_path: Path, pricer) -> None:
    """The same logs, once with the parent listed first and once with it listed last."""
    parent = _parent()
    fork = parent.fork(CHILD, DAY + timedelta(hours=1))
    fork.request(DAY + timedelta(hours=1, minutes=1), 13_000, 12_000, 100, 0)
    spawn = parent.spawn(CHILD2, DAY + timedelta(hours=2))
    spawn.request(DAY + timedelta(hours=2, minutes=1), 13_500, 12_000, 100, 0)
    together, apart = tmp_path / "together", tmp_path / "apart"
    for t in (parent, fork, spawn):
        t.write(together)
    fork.write(apart)
    spawn.write(apart)
    parent.archived, parent.live = True, False     # archived_sessions/ is listed after sessions/
    parent.write(apart)
    assert _rows(together, pricer) == _rows(apart, pricer)
    assert sorted(when[11:19] for _, when, _ in _rows(apart, pricer)) == [
        "09:01:00", "09:02:00", "10:01:00", "11:01:00"]        # the parent's turns at their own time


def test_a_child_imported_before_its_parent_keeps_the_same_keys(tmp_path: Path, pricer, db) -> None:
    """Import a sub-agent while its parent's file is elsewhere, then both: no request twice."""
    parent = _parent()
    child = parent.spawn(CHILD, DAY + timedelta(days=1))
    child.request(DAY + timedelta(days=1, minutes=1), 14_000, 12_000, 200, 50)
    only_child, both = tmp_path / "a", tmp_path / "b"
    child.write(only_child)
    alone, _ = _import(only_child, pricer)
    # Without the parent the replayed turns are still billed once, dated when they were copied.
    assert _summary(alone) == [("07 09:00:00", 10_000, 0, 500), ("07 09:00:00", 12_000, 9_000, 300),
                               ("07 09:01:00", 14_000, 12_000, 200)]
    parent.write(both)
    child.write(both)
    full, _ = _import(both, pricer)
    assert {r.dedup_key for r in alone} == {r.dedup_key for r in full}
    import_codex(db, pricer, path=only_child)
    second = import_codex(db, pricer, path=both)
    assert (second.added, second.updated) == (0, 2)     # the parent's turns move to their own day
    assert ledger_totals(db)["rows"] == 3


def test_a_copy_without_any_lineage_link_is_matched_by_instant_and_total(tmp_path: Path, pricer) -> None:
    """Files that copy token_count lines verbatim but name no parent (ccusage #1237 'goal' files)."""
    parent = _parent()
    parent.write(tmp_path)
    copy = Thread.start("019d-unlinked", DAY + timedelta(hours=5))
    copy.lines += [ln for ln in parent.lines if ln["type"] != "session_meta"]
    copy.write(tmp_path)
    recs, _ = _import(tmp_path, pricer)
    assert _summary(recs) == PARENT_ROWS


def test_a_fork_of_a_fork_finds_its_root_through_copied_session_metas(tmp_path: Path, pricer) -> None:
    """The middle fork's file is gone; the grandchild's copy of its session_meta still links them."""
    parent = _parent()
    middle = parent.spawn(CHILD, DAY + timedelta(hours=1))
    middle.request(DAY + timedelta(hours=1, minutes=1), 13_000, 12_000, 100, 0)
    grandchild = middle.spawn(CHILD2, DAY + timedelta(hours=2))
    grandchild.request(DAY + timedelta(hours=2, minutes=1), 14_000, 13_000, 100, 0)
    parent.write(tmp_path)
    grandchild.write(tmp_path)
    recs, _ = _import(tmp_path, pricer)
    assert _summary(recs) == PARENT_ROWS + [("06 11:00:00", 13_000, 12_000, 100),
                                            ("06 11:01:00", 14_000, 13_000, 100)]


def test_an_archived_copy_of_a_forked_session_adds_nothing(tmp_path: Path, pricer) -> None:
    parent = _parent()
    child = parent.fork(CHILD, DAY + timedelta(hours=1))
    child.request(DAY + timedelta(hours=1, minutes=1), 13_000, 12_000, 100, 0)
    parent.write(tmp_path)
    written = child.write(tmp_path)
    (tmp_path / "archived_sessions").mkdir()
    shutil.copy(written, tmp_path / "archived_sessions" / ("renamed-" + written.name))
    recs, _ = _import(tmp_path, pricer)
    assert len(recs) == 3


def test_a_sub_agent_listed_before_its_parent_still_dates_the_parent_turns_at_their_own_time(
        tmp_path: Path, pricer) -> None:
    parent = _parent()
    child = parent.spawn(CHILD, DAY + timedelta(days=2))
    child.request(DAY + timedelta(days=2, minutes=1), 14_000, 12_000, 200, 50)
    child.write(tmp_path)
    parent.archived, parent.live = True, False          # listed after sessions/
    parent.write(tmp_path)
    recs, _ = _import(tmp_path, pricer)
    assert _summary(recs) == PARENT_ROWS + [("08 09:01:00", 14_000, 12_000, 200)]


def test_the_digest_set_keeps_every_member_through_its_growth() -> None:
    import random

    from aicost_desktop.importers.codex_turns import _U64Set

    rng = random.Random(3)
    members = [rng.getrandbits(64) or 1 for _ in range(20_000)]
    s = _U64Set()
    for v in members:
        s.add(v)
        s.add(v)                                         # adding twice is harmless
    assert all(v in s for v in members)
    assert sum((rng.getrandbits(64) or 1) in s for _ in range(20_000)) == 0
    assert s._count == len(set(members))
