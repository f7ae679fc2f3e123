"""Worker / run_in_pool: results, errors, progress and cancellation arrive on the GUI thread."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject

from aicost_desktop.ui.workers import Cancelled, Worker, run_in_pool


def test_result_delivered_on_gui_thread(qtbot, pool):
    main = threading.get_ident()
    got: dict = {}

    def job():
        got["job_thread"] = threading.get_ident()
        return 42

    with qtbot.waitCallback() as cb:
        run_in_pool(pool, job, on_done=lambda r: (got.update(cb_thread=threading.get_ident()), cb(r)))
    cb.assert_called_with(42)
    assert got["job_thread"] != main
    assert got["cb_thread"] == main


def test_error_reaches_on_error(qtbot, pool):
    def job():
        raise ValueError("boom")

    with qtbot.waitCallback() as cb:
        run_in_pool(pool, job, on_done=lambda r: None, on_error=cb)
    assert isinstance(cb.args[0], ValueError)


def test_progress_and_cancel_are_injected(qtbot, pool):
    seen: list[tuple[int, int]] = []

    def job(progress, cancel):
        for i in range(3):
            progress(i + 1, 3)
        return cancel.is_set()

    with qtbot.waitCallback() as cb:
        run_in_pool(pool, job, on_done=cb, on_progress=lambda d, t: seen.append((d, t)))
    cb.assert_called_with(False)
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_cancelled_job_reports_cancelled(qtbot, pool):
    gate = threading.Event()

    def job(cancel):
        gate.wait(5)
        return "late"

    done: list = []
    with qtbot.waitCallback() as cb:
        w = run_in_pool(pool, job, on_done=done.append, on_error=cb)
        w.cancel()
        gate.set()
    assert isinstance(cb.args[0], Cancelled)
    assert done == []


def test_owner_destroyed_drops_callbacks(qtbot, pool):
    owner = QObject()
    gate = threading.Event()
    called: list = []
    w = run_in_pool(pool, lambda: gate.wait(5), on_done=called.append, owner=owner)
    with qtbot.waitSignal(owner.destroyed):
        owner.deleteLater()
    with qtbot.waitSignal(w.signals.finished):
        gate.set()
    assert called == []


def test_dialog_closed_while_its_job_runs_is_safe(qtbot, pool):
    """A dialog deleted mid-job: its callbacks are dropped and the process survives (PySide6 6.12 aborted
    when a relay was parented to the deleted dialog)."""
    from PySide6.QtWidgets import QDialog

    dialog = QDialog()
    gate = threading.Event()
    called: list = []
    w = run_in_pool(pool, lambda: gate.wait(5), on_done=called.append, on_error=called.append, owner=dialog)
    with qtbot.waitSignal(dialog.destroyed):
        dialog.deleteLater()
    with qtbot.waitSignal(w.signals.finished):
        gate.set()
    assert called == []


def test_worker_signals_direct(qtbot):
    w = Worker(lambda x: x * 2, 21)
    with qtbot.waitSignal(w.signals.finished) as blocker:
        w.run()
    assert blocker.args == [42]


def test_folded_loads_run_one_at_a_time_and_fold_requests_into_one_more() -> None:
    from aicost_desktop.ui.workers import FoldedLoads

    started: list[int] = []
    loads = FoldedLoads(lambda: started.append(1))
    loads.request()
    for _ in range(5):
        loads.request()  # while the first runs
    assert len(started) == 1 and loads.loading
    assert loads.finished() is True and len(started) == 2  # the folded one started
    assert loads.finished() is False and not loads.loading and len(started) == 2
