"""The tray icon, like CodexBar's menu: this month and today, each budget with its progress bar, each account's
last sync and balance, the gateway (where it listens, what blocks) with "Gateway on/off", then Open / Sync now /
Pause / Quit; the icon shows the worst budget's state (ok, warning, over; over while the gateway blocks) and a badge
while budget alerts wait for acknowledgement; notifications."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from aicost_desktop import APP_NAME
from aicost_desktop.accounts import list_accounts
from aicost_desktop.domain.money import format_money
from aicost_desktop.analytics.report import SpendSummary, spend_summary
from aicost_desktop.budgets.service import context_statuses
from aicost_desktop.storage.queries import latest_balances
from aicost_desktop.budgets.wording import period_words, provider_label
from aicost_desktop.domain.spend_words import over_text
from aicost_desktop.ui.workers import Refresher

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.ui.actions import AppActions
    from aicost_desktop.ui.services import Services

log = logging.getLogger("aicost.ui.tray")


STATE_DOT = {"warning": "#ef6c00", "exceeded": "#c62828"}  # at_risk and ok: the plain icon
BAR_CELLS = 10


def tooltip_text(summary: SpendSummary | None, pending_ack: int = 0) -> str:
    line = APP_NAME if summary is None else \
        f"{APP_NAME} — {format_money(summary.month_to_date, summary.currency)} this month"
    return f"{pending_ack} budget alert(s) to acknowledge\n{line}" if pending_ack else line


@dataclass
class TrayData:
    """What the menu shows, read on a pool thread."""

    summary: SpendSummary
    budgets: list[Any] = field(default_factory=list)    # BudgetStatus
    accounts: list[Any] = field(default_factory=list)   # AccountView
    balances: dict[int, Any] = field(default_factory=dict)  # account id -> LatestBalance

    @property
    def worst(self) -> str:
        """The worst budget state: exceeded > warning > ok (a projection alone is not a warning yet)."""
        states = {b.state for b in self.budgets}
        return "exceeded" if "exceeded" in states else "warning" if "warning" in states else "ok"


def _summary(ctx: "AppContext") -> TrayData:  # pool thread

    summary = spend_summary(ctx.db, ctx.tz, fx=ctx.settings.fx_rates(), currency=ctx.settings.get("display_currency"))
    return TrayData(summary, [b for b in context_statuses(ctx)], list_accounts(ctx.db), latest_balances(ctx.db))


def progress_bar(percent: Decimal, cells: int = BAR_CELLS) -> str:
    """'▰▰▰▰▱▱▱▱▱▱' for 40% (full past 100%): a bar a menu can show in any theme and font."""
    full = max(0, min(cells, int(percent * cells / 100 + Decimal("0.5"))))
    return "▰" * full + "▱" * (cells - full)


def budget_line(st: Any) -> str:
    """'OpenAI  ▰▰▰▰▰▰▰▰▱▱ 80%  $8.00 of $10.00 this month', or 'over budget by $2.00 (120%)'."""
    over = over_text(st.spent, st.amount, st.currency)
    tail = over or f"{format_money(st.spent, st.currency)} of {format_money(st.amount, st.currency)}"
    return f"{st.name}  {progress_bar(st.percent)} {st.percent:.0f}%  {tail} {period_words(st.period.kind)}" \
        if not over else f"⚠ {st.name}  {progress_bar(st.percent)}  {tail} {period_words(st.period.kind)}"


def ago(when: datetime | None, now: datetime | None = None) -> str:
    if when is None:
        return "never synced"
    secs = max(0, int(((now or datetime.now(timezone.utc)) - when).total_seconds()))
    if secs < 90:
        return "synced just now"
    if secs < 5400:
        return f"synced {secs // 60} min ago"
    if secs < 2 * 86400:
        return f"synced {secs // 3600} h ago"
    return f"synced {secs // 86400} days ago"


def account_line(acc: Any, balance: Any | None, now: datetime | None = None) -> str:
    """'work (OpenRouter) — synced 5 min ago · $12.40 left'."""
    parts = [f"{acc.name} ({provider_label(acc.provider)}) — "
             + ("sync failing" if acc.status == "error" else ago(acc.last_success_at or acc.last_sync_at, now))]
    if balance is not None and balance.remaining is not None:
        parts.append(f"{format_money(balance.remaining, balance.currency)} left")
    return " · ".join(parts)


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
        self.data: TrayData | None = None
        self.actions = actions
        self.pending_ack = services.alerts.pending_ack
        self._loads = Refresher(services.view_pool, _summary, self._set_summary, owner=self,
                                args=lambda: (services.ctx,))
        self.gateway = services.gateway
        self.gateway_toggle = QAction("&Gateway on/off", self)
        self.gateway_toggle.setObjectName("gatewayToggle")  # a command, not a "tray*" line to read
        self.gateway_toggle.setCheckable(True)
        if self.gateway is not None:
            self.gateway_toggle.setChecked(self.gateway.enabled)
            self.gateway_toggle.triggered.connect(self._toggle_gateway)
            self.gateway.state_changed.connect(self._gateway_changed)
        self.icon = QSystemTrayIcon(icon, self)
        self.icon.setToolTip(APP_NAME)
        self.menu = QMenu()
        self.menu.setObjectName("trayMenu")
        actions.open_window.triggered.connect(self.open_requested)
        self._build_menu()
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

    def _set_summary(self, data: TrayData) -> None:
        self.data, self._summary = data, data.summary
        self._build_menu()
        self._show_icon()
        self._show_state()

    def _build_menu(self) -> None:
        """Figures first (read-only lines), then the commands; rebuilt after each load."""
        m, d = self.menu, self.data
        m.clear()

        def info(text: str, name: str) -> None:
            act = m.addAction(text)
            act.setObjectName(name)
            act.setEnabled(False)  # a line to read, not a command

        if d is None:
            info("Loading…", "trayLoading")
        else:
            cur = d.summary.currency
            info(f"This month: {format_money(d.summary.month_to_date, cur)}", "trayMonth")
            info(f"Today: {format_money(d.summary.today, cur)}", "trayToday")
            if d.budgets:
                m.addSeparator()
                for st in d.budgets:
                    info(budget_line(st), "trayBudget")
            if d.accounts:
                m.addSeparator()
                for acc in d.accounts:
                    info(account_line(acc, d.balances.get(acc.id)), "trayAccount")
        if self.gateway is not None:
            m.addSeparator()
            for text, name in self.gateway_lines():
                info(text, name)
            m.addAction(self.gateway_toggle)
        m.addSeparator()
        for act in (self.actions.open_window, self.actions.sync_now, self.actions.pause_sync, None, self.actions.quit):
            if act is None:
                m.addSeparator()
            else:
                m.addAction(act)

    def menu_lines(self) -> list[str]:
        """The menu's text top to bottom ('—' for a separator): what a user reads (tests, screenshots)."""
        return ["—" if a.isSeparator() else a.text() for a in self.menu.actions()]

    def gateway_lines(self) -> list[tuple[str, str]]:
        """'Gateway: on at http://127.0.0.1:PORT' (or off, or why it did not start) and 'Blocking: <budget>'."""
        gw = self.gateway
        if gw is None:
            return []
        lines = [(gw.status_text(), "trayGateway")]
        blocking = gw.blocking()
        if blocking:
            lines.append((f"Blocking: {', '.join(blocking)}", "trayGatewayBlocking"))
        return lines

    def _toggle_gateway(self, on: bool) -> None:
        if self.gateway is not None:
            self.gateway.set_enabled(on)  # saves the setting; starts or stops on a job, then state_changed
            self._gateway_changed()  # "starting…" until then

    def _gateway_changed(self) -> None:
        if self.gateway is not None:
            self.gateway_toggle.setChecked(self.gateway.enabled)
        self._build_menu()
        self._show_icon()
        self._show_state()

    @property
    def state(self) -> str:
        """What the icon shows: 'exceeded' (also while alerts wait for acknowledgement or the gateway blocks
        calls), 'warning' or 'ok'."""
        if self.pending_ack or (self.gateway is not None and self.gateway.blocking()):
            return "exceeded"
        return self.data.worst if self.data is not None else "ok"

    def _show_icon(self) -> None:
        dot = STATE_DOT.get(self.state)
        self.icon.setIcon(badged(self._base_icon, color=dot) if dot else self._base_icon)

    def set_pending_ack(self, n: int) -> None:
        """Budgets set to "require acknowledgement": a red badge and a first tooltip line until acknowledged."""
        self.pending_ack = n
        self._show_icon()
        self._show_state()

    def _show_state(self) -> None:
        text = tooltip_text(self._summary, self.pending_ack)
        gateway = [line for line, _name in self.gateway_lines()]
        if self.gateway is not None and (self.gateway.enabled or self.gateway.running):
            text = "\n".join([text, *gateway])
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


def badged(icon: QIcon, size: int = 64, color: str = "#c62828") -> QIcon:
    """`icon` with a dot (red: over budget; orange: past a warning threshold) in its top right corner."""
    pm = icon.pixmap(size, size)
    if pm.isNull():
        pm = QPixmap(size, size)
        pm.fill(QColor("#2f6fdb"))
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor(color))
    p.setPen(QColor("white"))
    d = size // 2
    p.drawEllipse(size - d - 1, 1, d, d)
    p.end()
    return QIcon(pm)
