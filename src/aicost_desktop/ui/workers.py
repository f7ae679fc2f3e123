"""Background jobs on a QThreadPool with a success/error/progress contract delivered on the GUI thread.

A job is any callable. If its signature has a `progress` parameter it receives a
`progress(done, total)` callback; if it has a `cancel` parameter it receives a `threading.Event`
that is set when the job should stop. The callable never touches widgets; its return value
reaches `on_done` (and an exception reaches `on_error`) through queued signals, so callbacks
always run on the thread that called `run_in_pool` (the GUI thread).

    worker = run_in_pool(pool, lambda: list_records(db, tz, filters),
                         on_done=model.set_rows, on_error=show_error, owner=self)

With `owner` set, callbacks are dropped once the owner QObject is destroyed (a closed dock never
receives a late result). `Refresher` is the one refresh policy of every view (one load in flight,
changes meanwhile fold into one more, a failed load still runs it); `on_gui` brings a runtime
callback to the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from shiboken6 import isValid

from aicost_desktop.runtime.folding import Folded
from aicost_desktop.runtime.jobs import Cancelled, accepts

__all__ = ["Cancelled", "GuiCall", "Refresher", "Worker", "WorkerSignals", "on_gui", "run_in_pool"]
log = logging.getLogger("aicost.ui.workers")


class WorkerSignals(QObject):
    """The signals of one Worker (a QRunnable cannot have signals itself).

    Signals:
        finished(object): the job's return value.
        failed(object): the exception the job raised (a `Cancelled` when it was cancelled).
        progress(int, int): done, total as reported by the job.
    """

    finished = Signal(object)
    failed = Signal(object)
    progress = Signal(int, int)


class Worker(QRunnable):
    """Runs `fn(*args, **kwargs)` on a pool thread and reports through `self.signals`."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.signals = WorkerSignals()
        self.cancel_event = threading.Event()
        # "cost_tracker._load", not "_load": several docks' loads share a name, and logs must tell them apart.
        module = getattr(fn, "__module__", None) or ""
        self.name = (module.rsplit(".", 1)[-1] + "." if module else "") + getattr(fn, "__qualname__", repr(fn))

    def cancel(self) -> None:
        """Ask the job to stop; a job that ignores the event still has its result dropped."""
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def _report_progress(self, done: int, total: int) -> None:
        if not self.cancel_event.is_set():
            self.signals.progress.emit(int(done), int(total))

    def run(self) -> None:  # runs on a pool thread: no widgets here
        if self.cancel_event.is_set():
            self.signals.failed.emit(Cancelled(self.name))
            return
        kwargs = dict(self.kwargs)
        if accepts(self.fn, "progress") and "progress" not in kwargs:
            kwargs["progress"] = self._report_progress
        if accepts(self.fn, "cancel") and "cancel" not in kwargs:
            kwargs["cancel"] = self.cancel_event
        try:
            result = self.fn(*self.args, **kwargs)
        except Cancelled as exc:
            self.signals.failed.emit(exc)
        except BaseException as exc:  # noqa: BLE001 - every failure must reach on_error
            log.debug("job %s failed", self.name, exc_info=True)
            self.signals.failed.emit(exc)
        else:
            if self.cancel_event.is_set():
                self.signals.failed.emit(Cancelled(self.name))
            else:
                self.signals.finished.emit(result)


class _Relay(QObject):
    """Lives on the GUI thread and forwards a worker's signals to plain callbacks there."""

    _live: set["_Relay"] = set()  # every relay is kept alive here until its job ends

    def __init__(self, worker: Worker, on_done: Callable[[Any], None] | None,
                 on_error: Callable[[BaseException], None] | None,
                 on_progress: Callable[[int, int], None] | None, owner: QObject | None) -> None:
        # Not parented to `owner`: Qt deleting a Python-created child with its owner (a closed dialog)
        # aborts PySide6 6.12 ("shared QObject was deleted directly"). The owner is only watched.
        super().__init__()
        self._owner = owner
        self._signals = worker.signals  # keep the signals object alive until delivery
        self._on_done, self._on_error, self._on_progress = on_done, on_error, on_progress
        self._name = worker.name
        # Kept to disconnect with QObject.disconnect(connection): PySide6 6.12's `signal.disconnect(slot)`
        # drops a reference to Py_True on every call, which aborts the process after a few thousand jobs.
        self._connections = [worker.signals.finished.connect(self._done), worker.signals.failed.connect(self._failed),
                             worker.signals.progress.connect(self._progress)]
        _Relay._live.add(self)

    def _owner_gone(self) -> bool:
        return self._owner is not None and not isValid(self._owner)

    @Slot(object)
    def _done(self, result: Any) -> None:
        try:
            if self._on_done is not None and not self._owner_gone():
                self._on_done(result)
        finally:
            self._release()

    @Slot(object)
    def _failed(self, exc: BaseException) -> None:
        try:
            if self._owner_gone():
                return
            if self._on_error is not None:
                self._on_error(exc)
            elif not isinstance(exc, Cancelled):
                log.error("background job %s failed", self._name, exc_info=(type(exc), exc, exc.__traceback__))
        finally:
            self._release()

    @Slot(int, int)
    def _progress(self, done: int, total: int) -> None:
        if self._on_progress is not None and not self._owner_gone():
            self._on_progress(done, total)

    def _release(self) -> None:
        for connection in self._connections:
            QObject.disconnect(connection)
        self._connections = []
        _Relay._live.discard(self)
        self.deleteLater()


class Refresher:
    """The UI's one refresh policy, used by every dock, the tray and the status bar.

    At most one load in flight; requests while it runs fold into exactly one more load after it; a failed
    load still runs the folded one (`runtime.folding.Folded` decides, this runs it on the pool and delivers
    on the GUI thread). `request(restart=True)` also cancels the running load, whose answer is dropped,
    so the folded one starts as soon as it stops (the user asked for another query).

        self._loads = Refresher(services.pool, load_rows, self._apply, owner=self, failed=self._failed,
                                args=lambda: (ctx, self.limit()), settled=lambda ok: self.refreshed.emit())
        self._loads.request()        # on every change

    `load(*args())` runs on a pool thread (`args` is evaluated on the GUI thread when the load starts);
    `apply(result)` / `failed(exc)` run on the GUI thread for every load; `settled(ok)` once no further load
    follows (ok: the last load succeeded).
    """

    def __init__(self, pool: QThreadPool | None, load: Callable[..., Any], apply: Callable[[Any], None], *,
                 owner: QObject, failed: Callable[[BaseException], None] | None = None,
                 settled: Callable[[bool], None] | None = None, args: Callable[[], tuple[Any, ...]] | None = None,
                 priority: int = 0) -> None:
        self._pool, self._load, self._apply, self._owner = pool, load, apply, owner
        self._failed_cb, self._settled, self._args, self._priority = failed, settled, args, priority
        self._worker: Worker | None = None
        self._runs = Folded(self._start)
        self.last_error: BaseException | None = None

    @property
    def loading(self) -> bool:
        return self._runs.running

    def request(self, restart: bool = False) -> None:
        if not self._runs.request() and restart and self._worker is not None:
            self._worker.cancel()  # reports Cancelled soon; the folded load starts then

    def _start(self) -> None:
        args = self._args() if self._args is not None else ()
        self._worker = run_in_pool(self._pool, self._load, *args, on_done=self._done, on_error=self._error,
                                   owner=self._owner, priority=self._priority)

    def _done(self, result: Any) -> None:
        self.last_error = None
        try:
            self._apply(result)
        finally:
            self._end()

    def _error(self, exc: BaseException) -> None:
        try:
            if isinstance(exc, Cancelled):
                return  # superseded by a restart: the folded load shows the answer
            self.last_error = exc
            if self._failed_cb is not None:
                self._failed_cb(exc)
            else:
                log.error("load %s failed: %s", getattr(self._load, "__qualname__", self._load), exc,
                          exc_info=(type(exc), exc, exc.__traceback__))
        finally:
            self._end()

    def _end(self) -> None:
        self._worker = None
        if not self._runs.done() and self._settled is not None:
            self._settled(self.last_error is None)


class GuiCall(QObject):
    """Runs callables on the thread it lives on (the GUI thread) when asked from any thread (runtime callbacks).

    Signals:
        call(object): a zero-argument callable to run here (queued across threads).
    """

    call = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.call.connect(self._run)

    @Slot(object)
    def _run(self, thunk: Callable[[], None]) -> None:
        thunk()


_gui_call: GuiCall | None = None


def on_gui(fn: Callable[..., None], owner: QObject | None = None) -> Callable[..., None]:
    """A function any thread may call; `fn(*args)` then runs on the GUI thread, and is dropped once `owner`
    is destroyed. Create it on the GUI thread (its relay object lives where it is first created)."""
    global _gui_call
    if _gui_call is None:
        _gui_call = GuiCall()
    relay = _gui_call

    def call(*args: Any) -> None:
        def thunk() -> None:
            if owner is None or isValid(owner):
                fn(*args)
        try:
            relay.call.emit(thunk)
        except RuntimeError:  # the application is gone
            log.debug("GUI call after shutdown dropped")

    return call


def run_in_pool(pool: QThreadPool | None, fn: Callable[..., Any], *args: Any,
                on_done: Callable[[Any], None] | None = None,
                on_error: Callable[[BaseException], None] | None = None,
                on_progress: Callable[[int, int], None] | None = None,
                owner: QObject | None = None, priority: int = 0, **kwargs: Any) -> Worker:
    """Start `fn` on `pool` (the global pool when None); callbacks run on the calling (GUI) thread.

    Without `on_error`, failures are logged at ERROR (cancellations silently). Returns the Worker,
    whose `cancel()` asks the job to stop and drops its result. Queued jobs with a higher `priority`
    start first (give it to the longest job of a refresh, so it does not wait behind short ones).
    """
    worker = Worker(fn, *args, **kwargs)
    _Relay(worker, on_done, on_error, on_progress, owner)
    (pool or QThreadPool.globalInstance()).start(worker, priority)
    return worker
