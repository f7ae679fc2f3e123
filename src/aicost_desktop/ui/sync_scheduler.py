"""SyncScheduler: the Qt face of the runtime's `SyncService` (its events as signals on the GUI thread).

The runtime owns scheduling, the per-account lock and the threads; this adapter only relays. The
runtime's listeners post to a private signal, so every public signal is emitted on the GUI thread
(a slot never runs on a sync thread), and the adapter tells the `LedgerBus` what changed.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, Signal, Slot

from aicost_desktop.runtime.sync import FIRST_TICK_MS, JITTER, jittered_ms

if TYPE_CHECKING:
    from aicost_desktop.runtime.sync import SyncService
    from aicost_desktop.ui.bus import LedgerBus

__all__ = ["JITTER", "SyncScheduler", "jittered_ms"]
log = logging.getLogger("aicost.ui.sync")
_EVENTS = ("started", "progress", "finished", "failed", "skipped", "imports_finished", "idle", "state_changed")


class SyncScheduler(QObject):
    """Starts syncs through the runtime and re-emits what it reports.

    Signals (GUI thread):
        started(int): account_id's sync began.
        progress(int, int, int): account_id, done, total (total 0 = unknown).
        finished(int, object): account_id and its SyncOutcome (`outcome.ok` False for provider trouble).
        failed(int, str): account_id's job raised instead of returning an outcome.
        skipped(int, str): a requested sync did not run (cancelled).
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
    _posted = Signal(str, object)  # from runtime threads, delivered queued on this object's thread

    def __init__(self, service: "SyncService", bus: "LedgerBus | None" = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.bus = bus
        self._posted.connect(self._deliver)
        self._disconnect: list[Callable[[], None]] = [
            getattr(service, name).connect(self._poster(name)) for name in _EVENTS]

    def _poster(self, name: str) -> Callable[..., None]:
        def post(*args: Any) -> None:
            try:
                self._posted.emit(name, args)
            except RuntimeError:  # the adapter was destroyed while the runtime still reports
                log.debug("sync event %s after the adapter was destroyed", name)
        return post

    @Slot(str, object)
    def _deliver(self, name: str, args: tuple[Any, ...]) -> None:
        bus = self.bus
        if name == "idle":
            self.all_idle.emit()
            return
        getattr(self, name).emit(*args)
        if bus is None:
            return
        if name == "started":
            bus.notify_sync_state_changed()
        elif name == "finished":
            outcome = args[1]
            if outcome.written.added or outcome.written.updated:
                bus.notify_ledger_changed()
                # Nothing more of this sync to fold in: the views reload now, not a throttle period later.
                bus.flush_soon()
            bus.notify_sync_state_changed()
        elif name in ("failed", "skipped"):
            bus.notify_sync_state_changed()
        elif name == "imports_finished" and any(r.added or r.updated for r in args[0].values()):
            bus.notify_ledger_changed()

    def close(self) -> None:
        """Stop relaying (the runtime keeps running)."""
        for disconnect in self._disconnect:
            disconnect()
        self._disconnect = []

    # -- commands (the runtime does the work) --------------------------------------------------

    def start(self, first_tick_ms: int = FIRST_TICK_MS) -> None:
        self.service.start(first_tick_ms)

    def stop(self) -> None:
        self.service.stop()

    def tick(self) -> bool:
        return self.service.tick()

    def sync_all(self) -> None:
        self.service.sync_all()

    def sync_account(self, account_id: int) -> bool:
        return self.service.sync_account(account_id)

    def set_paused(self, paused: bool) -> None:
        self.service.set_paused(paused)

    def shutdown(self, wait_s: float = 3.0) -> None:
        self.service.shutdown(wait_s)

    # -- state ---------------------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self.service.paused

    @property
    def max_concurrent(self) -> int:
        return self.service.max_concurrent

    @max_concurrent.setter
    def max_concurrent(self, n: int) -> None:
        self.service.max_concurrent = max(1, n)

    @property
    def last_finished_at(self) -> datetime | None:
        return self.service.last_finished_at

    def is_scheduled(self) -> bool:
        return self.service.is_scheduled()

    def next_tick_ms(self) -> int:
        return self.service.next_tick_ms()

    def busy(self) -> bool:
        return self.service.busy()

    def is_running(self, account_id: int) -> bool:
        return self.service.is_running(account_id)

    def is_queued(self, account_id: int) -> bool:
        return self.service.is_queued(account_id)

    def running(self) -> dict[int, tuple[int, int]]:
        return self.service.running()

    def status_text(self, names: dict[int, str] | None = None) -> str:
        return self.service.status_text(names)
