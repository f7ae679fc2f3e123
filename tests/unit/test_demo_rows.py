"""Sample data: Claude Code sessions at working hours in the user's zone, and none later than now."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from aicost_desktop.demo import MODELS, generate
from aicost_desktop.domain.enums import DataSource

TZ = ZoneInfo("America/Los_Angeles")
TODAY = date(2026, 12, 2)  # a Wednesday
IDS = {name: i for i, name in enumerate(sorted({m[0] for m in MODELS}), 1)}


def _price(*_args: object) -> Decimal:
    return Decimal("0.01")


def _sessions(now: datetime | None) -> dict[str, datetime]:
    rows = generate(30, 1, TODAY, _price, IDS, TZ, now)
    return {r.dedup_key: r.bucket_start for r in rows if r.source is DataSource.LOG}


def test_sessions_are_at_local_working_hours_and_none_after_now() -> None:
    everything = _sessions(None)
    assert everything and all(8 <= at.astimezone(TZ).hour <= 17 for at in everything.values())
    now = datetime(2026, 12, 2, 12, 0, tzinfo=TZ).astimezone(timezone.utc)
    so_far = _sessions(now)
    today = [k for k in everything if k.startswith(f"demo:claude-code:{TODAY}")]
    assert today and any(everything[k] > now for k in today)  # the draw has afternoon sessions to leave out
    assert all(at <= now for at in so_far.values())
    # The sessions already begun are the same ones, unchanged; only today's later ones are missing.
    assert so_far == {k: at for k, at in everything.items() if at <= now}
