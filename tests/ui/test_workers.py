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


def test_refresher_folds_changes_into_one_more_load(qtbot) -> None:
    """The UI's one refresh policy: one load in flight, five requests during it fold into exactly one more."""
    import threading

    from PySide6.QtCore import QObject, QThreadPool

    from aicost_desktop.ui.workers import Refresher

    gate = threading.Event()
    pool = QThreadPool()
    owner = QObject()
    loads: list[int] = []
    applied: list[int] = []
    settled: list[bool] = []

    def load() -> int:
        loads.append(1)
        if len(loads) == 1:
            gate.wait(10)
        return len(loads)

    r = Refresher(pool, load, applied.append, owner=owner, settled=settled.append)
    r.request()
    for _ in range(5):
        r.request()
    assert r.loading
    gate.set()
    qtbot.waitUntil(lambda: settled == [True], timeout=10_000)
    assert applied == [1, 2] and len(loads) == 2 and not r.loading
    pool.waitForDone(5000)


def test_refresher_runs_the_folded_load_after_a_failed_one(qtbot) -> None:
    """A change during a load that fails is not lost: the folded load still runs and its result is shown."""
    import threading

    from PySide6.QtCore import QObject, QThreadPool

    from aicost_desktop.ui.workers import Refresher

    gate = threading.Event()
    pool = QThreadPool()
    owner = QObject()
    calls: list[int] = []
    applied: list[str] = []
    errors: list[str] = []
    settled: list[bool] = []

    def load() -> str:
        calls.append(1)
        if len(calls) == 1:
            gate.wait(10)
            raise OSError("database is locked")
        return "fresh rows"

    r = Refresher(pool, load, applied.append, owner=owner, failed=lambda e: errors.append(str(e)),
                  settled=settled.append)
    r.request()
    r.request()  # the ledger changed while the first load ran
    gate.set()
    qtbot.waitUntil(lambda: bool(settled), timeout=10_000)
    assert errors == ["database is locked"] and applied == ["fresh rows"] and settled == [True]
    pool.waitForDone(5000)


def test_refresher_restart_cancels_the_running_load(qtbot) -> None:
    import threading

    from PySide6.QtCore import QObject, QThreadPool

    from aicost_desktop.ui.workers import Refresher

    gate = threading.Event()
    pool = QThreadPool()
    owner = QObject()
    queries = iter(["30d", "90d"])
    applied: list[str] = []
    settled: list[bool] = []

    def load(q: str, cancel: threading.Event) -> str:
        if q == "30d":
            cancel.wait(10)  # stops at its next stage once cancelled
        return q

    r = Refresher(pool, load, applied.append, owner=owner, args=lambda: (next(queries),), settled=settled.append)
    r.request()
    r.request(restart=True)  # another query: the running one is dropped
    qtbot.waitUntil(lambda: bool(settled), timeout=10_000)
    assert applied == ["90d"]
    gate.set()
    pool.waitForDone(5000)
