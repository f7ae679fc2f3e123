"""The Analytics dock: spend over time (stacked, forecast band, anomaly and manual markers), month over
month with budget line, breakdown by model, anomalies and reconciliation. Queries run in a worker."""

from __future__ import annotations

import calendar
import logging
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QComboBox, QDateEdit, QDialog, QDialogButtonBox, QDockWidget, QFileDialog,
                               QFormLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMenu, QMessageBox,
                               QPushButton, QSplitter, QStackedWidget, QTableView, QTableWidget,
                               QTableWidgetItem, QTabWidget, QToolButton, QVBoxLayout, QWidget)

from aicost_desktop.ui.charts.mom_chart import MomChart, MomChartData
from aicost_desktop.ui.charts.spend_chart import SpendChart, SpendChartData
from aicost_desktop.ui.docks import make_dock
from aicost_desktop.analytics.dashboard import PERIODS, AnalyticsData, AnalyticsQuery, anomaly_notes, load_analytics
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import format_money, parse_amount
from aicost_desktop.repricing import set_price
from aicost_desktop.ui.main_window import window_settings  # the window's INI file in the home
from aicost_desktop.ui.models.breakdown_model import BreakdownModel, make_proxy
from aicost_desktop.ui.workers import Refresher

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.ui.services import Services

log = logging.getLogger("aicost.ui.analytics")
SOURCES = ("api", "import", "log", "manual", "subscription", "proxy")
GROUPS = (("provider", "Provider"), ("model", "Model"), ("account", "Account"), ("project", "Project"),
          ("source", "Source"), (None, "Total"))


class Skeleton(QWidget):
    """Grey placeholder blocks shown while the first query runs (layout does not jump afterwards)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("analyticsSkeleton")
        lay = QVBoxLayout(self)
        for h in (140, 24, 110):
            block = QLabel("Loading…" if h == 24 else "")
            block.setAlignment(Qt.AlignmentFlag.AlignCenter)
            block.setMinimumHeight(h)
            block.setStyleSheet("background: palette(midlight); border-radius: 6px; color: palette(placeholder-text);")
            lay.addWidget(block)


class AnalyticsWidget(QWidget):
    """Signals:
        refreshed(object): the AnalyticsData just applied (tests wait on it).
        priced(object): the repricing.PriceSet of a finished "Set price".
    """

    refreshed = Signal(object)
    priced = Signal(object)

    def __init__(self, ctx: "AppContext", services: "Services", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.services = ctx, services
        self.data: AnalyticsData | None = None
        self._running: AnalyticsQuery | None = None  # the query of the load in flight
        self._shown: dict[str, Any] = {}  # part -> the figures it shows (_changed)
        self.today_override: date | None = None
        self.price_dialog: SetPriceDialog | None = None
        # The longest job of a refresh: priority 1 starts it before the other docks' short reads.
        self._loads = Refresher(services.view_pool, self._query_job, self._apply, owner=self, failed=self._failed,
                                args=self._start_args, priority=1)
        self._build()
        services.bus.ledger_changed.connect(self._ledger_changed)

    # -- layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 6)
        bar = QHBoxLayout()
        self.period = QComboBox(objectName="periodCombo")
        for key, label in PERIODS:
            self.period.addItem(label, key)
        self.period.setCurrentIndex(1)
        self.date_from = QDateEdit(calendarPopup=True, objectName="fromDate")
        self.date_to = QDateEdit(calendarPopup=True, objectName="toDate")
        for w in (self.date_from, self.date_to):
            w.setDisplayFormat("yyyy-MM-dd")
            w.setDate(QDate.currentDate())
            w.setVisible(False)
            w.dateChanged.connect(self.refresh)
        self.granularity = QComboBox(objectName="granularityCombo")
        for g in ("day", "week", "month"):
            self.granularity.addItem(g.capitalize(), g)
        self.group_by = QComboBox(objectName="groupByCombo")
        for key, label in GROUPS:
            self.group_by.addItem(label, key)
        self.chart_style = QComboBox(objectName="styleCombo")
        self.chart_style.addItem("Stacked bars", "bars")
        self.chart_style.addItem("Stacked areas", "areas")
        self.sources_btn = QToolButton(objectName="sourcesButton", text="Sources: all")
        self.sources_btn.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.sources_btn)
        self.source_actions: dict[str, QAction] = {}
        for s in SOURCES:
            act = menu.addAction(s)
            act.setCheckable(True)
            act.setChecked(True)
            act.toggled.connect(self._sources_changed)
            self.source_actions[s] = act
        self.sources_btn.setMenu(menu)
        self.sources_btn.setMinimumWidth(self.sources_btn.fontMetrics().horizontalAdvance("Sources: all") + 34)
        self.save_btn = QPushButton("Save PNG…", objectName="savePngButton")
        self.save_btn.clicked.connect(self._save_png_clicked)
        for label, w in (("Period", self.period), ("", self.date_from), ("", self.date_to),
                         ("By", self.granularity), ("Group", self.group_by), ("", self.chart_style)):
            if label:
                bar.addWidget(QLabel(label))
            bar.addWidget(w)
        bar.addStretch(1)
        root.addLayout(bar)
        # Second row: the summary line, the source filter and Save (keeps the dock's minimum width small).
        row2 = QHBoxLayout()
        self.status = QLabel("", objectName="analyticsStatus")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setWordWrap(True)
        row2.addWidget(self.status, 1)
        row2.addWidget(self.sources_btn)
        row2.addWidget(self.save_btn)
        root.addLayout(row2)
        self.stack = QStackedWidget()
        self.skeleton = Skeleton()
        content = QSplitter(Qt.Orientation.Vertical)
        content.setChildrenCollapsible(False)
        self.chart = SpendChart()
        content.addWidget(self.chart)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.setChildrenCollapsible(False)
        self.mom = MomChart()
        lower.addWidget(self.mom)
        self.tabs = QTabWidget(objectName="analyticsTabs")
        self.breakdown_model = BreakdownModel(self)
        self.breakdown_proxy = make_proxy(self.breakdown_model)
        self.breakdown_view = QTableView(objectName="breakdownView")
        self.breakdown_view.setModel(self.breakdown_proxy)
        self.breakdown_view.setSortingEnabled(True)
        self.breakdown_view.sortByColumn(2, Qt.SortOrder.DescendingOrder)
        self.breakdown_view.verticalHeader().hide()
        self.breakdown_view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.breakdown_view.setAlternatingRowColors(True)
        self.tabs.addTab(self.breakdown_view, "Breakdown")
        self.anomaly_table = self._table(("Day", "Series", "Actual", "Expected", "Why"), "anomalyTable")
        self.tabs.addTab(self.anomaly_table, "Anomalies")
        recon = QWidget()
        rl = QVBoxLayout(recon)
        rl.setContentsMargins(0, 0, 0, 0)
        self.recon_table = self._table(("Day", "Account", "Reported", "Computed", "Drift"), "reconTable")
        rl.addWidget(self.recon_table, 2)
        self.unpriced_table = self._table(("Unpriced model", "Provider", "Rows", "Tokens"), "unpricedTable")
        rl.addWidget(self.unpriced_table, 1)
        self.set_price_btn = QPushButton("Set price…", objectName="setPriceButton")
        self.set_price_btn.clicked.connect(self._set_price_clicked)
        rl.addWidget(self.set_price_btn, 0, Qt.AlignmentFlag.AlignRight)
        self.tabs.addTab(recon, "Reconciliation")
        lower.addWidget(self.tabs)
        lower.setSizes([420, 520])
        content.addWidget(lower)
        content.setSizes([330, 260])
        self.stack.addWidget(self.skeleton)
        self.stack.addWidget(content)
        root.addWidget(self.stack, 1)
        self._restore_view()
        self.period.currentIndexChanged.connect(self._period_changed)
        self.granularity.currentIndexChanged.connect(self.refresh)
        self.group_by.currentIndexChanged.connect(self.refresh)
        self.chart_style.currentIndexChanged.connect(lambda: self.chart.set_mode(self.chart_style.currentData()))
        for combo in self._remembered():
            combo.currentIndexChanged.connect(lambda _i: self._save_view())

    # -- the view the user chose (period, grouping, ...) survives a restart: window state, not a preference --

    def _remembered(self) -> list[QComboBox]:
        return [self.period, self.granularity, self.group_by, self.chart_style]

    def _view_settings(self) -> Any:
        return window_settings(self.ctx)

    def _save_view(self) -> None:
        st = self._view_settings()
        for combo in self._remembered():
            data = combo.currentData()
            st.setValue(f"analytics/{combo.objectName()}", "" if data is None else str(data))
        st.sync()

    def _restore_view(self) -> None:
        st = self._view_settings()
        for combo in self._remembered():
            saved = st.value(f"analytics/{combo.objectName()}")
            if saved is None:
                continue
            i = next((j for j in range(combo.count()) if ("" if combo.itemData(j) is None else str(combo.itemData(j)))
                      == str(saved)), -1)
            if i >= 0:
                combo.setCurrentIndex(i)
        self.chart.set_mode(self.chart_style.currentData())
        custom = self.period.currentData() == "custom"
        self.date_from.setVisible(custom)
        self.date_to.setVisible(custom)

    @staticmethod
    def _table(headers: tuple[str, ...], name: str) -> QTableWidget:
        t = QTableWidget(0, len(headers), objectName=name)
        t.setHorizontalHeaderLabels(list(headers))
        t.verticalHeader().hide()
        t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        t.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        t.horizontalHeader().setStretchLastSection(True)
        t.setAlternatingRowColors(True)
        return t

    # -- querying -----------------------------------------------------------------------------

    def query(self) -> AnalyticsQuery:
        today = self.today_override or datetime.now(self.ctx.tz).date()
        custom = (self.date_from.date().toPython(), self.date_to.date().toPython())
        chosen = [s for s, a in self.source_actions.items() if a.isChecked()]
        return AnalyticsQuery(today=today, period=self.period.currentData(), custom=custom,
                              granularity=self.granularity.currentData(), group_by=self.group_by.currentData(),
                              sources=None if len(chosen) == len(SOURCES) else chosen,
                              currency=self.ctx.settings.get("display_currency") or "USD")

    def refresh(self) -> None:
        """Load the figures for the controls' query (the UI's refresh policy). A load of another query than the
        one asked for now is cancelled (it stops at its next stage): the user moved on. A ledger change during a
        load folds into one more load after it, so the figures after a sync come from a load after its last write."""
        self._loads.request(restart=self._running is not None and self.query() != self._running)

    def _ledger_changed(self) -> None:
        # At a sync's end a load still running began before its last writes: its figures are stale on arrival,
        # and finishing it first only delays the one that has them (the longest load of every refresh).
        self._loads.request(restart=self.services.bus.final)

    def _start_args(self) -> tuple[Any, ...]:  # GUI thread, as each load starts
        q = self._running = self.query()
        if self.data is None:
            self.status.setText("Updating…")
            self.stack.setCurrentWidget(self.skeleton)
        else:
            # The figures shown stay until the new ones land: a one-line "Updating…" in place of the wrapped
            # summary changed the label's height, so the charts below were resized and redrawn (and jumped)
            # on every ledger change.
            self.status.setToolTip("Updating…")
        return self.ctx.db, self.ctx.tz, q, self.ctx.settings.fx_rates()

    @staticmethod
    def _query_job(db: Any, tz: Any, q: AnalyticsQuery, fx: Any, cancel: Any) -> AnalyticsData | None:
        # Looked up at call time, so tests can slow the query down (module attribute).
        return load_analytics(db, tz, q, fx=fx, cancel=cancel)

    def _failed(self, exc: BaseException) -> None:
        self._running = None
        log.error("analytics query failed: %s", exc)
        self.status.setText(f"Could not load analytics: {exc}")

    def _apply(self, data: AnalyticsData | None) -> None:
        self._running = None
        if data is None:  # cancelled between stages: the folded load brings the answer
            return
        self.data = data
        cur = data.currency
        s = data.series
        fc = data.forecast
        keys = s.keys_by_total()[:9]
        series = {k: s.values[k] for k in keys}
        rest = [k for k in s.values if k not in series]
        if rest:  # fold the long tail into "other" so the legend stays readable
            series["other"] = [sum(vals, Decimal(0)) for vals in zip(*(s.values[k] for k in rest))]
        chart_data = SpendChartData(
            granularity=s.granularity, buckets=s.buckets, series=series,
            forecast_days=fc.days[1:] if fc else [], forecast_mean=fc.mean[1:] if fc else [],
            forecast_lower=fc.lower[1:] if fc else [], forecast_upper=fc.upper[1:] if fc else [],
            anomalies=anomaly_notes(data.anomalies), manual_days=data.manual_days, currency=cur)
        # A part whose figures did not change is not drawn again: a ledger change often leaves most of them as
        # they were (a sync re-reading days already stored), and redrawing charts and tables is GUI-thread time.
        if self._changed("chart", chart_data):
            self.chart.set_data(chart_data)
        m, mf = data.mom, data.month_forecast
        mom_data = MomChartData(
            this_label=m.this_month.strftime("%B"), last_label=m.last_month.strftime("%B"),
            this_cumulative=m.this_cumulative, last_cumulative=m.last_cumulative,
            days_in_month=calendar.monthrange(m.this_month.year, m.this_month.month)[1],
            projection=mf.month_projection, projection_lower=mf.month_lower, projection_upper=mf.month_upper,
            budget=data.budget[1] if data.budget else None, budget_name=data.budget[0] if data.budget else "",
            currency=cur)
        if self._changed("mom", mom_data):
            self.mom.set_data(mom_data)
        if self._changed("breakdown", (data.breakdown, cur)):
            self.breakdown_model.set_rows(data.breakdown, "model", cur)
        if self._changed("anomalies", data.anomalies):
            self._fill_anomalies(data)
        if self._changed("reconciliation", (data.reconciliation, cur)):
            self._fill_recon(data)
        pct = m.change_pct
        start, end = data.query.range
        parts = [f"{start} … {end}: <b>{format_money(s.total, cur)}</b>",
                 f"month to date {format_money(m.this_to_date, cur)}"
                 + (f" ({pct:+.0f}% vs same days of {m.last_month:%B})" if pct is not None else ""),
                 f"month-end projection {format_money(mf.month_projection, cur)}"
                 f" ({format_money(mf.month_lower, cur)}–{format_money(mf.month_upper, cur)})"]
        n_anom = len({a.day for a in data.anomalies})
        if n_anom:
            parts.append(f"<span style='color:#E0245E'>{n_anom} unusual day{'s' if n_anom > 1 else ''}</span>")
        self.status.setText(" · ".join(parts))
        self.status.setToolTip("")
        self.stack.setCurrentIndex(1)
        self.refreshed.emit(data)

    def _changed(self, part: str, value: Any) -> bool:
        """Whether `part` now shows something else than `value` (and remember `value` as shown)."""
        if part in self._shown and self._shown[part] == value:
            return False
        self._shown[part] = value
        return True

    def _fill_anomalies(self, data: AnalyticsData) -> None:
        t = self.anomaly_table
        t.setRowCount(len(data.anomalies))
        for i, a in enumerate(data.anomalies):
            why = a.explanation.split(": ", 1)[-1]
            for j, v in enumerate((a.day.isoformat(), f"{a.dimension} {a.key}", format_money(a.actual, a.currency),
                                   format_money(a.expected, a.currency), why)):
                item = QTableWidgetItem(v)
                item.setToolTip(a.explanation)
                t.setItem(i, j, item)
        t.resizeColumnsToContents()

    def _fill_recon(self, data: AnalyticsData) -> None:
        rec = data.reconciliation
        rows = sorted(rec.accounts, key=lambda r: (not r.flagged, -r.day.toordinal()))
        t = self.recon_table
        t.setRowCount(len(rows))
        for i, r in enumerate(rows):
            d = r.drift_pct
            drift = "n/a" if d is None or d == float("inf") else f"{d:+.1f}%"
            for j, v in enumerate((r.day.isoformat(), r.account, format_money(r.reported, data.currency),
                                   format_money(r.computed, data.currency), drift + ("  ⚑" if r.flagged else ""))):
                t.setItem(i, j, QTableWidgetItem(v))
        t.resizeColumnsToContents()
        u = self.unpriced_table
        u.setRowCount(len(rec.unpriced))
        for i, m in enumerate(rec.unpriced):
            for j, v in enumerate((m.model, m.provider, str(m.rows), f"{m.tokens:,}")):
                u.setItem(i, j, QTableWidgetItem(v))
        self.set_price_btn.setEnabled(bool(rec.unpriced))

    # -- actions ------------------------------------------------------------------------------

    def _period_changed(self) -> None:
        custom = self.period.currentData() == "custom"
        if custom and self.data is not None:
            start, end = self.data.query.range
            self.date_from.setDate(QDate(start.year, start.month, start.day))
            self.date_to.setDate(QDate(end.year, end.month, end.day))
        self.date_from.setVisible(custom)
        self.date_to.setVisible(custom)
        self.refresh()

    def _sources_changed(self) -> None:
        chosen = [s for s, a in self.source_actions.items() if a.isChecked()]
        self.sources_btn.setText("Sources: all" if len(chosen) == len(SOURCES) else f"Sources: {len(chosen)}")
        self.refresh()

    def save_png(self, path: str) -> bool:
        """Save the spend chart and month-over-month chart as shown (what the user sees, with theme)."""
        return self.stack.currentWidget().grab().save(path, "PNG")

    def _save_png_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save chart as PNG", str(self.ctx.paths.home / "spend.png"),
                                              "PNG image (*.png)")
        if path and not self.save_png(path if path.lower().endswith(".png") else path + ".png"):
            QMessageBox.warning(self, "Save chart", f"Could not write {path}.")

    def _set_price_clicked(self) -> None:
        rows = self.unpriced_table.selectionModel().selectedRows()
        row = rows[0].row() if rows else 0
        item = self.unpriced_table.item(row, 0)
        if item is None:
            return
        model = item.text()
        # Not exec(): the dialog is window-modal and the answer comes back by signal (tests drive it too).
        self.price_dialog = dlg = SetPriceDialog(model, self)
        dlg.accepted.connect(lambda: self.start_set_price(model, *dlg.prices(), effective_from=dlg.effective_from()))
        dlg.open()

    def start_set_price(self, model: str, input_per_mtok: Decimal, output_per_mtok: Decimal,
                        effective_from: date | None = None) -> None:
        """Store the price, reload the catalog and reprice the model's rows in a worker (repricing.set_price,
        the same path as `aicost prices set`); `priced` is emitted with the PriceSet when done."""
        self.set_price_btn.setEnabled(False)
        self.status.setText(f"Pricing {model}…")
        self.services.run(set_price, self.ctx.db, self.ctx.catalog, model, input_per_mtok=input_per_mtok,
                          output_per_mtok=output_per_mtok, effective_from=effective_from,
                          note="set from the Analytics dock", on_done=self._priced,
                          on_error=lambda exc: self._price_failed(model, exc),
                          on_progress=lambda done, total: self.status.setText(
                              f"Pricing {model}… {done:,} of {total:,} rows"), owner=self)

    def _priced(self, result: Any) -> None:
        self.status.setText(f"Priced {result.model_key}: {result.rows_changed:,} ledger rows repriced"
                            + (f", {result.still_unpriced:,} still unpriced" if result.still_unpriced else ""))
        if result.alerts_closed:
            self.services.bus.notify_alerts_changed()
        self.priced.emit(result)
        self.refresh()

    def _price_failed(self, model: str, exc: BaseException) -> None:
        log.error("set price of %s failed: %s", model, exc)
        self.set_price_btn.setEnabled(True)
        self.status.setText(f"Could not set the price of {model}: {exc}")
        box = QMessageBox(QMessageBox.Icon.Warning, "Set price", str(exc), parent=self)
        box.open()


class SetPriceDialog(QDialog):
    """Input and output price per million tokens for an unpriced model, from a first day on (blank: all dates)."""

    def __init__(self, model: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Set price for {model}")
        form = QFormLayout(self)
        self.input = QLineEdit(placeholderText="e.g. 3.00", objectName="inputPrice")
        self.output = QLineEdit(placeholderText="e.g. 15.00", objectName="outputPrice")
        self.start = QLineEdit(placeholderText="YYYY-MM-DD (blank: all dates)", objectName="priceFrom")
        form.addRow("Input, USD per 1M tokens", self.input)
        form.addRow("Output, USD per 1M tokens", self.output)
        form.addRow("From", self.start)
        self.error = QLabel("")
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def prices(self) -> tuple[Decimal, Decimal]:
        return (parse_amount(self.input.text(), "input price", allow_zero=True),
                parse_amount(self.output.text(), "output price", allow_zero=True))

    def effective_from(self) -> date | None:
        text = self.start.text().strip()
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise InputError("from", text, "must be a date (YYYY-MM-DD)") from None

    def _accept(self) -> None:
        try:
            self.prices()
            self.effective_from()
        except Exception as exc:  # noqa: BLE001 - InputError names the field
            self.error.setText(str(exc))
            return
        self.accept()


def analytics_dock(ctx: "AppContext", services: "Services") -> QDockWidget:
    """Dock factory (registry entry "analyticsDock")."""
    widget = AnalyticsWidget(ctx, services)
    dock = make_dock("Analytics", widget)
    widget.refresh()
    return dock
