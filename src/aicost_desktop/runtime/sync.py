"""`SyncService`: account syncs and scheduled log imports on the runtime's threads, with the one per-account lock.

Every database read, keychain read and HTTP call happens on a runtime job thread; results are
reported through `Event`s (the GUI adapts them to Qt signals in `ui/sync_scheduler.py`). At most
one sync per account runs at a time (`_active`, guarded by `_lock`: the only such lock in the
process) and at most `max_concurrent` syncs run at once; more wait in a queue.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable

from aicost_desktop.account_sync import due_accounts, sync_account
from aicost_desktop.accounts import list_accounts
from aicost_desktop.runtime.events import Event
from aicost_desktop.runtime.jobs import Cancelled, Job, Jobs
from aicost_desktop.storage.queries import shortest_sync_interval
from aicost_desktop.storage.tables import Account

if TYPE_CHECKING:
    import httpx

    from aicost_desktop.app_context import AppContext
    from aicost_desktop.importers.base import ImportReport
    from aicost_desktop.sync.http import HttpPolicy
    from aicost_desktop.account_sync import SyncOutcome

log = logging.getLogger("aicost.runtime.sync")
JITTER = 0.10            # scheduled ticks land within +-10 % of the interval (no thundering herd)
FIRST_TICK_MS = 5_000    # shortly after start: accounts overdue since the last run sync at once
MIN_TICK_MS = 60_000


def jittered_ms(minutes: float, rng: random.Random | None = None) -> int:
    """`minutes` in milliseconds, moved by up to +-10 %, never under a minute."""
    r = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    return max(MIN_TICK_MS, int(minutes * 60_000 * r))


class Ticker:
    """A restartable one-shot timer on one daemon thread: `start(ms)` (re)arms it, `stop()` disarms it;
    `fn` runs on the ticker's thread when it fires."""

    def __init__(self, fn: Callable[[], object], name: str = "aicost-ticker") -> None:
        self._fn = fn
        self._name = name
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._closed = False
        self._thread: threading.Thread | None = None

    def start(self, ms: int) -> None:
        with self._cond:
            if self._closed:
                return
            self._deadline = time.monotonic() + max(0, ms) / 1000
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._deadline = None
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._deadline = None
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2)

    def is_active(self) -> bool:
        return self._deadline is not None

    def remaining_ms(self) -> int:
        deadline = self._deadline
        return -1 if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (self._deadline is None or time.monotonic() < self._deadline):
                    self._cond.wait(None if self._deadline is None else max(0.0, self._deadline - time.monotonic()))
                if self._closed:
                    return
                self._deadline = None
            try:
                self._fn()
            except Exception:  # noqa: BLE001 - the schedule must survive a failing tick
                log.exception("%s tick failed", self._name)


class SyncService:
    """Runs `sync_account` for due accounts on a timer, on "Sync now" and per account on request.

    Scheduled ticks do nothing while the `sync_paused` setting is set; an explicit `sync_all()` /
    `sync_account()` (the user asked) still runs. `shutdown()` cancels running syncs through the
    `threading.Event` each one received, then waits briefly.

    Events (emitted on runtime threads; a sync's events come in order from its own thread):
        started(account_id), progress(account_id, done, total) (total 0 = unknown),
        finished(account_id, SyncOutcome) (`outcome.ok` False for provider trouble: the account is
            already marked needs_attention / error in the database),
        failed(account_id, message): the job raised instead of returning an outcome,
        skipped(account_id, reason): a requested sync did not run (cancelled),
        imports_finished({import_source_id: ImportReport}), wrote(): a sync or import wrote rows,
        idle(): nothing runs or waits any more, state_changed(): any of the above happened.
    """

    def __init__(self, ctx: "AppContext", jobs: Jobs, *, clock: Callable[[], datetime] | None = None,
                 client_factory: Callable[[], "httpx.Client"] | None = None, policy: "HttpPolicy | None" = None,
                 max_concurrent: int = 2, import_interval_minutes: float = 60.0) -> None:
        self.ctx = ctx
        self.jobs = jobs
        self.clock = clock                      # tests pin "now" (the fakes have a fixed today)
        self.client_factory = client_factory    # None: sync_account makes (and closes) its own client
        self.policy = policy
        self.max_concurrent = max(1, max_concurrent)
        self.import_interval = timedelta(minutes=import_interval_minutes)
        self.started: Event[[int]] = Event("sync.started")
        self.progress: Event[[int, int, int]] = Event("sync.progress")
        self.finished: Event[[int, SyncOutcome]] = Event("sync.finished")
        self.failed: Event[[int, str]] = Event("sync.failed")
        self.skipped: Event[[int, str]] = Event("sync.skipped")
        self.imports_finished: Event[[dict[int, ImportReport]]] = Event("sync.imports_finished")
        self.wrote: Event[[]] = Event("sync.wrote")
        self.idle: Event[[]] = Event("sync.idle")
        self.state_changed: Event[[]] = Event("sync.state_changed")
        # The one per-account lock: an account id is in _active (launched) or _queue, never twice.
        self._lock = threading.RLock()
        self._active: dict[int, Job | None] = {}
        self._progress: dict[int, tuple[int, int]] = {}
        self._queue: deque[int] = deque()
        self._names: dict[int, str] = {}
        self._import_job: Job | None = None
        self._due_job: Job | None = None
        self._last_import: datetime | None = None
        self._closing = False
        self.last_finished_at: datetime | None = None
        self.last_outcomes: dict[int, SyncOutcome] = {}
        self._ticker = Ticker(self.tick, "aicost-sync-ticker")

    # -- schedule ----------------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return bool(self.ctx.settings.get("sync_paused"))

    def start(self, first_tick_ms: int = FIRST_TICK_MS) -> None:
        """Begin scheduled syncing: first check after `first_tick_ms`, then every interval."""
        self._closing = False
        self._ticker.start(first_tick_ms)

    def stop(self) -> None:
        """Stop the schedule (running syncs go on)."""
        self._ticker.stop()

    def is_scheduled(self) -> bool:
        return self._ticker.is_active()

    def next_tick_ms(self) -> int:
        return self._ticker.remaining_ms()

    def _reschedule(self, minutes: float | None = None) -> None:
        if not self._closing:
            self._ticker.start(jittered_ms(minutes or self.ctx.settings.get("sync_interval_minutes")))

    def tick(self) -> bool:
        """The scheduled check: sync every due account and run auto-imports. False when paused."""
        if self._closing:
            return False
        if self.paused:
            log.debug("scheduled sync skipped: syncing is paused")
            self._reschedule()
            return False
        ctx, clock = self.ctx, self.clock

        def due() -> tuple[list[int], float]:
            return due_accounts(ctx, now=clock() if clock else None), _shortest_interval(ctx)

        with self._lock:
            if self._due_job is None:
                self._due_job = self.jobs.submit(due, name="due accounts", on_done=self._due_done,
                                                 on_error=self._due_failed)
        self._maybe_import()
        return True

    def _due_done(self, result: tuple[list[int], float]) -> None:
        with self._lock:
            self._due_job = None
        ids, minutes = result
        self._reschedule(minutes)
        if self.paused:  # paused while we were reading
            return
        for account_id in ids:
            self.sync_account(account_id)

    def _due_failed(self, exc: BaseException) -> None:
        with self._lock:
            self._due_job = None
        if not isinstance(exc, Cancelled):
            log.error("could not read which accounts are due: %s", exc)
        self._reschedule()

    def set_paused(self, paused: bool) -> None:
        """Store the setting; pausing drops queued scheduled syncs (running ones finish), resuming catches up soon."""
        self.ctx.settings.set("sync_paused", bool(paused))
        if paused:
            with self._lock:
                self._queue.clear()
            self.state_changed.emit()
        elif self._ticker.is_active() or self._active:
            self._ticker.start(FIRST_TICK_MS)

    # -- syncing -----------------------------------------------------------------------------

    def sync_all(self) -> None:
        """"Sync now": every enabled, non-demo account (listed on a job thread), plus auto-imports."""
        if self._closing:
            return
        ctx = self.ctx

        def targets() -> list[int]:
            return [a.id for a in list_accounts(ctx.db, include_demo=False) if a.enabled]

        def sync_each(ids: list[int]) -> None:
            for account_id in ids:
                self.sync_account(account_id)

        self.jobs.submit(targets, name="sync targets", on_done=sync_each,
                         on_error=lambda exc: None if isinstance(exc, Cancelled)
                         else log.error("could not list accounts: %s", exc))
        self._maybe_import(force=True)

    def sync_account(self, account_id: int) -> bool:
        """Start (or queue) a sync of one account; False if it already runs or waits (the per-account lock)."""
        with self._lock:
            if self._closing or account_id in self._active or account_id in self._queue:
                return False
            if len(self._active) >= self.max_concurrent:
                self._queue.append(account_id)
                queued = True
            else:
                self._launch_locked(account_id)
                queued = False
        if queued:
            self.state_changed.emit()
        return True

    def _launch_locked(self, account_id: int) -> None:
        ctx, clock, factory, policy = self.ctx, self.clock, self.client_factory, self.policy

        def job(cancel: threading.Event) -> "SyncOutcome":
            self._begin(account_id)
            client = factory() if factory is not None else None
            try:
                return sync_account(ctx, account_id, client=client, policy=policy, cancel=cancel,
                                    progress=lambda d, t: self._on_progress(account_id, d, t),
                                    now=clock() if clock else None)
            finally:
                if client is not None:
                    client.close()

        self._active[account_id] = None
        self._progress[account_id] = (0, 0)
        # Submitted under the lock: the job's completion (another thread) waits for it, so it never
        # releases an entry before it exists.
        self._active[account_id] = self.jobs.submit(job, name=f"sync {account_id}",
                                                    on_done=lambda outcome: self._done(account_id, outcome),
                                                    on_error=lambda exc: self._error(account_id, exc))

    def _begin(self, account_id: int) -> None:  # job thread, first thing
        name = _account_name(self.ctx, account_id)
        with self._lock:
            if name:
                self._names[account_id] = name
        log.info("sync of account %s started", account_id)
        self.started.emit(account_id)
        self.state_changed.emit()

    def _on_progress(self, account_id: int, done: int, total: int) -> None:
        with self._lock:
            if account_id not in self._active:
                return
            self._progress[account_id] = (int(done), int(total))
        self.progress.emit(account_id, int(done), int(total))
        self.state_changed.emit()

    def _done(self, account_id: int, outcome: "SyncOutcome") -> None:
        with self._lock:
            self._release(account_id)
            self.last_outcomes[account_id] = outcome
            self.last_finished_at = datetime.now(timezone.utc)
            self._names[account_id] = outcome.account
        (log.info if outcome.ok else log.warning)("sync of %s: %s", outcome.account, outcome.message)
        self.state_changed.emit()  # before `finished`: a listener of finished reads the new state
        self.finished.emit(account_id, outcome)
        if outcome.written.added or outcome.written.updated:
            self.wrote.emit()
        self._after()

    def _error(self, account_id: int, exc: BaseException) -> None:
        with self._lock:
            self._release(account_id)
        self.state_changed.emit()
        if isinstance(exc, Cancelled):
            self.skipped.emit(account_id, str(exc) or type(exc).__name__)
        else:
            # Logged and shown on the account by the GUI; never a modal dialog from a background sync.
            log.error("sync of account %s failed: %s: %s", account_id, type(exc).__name__, exc)
            self.failed.emit(account_id, f"{type(exc).__name__}: {exc}")
        self._after()

    def _release(self, account_id: int) -> None:
        self._active.pop(account_id, None)
        self._progress.pop(account_id, None)

    def _after(self) -> None:
        with self._lock:
            while self._queue and len(self._active) < self.max_concurrent and not self._closing:
                self._launch_locked(self._queue.popleft())
        self.state_changed.emit()
        self._emit_if_idle()

    def _emit_if_idle(self) -> None:
        if not self.busy():
            self.idle.emit()

    # -- imports -----------------------------------------------------------------------------

    def _maybe_import(self, force: bool = False) -> bool:
        """Run `run_scheduled_imports` unless one runs or ran within `import_interval`; the same job first writes
        the subscription charges that fell due (a charge is due on its day, the app open or not)."""
        now = datetime.now(timezone.utc)
        ctx = self.ctx

        def job() -> "tuple[int, dict[int, ImportReport]]":
            # lazy: the importers (~80 ms) load in the first import job's thread, not with the runtime
            from aicost_desktop.importers.runner import run_scheduled_imports
            from aicost_desktop.manual import materialize

            charged = materialize(ctx.db, today=ctx.today())
            return charged, run_scheduled_imports(ctx)

        with self._lock:
            if self._import_job is not None or self._closing:
                return False
            if not force and self._last_import is not None and now - self._last_import < self.import_interval:
                return False
            self._last_import = now
            self._import_job = self.jobs.submit(job, name="scheduled imports", on_done=self._imports_done,
                                                on_error=self._imports_failed)
        self.state_changed.emit()
        return True

    def _imports_done(self, result: "tuple[int, dict[int, ImportReport]]") -> None:
        charged, reports = result
        with self._lock:
            self._import_job = None
        if charged or any(r.added or r.updated for r in reports.values()):
            self.wrote.emit()
        self.imports_finished.emit(reports)
        self.state_changed.emit()
        self._emit_if_idle()

    def _imports_failed(self, exc: BaseException) -> None:
        with self._lock:
            self._import_job = None
        if not isinstance(exc, Cancelled):
            log.error("scheduled imports failed: %s", exc)
        self.state_changed.emit()
        self._emit_if_idle()

    # -- state -------------------------------------------------------------------------------

    def busy(self) -> bool:
        with self._lock:
            return bool(self._active or self._queue or self._import_job is not None)

    def is_running(self, account_id: int) -> bool:
        return account_id in self._active

    def is_queued(self, account_id: int) -> bool:
        return account_id in self._queue

    def running(self) -> dict[int, tuple[int, int]]:
        """account_id -> (done, total) of every running sync."""
        with self._lock:
            return dict(self._progress)

    def name_of(self, account_id: int) -> str:
        return self._names.get(account_id, f"account {account_id}")

    def status_text(self, names: dict[int, str] | None = None) -> str:
        """One line for a status bar: per-account progress while syncing, else the last sync time."""
        with self._lock:
            progress, queued, importing = dict(self._progress), len(self._queue), self._import_job is not None
            known = {**self._names, **(names or {})}
        parts = []
        for account_id, (done, total) in progress.items():
            name = known.get(account_id, f"account {account_id}")
            parts.append(f"{name} {done}/{total}" if total else f"{name}…")
        if parts:
            return "Syncing " + ", ".join(parts) + (f" (+{queued} queued)" if queued else "")
        if importing:
            return "Importing logs…"
        if self.last_finished_at is not None:
            return f"Last sync {self.last_finished_at.astimezone(self.ctx.tz).strftime('%H:%M')}"
        return ""

    def shutdown(self, wait_s: float = 3.0) -> None:
        """Quit: stop the schedule, cancel running syncs and imports, wait briefly for them."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            self._queue.clear()
            jobs = [j for j in (*self._active.values(), self._import_job, self._due_job) if j is not None]
        self._ticker.close()
        for job in jobs:
            job.cancel()
        for job in jobs:
            job.wait(wait_s)


def _account_name(ctx: "AppContext", account_id: int) -> str | None:
    try:
        with ctx.db.session() as s:
            acc = s.get(Account, account_id)
            return acc.name if acc is not None else None
    except Exception:  # noqa: BLE001 - a name for the status line is not worth failing the sync over
        log.debug("could not read the name of account %s", account_id, exc_info=True)
        return None


def _shortest_interval(ctx: "AppContext") -> float:
    """The next tick comes after the shortest interval of any enabled account (or the default)."""
    default = float(ctx.settings.get("sync_interval_minutes"))
    shortest = shortest_sync_interval(ctx.db)
    return min(default, float(shortest)) if shortest else default
