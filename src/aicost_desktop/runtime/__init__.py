"""The app-owned runtime (no Qt): sync scheduling, alert evaluation and delivery, export jobs, the gateway.

Whoever runs the app builds one `Runtime` over its `AppContext`, starts it and stops it: the GUI
shell (`ui/app.py`), the CLI, a headless host, the tests. Its services run on plain threads and
report through `Event`s; the GUI adapts those to Qt signals (`ui/sync_scheduler.py`,
`ui/notifier.py`) and never lets a runtime thread touch a widget.

    runtime = Runtime(ctx)
    runtime.sync.finished.connect(lambda account_id, outcome: print(outcome.message))
    runtime.start()
    ...
    runtime.stop()
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable

from aicost_desktop.runtime.alerts import EVALUATE_EVERY_S, AlertService
from aicost_desktop.runtime.events import Event
from aicost_desktop.runtime.export import ExportService
from aicost_desktop.runtime.folding import Folded
from aicost_desktop.runtime.gateway import GatewayOptions, GatewayService
from aicost_desktop.runtime.incoming import IncomingService
from aicost_desktop.runtime.jobs import Cancelled, Job, Jobs
from aicost_desktop.runtime.ledger_watch import LedgerWatchService
from aicost_desktop.runtime.sync import FIRST_TICK_MS, SyncService

if TYPE_CHECKING:
    from datetime import datetime

    import httpx

    from aicost_desktop.app_context import AppContext
    from aicost_desktop.sync.http import HttpPolicy

__all__ = ["AlertService", "Cancelled", "Event", "ExportService", "Folded", "GatewayOptions", "GatewayService",
           "IncomingService", "Job", "Jobs", "LedgerWatchService", "Runtime", "SyncService"]
log = logging.getLogger("aicost.runtime")


class Runtime:
    """The services the app runs, on one thread pool. Syncs and imports that wrote rows trigger a budget
    evaluation (the alerts a sync causes are delivered without any GUI)."""

    def __init__(self, ctx: "AppContext", *, clock: "Callable[[], datetime] | None" = None,
                 client_factory: "Callable[[], httpx.Client] | None" = None, policy: "HttpPolicy | None" = None,
                 max_concurrent_syncs: int = 2, import_interval_minutes: float = 60.0,
                 alert_interval_s: float = EVALUATE_EVERY_S, max_workers: int = 8) -> None:
        self.ctx = ctx
        self.jobs = Jobs(max_workers)
        self.sync = SyncService(ctx, self.jobs, clock=clock, client_factory=client_factory, policy=policy,
                                max_concurrent=max_concurrent_syncs, import_interval_minutes=import_interval_minutes)
        self.alerts = AlertService(ctx, self.jobs, interval_s=alert_interval_s)
        self.exports = ExportService(ctx, self.jobs)
        # Outside writers (the CLI, another window, a teammate on a shared PostgreSQL ledger).
        self.ledger = LedgerWatchService(lambda: ctx.db)  # opened on its thread: building a Runtime opens nothing
        self.sync.wrote.connect(self.alerts.evaluate_now)
        # The metering gateway, on only when the setting says so; an evaluation (after a budget edit too)
        # makes it re-read its block budgets, so raising one lets calls through at once.
        self.gateway = GatewayService(ctx, self.jobs)
        self.alerts.evaluated.connect(lambda _result: self.gateway.reload_budgets())
        # Incoming webhooks (127.0.0.1, for a user's own tunnel), on only when the setting says so.
        self.incoming = IncomingService(ctx, self.jobs)
        self.started = False
        self.stopped = False

    def start(self, first_tick_ms: int = FIRST_TICK_MS) -> None:
        """Begin scheduled syncs (first check after `first_tick_ms`) and alert evaluation (now, then on a timer)."""
        if self.started or self.stopped:
            return
        self.started = True
        self.sync.start(first_tick_ms)
        self.alerts.start()
        self.ledger.start()
        if self.gateway.enabled:
            self.gateway.want(True)
        if self.incoming.enabled:
            self.incoming.want(True)
        log.info("runtime started")

    def busy(self) -> bool:
        """A job is queued or running (syncs, imports, evaluations, exports)."""
        return self.jobs.active() > 0

    def stop(self, wait_s: float = 3.0) -> bool:
        """Cancel everything and wait up to `wait_s`; True when every job ended in time. Idempotent."""
        if self.stopped:
            return True
        self.stopped = True
        self.sync.shutdown(wait_s)
        self.alerts.stop()
        self.ledger.stop()
        self.gateway.close(max(wait_s, 10.0))  # its queued rows are written before it goes
        self.incoming.close()
        ok = self.jobs.shutdown(wait_s)
        log.info("runtime stopped%s", "" if ok else " (some jobs still ran)")
        return ok

    def __enter__(self) -> "Runtime":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
