"""Background jobs on a QThreadPool with a success/error/progress contract delivered on the GUI thread.

A job is any callable. If its signature has a `progress` parameter it receives a
`progress(done, total)` callback; if it has a `cancel` parameter it receives a `threading.Event`
that is set when the job should stop. The callable never touches widgets; its return value
reaches `on_done` (and an exception reaches `on_error`) through queued signals, so callbacks
always run on the thread that called `run_in_pool` (the GUI thread).

    worker = run_in_pool(pool, lambda: list_records(db, tz, filters),
                         on_done=model.set_rows, on_error=show_error, owner=self)

With `owner` set, callbacks are dropped once the owner QObject is destroyed (a closed dock never
receives a late result).
"""

from __future__ import annotations

import inspect
import logging
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from shiboken6 import isValid

log = logging.getLogger("aicost.ui.workers")


class Cancelled(Exception):
    """Raised by (or delivered for) a job whose cancel event was set before it finished."""


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


def _accepts(fn: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


class Worker(QRunnable):
    """Runs `fn(*args, **kwargs)` on a pool thread and reports through `self.signals`."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.signals = WorkerSignals()
        self.cancel_event = threading.Event()
        self.name = getattr(fn, "__qualname__", repr(fn))

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
        if _accepts(self.fn, "progress") and "progress" not in kwargs:
            kwargs["progress"] = self._report_progress
        if _accepts(self.fn, "cancel") and "cancel" not in kwargs:
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


class FoldedLoads:
    """One load at a time for a view: asking again while one runs folds every such request into a single
    further load after it (a sync changes the ledger every few hundred ms; loads must not pile up).

        loads = FoldedLoads(start)   # start() launches the job (e.g. services.run(..., on_done=apply))
        loads.request()              # from refresh()
        if not loads.finished():     # from the job's on_done / on_error: True when another load started
            self.refreshed.emit()
    """

    def __init__(self, start: Callable[[], Any]) -> None:
        self._start = start
        self.loading = False
        self._again = False

    def request(self) -> None:
        if self.loading:
            self._again = True
            return
        self.loading = True
        self._start()

    def finished(self) -> bool:
        """Mark the running load done; starts the folded one if asked for meanwhile (returns True then)."""
        self.loading = False
        if self._again:
            self._again = False
            self.request()
            return True
        return False


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
