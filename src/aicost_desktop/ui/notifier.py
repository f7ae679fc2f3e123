"""Bridges the alert outbox's tray channel to the tray, and runs budget evaluation after ledger changes and on a timer.

Evaluation and delivery run in a worker (`budgets.service.run_check`); a tray delivery becomes a
queued signal and then `services.notify(title, message, on_click)` on the GUI thread, where
clicking the notification opens the Budgets dock. Budgets set to "require acknowledgement" keep
a badge on the tray icon and a tooltip line until their alert is acknowledged.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from aicost_desktop.budgets.service import CheckResult, run_check
from aicost_desktop.notify.alerts import pending_acknowledgement
from aicost_desktop.notify.message import render
from aicost_desktop.notify.outbox import CallbackChannel, Delivery
from aicost_desktop.ui.workers import FoldedLoads

if TYPE_CHECKING:
    from aicost_desktop.ui.services import Services

log = logging.getLogger("aicost.ui.notifier")
BUDGETS_DOCK = "budgetsDock"


class Notifier(QObject):
    """Evaluates budgets (coalesced, one run at a time) and shows tray notifications.

    Signals:
        evaluated(object): the CheckResult of a finished evaluation.
        tray_message(str, str): a tray delivery (title, text); emitted from the worker, handled queued.
        ack_pending(int): how many alerts wait for acknowledgement (require_ack budgets).
    """

    evaluated = Signal(object)
    tray_message = Signal(str, str)
    ack_pending = Signal(int)

    def __init__(self, services: "Services", interval_ms: int = 5 * 60_000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        # The timer, ledger changes and budget edits all ask; one evaluation runs at a time.
        self._evaluations = FoldedLoads(lambda: services.run(self._job, on_done=self._done, on_error=self._failed,
                                                             owner=self))
        self._pending_ack = 0
        self._tray_base_icon: QIcon | None = None
        self.tray_message.connect(self._show)
        services.bus.ledger_changed.connect(self.evaluate_now)
        services.bus.alerts_changed.connect(self.refresh_ack_state)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.evaluate_now)
        self.timer.start()

    # -- evaluation (worker) -------------------------------------------------------------

    @Slot()
    def evaluate_now(self) -> None:
        self._evaluations.request()

    def _deliver(self, d: Delivery) -> None:  # worker thread
        r = render(d.alert)
        self.tray_message.emit(r.title, tray_text(d))

    def _job(self) -> tuple[CheckResult, int]:
        ctx = self.services.ctx
        res = run_check(ctx, channels={"tray": CallbackChannel(self._deliver)})
        return res, len(pending_acknowledgement(ctx.db))

    def _done(self, result: tuple[CheckResult, int]) -> None:
        res, pending = result
        self._evaluations.finished()
        if res.evaluation.new_alerts or res.dispatch.sent:
            self.services.bus.notify_alerts_changed()
        self._set_ack(pending)
        self.evaluated.emit(res)

    def _failed(self, exc: BaseException) -> None:
        log.error("budget evaluation failed: %s", exc, exc_info=(type(exc), exc, exc.__traceback__))
        self._evaluations.finished()

    # -- GUI thread ----------------------------------------------------------------------

    @Slot(str, str)
    def _show(self, title: str, text: str) -> None:
        self.services.notify(title, text, lambda: self.services.show_dock(BUDGETS_DOCK))

    @Slot()
    def refresh_ack_state(self) -> None:
        ctx = self.services.ctx
        self.services.run(lambda: len(pending_acknowledgement(ctx.db)), on_done=self._set_ack, owner=self)

    def _set_ack(self, n: int) -> None:
        if n != self._pending_ack:
            self._pending_ack = n
            self.ack_pending.emit(n)
        self._apply_tray_state()

    @property
    def pending_ack(self) -> int:
        return self._pending_ack

    def _tray(self) -> Any:
        win = self.parent()
        while win is not None and not hasattr(win, "tray"):
            win = win.parent()
        return getattr(win, "tray", None)

    def _apply_tray_state(self) -> None:
        """A red badge on the tray icon and a first tooltip line while alerts wait for acknowledgement."""
        tray = self._tray()
        from PySide6.QtWidgets import QSystemTrayIcon

        icon = getattr(tray, "icon", None)
        if not isinstance(icon, QSystemTrayIcon):
            return
        if self._tray_base_icon is None:
            self._tray_base_icon = icon.icon()
            tray.tooltip_changed.connect(lambda _t: self._apply_tray_state())
        tip = icon.toolTip().split("\n")[-1]
        if self._pending_ack:
            icon.setIcon(badged(self._tray_base_icon))
            icon.setToolTip(f"{self._pending_ack} budget alert(s) to acknowledge\n{tip}")
        else:
            icon.setIcon(self._tray_base_icon)
            icon.setToolTip(tip)


def tray_text(d: Delivery) -> str:
    """The tray body: the alert's message (it names the budget, amount and percentage)."""
    return d.alert.message


def badged(icon: QIcon, size: int = 64) -> QIcon:
    pm = icon.pixmap(size, size)
    if pm.isNull():
        pm = QPixmap(size, size)
        pm.fill(QColor("#2f6fdb"))
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor("#c62828"))
    p.setPen(QColor("white"))
    d = size // 2
    p.drawEllipse(size - d - 1, 1, d, d)
    p.end()
    return QIcon(pm)
