"""The GUI's change bus: ledger writes (from any thread) become coalesced `ledger_changed` signals.

`storage.ledger` calls its listeners after every committed page, possibly on a sync worker
thread. The bus turns each call into a queued signal on the GUI thread and throttles them with a
short single-shot timer, so a 1000-page sync refreshes the docks a few times a second at most
instead of 1000 times.
"""

from __future__ import annotations

import logging
import threading
import weakref
from datetime import datetime
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from aicost_desktop.storage import ledger

log = logging.getLogger("aicost.ui.bus")


class LedgerBus(QObject):
    """Broadcasts data changes to every dock; the `notify_*` methods are safe from any thread.

    Signals:
        ledger_changed(): usage rows were written or deleted (coalesced, GUI thread).
        hours_changed(object): the set of UTC hour starts touched since the last emission.
        alerts_changed(): alerts were raised or acknowledged.
        sync_state_changed(): an account's sync started, finished, failed, or pausing toggled.
    """

    ledger_changed = Signal()
    hours_changed = Signal(object)
    alerts_changed = Signal()
    sync_state_changed = Signal()
    # Private relays: emitted from any thread, delivered (queued) on the bus's own thread.
    _touched = Signal()
    _alerts = Signal()
    _sync = Signal()

    def __init__(self, delay_ms: int = 150, parent: QObject | None = None, listen: bool = True) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._hours: set[datetime] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._flush)
        self._touched.connect(self._schedule)
        self._alerts.connect(self.alerts_changed)
        self._sync.connect(self.sync_state_changed)
        self._listener: Callable[[set[datetime]], None] | None = None
        self.final = False  # see flush_soon
        if listen:
            self._listener = _weak_listener(self)
            ledger.add_listener(self._listener)

    # -- thread-safe entry points ------------------------------------------------------------

    def notify_ledger_changed(self, hours: set[datetime] | None = None) -> None:
        """Record a ledger change; `ledger_changed` follows on the GUI thread within `delay_ms`."""
        if hours:
            with self._lock:
                self._hours |= set(hours)
        self._touched.emit()

    def notify_alerts_changed(self) -> None:
        self._alerts.emit()

    def notify_sync_state_changed(self) -> None:
        self._sync.emit()

    # -- GUI thread ------------------------------------------------------------------------

    @Slot()
    def _schedule(self) -> None:
        # Throttle, not debounce: a long sync still refreshes the views every delay_ms.
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def _flush(self) -> None:
        with self._lock:
            hours, self._hours = self._hours, set()
        if hours:
            self.hours_changed.emit(hours)
        self.ledger_changed.emit()

    def flush_soon(self) -> None:
        """Emit the pending change once the notifications already posted have arrived (queued across threads):
        the end of a sync, whose last writes need no more folding. While it is delivered `final` is True: a
        view may drop a load still running from before those writes instead of finishing it first."""
        QTimer.singleShot(0, self, self._flush_final)

    def _flush_final(self) -> None:
        self.final = True
        try:
            self.flush_now()
        finally:
            self.final = False

    def flush_now(self) -> None:
        """Emit a pending change at once (tests, shutdown)."""
        if self._timer.isActive():
            self._timer.stop()
            self._flush()

    def close(self) -> None:
        """Stop listening to the ledger (call before the bus is destroyed)."""
        if self._listener is not None:
            ledger.remove_listener(self._listener)
            self._listener = None
        self._timer.stop()


def _weak_listener(bus: LedgerBus) -> Callable[[set[datetime]], None]:
    """A ledger listener that does not keep the bus alive and ignores a destroyed one."""
    ref = weakref.ref(bus)

    def on_ledger(hours: set[datetime]) -> None:
        target = ref()
        if target is None:
            return
        try:
            target.notify_ledger_changed(hours)
        except RuntimeError:  # the C++ object is gone (app shutting down)
            log.debug("ledger change after the bus was destroyed")

    return on_ledger
