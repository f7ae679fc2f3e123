"""The outbox: exactly-once delivery across a crash, stale claims, backoff, rate limits, quiet hours, snooze."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from aicost_desktop.budgets.model import BudgetSpec, add_budget, snooze_budget
from aicost_desktop.notify.alerts import raise_alert
from aicost_desktop.notify.outbox import (CallbackChannel, Delivery, Dispatcher, PermanentDeliveryError, RateLimit,
                                          outbox_rows, quiet_until)
from aicost_desktop.storage.db import Database

UTC = ZoneInfo("UTC")
T0 = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)


class Clock:
    def __init__(self, t: datetime = T0) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **kw: float) -> None:
        self.t += timedelta(**kw)


class Crash(BaseException):
    """Stands for the process dying (not an Exception: nothing catches it)."""


def collector() -> tuple[list[Delivery], CallbackChannel]:
    got: list[Delivery] = []
    return got, CallbackChannel(got.append)


def test_alert_raised_once_returns_none_second_time(sqlite_db: Database) -> None:
    a = raise_alert(sqlite_db, "anomaly", "anomaly:openai:2026-11-20", "spend 5x usual", now=T0)
    assert a is not None
    assert raise_alert(sqlite_db, "anomaly", "anomaly:openai:2026-11-20", "again", now=T0) is None
    assert len(outbox_rows(sqlite_db)) == 1


def test_crash_before_delivery_still_delivers_exactly_once(sqlite_db: Database) -> None:
    clock = Clock()
    raise_alert(sqlite_db, "threshold", "k1", "50% of budget", now=T0)

    def die(d: Delivery) -> None:
        raise Crash()

    with pytest.raises(Crash):  # the process "dies" after claiming the row, before delivering
        Dispatcher(sqlite_db, {"tray": CallbackChannel(die)}, UTC, clock=clock).run_once()
    [row] = outbox_rows(sqlite_db)
    assert row.status == "sending" and row.claimed_at == T0
    got, ch = collector()
    fresh = Dispatcher(sqlite_db, {"tray": ch}, UTC, clock=clock)
    assert fresh.run_once().sent == []  # the claim is not stale yet: never two senders at once
    clock.advance(minutes=6)
    assert fresh.run_once().sent == [row.id]
    assert fresh.run_once().sent == [] and Dispatcher(sqlite_db, {"tray": ch}, UTC, clock=clock).run_once().sent == []
    assert len(got) == 1 and got[0].alert.message == "50% of budget" and got[0].attempts == 2
    assert outbox_rows(sqlite_db)[0].status == "sent"


def test_crash_before_any_dispatcher_ran(sqlite_db: Database) -> None:
    raise_alert(sqlite_db, "threshold", "k1", "m", now=T0)  # "process exits" here
    got, ch = collector()
    Dispatcher(sqlite_db, {"tray": ch}, UTC, clock=Clock()).run_once()
    Dispatcher(sqlite_db, {"tray": ch}, UTC, clock=Clock()).run_once()
    assert len(got) == 1


def test_two_dispatchers_do_not_both_claim(sqlite_db: Database) -> None:
    raise_alert(sqlite_db, "threshold", "k1", "m", now=T0)
    got, ch = collector()
    d1 = Dispatcher(sqlite_db, {"tray": ch}, UTC, clock=Clock())
    d2 = Dispatcher(sqlite_db, {"tray": ch}, UTC, clock=Clock())
    [oid] = [r.id for r in outbox_rows(sqlite_db)]
    from aicost_desktop.notify.outbox import DispatchResult
    assert d1._claim(oid, DispatchResult()) is not None
    assert d2._claim(oid, DispatchResult()) is None


def test_retry_with_exponential_backoff_then_failed(sqlite_db: Database) -> None:
    clock = Clock()
    raise_alert(sqlite_db, "threshold", "k1", "m", now=T0)
    calls: list[datetime] = []

    def flaky(d: Delivery) -> None:
        calls.append(clock())
        raise ConnectionError("smtp down")

    disp = Dispatcher(sqlite_db, {"tray": CallbackChannel(flaky)}, UTC, clock=clock, max_attempts=4)
    assert [disp.backoff(n) for n in (1, 2, 3)] == [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2)]
    for _ in range(20):
        disp.run_once()
        clock.advance(seconds=15)
    assert [int((c - T0).total_seconds()) for c in calls] == [0, 30, 90, 210]
    [row] = outbox_rows(sqlite_db)
    assert row.status == "failed" and row.attempts == 4 and "smtp down" in (row.last_error or "")


def test_permanent_error_is_not_retried(sqlite_db: Database) -> None:
    raise_alert(sqlite_db, "threshold", "k1", "m", now=T0)

    def bad(d: Delivery) -> None:
        raise PermanentDeliveryError("no such mailbox")

    r = Dispatcher(sqlite_db, {"tray": CallbackChannel(bad)}, UTC, clock=Clock()).run_once()
    assert r.failed and outbox_rows(sqlite_db)[0].status == "failed"


def test_rate_limit_defers_not_drops(sqlite_db: Database) -> None:
    clock = Clock()
    for i in range(5):
        raise_alert(sqlite_db, "anomaly", f"k{i}", f"m{i}", now=T0)
    got, ch = collector()
    disp = Dispatcher(sqlite_db, {"tray": ch}, UTC, clock=clock, limits={"tray": RateLimit(2, timedelta(minutes=10))})
    r = disp.run_once()
    assert len(r.sent) == 2 and len(r.deferred) == 3
    clock.advance(minutes=5)
    assert disp.run_once().sent == []
    clock.advance(minutes=5, seconds=1)
    assert len(disp.run_once().sent) == 2
    clock.advance(minutes=10, seconds=1)
    disp.run_once()
    assert [d.alert.message for d in got] == [f"m{i}" for i in range(5)]


def test_quiet_hours_hold_until_they_end(sqlite_db: Database) -> None:
    bel = ZoneInfo("Europe/Belgrade")
    bid = add_budget(sqlite_db, BudgetSpec.build(name="B", amount="10", quiet_start="22:00", quiet_end="07:00"))
    night = datetime(2026, 11, 20, 22, 30, tzinfo=timezone.utc)  # 23:30 in Belgrade
    clock = Clock(night)
    raise_alert(sqlite_db, "threshold", "k", "m", budget_id=bid, now=night)
    got, ch = collector()
    disp = Dispatcher(sqlite_db, {"tray": ch}, bel, clock=clock)
    assert disp.run_once().deferred
    assert outbox_rows(sqlite_db)[0].next_attempt_at == datetime(2026, 11, 21, 6, tzinfo=timezone.utc)
    clock.t = datetime(2026, 11, 21, 6, 0, 1, tzinfo=timezone.utc)
    assert disp.run_once().sent and len(got) == 1


def test_quiet_until_windows() -> None:
    bel = ZoneInfo("Europe/Belgrade")
    at = datetime(2026, 11, 20, 10, tzinfo=timezone.utc)  # 11:00 local
    assert quiet_until(at, "12:00", "13:00", bel) is None
    assert quiet_until(at, "11:00", "12:00", bel) == datetime(2026, 11, 20, 11, tzinfo=timezone.utc)
    assert quiet_until(at, "22:00", "07:00", bel) is None
    early = datetime(2026, 11, 20, 4, tzinfo=timezone.utc)  # 05:00 local
    assert quiet_until(early, "22:00", "07:00", bel) == datetime(2026, 11, 20, 6, tzinfo=timezone.utc)


def test_snoozed_budget_logs_but_does_not_notify(sqlite_db: Database) -> None:
    bid = add_budget(sqlite_db, BudgetSpec.build(name="B", amount="10"))
    snooze_budget(sqlite_db, bid, T0 + timedelta(hours=4))
    raise_alert(sqlite_db, "threshold", "k", "m", budget_id=bid, now=T0)
    got, ch = collector()
    r = Dispatcher(sqlite_db, {"tray": ch}, UTC, clock=Clock()).run_once()
    assert r.skipped and got == [] and outbox_rows(sqlite_db)[0].status == "skipped"


def test_old_tray_rows_expire_and_unknown_channels_wait(sqlite_db: Database) -> None:
    raise_alert(sqlite_db, "threshold", "k", "m", now=T0, channels=[("tray", ""), ("email", "a@example.com")])
    clock = Clock(T0 + timedelta(days=2))
    got, ch = collector()
    r = Dispatcher(sqlite_db, {"tray": ch}, UTC, clock=clock).run_once()
    assert r.skipped and got == []
    assert [r.status for r in outbox_rows(sqlite_db)] == ["skipped", "pending"]
