"""The Cost tracker's gateway strip: a "live" badge while the metering gateway runs ("blocking: <budget>" when a block
budget refuses calls), its last calls newest first with costs in the display currency; one line saying how to turn it
on while it is off."""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QFrame, QHBoxLayout, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from aicost_desktop.analytics.dashboard import convert
from aicost_desktop.domain.money import format_money

if TYPE_CHECKING:
    from aicost_desktop.ui.services import Services

MAX_ROWS = 8
COLUMNS = ("Time", "Model", "Tokens", "Cost", "Latency", "Project")
RIGHT = (2, 3, 4)  # numbers
LIVE_STYLE = ("QLabel#gatewayLiveBadge { color: white; background: #2e7d32; border-radius: 8px; padding: 1px 8px; "
              "font-weight: 600; }")
OFF_HINT = ("Gateway off: turn it on (Settings › Gateway, or the tray menu) and point your scripts at it to see "
            "each call here live. <a href=\"on\">Turn on</a>")


def _usd(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)  # the gateway prices with the catalog, in USD
    except (InvalidOperation, ValueError):
        return None


def _cost(text: str | None, currency: str, fx: dict[str, Decimal]) -> str:
    """The call's cost in the display currency (the same conversion as the cards and charts); in USD when
    Settings has no rate for the display currency, as the ledger has it."""
    usd = _usd(text)
    if usd is None:
        return "unpriced"
    if currency not in fx:
        return format_money(usd)
    return format_money(convert(usd, "USD", currency, fx), currency)


def _latency(ms: Any) -> str:
    try:
        v = float(ms)
    except (TypeError, ValueError):
        return "—"
    return f"{v:,.0f} ms" if v < 10_000 else f"{v / 1000:,.1f} s"


def _time(at: Any, tz: tzinfo) -> str:
    try:
        return datetime.fromisoformat(str(at)).astimezone(tz).strftime("%H:%M:%S")
    except (TypeError, ValueError):
        return "—"


def call_cells(call: dict[str, Any], tz: tzinfo, currency: str = "USD", fx: dict[str, Decimal] | None = None
               ) -> list[str]:
    """One call as the table's cells: time (local), model (with the HTTP status of an error or 'cancelled'), tokens,
    cost in `currency` at the rates `fx` ('unpriced' without a price), latency, project."""
    model = str(call.get("model") or "(unknown model)")
    status = call.get("status")
    if isinstance(status, int) and status >= 400:
        model += f" · HTTP {status}"
    if call.get("cancelled"):
        model += " · cancelled"
    tokens = call.get("tokens")
    return [_time(call.get("at"), tz), model, f"{tokens:,}" if isinstance(tokens, int) else "—",
            _cost(call.get("cost"), currency, fx or {"USD": Decimal(1)}), _latency(call.get("latency_ms")), str(call.get("project") or "—")]


class GatewayLiveWidget(QFrame):
    """Shows what `services.gateway` (the GUI's adapter) reports; nothing to load: calls arrive as signals. Costs
    follow the display currency: a settings change reaches the docks as `ledger_changed`, and the rows are redrawn.

    Signals:
        updated(): the rows or the state shown changed (tests, screenshots).
    """

    updated = Signal()

    def __init__(self, services: "Services", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gatewayLive")
        gateway = services.gateway
        assert gateway is not None, "the Cost tracker adds this strip only with a gateway"
        self.gateway, self.ctx = gateway, services.ctx
        self.calls: list[dict[str, Any]] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 4)
        lay.setSpacing(4)
        self.hint = QLabel(OFF_HINT)
        self.hint.setObjectName("gatewayHint")
        self.hint.setWordWrap(True)
        self.hint.setTextFormat(Qt.TextFormat.RichText)
        self.hint.linkActivated.connect(lambda _l: gateway.set_enabled(True))
        lay.addWidget(self.hint)
        self.panel = QWidget()
        self.panel.setObjectName("gatewayPanel")
        inner = QVBoxLayout(self.panel)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(3)
        head = QHBoxLayout()
        title = QLabel("Gateway")
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        self.badge = QLabel("● live")
        self.badge.setObjectName("gatewayLiveBadge")
        self.badge.setStyleSheet(LIVE_STYLE)
        self.blocking_label = QLabel("")
        self.blocking_label.setObjectName("gatewayBlocking")
        self.blocking_label.setProperty("banner", "warning")
        self.blocking_label.setStyleSheet("QLabel { padding: 1px 8px; font-weight: 600; }")
        self.url = QLabel("")
        self.url.setObjectName("gatewayUrl")
        self.url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.url.setStyleSheet("color: palette(placeholder-text);")
        for w in (title, self.badge, self.blocking_label, self.url):
            head.addWidget(w)
        head.addStretch(1)
        inner.addLayout(head)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("gatewayCalls")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        inner.addWidget(self.table)
        self.waiting = QLabel("")
        self.waiting.setObjectName("gatewayWaiting")
        self.waiting.setWordWrap(True)
        self.waiting.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.waiting.setStyleSheet("color: palette(placeholder-text);")
        inner.addWidget(self.waiting)
        lay.addWidget(self.panel)
        gateway.call_recorded.connect(self.add_call)
        gateway.state_changed.connect(self.show_state)
        services.bus.ledger_changed.connect(self._redraw)  # the display currency or its rates may have changed
        self.show_state()

    # -- state ----------------------------------------------------------------------------------
    @property
    def live(self) -> bool:
        return not self.panel.isHidden()

    def blocking_text(self) -> str:
        return self.blocking_label.text() if not self.blocking_label.isHidden() else ""

    def show_state(self) -> None:
        """Re-read the gateway: running (badge, url, blocking, its recent calls), or off / failed (the one line)."""
        gw = self.gateway
        url = gw.base_url
        if url is None:
            self.panel.hide()
            if gw.error:
                self.hint.setText(f"Gateway not started: {gw.error}. Change it in Settings › Gateway, then "
                                  "<a href=\"on\">try again</a>.")
                self.hint.setProperty("banner", "error")
            elif gw.enabled:
                self.hint.setText("Gateway starting…")
                self.hint.setProperty("banner", None)
            else:
                self.hint.setText(OFF_HINT)
                self.hint.setProperty("banner", None)
            self._repolish(self.hint)
            self.hint.show()
        else:
            self.hint.hide()
            self.url.setText(url)
            blocking = gw.blocking()
            self.blocking_label.setText(f"blocking: {', '.join(blocking)}" if blocking else "")
            self.blocking_label.setVisible(bool(blocking))
            self.blocking_label.setToolTip("Calls through the gateway get HTTP 429 until the budget is raised or "
                                           "its action changed (Budgets dock)." if blocking else "")
            self.waiting.setText(f"No calls yet. Point a script at {url}/openai/v1 or {url}/anthropic "
                                 "with the gateway token (aicost gateway token).")
            self.calls = gw.recent(MAX_ROWS)
            self._fill()
            self.panel.show()
        self.updated.emit()

    @staticmethod
    def _repolish(w: QWidget) -> None:
        w.style().unpolish(w)
        w.style().polish(w)

    # -- calls ----------------------------------------------------------------------------------
    def add_call(self, call: dict[str, Any]) -> None:
        """A call's row is in the ledger: put it on top (the list keeps the newest MAX_ROWS)."""
        if call in self.calls:  # already read by recent() when the started state arrived
            return
        self.calls = [call, *self.calls][:MAX_ROWS]
        if self.panel.isHidden():
            self.show_state()  # the first call may come before the started state
        else:
            self._fill()
            self.updated.emit()

    def _redraw(self) -> None:
        if not self.panel.isHidden() and self.calls:
            self._fill()
            self.updated.emit()

    def _fill(self) -> None:
        t = self.table
        settings = self.ctx.settings
        currency, fx = settings.get("display_currency") or "USD", settings.fx_rates()
        t.setRowCount(len(self.calls))
        for r, call in enumerate(self.calls):
            for c, text in enumerate(call_cells(call, self.ctx.tz, currency, fx)):
                item = QTableWidgetItem(text)
                if c in RIGHT:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == 1:
                    item.setToolTip(f"{call.get('provider', '')} {call.get('endpoint', '')}".strip())
                if c == 3:
                    item.setToolTip(self._cost_tip(call, currency, fx))
                t.setItem(r, c, item)
        t.setVisible(bool(self.calls))
        self.waiting.setVisible(not self.calls)
        # Exactly as tall as its rows: a strip, not a second table that scrolls.
        height = t.horizontalHeader().sizeHint().height() + sum(t.rowHeight(r) for r in range(t.rowCount())) + 2 * t.frameWidth()
        t.setFixedHeight(height)

    @staticmethod
    def _cost_tip(call: dict[str, Any], currency: str, fx: dict[str, Decimal]) -> str:
        usd = _usd(call.get("cost"))
        if usd is None:
            return "No price for this model in the catalog"
        if currency == "USD":
            return "Priced with the catalog, in USD"
        if currency not in fx:
            return f"Priced with the catalog, in USD (Settings has no rate for {currency})"
        return f"{format_money(usd)} as priced (the catalog is in USD); 1 {currency} = {fx[currency].normalize():f} USD"

    def rows(self) -> list[list[str]]:
        """The table's text, top to bottom (tests)."""
        t = self.table
        return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]
