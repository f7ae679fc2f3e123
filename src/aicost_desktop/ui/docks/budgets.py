"""The Budgets dock: budgets with progress and forecast, history of past periods, the alert log.

Evaluation runs in the app's runtime (`services.alerts`: "Check now" asks it, its results refresh
the dock); the dock serves `services.requests.edit_budget` (the Cost tracker's budget card).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QItemSelectionModel, Qt
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDockWidget, QHBoxLayout, QHeaderView, QLabel,
                               QMenu, QMessageBox, QPushButton, QSplitter, QTableView, QTableWidget, QTableWidgetItem,
                               QTabWidget, QVBoxLayout, QWidget)

from aicost_desktop.budgets.actions import OpenRouterKeys, set_key_paused
from aicost_desktop.budgets.model import (BudgetSpec, add_budget, find_budget, remove_budget, snooze_budget,
                                          update_budget)
from aicost_desktop.budgets.engine import history
from aicost_desktop.budgets.service import context_statuses
from aicost_desktop.domain.money import format_money
from aicost_desktop.notify.alerts import acknowledge_all, list_alerts
from aicost_desktop.notify.email import SmtpConfig
from aicost_desktop.storage.queries import accounts_of
from aicost_desktop.storage.query.names import filter_choices, known_values
from aicost_desktop.storage.tables import utcnow
from aicost_desktop.ui.charts import style
from aicost_desktop.ui.docks import DOCK_FEATURES
from aicost_desktop.ui.workers import Refresher
from aicost_desktop.ui.models.alert_model import TYPE_LABELS, AlertFilterProxy, AlertTableModel
from aicost_desktop.ui.models.alert_model import ALERT_ROLE
from aicost_desktop.ui.models.budget_model import (COL, STATUS_ROLE, BudgetSortProxy, BudgetTableModel,
                                                   ProgressDelegate)
from aicost_desktop.ui.models.budget_model import SORT_ROLE as BUDGET_SORT

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.budgets.engine import BudgetStatus
    from aicost_desktop.ui.services import Services

log = logging.getLogger("aicost.ui.budgets")


def _load(ctx: "AppContext") -> dict[str, Any]:
    """Worker: every budget's status, the alert log, the OpenRouter accounts (for pause_key), the names the
    ledger knows per scope kind (the dialog's picker) and whether email is configured."""
    accounts = accounts_of(ctx.db, "openrouter")
    known: dict[str, list[str]] = dict(filter_choices(ctx.db))
    known["provider"] = sorted(known_values(ctx.db, "provider"))
    known["project"] = sorted(known_values(ctx.db, "project"))
    try:
        email = SmtpConfig.from_setting(ctx.settings.get("smtp")) is not None
    except Exception:  # noqa: BLE001 - a broken smtp setting: the Settings dialog says what is wrong
        email = False
    return {"statuses": context_statuses(ctx), "alerts": list_alerts(ctx.db, limit=2000), "accounts": accounts,
            "known": known, "email": email}


def _history(ctx: "AppContext", budget_id: int) -> list[Any]:
    b = find_budget(ctx.db, budget_id)
    return history(ctx.db, b, ctx.tz, count=12, week_start=ctx.settings.get("week_start"),
                   fx=ctx.settings.fx_rates())


def _ask(parent: QWidget, title: str, text: str) -> bool:
    return QMessageBox.question(parent, title, text) == QMessageBox.StandardButton.Yes


def from_first_spend(rows: list[Any]) -> list[Any]:
    """History from the first period with spend (twelve empty months before the first sync say nothing);
    the current period is always kept."""
    first = next((i for i, r in enumerate(rows) if r.spent), len(rows) - 1)
    return rows[max(0, first):]


class HistoryChart(pg.PlotWidget):
    """Spend per period (bars) against the limit (line); updated with setOpts/setData, never rebuilt.
    Background and axes follow the palette; the money axis is in the budget's currency."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.money_axis = style.MoneyAxis("left")
        super().__init__(parent, axisItems={"bottom": style.MonthDateAxis(orientation="bottom"),
                                            "left": self.money_axis})
        self.setMinimumHeight(60)
        self.showGrid(y=True, alpha=0.2)
        self.getPlotItem().setMouseEnabled(x=False, y=False)
        self.getPlotItem().hideButtons()
        self.bars = pg.BarGraphItem(x=[], height=[], width=1, brush=style.SERIES[0])
        self.addItem(self.bars)
        self.limit = self.plot([], [], pen=pg.mkPen(style.BUDGET, width=2, style=Qt.PenStyle.DashLine), name="limit")
        style.apply_theme(self)

    def changeEvent(self, ev: Any) -> None:  # noqa: N802 - a theme switch repaints in the new palette
        super().changeEvent(ev)
        if ev.type() == QEvent.Type.PaletteChange and getattr(self, "plotItem", None) is not None:
            style.apply_theme(self)

    def set_history(self, rows: list[Any], currency: str = "USD") -> None:
        self.money_axis.currency = currency
        self.money_axis.picture = None  # re-label the ticks
        xs = [r.period.start_utc.timestamp() + (r.period.end_utc - r.period.start_utc).total_seconds() / 2 for r in rows]
        widths = [(r.period.end_utc - r.period.start_utc).total_seconds() * 0.8 for r in rows]
        hs = [float(r.spent) for r in rows]
        brushes = [style.BUDGET if r.spent > r.limit else style.SERIES[0] for r in rows]
        self.bars.setOpts(x=xs, height=hs, width=widths, brushes=brushes)
        edges = []
        limits = []
        for r in rows:
            edges += [r.period.start_utc.timestamp(), r.period.end_utc.timestamp()]
            limits += [float(r.limit)] * 2
        self.limit.setData(edges, limits)


class BudgetsWidget(QWidget):
    """The dock's content; `refresh()` reloads in a worker. `confirm` is replaceable in tests."""

    def __init__(self, ctx: "AppContext", services: "Services", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("budgetsWidget")
        self.ctx, self.services = ctx, services
        self.confirm: Callable[[QWidget, str, str], bool] = _ask
        self.dialog_confirm: Callable[[QWidget, str], bool] | None = None
        self.accounts: list[tuple[int, str]] = []
        self.known: dict[str, list[str]] = {}
        self.email_configured = False
        self.dialog: Any = None
        self._loads = Refresher(services.view_pool, _load, self._apply, owner=self, failed=self._failed,
                                args=lambda: (ctx,))
        self.model = BudgetTableModel(self)
        self.proxy = BudgetSortProxy(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(BUDGET_SORT)
        self.table = QTableView()
        self.table.setObjectName("budgetsTable")
        self.table.setModel(self.proxy)
        self.table.setItemDelegateForColumn(COL["progress"], ProgressDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COL["name"], Qt.SortOrder.AscendingOrder)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # 2-line forecast
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(COL["progress"], QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(COL["progress"], 110)
        self.table.setMinimumHeight(50)
        self.table.doubleClicked.connect(lambda _i: self.edit_selected())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        self.empty = QLabel("No budgets yet. Add one: a limit per day, week, month, quarter or year, for everything "
                            "or one provider, account, project or model, with alerts at 50 / 80 / 100 %.")
        self.empty.setWordWrap(True)
        self.empty.setObjectName("budgetsEmpty")
        self.empty.setVisible(False)  # "No budgets yet" only once the first load found none

        bar = QHBoxLayout()
        self.add_btn = QPushButton("Add budget")
        self.edit_btn = QPushButton("Edit")
        self.remove_btn = QPushButton("Remove")
        self.snooze_btn = QPushButton("Snooze")
        self.key_btn = QPushButton("Pause key")
        self.check_btn = QPushButton("Check now")
        menu = QMenu(self.snooze_btn)
        for label, hours in (("1 hour", 1), ("8 hours", 8), ("1 day", 24), ("1 week", 168), ("Unsnooze", 0)):
            menu.addAction(label, lambda h=hours: self.snooze_selected(h))
        self.snooze_btn.setMenu(menu)
        self.add_btn.clicked.connect(lambda: self.open_dialog())
        self.edit_btn.clicked.connect(self.edit_selected)
        self.remove_btn.clicked.connect(self.remove_selected)
        self.key_btn.clicked.connect(self.toggle_key)
        self.check_btn.clicked.connect(self.check_now)
        for b in (self.add_btn, self.edit_btn, self.remove_btn, self.snooze_btn, self.key_btn):
            bar.addWidget(b)
        bar.addStretch(1)
        bar.addWidget(self.check_btn)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("budgetsTabs")
        self.tabs.addTab(self._build_alerts(), "Alert log")
        self.history_tab = self._build_history()
        self.tabs.addTab(self.history_tab, "History")

        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addLayout(bar)
        tl.addWidget(self.empty)
        tl.addWidget(self.table, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(split)
        services.bus.ledger_changed.connect(self.refresh)
        services.bus.alerts_changed.connect(self.refresh)
        services.alerts.evaluated.connect(lambda _r: self.refresh())
        services.requests.edit_budget.connect(self._edit_requested)
        self._selection_changed()

    def _build_alerts(self) -> QWidget:
        w = QWidget()
        self.alert_model = AlertTableModel(self.ctx.tz, self)
        self.alert_proxy = AlertFilterProxy(self)
        self.alert_proxy.setSourceModel(self.alert_model)
        self.type_filter = QComboBox()
        self.type_filter.setObjectName("alertTypeFilter")
        self.type_filter.addItem("All types", None)
        for k, label in TYPE_LABELS.items():
            self.type_filter.addItem(label, k)
        self.type_filter.currentIndexChanged.connect(lambda _i: self.alert_proxy.set_type(self.type_filter.currentData()))
        self.unack = QCheckBox("Unacknowledged")
        self.unack.toggled.connect(self.alert_proxy.set_unacknowledged_only)
        self.ack_btn = QPushButton("Acknowledge")
        self.ack_btn.clicked.connect(self.acknowledge_selected)
        self.ack_all_btn = QPushButton("Acknowledge all")
        self.ack_all_btn.clicked.connect(self.acknowledge_shown)
        self.alerts = QTableView()
        self.alerts.setObjectName("alertsTable")
        self.alerts.setModel(self.alert_proxy)
        self.alerts.setMinimumHeight(50)
        self.alerts.setSortingEnabled(True)
        self.alerts.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.alerts.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.alerts.verticalHeader().setVisible(False)
        self.alerts.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # Widths from the newest 100 alerts, not from all 2,000 the log holds on every reload.
        self.alerts.horizontalHeader().setResizeContentsPrecision(100)
        self.alerts.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        row = QHBoxLayout()
        for x in (self.type_filter, self.unack):
            row.addWidget(x)
        row.addStretch(1)
        row.addWidget(self.ack_btn)
        row.addWidget(self.ack_all_btn)
        lay = QVBoxLayout(w)
        lay.setContentsMargins(0, 4, 0, 0)
        lay.addLayout(row)
        lay.addWidget(self.alerts)
        return w

    def _build_history(self) -> QWidget:
        w = QWidget()
        self.history_table = QTableWidget(0, 4)
        self.history_table.setObjectName("historyTable")
        self.history_table.setHorizontalHeaderLabels(["Period", "Spent", "Limit", "%"])
        self.history_table.verticalHeader().setVisible(False)
        self.history_table.setMinimumHeight(50)
        self.history_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        # The pyqtgraph chart is built when the History tab is first shown (cheap start, and
        # pyqtgraph's reference cycles only exist once someone looks at it).
        self.chart: HistoryChart | None = None
        self._history_rows: list[Any] = []
        self._history_layout = QHBoxLayout(w)
        self._history_layout.setContentsMargins(0, 4, 0, 0)
        self._history_layout.addWidget(self.history_table, 1)
        self.tabs.currentChanged.connect(lambda _i: self._ensure_chart())
        return w

    def _ensure_chart(self) -> None:
        if self.chart is None and self.tabs.currentIndex() == self.tabs.indexOf(self.history_tab):
            self.chart = HistoryChart()
            self._history_layout.addWidget(self.chart, 1)
            self.chart.set_history(self._history_rows, getattr(self, "_history_currency", "USD"))

    # -- loading -------------------------------------------------------------------------

    def refresh(self) -> None:
        self._loads.request()

    def _failed(self, exc: BaseException) -> None:
        log.error("loading budgets failed: %s", exc)
        self.empty.setText(f"Could not load budgets: {exc}")
        self.empty.show()

    def _apply(self, data: dict[str, Any]) -> None:
        selected = self.selected()
        self.model.update_rows(data["statuses"])  # unchanged rows: no reset, nothing repainted
        self.alert_model.update_rows(data["alerts"])
        self.accounts = data["accounts"]
        self.known, self.email_configured = data["known"], data["email"]
        has = bool(data["statuses"])
        self.empty.setVisible(not has)
        self.table.setVisible(has)
        if selected is not None:
            self.select_budget(selected.budget_id)
        elif has:
            self.table.selectRow(0)
        self._selection_changed()

    # -- selection / actions -------------------------------------------------------------

    def selected(self) -> "BudgetStatus | None":
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(STATUS_ROLE) if rows else None

    def select_budget(self, budget_id: int) -> None:
        for r in range(self.proxy.rowCount()):
            st = self.proxy.index(r, 0).data(STATUS_ROLE)
            if st is not None and st.budget_id == budget_id:
                self.table.selectionModel().select(
                    self.proxy.index(r, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows)
                return

    def _selection_changed(self) -> None:
        st = self.selected()
        for b in (self.edit_btn, self.remove_btn, self.snooze_btn):
            b.setEnabled(st is not None)
        pausing = st is not None and st.on_exceed == "pause_key"
        self.key_btn.setEnabled(pausing)
        self.key_btn.setText("Resume key" if st is not None and st.key_paused else "Pause key")
        if st is not None:
            self.services.run(_history, self.ctx, st.budget_id, on_done=self.set_history, owner=self)
        else:
            self.set_history([])

    def set_history(self, rows: list[Any]) -> None:
        rows = from_first_spend(rows)
        cur = self.selected().currency if self.selected() else "USD"
        self._history_currency = cur
        self.history_table.setRowCount(len(rows))
        for i, r in enumerate(reversed(rows)):
            pct = (r.spent / r.limit * 100) if r.limit else 0
            when = f"{r.period.first:%Y-%m-%d}" if r.period.first == r.period.last else \
                f"{r.period.first:%Y-%m-%d} – {r.period.last:%Y-%m-%d}"
            for j, text in enumerate((when,
                                      format_money(r.spent, cur), format_money(r.limit, cur), f"{pct:.0f}%")):
                item = QTableWidgetItem(text)
                if j and r.spent > r.limit:
                    item.setForeground(Qt.GlobalColor.red)
                self.history_table.setItem(i, j, item)
        self._history_rows = rows
        if self.chart is not None:
            self.chart.set_history(rows, cur)

    def open_dialog(self, budget_id: int | None = None) -> Any:
        """Open the add/edit dialog (non-blocking); saving happens in a worker on accept."""
        # lazy: the dialog module loads when it is first opened, not at start-up
        from aicost_desktop.ui.dialogs.budget_dialog import BudgetDialog

        spec = BudgetSpec.from_row(find_budget(self.ctx.db, budget_id)) if budget_id is not None else None
        kw = {"confirm": self.dialog_confirm} if self.dialog_confirm else {}
        self.dialog = BudgetDialog(self, spec, self.accounts, known=self.known,
                                   email_configured=self.email_configured, **kw)
        self.dialog.accepted.connect(lambda d=self.dialog, b=budget_id: self._save(d.spec, b))
        self.dialog.open()
        return self.dialog

    def _save(self, spec: Any, budget_id: int | None) -> None:
        def job() -> None:
            if budget_id is None:
                add_budget(self.ctx.db, spec)
            else:
                update_budget(self.ctx.db, budget_id, spec)

        self.services.run(job, on_done=lambda _r: self._changed(), on_error=self._error, owner=self)

    def _changed(self) -> None:
        self.refresh()
        self.services.bus.notify_ledger_changed()  # re-evaluate (notifier) and refresh the cost card

    def _error(self, exc: BaseException) -> None:
        QMessageBox.warning(self, "Budgets", str(exc))

    def edit_selected(self) -> None:
        st = self.selected()
        if st is not None:
            self.open_dialog(st.budget_id)

    def remove_selected(self) -> None:
        st = self.selected()
        if st is None or not self.confirm(self, "Remove budget",
                                          f"Remove the budget '{st.name}'? Its alerts stay in the log."):
            return

        self.services.run(remove_budget, self.ctx.db, st.budget_id, on_done=lambda _r: self._changed(),
                          on_error=self._error, owner=self)

    def snooze_selected(self, hours: int) -> None:
        st = self.selected()
        if st is None:
            return

        until: datetime | None = utcnow() + timedelta(hours=hours) if hours else None
        self.services.run(snooze_budget, self.ctx.db, st.budget_id, until, on_done=lambda _r: self.refresh(),
                          on_error=self._error, owner=self)

    def toggle_key(self) -> None:
        st = self.selected()
        if st is None or st.on_exceed != "pause_key":
            return
        pause = not st.key_paused
        verb = "Pause" if pause else "Resume"
        if not self.confirm(self, f"{verb} key", f"{verb} the OpenRouter key of budget '{st.name}' now? "
                            "The action is logged."):
            return

        ctx = self.ctx
        self.services.run(lambda: set_key_paused(ctx.db, st.budget_id, pause, OpenRouterKeys(ctx.db, ctx.secrets)),
                          on_done=lambda _r: self.refresh(), on_error=self._error, owner=self)

    def check_now(self) -> None:
        """Evaluate budgets now (in the runtime); the dock reloads when the evaluation reports."""
        self.services.alerts.evaluate_now()

    def _edit_requested(self, budget_id: int | None) -> None:
        self.services.show_dock("budgetsDock")
        self.open_dialog(budget_id)

    def acknowledge_selected(self) -> None:
        ids = [i.data(ALERT_ROLE).id for i in self.alerts.selectionModel().selectedRows()]
        self._ack(ids)

    def acknowledge_shown(self) -> None:
        ids = [self.alert_proxy.index(r, 0).data(ALERT_ROLE).id for r in range(self.alert_proxy.rowCount())]
        self._ack([i for i in ids if i is not None])

    def _ack(self, ids: list[int]) -> None:
        if not ids:
            return

        self.services.run(acknowledge_all, self.ctx.db, ids, owner=self,
                          on_done=lambda _n: self.services.bus.notify_alerts_changed())


class BudgetsDock(QDockWidget):
    def __init__(self, widget: BudgetsWidget) -> None:
        super().__init__("Budgets")
        self.budgets = widget
        self.setWidget(widget)
        self.setFeatures(DOCK_FEATURES)

    def refresh(self) -> None:
        self.budgets.refresh()


def budgets_dock(ctx: "AppContext", services: "Services") -> QDockWidget:
    widget = BudgetsWidget(ctx, services)
    dock = BudgetsDock(widget)
    widget.refresh()
    return dock
