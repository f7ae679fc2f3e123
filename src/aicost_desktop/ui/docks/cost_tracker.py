"""The Cost tracker dock: month-to-date and today's spend, the budget card, and the ledger table: one row per thing
paid for (folded in the query, parts expandable), source chips that combine, a date range, a search, the filter's
total, and the user's own rows editable and deletable with Undo."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDateEdit, QDockWidget, QHBoxLayout, QHeaderView,
                               QLabel, QLineEdit, QMenu, QMessageBox, QStackedWidget, QTableView, QToolButton,
                               QVBoxLayout, QWidget)

from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import format_money
from aicost_desktop.analytics.report import spend_summary
from aicost_desktop.storage.queries import LedgerPage, LedgerRowView, ledger_has_rows, ledger_page, ledger_total
from aicost_desktop.storage.query import LedgerFilter
from aicost_desktop.ui.dialogs.launch import open_import_dialog, open_manual_entry_dialog
from aicost_desktop.ui.docks import DOCK_FEATURES
from aicost_desktop.ui.docks.ledger_edits import LedgerEdits, UndoBanner, not_editable_reason
from aicost_desktop.ui.models.ledger_model import (ARROW, COL, ROW_ROLE, SOURCE_ROLE, LedgerFilterProxy,
                                                   LedgerTableModel, ShownMoney)
from aicost_desktop.ui.widgets.cost_widget import CostWidget
from aicost_desktop.ui.widgets.empty_state import EmptyState
from aicost_desktop.ui.widgets.gateway_live import GatewayLiveWidget
from aicost_desktop.ui.widgets.loading import LoadingPage
from aicost_desktop.ui.workers import Refresher
from aicost_desktop.ui.widgets.source_badge import SourceBadgeDelegate, badge_color

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.ui.services import Services

log = logging.getLogger("aicost.ui.cost_tracker")
PAGE = 1000          # ledger rows per load; scrolling to the end loads the next page
RELOAD_CAP = 10_000  # a refresh re-reads at most this many of the ledger rows scrolled into view
SEARCH_DELAY_MS = 250  # typing pauses this long before the search reloads
SOURCE_CHIPS = [("All", ""), ("API", "api"), ("Log", "log"), ("Import", "import"), ("Manual", "manual"),
                ("Subscription", "subscription"), ("Proxy", "proxy")]
RANGES = [("Any time", "all"), ("Today", "today"), ("Last 7 days", "7"), ("Last 30 days", "30"),
          ("This month", "month"), ("Last month", "last_month"), ("Custom…", "custom")]
EMPTY_HEADLINE = "No spend yet"
EMPTY_DETAIL = ("Add an account, import Claude Code logs, add a manual entry, or load sample data "
                "to see where your AI money goes.")


def range_days(kind: str, today: date) -> tuple[date | None, date | None]:
    """The local days [start, end] of a date-range choice ("all": open)."""
    if kind == "today":
        return today, today
    if kind in ("7", "30"):
        return today - timedelta(days=int(kind) - 1), today
    if kind == "month":
        return today.replace(day=1), today
    if kind == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    return None, None


def _load(ctx: "AppContext", flt: LedgerFilter, text: str | None, through: datetime | None) -> dict[str, Any]:
    """Worker side: everything the dock shows, read in one go (no Qt here)."""
    db, tz = ctx.db, ctx.tz
    currency = ctx.settings.get("display_currency")
    fx = ctx.settings.fx_rates()
    out: dict[str, Any] = {
        "page": ledger_page(db, tz, flt, text=text, limit=PAGE, through=through, cap=RELOAD_CAP),
        "any": ledger_has_rows(db), "currency": currency, "fx": fx, "total": None, "total_error": "",
        "query": (flt, text),
        "summary": spend_summary(db, tz, fx=fx, currency=currency),
    }
    try:
        out["total"] = ledger_total(db, tz, flt, text=text, currency=currency, fx=fx)
    except InputError as exc:
        out["total_error"] = str(exc)
    return out


def _page(ctx: "AppContext", flt: LedgerFilter, text: str | None, before: datetime | None) -> LedgerPage:
    """Worker side: the next page, of rows older than `before`."""
    return ledger_page(ctx.db, ctx.tz, flt, text=text, before=before, limit=PAGE)


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
        self._oldest: datetime | None = None  # the oldest bucket the rows shown reach down to
        self._shown_query: tuple[LedgerFilter, str | None] | None = None  # the query the rows shown answer
        self._has_more = False
        self.total: Decimal | None = None     # what the filter's rows add to spend, in `total_currency`
        self.total_currency = "USD"
        # A reload reads down to the rows the user scrolled into (up to a cap), so a sync does not yank the
        # table back; a changed filter starts from the top.
        self._loads = Refresher(services.view_pool, _load, self._apply, owner=self, failed=self._failed,
                                args=self._load_args, settled=lambda ok: self.refreshed.emit() if ok else None)
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
        if services.gateway is not None:  # the gateway's live calls, under the card
            self.gateway_live = GatewayLiveWidget(services)
            lay.addWidget(self.gateway_live)  # not in summary_slot: the cards other docks add go there
        lay.addLayout(self._build_filters())
        lay.addLayout(self._build_range_row())
        self.model = LedgerTableModel(self)
        self.model.more_requested.connect(self._load_more)
        self._generation = 0  # bumped by every reload: a page read before it is stale
        self.proxy = LedgerFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.stack = QStackedWidget()
        self.table = self._build_table()
        self.empty = self._build_empty()
        self.loading = LoadingPage("Loading the ledger…")
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.loading)
        self.stack.setCurrentWidget(self.loading)  # until the first load says which of the other two
        lay.addWidget(self.stack, 1)
        self.banner = UndoBanner(self)
        lay.addWidget(self.banner)
        self.edits = LedgerEdits(services, self.banner, self)
        self._build_row_actions()
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
        """Source chips: any combination (API + Log); "All" clears them, and is on when none is."""
        row = QHBoxLayout()
        row.setSpacing(2)
        self.chips: list[QToolButton] = []
        for label, source in SOURCE_CHIPS:
            chip = QToolButton()
            chip.setText(label)
            chip.setCheckable(True)
            chip.setObjectName(f"chip_{source or 'all'}")
            chip.setProperty("source", source)
            chip.setAutoRaise(True)
            if source:
                chip.setStyleSheet(f"QToolButton:checked {{ background: {badge_color(source).name()}; "
                                   "color: white; border-radius: 9px; } QToolButton { padding: 2px 7px; }")
            else:
                chip.setStyleSheet("QToolButton:checked { border: 1px solid palette(highlight); border-radius: 9px; }"
                                   "QToolButton { padding: 2px 7px; }")
                chip.setChecked(True)
            chip.clicked.connect(lambda _c=False, b=chip: self._chip_clicked(b))
            self.chips.append(chip)
            row.addWidget(chip)
        row.addStretch(1)
        return row

    def _build_range_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.range = QComboBox()
        self.range.setObjectName("ledgerRange")
        self.range.setToolTip("Which days the table lists (local days of your time zone)")
        for label, kind in RANGES:
            self.range.addItem(label, kind)
        self.range.currentIndexChanged.connect(self._range_changed)
        today = self._today()
        self.from_date, self.to_date = QDateEdit(), QDateEdit()
        for edit, name, day in ((self.from_date, "ledgerFrom", today.replace(day=1)), (self.to_date, "ledgerTo", today)):
            edit.setObjectName(name)
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setDate(day)
            edit.setVisible(False)
            edit.dateChanged.connect(self._filters_changed)
        self.search = QLineEdit()
        self.search.setObjectName("ledgerSearch")
        self.search.setPlaceholderText("Search provider, account, model, note…")
        self.search.setClearButtonEnabled(True)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._filters_changed)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        row.addWidget(self.range)
        row.addWidget(self.from_date)
        row.addWidget(self.to_date)
        row.addWidget(self.search, 1)
        return row

    def _today(self) -> date:
        return datetime.now(self.ctx.tz).date()

    def _chip_clicked(self, chip: QToolButton) -> None:
        others = [c for c in self.chips if c.property("source")]
        if not chip.property("source"):  # "All": clear the others
            for c in others:
                c.setChecked(False)
        self.chips[0].setChecked(not any(c.isChecked() for c in others))
        self._filters_changed()

    def _range_changed(self) -> None:
        custom = self.range.currentData() == "custom"
        self.from_date.setVisible(custom)
        self.to_date.setVisible(custom)
        self._filters_changed()

    def selected_sources(self) -> tuple[str, ...] | None:
        """The checked chips' sources; None for all."""
        chosen = tuple(str(c.property("source")) for c in self.chips if c.property("source") and c.isChecked())
        return chosen or None

    def set_sources(self, sources: tuple[str, ...] | None) -> None:
        """Check exactly these chips (None: All) and reload."""
        for c in self.chips:
            src = c.property("source")
            c.setChecked(src in (sources or ()) if src else not sources)
        self._filters_changed()

    def set_range(self, kind: str, start: date | None = None, end: date | None = None) -> None:
        """Pick a date range (a RANGES kind; "custom" with start and end) and reload."""
        if kind == "custom" and start is not None and end is not None:
            for edit, day in ((self.from_date, start), (self.to_date, end)):
                edit.blockSignals(True)
                edit.setDate(day)
                edit.blockSignals(False)
        self.range.setCurrentIndex(max(0, self.range.findData(kind)))
        self._filters_changed()

    def query(self) -> tuple[LedgerFilter, str | None]:
        """The filter and search text the table answers (GUI thread)."""
        kind = self.range.currentData()
        if kind == "custom":
            a, b = self.from_date.date().toPython(), self.to_date.date().toPython()
            start, end = min(a, b), max(a, b)
        else:
            start, end = range_days(str(kind), self._today())
        text = self.search.text().strip() or None
        return LedgerFilter(sources=self.selected_sources(), start=start, end=end), text

    def _filters_changed(self) -> None:
        self._search_timer.stop()
        if self.query() != self._shown_query:
            self._generation += 1  # a page of the old query arriving now is dropped
            self._loads.request(restart=True)

    def _load_args(self) -> tuple[Any, ...]:
        flt, text = self.query()
        through = self._oldest if (flt, text) == self._shown_query else None
        return self.ctx, flt, text, through

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
        t.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        t.customContextMenuRequested.connect(self._context_menu)
        t.doubleClicked.connect(self._activated)
        t.viewport().installEventFilter(self)
        t.installEventFilter(self)
        h = t.horizontalHeader()
        h.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        h.setStretchLastSection(True)
        fm = t.fontMetrics()
        widths = {"when": "2025-01-01 00:00", "provider": "openrouter", "account": "OpenAI (prod)",
                  "model": "claude-sonnet-4-5", "source": "Subscription", "input": "1,234,567",
                  "output": "1,234,567", "cache": "12,345,678", "cost": "$1,234.56", "reported": "$1,234.56",
                  "computed": "$1,234.56"}
        for key, sample in widths.items():
            h.resizeSection(COL[key], fm.horizontalAdvance(sample) + 28 + (ARROW + 6 if key == "when" else 0))
        return t

    def _build_row_actions(self) -> None:
        self.edit_action = QAction("Edit…", self)
        self.edit_action.setObjectName("ledgerEditAction")
        self.edit_action.triggered.connect(lambda: self.edit_current())
        self.delete_action = QAction("Delete", self)
        self.delete_action.setObjectName("ledgerDeleteAction")
        self.delete_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.delete_action.triggered.connect(lambda: self.delete_selected())
        self.table.addAction(self.delete_action)  # the Delete key while the table has focus

    def selected_rows(self) -> list[LedgerRowView]:
        """The rows selected in the table (the current one when none is), in view order."""
        sel = self.table.selectionModel()
        rows = sorted({i.row() for i in sel.selectedRows()}) if sel is not None else []
        if not rows and self.table.currentIndex().isValid():
            rows = [self.table.currentIndex().row()]
        return [self.proxy.index(r, 0).data(ROW_ROLE) for r in rows]

    def edit_current(self) -> bool:
        rows = self.selected_rows()
        if len(rows) != 1 or not rows[0].editable:
            return False
        self.edits.edit(rows[0])
        return True

    def delete_selected(self) -> bool:
        """Delete the selected manual entries and subscriptions (Undo offered); False when none is selected."""
        return self.edits.delete(self.selected_rows())

    def context_menu_for(self, proxy_row: int) -> QMenu:
        """The row's menu: Edit… and Delete for the user's own rows, why not for the others, parts toggle."""
        r: LedgerRowView = self.proxy.index(proxy_row, 0).data(ROW_ROLE)
        menu = QMenu(self)
        menu.setObjectName("ledgerRowMenu")
        source_row = self.proxy.mapToSource(self.proxy.index(proxy_row, 0)).row()
        if self.model.is_folded(source_row):
            label = "Hide the parts" if self.model.is_expanded(source_row) else f"Show the {len(r.parts)} parts"
            menu.addAction(label, lambda: self.model.toggle(source_row))
            menu.addSeparator()
        editable = r.editable and not self.model.is_part(source_row)
        what = "subscription" if r.source == "subscription" else "entry"
        self.edit_action.setText(f"Edit {what}…" if editable else "Edit…")
        self.delete_action.setText(f"Delete {what}" if editable else "Delete")
        for action in (self.edit_action, self.delete_action):
            action.setEnabled(editable)
            menu.addAction(action)
        if not editable:
            why = menu.addAction(not_editable_reason(r))
            why.setObjectName("ledgerNotEditable")
            why.setEnabled(False)
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        idx = self.table.indexAt(pos)
        if not idx.isValid():
            return
        if not self.table.selectionModel().isRowSelected(idx.row(), idx.parent()):
            self.table.selectRow(idx.row())
        self.context_menu_for(idx.row()).popup(self.table.viewport().mapToGlobal(pos))

    def _activated(self, idx: Any) -> None:
        """Double-click: the user's own row opens its dialog; a folded row shows or hides its parts."""
        r: LedgerRowView = idx.data(ROW_ROLE)
        source_row = self.proxy.mapToSource(self.proxy.index(idx.row(), 0)).row()
        if r.editable and not self.model.is_part(source_row):
            self.edits.edit(r)
        else:
            self.model.toggle(source_row)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        """A click on a folded row's arrow toggles it; Right/Left (+/-) expand and collapse the current row."""
        if obj is self.table.viewport() and event.type() == QEvent.Type.MouseButtonPress:
            pos = event.position().toPoint()  # type: ignore[attr-defined]
            idx = self.table.indexAt(pos)
            if idx.isValid() and idx.column() == COL["when"] and pos.x() - self.table.visualRect(idx).left() <= ARROW + 8:
                self.model.toggle(self.proxy.mapToSource(idx).row())
        elif obj is self.table and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            cur = self.table.currentIndex()
            if cur.isValid() and event.key() in (Qt.Key.Key_Right, Qt.Key.Key_Left, Qt.Key.Key_Plus, Qt.Key.Key_Minus):
                row = self.proxy.mapToSource(self.proxy.index(cur.row(), 0)).row()
                want_open = event.key() in (Qt.Key.Key_Right, Qt.Key.Key_Plus)
                if self.model.is_folded(row) and self.model.is_expanded(row) != want_open:
                    self.model.toggle(row)
                    return True
        return super().eventFilter(obj, event)

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
        gen, (flt, text) = self._generation, self.query()

        def done(page: LedgerPage) -> None:
            if gen != self._generation:
                return  # a reload replaced the rows meanwhile; the view asks again if it still needs more
            self._oldest = page.oldest or self._oldest
            self._has_more = page.has_more
            self.model.append_page(page.rows, has_more=page.has_more)
            self._update_footer()

        def failed(exc: BaseException) -> None:
            # Not self._failed: that ends the running reload. The model asks for no further page until the
            # next reload, so a broken ledger is not re-read on every scroll.
            log.error("loading more ledger rows failed: %s", exc, exc_info=(type(exc), exc, exc.__traceback__))
            self.status.setText(f"<span style='color:#c62828'>Could not read more rows: {exc}</span>")

        self.services.run(_page, self.ctx, flt, text, self._oldest, on_done=done, on_error=failed, owner=self)

    def is_empty_state(self) -> bool:
        return self.stack.currentWidget() is self.empty

    # -- results (GUI thread) ------------------------------------------------------------

    def _apply(self, result: dict[str, Any]) -> None:
        s = result["summary"]
        self.month_figure.value.setText(format_money(s.month_to_date, s.currency))
        self.today_figure.value.setText(format_money(s.today, s.currency))
        self.status.setText(f"<span style='color:#d08700'>{s.unpriced_rows} unpriced row(s) this month — "
                            "set a price to count them</span>" if s.unpriced_rows else "")
        page: LedgerPage = result["page"]
        self._shown_query = result["query"]
        self._oldest, self._has_more = page.oldest, page.has_more
        self.total, self.total_currency = result["total"], result["currency"]
        self._total_error = result["total_error"]
        self._generation += 1
        # Every figure in the display currency; rows the view shows already are not reset (nothing repainted).
        self.model.update_rows(page.rows, page.has_more, ShownMoney(result["currency"], result["fx"]))
        self.stack.setCurrentWidget(self.table if result["any"] else self.empty)
        self._update_footer()

    def _failed(self, exc: BaseException) -> None:
        log.error("loading the ledger failed: %s", exc, exc_info=(type(exc), exc, exc.__traceback__))
        self.status.setText(f"<span style='color:#c62828'>Could not read the ledger: {exc}</span>")
        self.load_failed.emit(exc)

    def _update_footer(self) -> None:
        n = self.model.top_count
        if not n and not self._has_more:
            self.footer.setText("No rows match the filter" if self._shown_query != (LedgerFilter(), None) else "")
            return
        total = (format_money(self.total, self.total_currency) if self.total is not None
                 else f"unavailable ({getattr(self, '_total_error', '')})")
        text = f"Total {total} · {n:,} row{'s' if n != 1 else ''}"
        if self._has_more:
            text += " · older rows load as you scroll down"
        self.footer.setText(text)


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

    tracker.import_logs_requested.connect(lambda: open_import_dialog(services, tracker))
    tracker.manual_entry_requested.connect(lambda: open_manual_entry_dialog(services, tracker))
    tracker.refresh()  # the first load starts while the rest of the window is built
    return dock
