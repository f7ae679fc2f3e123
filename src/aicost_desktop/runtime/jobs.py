"""`Jobs`: the runtime's thread pool; a job reports done / error / progress through plain callbacks."""

from __future__ import annotations

import inspect
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

log = logging.getLogger("aicost.runtime.jobs")


class Cancelled(Exception):
    """Raised by (or reported for) a job whose cancel event was set before it finished."""


def accepts(fn: Callable[..., Any], name: str) -> bool:
    """Whether `fn` takes a keyword argument `name` (jobs opt in to `progress` and `cancel` this way)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _label(fn: Callable[..., Any]) -> str:
    """A job's default name: the function's qualified name (a partial or a callable object has none)."""
    qualname = getattr(fn, "__qualname__", None)
    return qualname if isinstance(qualname, str) else repr(fn)


class Job:
    """A submitted job: `cancel()` sets the event the job received and drops its result."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.cancel_event = threading.Event()
        self.finished = threading.Event()
        self.future: Future[None] | None = None

    def cancel(self) -> None:
        # A queued job still starts, sees the event and reports Cancelled: every job reports exactly once.
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)


class Jobs:
    """A ThreadPoolExecutor whose jobs get `progress(done, total)` and `cancel` (a threading.Event) when their
    signature asks for them. `on_done(result)` / `on_error(exc)` / `on_progress(done, total)` run on the
    worker thread; a cancelled job reports `Cancelled` to `on_error` instead of a result."""

    def __init__(self, max_workers: int = 8, name: str = "aicost-runtime") -> None:
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._active: set[Job] = set()
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once shut down: `submit` then raises."""
        return self._closed

    def submit(self, fn: Callable[..., Any], *args: Any, name: str | None = None,
               on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None,
               on_progress: Callable[[int, int], None] | None = None, **kwargs: Any) -> Job:
        job = Job(name or _label(fn))
        if accepts(fn, "progress") and "progress" not in kwargs:
            kwargs["progress"] = (lambda d, t: None if job.cancelled or on_progress is None
                                  else on_progress(int(d), int(t)))
        if accepts(fn, "cancel") and "cancel" not in kwargs:
            kwargs["cancel"] = job.cancel_event

        def run() -> None:
            try:
                if job.cancelled:
                    raise Cancelled(job.name)
                result = fn(*args, **kwargs)
                if job.cancelled:
                    raise Cancelled(job.name)
            except BaseException as exc:  # noqa: BLE001 - every failure must reach on_error
                self._finish(job)
                if on_error is not None:
                    on_error(exc)
                elif not isinstance(exc, Cancelled):
                    log.error("runtime job %s failed", job.name, exc_info=(type(exc), exc, exc.__traceback__))
            else:
                self._finish(job)
                if on_done is not None:
                    on_done(result)

        with self._lock:
            if self._closed:
                raise RuntimeError("the runtime is stopped")
            self._active.add(job)
        try:
            job.future = self._executor.submit(run)
        except RuntimeError:
            self._finish(job)
            raise
        return job

    def submit_if_open(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Job | None:
        """`submit`, or None (nothing runs) once shut down: for work a signal asks for, whose last request may
        arrive while the app quits (a GUI refresh, an evaluation after a ledger change)."""
        try:
            return self.submit(fn, *args, **kwargs)
        except RuntimeError:
            if not self._closed:
                raise
            log.debug("%s asked for after the runtime stopped: skipped", kwargs.get("name") or _label(fn))
            return None

    def _finish(self, job: Job) -> None:
        with self._lock:
            self._active.discard(job)
        job.finished.set()

    def active(self) -> int:
        """Jobs submitted and not finished (queued or running)."""
        with self._lock:
            return len(self._active)

    def cancel_all(self) -> None:
        with self._lock:
            jobs = list(self._active)
        for job in jobs:
            job.cancel()

    def shutdown(self, wait_s: float = 5.0) -> bool:
        """Cancel every job and wait up to `wait_s` for the running ones; True when all ended in time."""
        with self._lock:
            self._closed = True
            jobs = list(self._active)
        for job in jobs:
            job.cancel()
        ok = all(job.wait(wait_s) for job in jobs)
        self._executor.shutdown(wait=False, cancel_futures=True)
        return ok
