"""The tray icon: month-to-date spend in the tooltip, Open / Sync now / Pause syncing / Quit, notifications, and a
badge while budget alerts wait for acknowledgement."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from aicost_desktop import APP_NAME
from aicost_desktop.domain.money import fmt_money
from aicost_desktop.analytics.report import SpendSummary, spend_summary
from aicost_desktop.ui.workers import Refresher

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.ui.actions import AppActions
    from aicost_desktop.ui.services import Services

log = logging.getLogger("aicost.ui.tray")


def tooltip_text(summary: SpendSummary | None, pending_ack: int = 0) -> str:
    line = APP_NAME if summary is None else \
        f"{APP_NAME} — {fmt_money(summary.month_to_date, summary.currency)} this month"
    return f"{pending_ack} budget alert(s) to acknowledge\n{line}" if pending_ack else line


def _summary(ctx: "AppContext") -> SpendSummary:  # pool thread
    return spend_summary(ctx.db, ctx.tz, fx=ctx.settings.fx_rates(), currency=ctx.settings.get("display_currency"))


class Tray(QObject):
    """Owns the QSystemTrayIcon; only built when `QSystemTrayIcon.isSystemTrayAvailable()`.

    Signals:
        open_requested(): the user asked for the window (menu Open or a click on the icon).
        tooltip_changed(str): the tooltip was refreshed (tests, status line).
    """

    open_requested = Signal()
    tooltip_changed = Signal(str)

    def __init__(self, services: "Services", actions: "AppActions", icon: QIcon,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self._on_click: Callable[[], None] | None = None
        self._base_icon = icon
        self._summary: SpendSummary | None = None
        self.pending_ack = services.alerts.pending_ack
        self._loads = Refresher(services.pool, _summary, self._set_summary, owner=self, args=lambda: (services.ctx,))
        self.icon = QSystemTrayIcon(icon, self)
        self.icon.setToolTip(APP_NAME)
        self.menu = QMenu()
        actions.open_window.triggered.connect(self.open_requested)
        for act in (actions.open_window, None, actions.sync_now, actions.pause_sync, None, actions.quit):
            if act is None:
                self.menu.addSeparator()
            else:
                self.menu.addAction(act)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.icon.messageClicked.connect(self._message_clicked)
        services.bus.ledger_changed.connect(self.refresh)
        services.alerts.ack_pending.connect(self.set_pending_ack)

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> None:
        self.icon.show()
        self.refresh()

    def hide(self) -> None:
        self.icon.hide()

    def refresh(self) -> None:
        """Recompute month-to-date spend in a worker and put it in the tooltip (the UI's refresh policy)."""
        self._loads.request()

    def _set_summary(self, summary: SpendSummary) -> None:
        self._summary = summary
        self._show_state()

    def set_pending_ack(self, n: int) -> None:
        """Budgets set to "require acknowledgement": a red badge and a first tooltip line until acknowledged."""
        self.pending_ack = n
        self.icon.setIcon(badged(self._base_icon) if n else self._base_icon)
        self._show_state()

    def _show_state(self) -> None:
        text = tooltip_text(self._summary, self.pending_ack)
        self.icon.setToolTip(text)
        self.tooltip_changed.emit(text)

    def notify(self, title: str, message: str, on_click: Callable[[], None] | None = None) -> None:
        """Pop a notification; clicking it calls `on_click` (default: open the window)."""
        self._on_click = on_click
        self.icon.showMessage(title, message, QSystemTrayIcon.MessageIcon.Information, 10_000)
        log.info("notification: %s: %s", title, message)

    def _message_clicked(self) -> None:
        cb, self._on_click = self._on_click, None
        if cb is not None:
            cb()
        else:
            self.open_requested.emit()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.open_requested.emit()


def badged(icon: QIcon, size: int = 64) -> QIcon:
    """`icon` with a red dot in its top right corner."""
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
