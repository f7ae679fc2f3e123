"""Codex turns are steps of the cumulative counter: re-emits add nothing, resets restart, last-only logs."""

from __future__ import annotations

import sys
from pathlib import Path

from aicost_desktop.importers.base import ImportReport, collect
from aicost_desktop.importers.codex import CodexImporter, session_dirs

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))
from codex_logs import context, counts, meta, write_rollout  # noqa: E402

T0 = "2026-05-01T10:00:00.000Z"


def _turns(tmp_path: Path, pricer, lines: list[dict]) -> tuple[list[tuple[int, int, int, int]], ImportReport]:
    write_rollout(tmp_path / "sessions/2026/05/01/rollout-2026-05-01T10-00-00-s1.jsonl",
                  [meta(T0, "s1"), context(T0, "gpt-5"), *lines])
    report = ImportReport()
    recs = sorted(collect(CodexImporter(session_dirs([tmp_path]), pricer, report).records()),
                  key=lambda r: r.bucket_start)
    got = [(r.usage.input_tokens + r.usage.cache_read_tokens, r.usage.cache_read_tokens,
            r.usage.output_tokens, r.usage.reasoning_tokens) for r in recs]
    return got, report


def at(minute: int) -> str:
    return f"2026-05-01T10:{minute:02d}:00.000Z"


def test_a_re_emitted_counter_adds_nothing_even_with_its_last_usage(tmp_path: Path, pricer) -> None:
    """The CLI re-emits the last token_count unchanged; counting last_token_usage would double it."""
    got, report = _turns(tmp_path, pricer, [
        counts(at(1), total=[1000, 200, 100, 40], last=[1000, 200, 100, 40]),
        counts(at(2), total=[1000, 200, 100, 40], last=[1000, 200, 100, 40]),   # re-emitted
        counts(at(3), total=[1600, 700, 150, 40], last=[600, 500, 50, 0]),
    ])
    assert got == [(1000, 200, 100, 40), (600, 500, 50, 0)]
    assert report.skipped == 1


def test_a_recomputed_context_estimate_is_not_a_request(tmp_path: Path, pricer) -> None:
    """After a rollback codex-rs `recompute_token_usage` logs last={0,0,0,0,total=estimate}, total unchanged."""
    got, _ = _turns(tmp_path, pricer, [
        counts(at(1), total=[1000, 0, 100, 0], last=[1000, 0, 100, 0]),
        counts(at(2), total=[1000, 0, 100, 0], last=[0, 0, 0, 0]),
    ])
    assert got == [(1000, 0, 100, 0)]


def test_a_counter_that_goes_down_is_a_reset_and_its_new_total_is_the_turn(tmp_path: Path, pricer) -> None:
    got, report = _turns(tmp_path, pricer, [
        counts(at(1), total=[1000, 0, 100, 10]),
        counts(at(2), total=[1500, 300, 180, 10]),
        counts(at(3), total=[300, 100, 20, 5]),           # restarted: not a negative turn
        counts(at(4), total=[450, 100, 60, 5]),
    ])
    assert got == [(1000, 0, 100, 10), (500, 300, 80, 0), (300, 100, 20, 5), (150, 0, 40, 0)]
    assert report.rejected_total == 0


def test_the_total_wins_over_a_last_usage_that_disagrees(tmp_path: Path, pricer) -> None:
    got, _ = _turns(tmp_path, pricer, [
        counts(at(1), total=[1000, 0, 100, 0], last=[1000, 0, 100, 0]),
        counts(at(2), total=[1800, 0, 130, 0], last=[500, 0, 20, 0]),
    ])
    assert got == [(1000, 0, 100, 0), (800, 0, 30, 0)]


def test_last_usage_is_the_turn_only_when_no_total_exists(tmp_path: Path, pricer) -> None:
    got, _ = _turns(tmp_path, pricer, [
        counts(at(1), last=[400, 100, 30, 10]),
        counts(at(2), last=[400, 100, 30, 10]),           # a second, identical request
    ])
    assert got == [(400, 100, 30, 10), (400, 100, 30, 10)]


def test_a_first_total_above_its_own_last_turn_continues_a_counter_kept_elsewhere(tmp_path: Path, pricer) -> None:
    """A sub-agent whose counter was seeded from its parent: only its own last turn is new."""
    got, _ = _turns(tmp_path, pricer, [
        counts(at(1), total=[1600, 160, 320, 0], last=[100, 10, 20, 0]),
        counts(at(2), total=[1700, 170, 340, 0], last=[100, 10, 20, 0]),
    ])
    assert got == [(100, 10, 20, 0), (100, 10, 20, 0)]


def test_a_turn_with_a_bad_timestamp_is_rejected_and_its_tokens_roll_into_the_next(tmp_path: Path, pricer) -> None:
    bad = counts(at(2), total=[1500, 0, 150, 0])
    bad["timestamp"] = "yesterday"
    got, report = _turns(tmp_path, pricer, [
        counts(at(1), total=[1000, 0, 100, 0]),
        bad,
        counts(at(3), total=[1700, 0, 170, 0]),
    ])
    assert got == [(1000, 0, 100, 0), (700, 0, 70, 0)]
    assert report.rejected_total == 1
    assert report.rejected[0].line == 4 and "timestamp" in report.rejected[0].reason


def test_a_negative_token_count_is_rejected_naming_the_field(tmp_path: Path, pricer) -> None:
    got, report = _turns(tmp_path, pricer, [
        counts(at(1), total=[1000, 0, -5, 0]),
        counts(at(2), total=[1000, 0, 100, 0]),
    ])
    assert got == [(1000, 0, 100, 0)]
    assert report.rejected[0].line == 3
    assert "info.total_token_usage.output_tokens" in report.rejected[0].reason


def test_a_counter_restarted_above_the_previous_total_is_a_reset_when_its_last_turn_is_its_total(
        tmp_path: Path, pricer) -> None:
    """A spawned session replays its parent's total, then its own counter starts at zero: a first own turn
    bigger than the replayed total in every field is that whole turn, not the excess over the replay."""
    got, _ = _turns(tmp_path, pricer, [
        counts(at(1), total=[1000, 0, 100, 0], last=[1000, 0, 100, 0]),        # the replayed parent
        counts(at(2), total=[1500, 200, 150, 10], last=[1500, 200, 150, 10]),  # own counter, first turn
        counts(at(3), total=[1800, 300, 170, 10], last=[300, 100, 20, 0]),
    ])
    assert got == [(1000, 0, 100, 0), (1500, 200, 150, 10), (300, 100, 20, 0)]
