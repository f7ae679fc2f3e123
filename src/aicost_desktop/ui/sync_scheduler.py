"""SyncScheduler: account syncs and scheduled log imports on the Services pool, never on the GUI thread.

One scheduler per window lives in `services.extra["sync"]` (the main window's "Sync now" calls
`sync_all()` on it). Every database read, keychain read and HTTP call happens in a pool worker;
results come back as signals on the GUI thread. At most one sync per account runs at a time
(and `sync_account` itself refuses a second one with `AlreadyRunning`), and at most
`max_concurrent` syncs run at once so dock reloads always find a free pool thread.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import deque
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from aicost_desktop.storage.queries import shortest_sync_interval
from aicost_desktop.ui.workers import Cancelled, Worker

if TYPE_CHECKING:
    import httpx

    from aicost_desktop.sync.http import HttpPolicy
    from aicost_desktop.ui.services import Services

log = logging.getLogger("aicost.ui.sync")
JITTER = 0.10            # scheduled ticks land within +-10 % of the interval (no thundering herd)
FIRST_TICK_MS = 5_000    # shortly after start: accounts overdue since the last run sync at once
MIN_TICK_MS = 60_000


def jittered_ms(minutes: float, rng: random.Random | None = None) -> int:
    """`minutes` in milliseconds, moved by up to +-10 %, never under a minute."""
    r = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    return max(MIN_TICK_MS, int(minutes * 60_000 * r))


class SyncScheduler(QObject):
    """Runs `sync_account` for due accounts on a timer, on "Sync now" and per account on request.

    Scheduled ticks do nothing while the `sync_paused` setting is set; an explicit `sync_all()` /
    `sync_account()` (the user pressed a button) still runs. `shutdown()` cancels running syncs
    through the `threading.Event` each one received, then waits briefly for the pool.

    Signals:
        started(int): account_id's sync began.
        progress(int, int, int): account_id, done, total (total 0 = unknown).
        finished(int, object): account_id and its SyncOutcome (`outcome.ok` False for provider
            trouble: the account is already marked needs_attention / error in the database).
        failed(int, str): account_id's job raised instead of returning an outcome.
        skipped(int, str): a requested sync did not start (already running elsewhere, cancelled).
        imports_finished(object): {import_source_id: ImportReport} of a scheduled import run.
        all_idle(): nothing is running or queued any more.
        state_changed(): any of the above happened (status labels re-read `status_text()`).
    """

    started = Signal(int)
    progress = Signal(int, int, int)
    finished = Signal(int, object)
    failed = Signal(int, str)
    skipped = Signal(int, str)
    imports_finished = Signal(object)
    all_idle = Signal()
    state_changed = Signal()

    def __init__(self, services: "Services", *, clock: Callable[[], datetime] | None = None,
                 client_factory: Callable[[], "httpx.Client"] | None = None, policy: "HttpPolicy | None" = None,
                 max_concurrent: int = 2, import_interval_minutes: float = 60.0,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ctx = services.ctx
        self.clock = clock                      # tests pin "now" (the fakes have a fixed today)
        self.client_factory = client_factory    # None: sync_account makes (and closes) its own client
        self.policy = policy
        self.max_concurrent = max(1, max_concurrent)
        self.import_interval = timedelta(minutes=import_interval_minutes)
        self._workers: dict[int, Worker] = {}
        self._progress: dict[int, tuple[int, int]] = {}
        self._queue: deque[int] = deque()
        self._import_worker: Worker | None = None
        self._due_worker: Worker | None = None
        self._last_import: datetime | None = None
        self._closing = False
        self.last_finished_at: datetime | None = None
        self.last_outcomes: dict[int, Any] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.tick)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        if services.actions is not None:
            services.actions.pause_sync.toggled.connect(self._pause_toggled)

    # -- schedule ----------------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return bool(self.ctx.settings.get("sync_paused"))

    def start(self, first_tick_ms: int = FIRST_TICK_MS) -> None:
        """Begin scheduled syncing: first check after `first_tick_ms`, then every interval."""
        self._closing = False
        self._timer.start(first_tick_ms)

    def stop(self) -> None:
        """Stop the timer (running syncs go on)."""
        self._timer.stop()

    def is_scheduled(self) -> bool:
        return self._timer.isActive()

    def next_tick_ms(self) -> int:
        return self._timer.remainingTime() if self._timer.isActive() else -1

    def _reschedule(self, minutes: float | None = None) -> None:
        if self._closing:
            return
        self._timer.start(jittered_ms(minutes or self.ctx.settings.get("sync_interval_minutes")))

    def tick(self) -> bool:
        """The scheduled check: sync every due account and run auto-imports. False when paused."""
        if self._closing:
            return False
        if self.paused:
            log.debug("scheduled sync skipped: syncing is paused")
            self._reschedule()
            return False
        if self._due_worker is None:
            ctx, clock = self.ctx, self.clock

            def due() -> tuple[list[int], float]:
                from aicost_desktop.sync.runner import due_accounts

                return due_accounts(ctx, now=clock() if clock else None), _shortest_interval(ctx)

            self._due_worker = self.services.run(due, on_done=self._due_done, on_error=self._due_failed,
                                                 owner=self)
        self._maybe_import()
        return True

    def _due_done(self, result: tuple[list[int], float]) -> None:
        self._due_worker = None
        ids, minutes = result
        self._reschedule(minutes)
        if self.paused:  # paused while we were reading
            return
        for account_id in ids:
            self.sync_account(account_id)

    def _due_failed(self, exc: BaseException) -> None:
        self._due_worker = None
        if not isinstance(exc, Cancelled):
            log.error("could not read which accounts are due: %s", exc)
        self._reschedule()

    def _pause_toggled(self, paused: bool) -> None:
        if paused:
            self._queue.clear()  # queued scheduled syncs wait for the unpause; running ones finish
            self.state_changed.emit()
        elif self._timer.isActive() or self._workers:
            self._timer.start(FIRST_TICK_MS)  # catch up soon after resuming

    # -- syncing -----------------------------------------------------------------------------

    def sync_all(self) -> None:
        """"Sync now": every enabled, non-demo account (read in a worker), plus auto-imports."""
        if self._closing:
            return
        ctx = self.ctx

        def targets() -> list[int]:
            from aicost_desktop.accounts import list_accounts

            return [a.id for a in list_accounts(ctx.db, include_demo=False) if a.enabled]

        self.services.run(targets, on_done=lambda ids: [self.sync_account(i) for i in ids],
                          on_error=lambda exc: log.error("could not list accounts: %s", exc), owner=self)
        self._maybe_import(force=True)

    def sync_account(self, account_id: int) -> bool:
        """Start (or queue) a sync of one account; False if it already runs or is queued."""
        if self._closing or account_id in self._workers or account_id in self._queue:
            return False
        if len(self._workers) >= self.max_concurrent:
            self._queue.append(account_id)
            self.state_changed.emit()
            return True
        self._launch(account_id)
        return True

    def _launch(self, account_id: int) -> None:
        from aicost_desktop.sync.runner import sync_account

        ctx, clock, factory, policy = self.ctx, self.clock, self.client_factory, self.policy

        def job(progress: Callable[[int, int], None], cancel: threading.Event) -> Any:
            client = factory() if factory is not None else None
            try:
                return sync_account(ctx, account_id, client=client, policy=policy, progress=progress,
                                    cancel=cancel, now=clock() if clock else None)
            finally:
                if client is not None:
                    client.close()

        self._progress[account_id] = (0, 0)
        self._workers[account_id] = self.services.run(
            job, owner=self,
            on_done=lambda outcome: self._done(account_id, outcome),
            on_error=lambda exc: self._error(account_id, exc),
            on_progress=lambda d, t: self._on_progress(account_id, d, t))
        log.info("sync of account %s started", account_id)
        self.started.emit(account_id)
        self.services.bus.notify_sync_state_changed()
        self.state_changed.emit()

    def _on_progress(self, account_id: int, done: int, total: int) -> None:
        if account_id in self._workers:
            self._progress[account_id] = (done, total)
            self.progress.emit(account_id, done, total)
            self.state_changed.emit()

    def _done(self, account_id: int, outcome: Any) -> None:
        self._release(account_id)
        self.last_outcomes[account_id] = outcome
        self.last_finished_at = datetime.now(timezone.utc)
        (log.info if outcome.ok else log.warning)("sync of %s: %s", outcome.account, outcome.message)
        self.finished.emit(account_id, outcome)
        if outcome.written.added or outcome.written.updated:
            self.services.bus.notify_ledger_changed()
        self._after(account_id)

    def _error(self, account_id: int, exc: BaseException) -> None:
        from aicost_desktop.sync.runner import AlreadyRunning

        self._release(account_id)
        if isinstance(exc, (AlreadyRunning, Cancelled)):
            self.skipped.emit(account_id, str(exc) or type(exc).__name__)
        else:
            # Logged, shown on the account by the dock; never a modal dialog from a background sync.
            log.error("sync of account %s failed: %s: %s", account_id, type(exc).__name__, exc)
            self.failed.emit(account_id, f"{type(exc).__name__}: {exc}")
        self._after(account_id)

    def _release(self, account_id: int) -> None:
        self._workers.pop(account_id, None)
        self._progress.pop(account_id, None)

    def _after(self, account_id: int) -> None:
        self.services.bus.notify_sync_state_changed()
        while self._queue and len(self._workers) < self.max_concurrent and not self._closing:
            self._launch(self._queue.popleft())
        self.state_changed.emit()
        self._emit_if_idle()

    def _emit_if_idle(self) -> None:
        if not self.busy():
            self.all_idle.emit()

    # -- imports -----------------------------------------------------------------------------

    def _maybe_import(self, force: bool = False) -> bool:
        """Run `run_scheduled_imports` unless one runs or ran within `import_interval`."""
        now = datetime.now(timezone.utc)
        if self._import_worker is not None or self._closing:
            return False
        if not force and self._last_import is not None and now - self._last_import < self.import_interval:
            return False
        self._last_import = now
        ctx = self.ctx

        def job() -> Any:
            from aicost_desktop.importers.runner import run_scheduled_imports

            return run_scheduled_imports(ctx)

        self._import_worker = self.services.run(job, on_done=self._imports_done, on_error=self._imports_failed,
                                                owner=self)
        self.state_changed.emit()
        return True

    def _imports_done(self, reports: dict[int, Any]) -> None:
        self._import_worker = None
        if any(r.added or r.updated for r in reports.values()):
            self.services.bus.notify_ledger_changed()
        self.imports_finished.emit(reports)
        self.state_changed.emit()
        self._emit_if_idle()

    def _imports_failed(self, exc: BaseException) -> None:
        self._import_worker = None
        if not isinstance(exc, Cancelled):
            log.error("scheduled imports failed: %s", exc)
        self.state_changed.emit()
        self._emit_if_idle()

    # -- state -------------------------------------------------------------------------------

    def busy(self) -> bool:
        return bool(self._workers or self._queue or self._import_worker is not None)

    def is_running(self, account_id: int) -> bool:
        return account_id in self._workers

    def is_queued(self, account_id: int) -> bool:
        return account_id in self._queue

    def running(self) -> dict[int, tuple[int, int]]:
        """account_id -> (done, total) of every running sync."""
        return dict(self._progress)

    def status_text(self, names: dict[int, str] | None = None) -> str:
        """One line for the status bar: per-account progress while syncing, else the last sync time."""
        names = names or {}
        parts = []
        for account_id, (done, total) in self._progress.items():
            name = names.get(account_id, f"account {account_id}")
            parts.append(f"{name} {done}/{total}" if total else f"{name}…")
        if parts:
            text = "Syncing " + ", ".join(parts)
            if self._queue:
                text += f" (+{len(self._queue)} queued)"
            return text
        if self._import_worker is not None:
            return "Importing logs…"
        if self.last_finished_at is not None:
            return f"Last sync {self.last_finished_at.astimezone(self.ctx.tz).strftime('%H:%M')}"
        return ""

    def shutdown(self, wait_ms: int = 3000) -> None:
        """Quit: stop the timer, cancel running syncs and imports, wait briefly for the pool."""
        if self._closing:
            return
        self._closing = True
        self._timer.stop()
        self._queue.clear()
        for worker in list(self._workers.values()):
            worker.cancel()
        for worker in (self._import_worker, self._due_worker):
            if worker is not None:
                worker.cancel()
        if self._workers or self._import_worker is not None:
            self.services.pool.waitForDone(wait_ms)


def _shortest_interval(ctx: Any) -> float:
    """The next tick comes after the shortest interval of any enabled account (or the default)."""
    default = float(ctx.settings.get("sync_interval_minutes"))
    shortest = shortest_sync_interval(ctx.db)
    return min(default, float(shortest)) if shortest else default
