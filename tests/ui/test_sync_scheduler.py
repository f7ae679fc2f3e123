"""SyncScheduler (the Qt face of the runtime's SyncService) against the real-HTTP OpenRouter fake: background
syncs while the GUI thread keeps ticking, signals on the GUI thread, pause, cancel on shutdown."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QThread, QTimer

from aicost_desktop.accounts import add_account, get_account
from aicost_desktop.analytics.report import spend_report
from aicost_desktop.storage.query import LedgerFilter
from aicost_desktop.ui.sync_scheduler import JITTER
from tests.fakes.openrouter_fake import EXPECTED_RECORDS, EXPECTED_TOTAL, MANAGEMENT_KEY


@pytest.fixture
def fake(openrouter):
    return openrouter


@pytest.fixture
def scheduler(services):
    """The adapter the window shell builds (services.sync) over the test's runtime."""
    return services.sync


def total(ctx, account: str) -> Decimal:
    return spend_report(ctx.db, ZoneInfo("UTC"), date(2025, 6, 1), date(2025, 9, 30),
                        filters=LedgerFilter.of(account=account)).total


def test_sync_runs_in_a_worker_while_the_gui_thread_keeps_ticking(qtbot, ctx, services, bus, scheduler, fake):
    from aicost_desktop.ui.docks.cost_tracker import CostTrackerWidget

    tracker = CostTrackerWidget(ctx, services)
    qtbot.addWidget(tracker)
    acc = add_account(ctx.db, ctx.secrets, "openrouter", "router", MANAGEMENT_KEY, fake.api_base)
    fake.inject_delay(0.4, times=2)  # two slow responses: a blocked GUI thread could not tick meanwhile
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    progress: list[tuple[int, int, int]] = []
    threads: list[bool] = []
    scheduler.progress.connect(lambda *a: progress.append(a))
    # Every signal reaches its slots on the GUI thread, never on the runtime's sync thread.
    scheduler.finished.connect(lambda *_a: threads.append(QThread.currentThread() is tracker.thread()))
    with qtbot.waitSignal(scheduler.finished, timeout=15_000) as done, \
            qtbot.waitSignal(bus.ledger_changed, timeout=15_000), \
            qtbot.waitSignal(tracker.refreshed, timeout=15_000):
        t0 = time.monotonic()
        assert scheduler.sync_account(acc)
        assert time.monotonic() - t0 < 0.3  # starting a sync never waits on the network
        assert scheduler.is_running(acc) and not scheduler.sync_account(acc)  # one per account
    timer.stop()
    account_id, outcome = done.args
    assert account_id == acc and outcome.ok, outcome.message
    during = [t for t in ticks if t >= t0]
    gaps = [b - a for a, b in zip(during, during[1:])]
    assert len(during) >= 20, "the GUI thread's timer hardly fired during the sync"
    assert max(gaps) < 0.35, f"the GUI thread stalled for {max(gaps):.2f}s (the fake delays 0.4s)"
    assert progress and all(p[0] == acc for p in progress)
    assert threads == [True]
    assert total(ctx, "router") == EXPECTED_TOTAL
    # Every record arrived (rows of one model-day served by several upstream providers show folded into one).
    assert sum(len(r.ids) for r in tracker.model.top_rows()) == EXPECTED_RECORDS and not tracker.is_empty_state()
    assert get_account(ctx.db, acc).status == "ok"
    assert scheduler.status_text({acc: "router"}).startswith("Last sync ")


def test_status_text_shows_per_account_progress_mid_sync(qtbot, ctx, scheduler, fake):
    acc = add_account(ctx.db, ctx.secrets, "openrouter", "router", MANAGEMENT_KEY, fake.api_base)
    fake.inject_delay(0.5, times=1)
    texts: list[str] = []
    scheduler.state_changed.connect(lambda: texts.append(scheduler.status_text({acc: "router"})))
    with qtbot.waitSignal(scheduler.all_idle, timeout=15_000):
        scheduler.sync_account(acc)
    assert texts[0].startswith("Syncing router") and texts[-1].startswith("Last sync ")
    assert not scheduler.busy()


def test_scheduled_tick_syncs_due_accounts_and_reschedules_with_jitter(qtbot, ctx, scheduler, fake):
    acc = add_account(ctx.db, ctx.secrets, "openrouter", "router", MANAGEMENT_KEY, fake.api_base)
    with qtbot.waitSignal(scheduler.finished, timeout=15_000) as done:
        scheduler.start(first_tick_ms=0)
    assert done.args[0] == acc and done.args[1].ok
    assert scheduler.is_scheduled()
    interval = ctx.settings.get("sync_interval_minutes") * 60_000
    assert interval * (1 - JITTER) - 10_000 <= scheduler.next_tick_ms() <= interval * (1 + JITTER)
    # Just synced: the next tick finds nothing due.
    with qtbot.assertNotEmitted(scheduler.started, wait=300):
        scheduler.tick()


def test_pause_stops_scheduled_syncs_but_not_an_explicit_one(qtbot, ctx, scheduler, fake):
    acc = add_account(ctx.db, ctx.secrets, "openrouter", "router", MANAGEMENT_KEY, fake.api_base)
    scheduler.set_paused(True)
    with qtbot.assertNotEmitted(scheduler.started, wait=300):
        assert scheduler.tick() is False
    assert fake.requests == [] and get_account(ctx.db, acc).last_sync_at is None
    scheduler.set_paused(False)
    with qtbot.waitSignal(scheduler.finished, timeout=15_000):
        assert scheduler.tick() is True


def test_sync_all_covers_enabled_accounts_and_runs_imports(qtbot, ctx, scheduler, fake):
    from aicost_desktop.accounts import update_account

    a = add_account(ctx.db, ctx.secrets, "openrouter", "a", MANAGEMENT_KEY, fake.api_base)
    b = add_account(ctx.db, ctx.secrets, "openrouter", "b", MANAGEMENT_KEY, fake.api_base)
    off = add_account(ctx.db, ctx.secrets, "openrouter", "off", MANAGEMENT_KEY, fake.api_base)
    update_account(ctx.db, off, enabled=False)
    scheduler.max_concurrent = 1  # the second one queues
    seen: list[int] = []
    scheduler.finished.connect(lambda i, _o: seen.append(i))
    with qtbot.waitSignal(scheduler.imports_finished, timeout=15_000):
        scheduler.sync_all()
    qtbot.waitUntil(lambda: sorted(seen) == sorted([a, b]), timeout=15_000)
    assert off not in seen


def test_failed_sync_is_reported_not_raised(qtbot, ctx, scheduler, fake):
    acc = add_account(ctx.db, ctx.secrets, "openrouter", "bad", "sk-or-v1-wrong", fake.api_base)
    with qtbot.waitSignal(scheduler.finished, timeout=15_000) as done:
        scheduler.sync_account(acc)
    outcome = done.args[1]
    assert not outcome.ok and "sk-or-v1-wrong" not in outcome.message
    assert get_account(ctx.db, acc).status == "needs_attention"


def test_shutdown_cancels_a_running_sync(qtbot, ctx, scheduler, fake):
    acc = add_account(ctx.db, ctx.secrets, "openrouter", "slow", MANAGEMENT_KEY, fake.api_base)
    fake.inject_delay(0.5, times=10)
    with qtbot.waitSignal(scheduler.started, timeout=5000):
        scheduler.sync_account(acc)
    with qtbot.waitSignal(scheduler.skipped, timeout=10_000):
        scheduler.shutdown()
    assert not scheduler.is_scheduled() and not scheduler.sync_account(acc)
    assert len(fake.requests) < 10  # it stopped at the next request boundary


def test_the_views_reload_when_a_sync_ends_not_a_throttle_period_later(qtbot, ctx, bus, scheduler, fake):
    """During a sync the bus folds ledger changes into one per period; the end of it has nothing more to fold."""
    bus._timer.setInterval(60_000)  # a throttle longer than the test: only the sync's end can flush it
    acc = add_account(ctx.db, ctx.secrets, "openrouter", "router", MANAGEMENT_KEY, fake.api_base)
    changed: list[float] = []
    bus.ledger_changed.connect(lambda: changed.append(time.monotonic()))
    with qtbot.waitSignal(scheduler.finished, timeout=15_000):
        assert scheduler.sync_account(acc)
    ended = time.monotonic()
    qtbot.waitUntil(lambda: bool(changed), timeout=3_000)
    assert changed[0] - ended < 2.0 and not bus._timer.isActive()
