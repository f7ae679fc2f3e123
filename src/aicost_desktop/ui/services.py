"""`Services`: what every dock factory receives (context, thread pool, bus, actions, shell hooks)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, QThreadPool

from aicost_desktop.ui.bus import LedgerBus
from aicost_desktop.ui.workers import Worker, run_in_pool

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.ui.actions import AppActions

log = logging.getLogger("aicost.ui.services")

NotifyHook = Callable[[str, str, "Callable[[], None] | None"], None]


def _log_notify(title: str, message: str, on_click: Callable[[], None] | None = None) -> None:
    log.info("notification (no tray): %s: %s", title, message)


@dataclass
class Services:
    """Shared GUI services passed to every dock factory.

    ctx: the AppContext (db, tz, settings, catalog, secrets).
    pool: the QThreadPool for background work (use `run`).
    bus: the LedgerBus (ledger_changed, alerts_changed, sync_state_changed).
    actions: the shared QActions (export, sync_now, pause_sync, ...), None outside a main window.
    notify(title, message, on_click): pops a tray notification (logs when there is no tray).
    show_dock(object_name): raises a dock (e.g. from a notification click).
    extra: late-bound services by name (e.g. "sync" for the sync manager), so adding one needs
        no change here.
    """

    ctx: "AppContext"
    pool: QThreadPool
    bus: LedgerBus
    actions: "AppActions | None" = None
    notify: NotifyHook = _log_notify
    show_dock: Callable[[str], None] = lambda name: None
    extra: dict[str, Any] = field(default_factory=dict)

    def run(self, fn: Callable[..., Any], *args: Any, on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None,
            on_progress: Callable[[int, int], None] | None = None,
            owner: QObject | None = None, priority: int = 0, **kwargs: Any) -> Worker:
        """`run_in_pool` on this pool (see ui/workers.py)."""
        return run_in_pool(self.pool, fn, *args, on_done=on_done, on_error=on_error,
                           on_progress=on_progress, owner=owner, priority=priority, **kwargs)
