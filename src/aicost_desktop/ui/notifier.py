"""Notifier: the Qt face of the runtime's `AlertService` (tray deliveries as notifications, evaluation results as signals).

Evaluation and delivery run in the runtime; a tray delivery arrives here as a queued signal and
becomes `shell.notify(title, message, on_click)` on the GUI thread, where clicking the
notification opens the Budgets dock. Ledger changes the GUI makes (manual entries, budget edits,
sample data) ask for an evaluation; the runtime folds them into one run at a time.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, Signal, Slot

if TYPE_CHECKING:
    from aicost_desktop.runtime.alerts import AlertService
    from aicost_desktop.ui.bus import LedgerBus
    from aicost_desktop.ui.services import ShellHooks

log = logging.getLogger("aicost.ui.notifier")
BUDGETS_DOCK = "budgetsDock"


class Notifier(QObject):
    """Relays the alert service.

    Signals (GUI thread):
        evaluated(object): the CheckResult of a finished evaluation.
        tray_message(str, str): a tray delivery (title, text), already shown through the shell.
        ack_pending(int): how many alerts wait for acknowledgement (require_ack budgets); the tray badges it.
    """

    evaluated = Signal(object)
    tray_message = Signal(str, str)
    ack_pending = Signal(int)
    _posted = Signal(str, object)

    def __init__(self, service: "AlertService", bus: "LedgerBus", shell: "ShellHooks",
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service, self.bus, self.shell = service, bus, shell
        self._posted.connect(self._deliver)
        self._disconnect: list[Callable[[], None]] = [
            service.evaluated.connect(self._poster("evaluated")),
            service.delivered.connect(self._poster("tray_message")),
            service.ack_pending.connect(self._poster("ack_pending")),
        ]
        bus.ledger_changed.connect(self.evaluate_now)
        bus.alerts_changed.connect(self.refresh_ack_state)

    def _poster(self, name: str) -> Callable[..., None]:
        def post(*args: Any) -> None:
            try:
                self._posted.emit(name, args)
            except RuntimeError:
                log.debug("alert event %s after the adapter was destroyed", name)
        return post

    @Slot(str, object)
    def _deliver(self, name: str, args: tuple[Any, ...]) -> None:
        if name == "evaluated":
            res = args[0]
            if res.evaluation.new_alerts or res.dispatch.sent:
                self.bus.notify_alerts_changed()
            self.evaluated.emit(res)
        elif name == "tray_message":
            title, text = args
            self.shell.notify(title, text, lambda: self.shell.show_dock(BUDGETS_DOCK))
            self.tray_message.emit(title, text)
        else:
            self.ack_pending.emit(*args)

    @Slot()
    def evaluate_now(self) -> None:
        self.service.evaluate_now()

    @Slot()
    def refresh_ack_state(self) -> None:
        self.service.refresh_ack_state()

    @property
    def pending_ack(self) -> int:
        return self.service.pending_ack

    def close(self) -> None:
        for disconnect in self._disconnect:
            disconnect()
        self._disconnect = []
