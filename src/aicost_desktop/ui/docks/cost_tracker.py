"""The Cost tracker dock: month-to-date and today's spend, the budget card, and the filterable, sortable ledger table."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QButtonGroup, QDockWidget, QHBoxLayout, QHeaderView,
                               QLabel, QLineEdit, QMessageBox, QStackedWidget, QTableView, QToolButton,
                               QVBoxLayout, QWidget)

from aicost_desktop.domain.money import fmt_money
from aicost_desktop.analytics.report import spend_summary
from aicost_desktop.storage.queries import count_records, list_records
from aicost_desktop.ui.docks import DOCK_FEATURES
from aicost_desktop.ui.models.ledger_model import COL, SOURCE_ROLE, LedgerFilterProxy, LedgerTableModel
from aicost_desktop.ui.widgets.cost_widget import CostWidget
from aicost_desktop.ui.widgets.empty_state import EmptyState
from aicost_desktop.ui.workers import Refresher
from aicost_desktop.ui.widgets.source_badge import SourceBadgeDelegate, badge_color

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.ui.services import Services

log = logging.getLogger("aicost.ui.cost_tracker")
PAGE = 1000          # rows per load; scrolling to the end loads the next page
RELOAD_CAP = 10_000  # a refresh re-reads at most this many of the rows scrolled into view
SOURCE_CHIPS = [("All", ""), ("API", "api"), ("Log", "log"), ("Import", "import"), ("Manual", "manual"),
                ("Subscription", "subscription")]
EMPTY_HEADLINE = "No spend yet"
EMPTY_DETAIL = ("Add an account, import Claude Code logs, add a manual entry, or load sample data "
                "to see where your AI money goes.")


def _load(ctx: "AppContext", limit: int = PAGE) -> dict[str, Any]:
    """Worker side: everything the dock shows, read in one go (no Qt here)."""
    db, tz = ctx.db, ctx.tz
    currency = ctx.settings.get("display_currency")
    return {
        "rows": list_records(db, tz, limit=limit),
        "total": count_records(db, tz),
        "summary": spend_summary(db, tz, fx=ctx.settings.fx_rates(), currency=currency),
    }


def _page(ctx: "AppContext", offset: int) -> tuple[list[Any], int]:
    """Worker side: the next page of rows after `offset` newest ones, and the ledger's row count."""
    return list_records(ctx.db, ctx.tz, limit=PAGE, offset=offset), count_records(ctx.db, ctx.tz)


class _Figure(QWidget):
    """A caption over a big number."""

    def __init__(self, caption: str, name: str) -> None:
        super().__init__()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 18, 0)
        lay.setSpacing(0)
        cap = QLabel(caption)
        cap.setObjectName("figureCaption")
        self.value = QLabel("—")
        self.value.setObjectName(name)
        font = self.value.font()
        font.setPointSizeF(font.pointSizeF() * 1.7)
        font.setBold(True)
        self.value.setFont(font)
        lay.addWidget(cap)
        lay.addWidget(self.value)


class CostTrackerWidget(QWidget):
    """Header figures, a summary slot for cards (budgets), source chips, text filter and the ledger table.

    Signals:
        refreshed(): a load finished and the view shows it.
        load_failed(object): a load raised (the exception); the header says so.
        add_account_requested(): the empty state's "Add account" was clicked.
        import_logs_requested(): "Import Claude Code logs" was clicked.
        manual_entry_requested(): "Add manual entry" was clicked.
    """

    refreshed = Signal()
    load_failed = Signal(object)
    add_account_requested = Signal()
    import_logs_requested = Signal()
    manual_entry_requested = Signal()

    def __init__(self, ctx: "AppContext", services: "Services", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("costTracker")
        self.ctx, self.services = ctx, services
        # Keep the rows the user scrolled into (up to a cap), so a sync does not yank the table back.
        self._loads = Refresher(services.pool, _load, self._apply, owner=self, failed=self._failed,
                                args=lambda: (ctx, max(PAGE, min(self.model.rowCount(), RELOAD_CAP))),
                                settled=lambda ok: self.refreshed.emit() if ok else None)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.addLayout(self._build_header())
        # The budget card: usage vs the main budget (its "Set budget" asks the Budgets dock by request).
        self.summary_slot = QVBoxLayout()
        self.summary_slot.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(self.summary_slot)
        self.card = CostWidget(services)
        self.card.set_budget_requested.connect(self._set_budget)
        self.card.details_requested.connect(lambda: services.show_dock("budgetsDock"))
        self.summary_slot.addWidget(self.card)
        lay.addLayout(self._build_filters())
        self.model = LedgerTableModel(self)
        self.model.more_requested.connect(self._load_more)
        self._generation = 0  # bumped by every reload: a page read before it is stale
        self.proxy = LedgerFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.stack = QStackedWidget()
        self.table = self._build_table()
        self.empty = self._build_empty()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        self.stack.setCurrentWidget(self.empty)
        lay.addWidget(self.stack, 1)
        self.footer = QLabel("")
        self.footer.setObjectName("ledgerFooter")
        lay.addWidget(self.footer)
        services.bus.ledger_changed.connect(self._ledger_changed)  # the card listens on its own

    # -- construction --------------------------------------------------------------------

    def _build_header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.month_figure = _Figure("This month", "monthToDate")
        self.today_figure = _Figure("Today", "todaySpend")
        row.addWidget(self.month_figure)
        row.addWidget(self.today_figure)
        row.addStretch(1)
        self.status = QLabel("")
        self.status.setObjectName("trackerStatus")
        self.status.setWordWrap(True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(self.status)
        return row

    def _build_filters(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.chips = QButtonGroup(self)
        self.chips.setExclusive(True)
        for label, source in SOURCE_CHIPS:
            chip = QToolButton()
            chip.setText(label)
            chip.setCheckable(True)
            chip.setObjectName(f"chip_{source or 'all'}")
            chip.setProperty("source", source)
            chip.setAutoRaise(True)
            if source:
                chip.setStyleSheet(f"QToolButton:checked {{ background: {badge_color(source).name()}; "
                                   "color: white; border-radius: 9px; } QToolButton { padding: 2px 9px; }")
            else:
                chip.setStyleSheet("QToolButton:checked { border: 1px solid palette(highlight); border-radius: 9px; }"
                                   "QToolButton { padding: 2px 9px; }")
                chip.setChecked(True)
            self.chips.addButton(chip)
            row.addWidget(chip)
        self.chips.buttonClicked.connect(lambda b: self.proxy.set_source_filter(b.property("source")))
        row.addSpacing(12)
        self.search = QLineEdit()
        self.search.setObjectName("ledgerSearch")
        self.search.setPlaceholderText("Filter by provider, account, model, note…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy_text_changed)
        row.addWidget(self.search, 1)
        return row

    def proxy_text_changed(self, text: str) -> None:
        self.proxy.set_text_filter(text)
        self._update_footer()

    def _build_table(self) -> QTableView:
        t = QTableView()
        t.setObjectName("ledgerTable")
        t.setModel(self.proxy)
        t.setSortingEnabled(True)
        t.sortByColumn(COL["when"], Qt.SortOrder.DescendingOrder)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setAlternatingRowColors(True)
        t.setWordWrap(False)
        t.verticalHeader().setVisible(False)
        t.verticalHeader().setDefaultSectionSize(t.fontMetrics().height() + 12)
        t.setItemDelegateForColumn(COL["source"], SourceBadgeDelegate(SOURCE_ROLE, t))
        h = t.horizontalHeader()
        h.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        h.setStretchLastSection(True)
        fm = t.fontMetrics()
        widths = {"when": "2025-01-01 00:00", "provider": "openrouter", "account": "OpenAI (prod)",
                  "model": "claude-sonnet-4-5", "source": "Subscription", "input": "1,234,567",
                  "output": "1,234,567", "cache": "12,345,678", "cost": "$1,234.56", "reported": "$1,234.5678",
                  "computed": "$1,234.5678"}
        for key, sample in widths.items():
            h.resizeSection(COL[key], fm.horizontalAdvance(sample) + 28)
        return t

    def _build_empty(self) -> EmptyState:
        state = EmptyState(EMPTY_HEADLINE, EMPTY_DETAIL)
        state.setObjectName("costTrackerEmpty")
        if self.services.actions is not None:
            state.add_button("Load sample data", self.services.actions.load_sample.trigger, primary=True,
                             name="loadSampleButton")
        state.add_button("Add account", self.add_account_requested.emit, name="addAccountButton")
        state.add_button("Import Claude Code logs", self.import_logs_requested.emit, name="importLogsButton")
        state.add_button("Add manual entry", self.manual_entry_requested.emit, name="manualEntryButton")
        return state

    # -- public API ----------------------------------------------------------------------

    def add_summary_widget(self, widget: QWidget) -> None:
        """Insert a card (e.g. usage vs budget) between the header and the table."""
        self.summary_slot.addWidget(widget)

    def refresh(self) -> None:
        """Reload from the ledger and the card in workers; calls while a load runs are folded into one more."""
        self._loads.request()
        self.card.refresh()

    def _ledger_changed(self) -> None:
        self._loads.request()

    def _set_budget(self) -> None:
        st = self.card.data.status if self.card.data is not None else None
        self.services.requests.edit_budget.emit(st.budget_id if st is not None else None)

    def _load_more(self) -> None:
        gen = self._generation

        def done(result: tuple[list[Any], int]) -> None:
            rows, total = result
            if gen != self._generation:
                return  # a reload replaced the rows meanwhile; the view asks again if it still needs more
            self._total = total
            self.model.append_page(rows, has_more=bool(rows) and self.model.rowCount() + len(rows) < total)
            self._update_footer()

        def failed(exc: BaseException) -> None:
            # Not self._failed: that ends the running reload. The model asks for no further page until the
            # next reload, so a broken ledger is not re-read on every scroll.
            log.error("loading more ledger rows failed: %s", exc, exc_info=(type(exc), exc, exc.__traceback__))
            self.status.setText(f"<span style='color:#c62828'>Could not read more rows: {exc}</span>")

        self.services.run(_page, self.ctx, self.model.rowCount(), on_done=done, on_error=failed, owner=self)

    def is_empty_state(self) -> bool:
        return self.stack.currentWidget() is self.empty

    # -- results (GUI thread) ------------------------------------------------------------

    def _apply(self, result: dict[str, Any]) -> None:
        s = result["summary"]
        self.month_figure.value.setText(fmt_money(s.month_to_date, s.currency))
        self.today_figure.value.setText(fmt_money(s.today, s.currency))
        self.status.setText(f"<span style='color:#d08700'>{s.unpriced_rows} unpriced row(s) this month — "
                            "set a price to count them</span>" if s.unpriced_rows else "")
        self._total = result["total"]
        self._generation += 1
        self.model.set_rows(result["rows"], has_more=len(result["rows"]) < self._total)
        self.stack.setCurrentWidget(self.table if result["total"] else self.empty)
        self._update_footer()

    def _failed(self, exc: BaseException) -> None:
        log.error("loading the ledger failed: %s", exc, exc_info=(type(exc), exc, exc.__traceback__))
        self.status.setText(f"<span style='color:#c62828'>Could not read the ledger: {exc}</span>")
        self.load_failed.emit(exc)

    def _update_footer(self) -> None:
        total = getattr(self, "_total", 0)
        shown = self.proxy.rowCount()
        loaded = self.model.rowCount()
        text = f"{shown:,} of {loaded:,} rows shown"
        if total > loaded:
            text += f" · {total - loaded:,} older rows load as you scroll down"
        self.footer.setText(text if total else "")


class CostTrackerDock(QDockWidget):
    """The dock wrapper; `refresh()` reloads, `tracker` is the content widget."""

    def __init__(self, tracker: CostTrackerWidget) -> None:
        super().__init__("Cost tracker")
        self.tracker = tracker
        self.setWidget(tracker)
        self.setFeatures(DOCK_FEATURES)

    def refresh(self) -> None:
        self.tracker.refresh()

    def add_summary_widget(self, widget: QWidget) -> None:
        self.tracker.add_summary_widget(widget)


def _info(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.information(parent, title, text)


def cost_tracker_dock(ctx: "AppContext", services: "Services") -> QDockWidget:
    tracker = CostTrackerWidget(ctx, services)
    dock = CostTrackerDock(tracker)
    tracker.add_account_requested.connect(lambda: services.show_dock("accountsDock"))
    from aicost_desktop.ui.dialogs.launch import open_import_dialog, open_manual_entry_dialog

    tracker.import_logs_requested.connect(lambda: open_import_dialog(services, tracker))
    tracker.manual_entry_requested.connect(lambda: open_manual_entry_dialog(services, tracker))
    tracker.refresh()  # the first load starts while the rest of the window is built
    return dock
