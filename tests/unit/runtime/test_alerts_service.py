"""AlertService without Qt: evaluation delivers to listeners once, folds requests, counts pending acknowledgements."""

from __future__ import annotations

import threading
from datetime import datetime

from aicost_desktop.budgets.model import BudgetSpec, add_budget
from aicost_desktop.runtime import Runtime
from tests.unit.budgets.helpers import spend_on
from tests.unit.runtime.recorder import Recorder


def record(rt: Runtime) -> Recorder:
    rec = Recorder()
    for name in ("evaluated", "delivered", "ack_pending"):
        rec.listen(getattr(rt.alerts, name), name)
    return rec


def test_a_threshold_alert_is_delivered_once(ctx, runtime) -> None:
    add_budget(ctx.db, BudgetSpec.build(name="OpenAI", amount="10"))
    spend_on(ctx.db, datetime.now(ctx.tz).date(), "8.5", "a")
    rec = record(runtime)
    runtime.alerts.evaluate_now()
    rec.wait(lambda r: bool(r.of("evaluated")))
    assert rec.of("delivered") == [("OpenAI: 80% of budget", rec.of("delivered")[0][1])]
    assert "$8.50 of $10.00 (85%)" in rec.of("delivered")[0][1]
    runtime.alerts.evaluate_now()
    rec.wait(lambda r: len(r.of("evaluated")) == 2)
    assert len(rec.of("delivered")) == 1  # de-duplicated: nothing new the second time


def test_without_a_listener_tray_deliveries_wait_for_one(ctx, runtime) -> None:
    """A headless host has no tray: the tray message stays pending until a GUI listens."""
    add_budget(ctx.db, BudgetSpec.build(name="OpenAI", amount="10"))
    spend_on(ctx.db, datetime.now(ctx.tz).date(), "8.5", "a")
    done = threading.Event()
    runtime.alerts.evaluated.connect(lambda _r: done.set())
    runtime.alerts.evaluate_now()
    assert done.wait(15)
    rec = record(runtime)
    runtime.alerts.evaluate_now()
    rec.wait(lambda r: bool(r.of("evaluated")))
    assert [t for t, _ in rec.of("delivered")] == ["OpenAI: 80% of budget"]


def test_requests_during_an_evaluation_fold_into_one_more(ctx, runtime, monkeypatch) -> None:
    from aicost_desktop.runtime import alerts as module

    gate = threading.Event()
    calls: list[int] = []
    real = module.run_check

    def slow(ctx, **kw):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            gate.wait(10)
            raise RuntimeError("database is locked")  # a failing run must still run the folded one
        return real(ctx, **kw)

    monkeypatch.setattr(module, "run_check", slow)
    rec = record(runtime)
    runtime.alerts.evaluate_now()
    for _ in range(5):
        runtime.alerts.evaluate_now()
    gate.set()
    rec.wait(lambda r: bool(r.of("evaluated")))
    assert len(calls) == 2  # the five requests folded into one run, after the failed one


def test_require_ack_budgets_report_the_pending_count(ctx, runtime) -> None:
    add_budget(ctx.db, BudgetSpec.build(name="Hard", amount="10", on_exceed="require_ack"))
    spend_on(ctx.db, datetime.now(ctx.tz).date(), "12", "a")
    rec = record(runtime)
    runtime.alerts.evaluate_now()
    rec.wait(lambda r: bool(r.of("ack_pending")))
    assert rec.of("ack_pending") == [(1,)] and runtime.alerts.pending_ack == 1


def test_a_refresh_asked_for_after_the_runtime_stopped_does_nothing(ctx) -> None:
    """A window's last queued refresh (an alert acknowledged as the app quits) reaches a stopped runtime:
    it is dropped, not raised into the GUI's event loop."""
    rt = Runtime(ctx, alert_interval_s=3600)
    rt.stop(wait_s=10)
    assert rt.jobs.closed
    rt.alerts.refresh_ack_state()  # before the fix: RuntimeError("the runtime is stopped")
    assert rt.alerts.pending_ack == 0


def test_an_evaluation_asked_for_after_the_runtime_stopped_does_nothing(ctx) -> None:
    """The GUI asks for an evaluation on every ledger change; the last one may arrive as the app quits."""
    rt = Runtime(ctx, alert_interval_s=3600)
    rt.stop(wait_s=10)
    rt.alerts.evaluate_now()  # before the fix: RuntimeError("the runtime is stopped")
    rt.alerts.evaluate_now()
