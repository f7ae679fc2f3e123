"""`Services`: what every dock factory receives, built once by the app shell around the app's `Runtime`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, QThreadPool, Signal

from aicost_desktop.integrations.manager import IntegrationManager
from aicost_desktop.ui.bus import LedgerBus
from aicost_desktop.ui.gateway_adapter import GatewayAdapter
from aicost_desktop.ui.notifier import Notifier
from aicost_desktop.ui.sync_scheduler import SyncScheduler
from aicost_desktop.ui.workers import Worker, run_in_pool

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.runtime import Runtime
    from aicost_desktop.ui.actions import AppActions

log = logging.getLogger("aicost.ui.services")

NotifyHook = Callable[[str, str, "Callable[[], None] | None"], None]


def _log_notify(title: str, message: str, on_click: Callable[[], None] | None = None) -> None:
    log.info("notification (no tray): %s: %s", title, message)


def _no_dock(object_name: str) -> None:
    log.debug("no window to show dock %s in", object_name)


@dataclass
class ShellHooks:
    """What the window shell offers everything inside it; the shell sets them, docks built alone get these defaults.

    notify(title, message, on_click): a tray notification (the status bar or the log without a tray).
    show_dock(object_name): raise a dock (e.g. from a notification click).
    """

    notify: NotifyHook = _log_notify
    show_dock: Callable[[str], None] = _no_dock


class DockRequests(QObject):
    """Requests a dock makes of whichever dock serves them, without knowing it (no findChild between docks).

    Signals:
        edit_budget(object): open the budget dialog for a budget id (None: a new budget).
    """

    edit_budget = Signal(object)


@dataclass
class Services:
    """Shared GUI services passed to every dock factory (built by `build_services`, once per window).

    ctx: the AppContext (db, tz, settings, catalog, secrets).
    pool: the QThreadPool for the GUI's own jobs (use `run`): page loads, tests of a connection, repricing...
    reads: the one-thread pool of the views' refresh loads (`view_pool`, for every `workers.Refresher`), or None
        to run them on `pool` (tests that wait on one pool).
    bus: the LedgerBus (ledger_changed, alerts_changed, sync_state_changed).
    runtime: the app's Runtime (started and stopped by whoever runs the app, not by a dock).
    sync: the runtime's sync service as Qt signals (`sync_all`, `sync_account`, progress...).
    alerts: the runtime's alert service as Qt signals (`evaluate_now`, `ack_pending`, tray deliveries).
    requests: requests between docks (`edit_budget`).
    shell: notify / show_dock, set by the window shell.
    actions: the shared QActions (export, sync_now, pause_sync, add_account, ...), None outside a main window.
    integrations: the IntegrationManager (connections over the ledger and keychain; blocking: call it via `run`).
    gateway: the runtime's metering gateway as Qt signals (`call_recorded`, `state_changed`, `set_enabled`).
    """

    ctx: "AppContext"
    pool: QThreadPool
    bus: LedgerBus
    runtime: "Runtime"
    sync: SyncScheduler
    alerts: Notifier
    requests: DockRequests
    shell: ShellHooks = field(default_factory=ShellHooks)
    actions: "AppActions | None" = None
    integrations: "IntegrationManager | None" = None
    gateway: GatewayAdapter | None = None
    reads: QThreadPool | None = None
    _unlisten: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @property
    def view_pool(self) -> QThreadPool:
        """Where views run their refresh loads: one at a time. On CPython's GIL two Python-heavy loads take as
        long together as one after the other, and side by side every SQLite row step and numpy call of each
        waits for the other's switch interval; the GUI thread then competes with one thread, not two."""
        return self.reads or self.pool

    @property
    def pools(self) -> list[QThreadPool]:
        """Every pool the GUI's jobs run on (one when the views share `pool`)."""
        return [self.pool] if self.reads is None else [self.pool, self.reads]

    def wait(self, timeout_ms: int) -> None:
        """Drop queued jobs and wait for the running ones, on every pool."""
        for p in self.pools:
            p.clear()
            p.waitForDone(timeout_ms)

    def run(self, fn: Callable[..., Any], *args: Any, on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None,
            on_progress: Callable[[int, int], None] | None = None,
            owner: QObject | None = None, priority: int = 0, **kwargs: Any) -> Worker:
        """`run_in_pool` on this pool (see ui/workers.py)."""
        return run_in_pool(self.pool, fn, *args, on_done=on_done, on_error=on_error,
                           on_progress=on_progress, owner=owner, priority=priority, **kwargs)

    def notify(self, title: str, message: str, on_click: Callable[[], None] | None = None) -> None:
        self.shell.notify(title, message, on_click)

    def show_dock(self, object_name: str) -> None:
        self.shell.show_dock(object_name)

    def close(self) -> None:
        """Stop adapting the runtime (its listeners are removed); the runtime itself is stopped by its owner."""
        self.sync.close()
        self.alerts.close()
        if self.gateway is not None:
            self.gateway.close()
        if self.integrations is not None:
            self.integrations.close()
        for unlisten in self._unlisten:
            unlisten()
        self._unlisten.clear()


def build_services(ctx: "AppContext", runtime: "Runtime", *, pool: QThreadPool, bus: LedgerBus,
                   actions: "AppActions | None" = None, shell: ShellHooks | None = None,
                   parent: QObject | None = None, integrations: "IntegrationManager | None" = None,
                   reads: QThreadPool | None = None) -> Services:
    """The app shell's one construction of the GUI services: Qt adapters over `runtime`, sharing `shell`."""
    hooks = shell or ShellHooks()
    # A commit by another process may touch any table: usage, alerts and accounts views all reload.
    unlisten = [runtime.ledger.changed.connect(fn) for fn in
                (bus.notify_ledger_changed, bus.notify_alerts_changed, bus.notify_sync_state_changed)]
    return Services(ctx=ctx, pool=pool, bus=bus, runtime=runtime,
                    sync=SyncScheduler(runtime.sync, bus, parent=parent),
                    alerts=Notifier(runtime.alerts, bus, hooks, parent=parent),
                    requests=DockRequests(parent), shell=hooks, actions=actions,
                    integrations=integrations or IntegrationManager(ctx.db, ctx.secrets),
                    gateway=GatewayAdapter(runtime.gateway, bus, runtime.jobs, parent=parent), reads=reads,
                    _unlisten=unlisten)
