"""Codex service tier: read from the log where Codex records it, never from today's config.toml."""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.importers.base import ImportReport, collect
from aicost_desktop.importers.codex import NO_TIER_NOTE, CodexImporter, session_dirs

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))
from codex_logs import Thread, context, counts, meta, tier_settings, write_rollout  # noqa: E402

T0 = "2026-05-02T10:00:00.000Z"
FACTOR = {ServiceTier.STANDARD: 1, ServiceTier.PRIORITY: 2, ServiceTier.FLEX: Decimal("0.5")}


def tier_pricer(model: str | None, usage: TokenUsage, tier: ServiceTier, at: date) -> Decimal:
    """$1 per million tokens at standard; priority x2, flex x0.5 (only the tier matters here)."""
    return Decimal(usage.total_tokens) * FACTOR[tier] / 1_000_000


def _rows(tmp_path: Path, lines: list[dict]) -> list:
    write_rollout(tmp_path / "sessions/2026/05/02/rollout-2026-05-02T10-00-00-t1.jsonl",
                  [meta(T0, "t1"), context(T0, "gpt-5"), *lines])
    recs = collect(CodexImporter(session_dirs([tmp_path]), tier_pricer, ImportReport()).records())
    return sorted(recs, key=lambda r: r.bucket_start)


def at(minute: int) -> str:
    return f"2026-05-02T10:{minute:02d}:00.000Z"


@pytest.mark.parametrize(("logged", "tier"), [
    ("priority", ServiceTier.PRIORITY),
    ("fast", ServiceTier.PRIORITY),          # legacy config spelling of priority
    ("flex", ServiceTier.FLEX),
    ("default", ServiceTier.STANDARD),
])
def test_thread_settings_service_tier_prices_the_requests(tmp_path: Path, logged: str, tier: ServiceTier) -> None:
    (rec,) = _rows(tmp_path, [tier_settings(at(1), logged), counts(at(2), total=[900_000, 0, 100_000, 0])])
    assert (rec.service_tier, rec.note) == (tier, None)
    assert rec.computed_cost == Decimal(FACTOR[tier])


def test_a_settings_snapshot_without_a_tier_means_none_was_set(tmp_path: Path) -> None:
    (rec,) = _rows(tmp_path, [tier_settings(at(1), None), counts(at(2), total=[1000, 0, 10, 0])])
    assert (rec.service_tier, rec.note) == (ServiceTier.STANDARD, None)


def test_a_log_without_any_tier_is_standard_and_says_so(tmp_path: Path) -> None:
    (rec,) = _rows(tmp_path, [counts(at(2), total=[1000, 0, 10, 0])])
    assert (rec.service_tier, rec.note) == (ServiceTier.STANDARD, NO_TIER_NOTE)


def test_an_unknown_tier_is_priced_standard_and_named_in_the_note(tmp_path: Path) -> None:
    (rec,) = _rows(tmp_path, [tier_settings(at(1), "ultrafast"), counts(at(2), total=[1000, 0, 10, 0])])
    assert rec.service_tier is ServiceTier.STANDARD
    assert rec.note and "'ultrafast'" in rec.note and "standard price" in rec.note


def test_a_tier_change_mid_session_applies_from_then_on(tmp_path: Path) -> None:
    recs = _rows(tmp_path, [
        counts(at(1), total=[1000, 0, 10, 0]),
        tier_settings(at(2), "priority"),
        counts(at(3), total=[2000, 0, 20, 0]),
        tier_settings(at(4), "default"),
        counts(at(5), total=[3000, 0, 30, 0]),
    ])
    assert [r.service_tier for r in recs] == [ServiceTier.STANDARD, ServiceTier.PRIORITY, ServiceTier.STANDARD]
    assert [r.note for r in recs] == [NO_TIER_NOTE, None, None]


def test_a_tier_on_turn_context_or_on_the_event_itself_is_used(tmp_path: Path) -> None:
    recs = _rows(tmp_path, [
        context(at(1), "gpt-5", service_tier="priority"),
        counts(at(2), total=[1000, 0, 10, 0]),
        counts(at(3), total=[2000, 0, 20, 0], service_tier="flex"),   # the event's own tier wins
    ])
    assert [r.service_tier for r in recs] == [ServiceTier.PRIORITY, ServiceTier.FLEX]


def test_todays_config_toml_is_not_read_for_old_sessions(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('model = "gpt-5"\nservice_tier = "priority"\n', encoding="utf-8")
    (rec,) = _rows(tmp_path, [counts(at(2), total=[1000, 0, 10, 0])])
    assert (rec.service_tier, rec.note) == (ServiceTier.STANDARD, NO_TIER_NOTE)


def test_a_sub_agent_inherits_the_tier_from_its_replayed_parent_settings(tmp_path: Path) -> None:
    start = datetime(2026, 5, 3, 9, 0, tzinfo=timezone.utc)
    parent = Thread.start("p-fast", start)
    parent.turn_context(start, "gpt-5")
    parent.settings(start + timedelta(seconds=1), "priority")
    parent.request(start + timedelta(minutes=1), 5_000, 0, 100, 0)
    child = parent.spawn("c-fast", start + timedelta(hours=1))
    child.request(start + timedelta(hours=1, minutes=1), 6_000, 5_000, 100, 0)
    parent.write(tmp_path)
    child.write(tmp_path)
    recs = collect(CodexImporter(session_dirs([tmp_path]), tier_pricer, ImportReport()).records())
    assert len(recs) == 2 and {r.service_tier for r in recs} == {ServiceTier.PRIORITY}
