"""SyncService against the real-HTTP OpenRouter fake, without Qt: one sync per account, queueing, pause, schedule,
cancel on stop, and alert evaluation after a sync that wrote rows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from aicost_desktop.accounts import add_account, get_account, update_account
from aicost_desktop.analytics.report import spend_report
from aicost_desktop.runtime import Runtime
from aicost_desktop.runtime.sync import JITTER, jittered_ms
from aicost_desktop.storage.query import LedgerFilter
from tests.fakes.openrouter_fake import EXPECTED_TOTAL, MANAGEMENT_KEY
from tests.unit.runtime.recorder import Recorder


def record(rt: Runtime) -> Recorder:
    rec = Recorder()
    for name in ("started", "progress", "finished", "failed", "skipped", "imports_finished", "idle"):
        rec.listen(getattr(rt.sync, name), name)
    rec.listen(rt.alerts.evaluated, "evaluated")
    rec.listen(rt.alerts.delivered, "delivered")
    return rec


def total(ctx, account: str) -> Decimal:  # type: ignore[no-untyped-def]
    return spend_report(ctx.db, ZoneInfo("UTC"), date(2025, 6, 1), date(2025, 9, 30),
                        filters=LedgerFilter.of(account=account)).total


def test_a_sync_runs_on_a_runtime_thread_and_reports_in_order(ctx, runtime, openrouter) -> None:
    acc = add_account(ctx.db, ctx.secrets, "openrouter", "router", MANAGEMENT_KEY, openrouter.api_base)
    rec = record(runtime)
    openrouter.inject_delay(0.3, times=1)
    assert runtime.sync.sync_account(acc)
    assert runtime.sync.is_running(acc)
    assert not runtime.sync.sync_account(acc)  # the per-account lock: a second request is refused
    rec.wait(lambda r: bool(r.of("idle")) and bool(r.of("finished")))
    [(account_id, outcome)] = rec.of("finished")
    assert account_id == acc and outcome.ok, outcome.message
    names = [n for n in rec.names() if n in ("started", "progress", "finished")]
    assert names[0] == "started" and names[-1] == "finished" and "progress" in names
    assert total(ctx, "router") == EXPECTED_TOTAL and get_account(ctx.db, acc).status == "ok"
    assert not runtime.sync.busy() and runtime.sync.status_text().startswith("Last sync ")


def test_the_one_per_account_lock_holds_under_concurrent_requests(ctx, runtime, openrouter) -> None:
    """Eight threads ask for the same account at once (timer, Sync now, the dock's button...): one sync runs."""
    import threading

    acc = add_account(ctx.db, ctx.secrets, "openrouter", "router", MANAGEMENT_KEY, openrouter.api_base)
    openrouter.inject_delay(0.3, times=1)
    rec = record(runtime)
    barrier = threading.Barrier(8)
    answers: list[bool] = []

    def ask() -> None:
        barrier.wait(5)
        answers.append(runtime.sync.sync_account(acc))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    rec.wait(lambda r: bool(r.of("idle")) and bool(r.of("finished")))
    assert sorted(answers) == [False] * 7 + [True] and len(rec.of("started")) == 1


def test_the_status_line_names_the_account_mid_sync(ctx, runtime, openrouter) -> None:
    acc = add_account(ctx.db, ctx.secrets, "openrouter", "router", MANAGEMENT_KEY, openrouter.api_base)
    texts: list[str] = []
    runtime.sync.state_changed.connect(lambda: texts.append(runtime.sync.status_text()))
    rec = record(runtime)
    openrouter.inject_delay(0.3, times=1)
    runtime.sync.sync_account(acc)
    rec.wait(lambda r: bool(r.of("idle")))
    assert any(t.startswith("Syncing router") for t in texts) and texts[-1].startswith("Last sync ")


def test_more_syncs_than_max_concurrent_queue_and_all_run(ctx, runtime, openrouter) -> None:
    a = add_account(ctx.db, ctx.secrets, "openrouter", "a", MANAGEMENT_KEY, openrouter.api_base)
    b = add_account(ctx.db, ctx.secrets, "openrouter", "b", MANAGEMENT_KEY, openrouter.api_base)
    off = add_account(ctx.db, ctx.secrets, "openrouter", "off", MANAGEMENT_KEY, openrouter.api_base)
    update_account(ctx.db, off, enabled=False)
    runtime.sync.max_concurrent = 1
    rec = record(runtime)
    openrouter.inject_delay(0.3, times=1)
    runtime.sync.sync_all()
    rec.wait(lambda r: len(r.of("finished")) == 2 and bool(r.of("imports_finished")))
    assert sorted(i for i, _ in rec.of("finished")) == sorted([a, b])


def test_pause_stops_scheduled_ticks_but_not_an_explicit_sync(ctx, runtime, openrouter) -> None:
    acc = add_account(ctx.db, ctx.secrets, "openrouter", "router", MANAGEMENT_KEY, openrouter.api_base)
    runtime.sync.set_paused(True)
    assert ctx.settings.get("sync_paused") is True
    assert runtime.sync.tick() is False and runtime.sync.is_scheduled()  # rescheduled, nothing started
    assert openrouter.requests == [] and get_account(ctx.db, acc).last_sync_at is None
    rec = record(runtime)
    assert runtime.sync.sync_account(acc)  # the user asked: runs while paused
    rec.wait(lambda r: bool(r.of("finished")))
    runtime.sync.set_paused(False)


def test_the_schedule_syncs_due_accounts_then_waits_an_interval_with_jitter(ctx, runtime, openrouter) -> None:
    acc = add_account(ctx.db, ctx.secrets, "openrouter", "router", MANAGEMENT_KEY, openrouter.api_base)
    rec = record(runtime)
    runtime.sync.start(first_tick_ms=0)
    rec.wait(lambda r: bool(r.of("finished")) and runtime.sync.is_scheduled() and not runtime.sync.busy())
    assert rec.of("finished")[0][0] == acc
    interval = ctx.settings.get("sync_interval_minutes") * 60_000
    assert interval * (1 - JITTER) - 10_000 <= runtime.sync.next_tick_ms() <= interval * (1 + JITTER)
    # Just synced: a tick finds nothing due (its due-read ends with a reschedule, no start).
    started = len(rec.of("started"))
    assert runtime.sync.tick()
    rec.wait(lambda r: runtime.sync._due_job is None)
    assert len(rec.of("started")) == started


def test_stop_cancels_a_running_sync_and_refuses_new_ones(ctx, runtime, openrouter) -> None:
    acc = add_account(ctx.db, ctx.secrets, "openrouter", "slow", MANAGEMENT_KEY, openrouter.api_base)
    openrouter.inject_delay(0.5, times=10)
    rec = record(runtime)
    runtime.sync.sync_account(acc)
    rec.wait(lambda r: bool(r.of("started")))
    assert runtime.stop(wait_s=10)
    assert rec.of("skipped") and not rec.of("finished")
    assert not runtime.sync.is_scheduled() and not runtime.sync.sync_account(acc)
    assert len(openrouter.requests) < 10  # it stopped at the next request boundary


def test_a_failed_sync_is_an_outcome_not_an_exception(ctx, runtime, openrouter) -> None:
    acc = add_account(ctx.db, ctx.secrets, "openrouter", "bad", "sk-or-v1-wrong", openrouter.api_base)
    rec = record(runtime)
    runtime.sync.sync_account(acc)
    rec.wait(lambda r: bool(r.of("finished")))
    outcome = rec.of("finished")[0][1]
    assert not outcome.ok and "sk-or-v1-wrong" not in outcome.message and not rec.of("failed")
    assert get_account(ctx.db, acc).status == "needs_attention"


def test_a_sync_that_wrote_rows_evaluates_budgets(ctx, runtime, openrouter) -> None:
    """The runtime is not started (no timer): only the sync's writes can trigger this evaluation."""
    acc = add_account(ctx.db, ctx.secrets, "openrouter", "router", MANAGEMENT_KEY, openrouter.api_base)
    rec = record(runtime)
    runtime.sync.sync_account(acc)
    rec.wait(lambda r: bool(r.of("finished")) and bool(r.of("evaluated")))
    assert rec.names().index("finished") < rec.names().index("evaluated")
    runtime.sync.sync_account(acc)  # the re-read changes nothing: no evaluation follows
    rec.wait(lambda r: len(r.of("finished")) == 2 and not runtime.busy())
    assert len(rec.of("evaluated")) == 1


def test_jitter_stays_within_ten_percent() -> None:
    import random

    rng = random.Random(7)
    values = [jittered_ms(15, rng) for _ in range(200)]
    assert min(values) >= 15 * 60_000 * 0.9 and max(values) <= 15 * 60_000 * 1.1
    assert len(set(values)) > 100
