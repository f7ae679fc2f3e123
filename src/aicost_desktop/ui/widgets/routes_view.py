"""The Integrations dock's rules section (alert rules and scheduled reports, with add / edit / delete) and its
alert delivery log (sent, retrying, waiting, failed and why). Loads run on the pool through a Refresher."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPalette, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QMessageBox,
                               QPushButton, QStackedWidget, QTableView, QVBoxLayout, QWidget)

from aicost_desktop.budgets.model import list_budgets
from aicost_desktop.integrations.delivery import DeliveryView, delivery_failures, delivery_log
from aicost_desktop.integrations.rules import Rule, is_report, list_rules, ref_of, remove_rule
from aicost_desktop.ui.dialogs.integration_dialog import message_of
from aicost_desktop.ui.dialogs.route_dialog import RouteDialog, RulesPage
from aicost_desktop.ui.models.base import SORT_ROLE, Index, RowsTableModel
from aicost_desktop.ui.widgets.empty_state import EmptyState
from aicost_desktop.ui.widgets.integration_card import error_color, mix, success_color
from aicost_desktop.ui.workers import Refresher

if TYPE_CHECKING:
    from aicost_desktop.integrations.manager import IntegrationManager
    from aicost_desktop.storage.db import Database
    from aicost_desktop.ui.services import Services

R = QPalette.ColorRole
LOG_LIMIT = 200


def load_page(db: "Database", manager: "IntegrationManager", tz: str, week_start: int) -> RulesPage:
    """The rules, the connections they may send to, the budgets they may name (on the pool)."""
    return RulesPage(list_rules(db), manager.connections(), [b.name for b in list_budgets(db)], tz, week_start,
                     delivery_failures(db))


class RulesModel(RowsTableModel[Rule]):
    columns = (("name", "Rule"), ("when", "When"), ("dest", "Sends to"), ("quiet", "Quiet hours"),
               ("limit", "Max/hour"))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not self.valid(index):
            return None
        r = self._rows[index.row()]
        key = self.columns[index.column()][0]
        if role in (Qt.ItemDataRole.DisplayRole, SORT_ROLE, Qt.ItemDataRole.ToolTipRole):
            if key == "name":
                return r.name
            if key == "when":
                return r.describe() + ("" if r.enabled else " (disabled)")
            if key == "dest":
                return "\n".join(d.describe() for d in r.destinations) or "no destination (its connection was removed)"
            if key == "quiet":
                return "" if is_report(r.trigger) else (getattr(r, "quiet_hours", None) or "—")
            limit = getattr(r, "max_per_hour", None)
            return limit if role == SORT_ROLE else ("" if is_report(r.trigger) else str(limit) if limit else "—")
        if role == Qt.ItemDataRole.ForegroundRole and not r.enabled:
            return QPalette().color(R.PlaceholderText)
        return None


STATUS_WORDS = {"sent": "Sent", "retrying": "Retrying", "waiting": "Waiting", "failed": "Failed",
                "skipped": "Skipped", "pending": "Queued", "sending": "Sending"}


class DeliveryLogModel(RowsTableModel[DeliveryView]):
    columns = (("queued", "Queued"), ("alert", "Alert"), ("rule", "Rule"), ("dest", "Destination"),
               ("status", "Status"), ("detail", "Details"))

    def __init__(self, tz: ZoneInfo, parent: Any = None) -> None:
        super().__init__(parent)
        self.tz = tz

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not self.valid(index):
            return None
        d = self._rows[index.row()]
        key = self.columns[index.column()][0]
        if role == SORT_ROLE:
            return {"queued": d.created_at, "alert": d.alert_id, "rule": d.route or "", "dest": d.destination,
                    "status": d.status, "detail": d.detail(self.tz)}[key]
        if role == Qt.ItemDataRole.DisplayRole:
            if key == "queued":
                return d.created_at.astimezone(self.tz).strftime("%m-%d %H:%M") if d.created_at else ""
            if key == "alert":
                return f"#{d.alert_id} {d.alert_title}"
            if key == "rule":
                return d.route or "(removed)"
            if key == "dest":
                return d.destination
            if key == "status":
                return STATUS_WORDS.get(d.status, d.status)
            return d.detail(self.tz)
        if role == Qt.ItemDataRole.ToolTipRole:
            return d.alert if key == "alert" else d.detail(self.tz) if key in ("detail", "status") else None
        if role == Qt.ItemDataRole.ForegroundRole and key in ("status", "detail"):
            pal = QPalette()
            if d.status == "failed":
                return error_color(pal)
            if d.status in ("retrying", "waiting"):
                return mix(pal.color(R.WindowText), QColor("#c77700"), 0.75)
            if d.status == "sent" and key == "status":
                return success_color(pal)
        return None


class WrapTable(QTableView):
    """A table whose wrapped rows are as tall as their text needs at the columns' current widths, which change
    with the dock and when its tab is first shown (a hidden view's stretched column has no real width yet)."""

    def __init__(self) -> None:
        super().__init__()
        self._fit = QTimer(self)
        self._fit.setSingleShot(True)
        self._fit.setInterval(0)
        self._fit.timeout.connect(self.resizeRowsToContents)
        self.horizontalHeader().sectionResized.connect(lambda *_a: self._fit.start())

    def fit_rows(self) -> None:
        self._fit.start()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit.start()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self._fit.start()


def _table(name: str, model: RowsTableModel[Any], stretch: int) -> WrapTable:
    view = WrapTable()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    header = view.horizontalHeader()
    header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the core's order (added / newest first) until a click
    view.setSortingEnabled(True)
    view.setWordWrap(True)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)  # the long text takes the width left
    return view


class RulesView(QWidget):
    """The rules and reports with Add / Edit / Delete (the dialog saves on the pool).

    Signals:
        refreshed(): the rules were reloaded (no further load folded in).
        changed(): a rule was added, changed or deleted here.
    """

    refreshed = Signal()
    changed = Signal()

    def __init__(self, services: "Services", manager: "IntegrationManager", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rulesView")
        self.services, self.manager = services, manager
        self.ctx = services.ctx
        self.page: RulesPage | None = None
        self.dialog: RouteDialog | None = None
        self.confirm: Callable[[str, str], bool] = self._confirm_dialog  # tests replace it

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 6, 0, 0)
        lay.setSpacing(6)
        bar = QHBoxLayout()
        self.add_button = self._button("Add rule…", "addRule", lambda: self.open_dialog(None))
        self.edit_button = self._button("Edit…", "editRule", self.edit_selected)
        self.delete_button = self._button("Delete", "deleteRule", self.delete_selected)
        for b in (self.add_button, self.edit_button, self.delete_button):
            bar.addWidget(b)
        self.summary = QLabel()
        self.summary.setObjectName("rulesSummary")
        self.summary.setForegroundRole(R.PlaceholderText)
        bar.addWidget(self.summary, 1)
        lay.addLayout(bar)
        self.error = QLabel()
        self.error.setObjectName("rulesError")
        self.error.setProperty("banner", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        lay.addWidget(self.error)
        self.model = RulesModel(self)
        self.table = _table("rulesTable", self.model, stretch=2)
        self.table.doubleClicked.connect(lambda _i: self.edit_selected())
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._sync_buttons())
        self.empty = EmptyState("No rules yet", "A rule sends alerts (a budget at 80%, a failing sync) or a daily, "
                                "weekly or monthly spend report to a connected integration.")
        self.empty.setObjectName("rulesEmpty")
        self.empty.add_button("Add a rule", lambda: self.open_dialog(None), name="addFirstRule")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        lay.addWidget(self.stack, 1)
        self._sync_buttons()

        tz = self.ctx.tz.key
        self._loads = Refresher(services.view_pool, load_page, self._apply, owner=self, failed=self._load_failed,
                                args=lambda: (self.ctx.db, self.manager, tz, self.ctx.settings.get("week_start")),
                                settled=lambda _ok: self.refreshed.emit())

    def _button(self, text: str, name: str, slot: Callable[[], Any]) -> QPushButton:
        b = QPushButton(text)
        b.setObjectName(name)
        b.setAutoDefault(False)
        b.clicked.connect(lambda _c=False: slot())
        return b

    def refresh(self) -> None:
        self._loads.request()

    @property
    def loading(self) -> bool:
        return self._loads.loading

    def _apply(self, page: RulesPage) -> None:
        self.page = page
        self.error.hide()
        selected = self.selected()
        self.model.set_rows(page.rules)
        self.table.resizeColumnsToContents()
        for col, cap in ((0, 200), (1, 260)):
            self.table.setColumnWidth(col, min(self.table.columnWidth(col), cap))
        self.table.fit_rows()
        if selected is not None:
            self.select(ref_of(selected))
        self.stack.setCurrentWidget(self.table if page.rules else self.empty)
        alerts = sum(1 for r in page.rules if not is_report(r.trigger))
        self.summary.setText(f"{alerts} alert rule{'s' if alerts != 1 else ''}, "
                             f"{len(page.rules) - alerts} report{'s' if len(page.rules) - alerts != 1 else ''}"
                             if page.rules else "")
        self._sync_buttons()

    def _load_failed(self, exc: BaseException) -> None:
        self.error.setText(f"Could not read the rules: {message_of(exc)}")
        self.error.show()

    def rules(self) -> list[Rule]:
        return list(self.model._rows)

    def selected(self) -> Rule | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def select(self, ref: str) -> None:
        for i, r in enumerate(self.model._rows):
            if ref_of(r) == ref:
                self.table.selectRow(i)

    def _sync_buttons(self) -> None:
        has = self.selected() is not None
        self.edit_button.setEnabled(has)
        self.delete_button.setEnabled(has)
        self.add_button.setEnabled(self.page is not None)

    # -- actions ----------------------------------------------------------------------------------
    def open_dialog(self, rule: Rule | None) -> RouteDialog | None:
        if self.page is None:
            return None
        if self.dialog is not None and self.dialog.worker is None:
            self.dialog.deleteLater()
        dialog = RouteDialog(self.page, self.ctx.db, self.ctx.tz, self.services.run, rule, parent=self)
        dialog.saved.connect(self._saved)
        self.dialog = dialog
        dialog.open()
        return dialog

    def edit_selected(self) -> RouteDialog | None:
        rule = self.selected()
        return self.open_dialog(rule) if rule is not None else None

    def _saved(self, rule: Rule) -> None:
        self.changed.emit()
        self.refresh()

    def delete_selected(self) -> None:
        rule = self.selected()
        if rule is None:
            return
        what = "report" if is_report(rule.trigger) else "rule"
        if not self.confirm(f"Delete the {what} “{rule.name}”?",
                            "Deliveries still waiting are skipped; the delivery log keeps what was sent."):
            return

        def failed(exc: BaseException) -> None:
            self._load_failed(exc)
            self.refresh()

        self.services.run(remove_rule, self.ctx.db, ref_of(rule), on_done=lambda _r: self._saved(rule),
                          on_error=failed, owner=self)

    def _confirm_dialog(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes


def _log(db: "Database", problems: bool) -> list[DeliveryView]:
    return delivery_log(db, LOG_LIMIT, problems=problems)  # on the pool


class DeliveryLogView(QWidget):
    """The newest rule deliveries: where each alert went and how (filter: all, or only the problems).

    Signals:
        refreshed(): the log was reloaded (no further load folded in).
        problems(int): how many of the deliveries shown failed (the tab's title says it).
    """

    refreshed = Signal()
    problems = Signal(int)

    def __init__(self, services: "Services", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("deliveryLogView")
        self.services, self.ctx = services, services.ctx
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 6, 0, 0)
        lay.setSpacing(6)
        bar = QHBoxLayout()
        self.filter = QComboBox()
        self.filter.setObjectName("logFilter")
        self.filter.addItem("All deliveries", False)
        self.filter.addItem("Failed, retrying or waiting", True)
        self.filter.currentIndexChanged.connect(lambda _i: self._loads.request(restart=True))
        bar.addWidget(self.filter)
        self.summary = QLabel()
        self.summary.setObjectName("logSummary")
        self.summary.setForegroundRole(R.PlaceholderText)
        bar.addWidget(self.summary, 1)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("refreshLog")
        self.refresh_button.setAutoDefault(False)
        self.refresh_button.clicked.connect(lambda _c=False: self.refresh())
        bar.addWidget(self.refresh_button)
        lay.addLayout(bar)
        self.error = QLabel()
        self.error.setObjectName("logError")
        self.error.setWordWrap(True)
        self.error.hide()
        lay.addWidget(self.error)
        self.model = DeliveryLogModel(self.ctx.tz, self)
        self.table = _table("deliveryLog", self.model, stretch=5)
        self.empty = EmptyState("No deliveries yet", "When a rule sends an alert, each destination's delivery "
                                "shows here: sent, retrying (with the next try), waiting (quiet hours, a rate "
                                "limit) or failed and why.")
        self.empty.setObjectName("logEmpty")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        lay.addWidget(self.stack, 1)
        self._loads = Refresher(services.view_pool, _log, self._apply, owner=self, failed=self._failed,
                                args=lambda: (self.ctx.db, bool(self.filter.currentData())),
                                settled=lambda _ok: self.refreshed.emit())

    def refresh(self) -> None:
        self._loads.request()

    @property
    def loading(self) -> bool:
        return self._loads.loading

    def _apply(self, rows: list[DeliveryView]) -> None:
        self.error.hide()
        only = bool(self.filter.currentData())
        shown = rows
        self.model.set_rows(shown)
        self.table.resizeColumnsToContents()
        for col, cap in ((1, 220), (2, 160), (3, 200)):
            self.table.setColumnWidth(col, min(self.table.columnWidth(col), cap))
        self.table.fit_rows()  # a failure's reason wraps instead of being cut
        self.stack.setCurrentWidget(self.table if shown else self.empty)
        if not shown:
            self.empty.headline.setText("No problems" if only and rows else "No deliveries yet")
        failed = sum(1 for d in rows if d.status == "failed")
        self.summary.setText(f"newest {len(rows)}" + (f", {failed} failed" if failed else "") if rows else "")
        self.problems.emit(failed)

    def _failed(self, exc: BaseException) -> None:
        self.error.setText(f"Could not read the delivery log: {message_of(exc)}")
        self.error.show()

    def rows(self) -> list[DeliveryView]:
        return list(self.model._rows)
