"""Export dialog: format, date range, filters, columns, BOM and target file; the export runs as a runtime job
(`services.runtime.exports`) with a progress bar and Cancel (a cancelled export leaves no file behind)."""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, QSize, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateEdit, QDialog, QFileDialog, QFormLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QProgressBar,
                               QPushButton, QStyle, QVBoxLayout, QWidget)

from aicost_desktop.export.writer import (ALL_COLUMNS, COLUMN_WORDS, DEFAULT_COLUMNS, FORMATS, MONEY_COLUMNS,
                                          ExportCancelled, ExportResult, ExportSpec, with_currency)
from aicost_desktop.runtime.export import cost_summary
from aicost_desktop.runtime.jobs import Cancelled
from aicost_desktop.storage.query import LedgerFilter, filter_choices
from aicost_desktop.ui.workers import on_gui

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.ui.services import Services

log = logging.getLogger("aicost.ui.export")
ANY = "(any)"
FIELD_ROLE = Qt.ItemDataRole.UserRole  # a column item's field name (the file's header)


class ExportDialog(QDialog):
    """Signals:
        exported(object): the ExportResult of a finished export.
        choices_loaded(): the filter pickers got the ledger's values.
    """

    exported = Signal(object)
    choices_loaded = Signal()

    def __init__(self, ctx: "AppContext", services: "Services", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.services = ctx, services
        self.worker: Any = None
        self.result: ExportResult | None = None
        self.setWindowTitle("Export ledger rows")
        self.setObjectName("exportDialog")
        root = QVBoxLayout(self)
        form = QFormLayout()
        self.fmt = QComboBox(objectName="formatCombo")
        for f, label in zip(FORMATS, ("CSV (spreadsheets)", "JSON (one array)", "NDJSON (one object per line)")):
            self.fmt.addItem(label, f)
        self.fmt.currentIndexChanged.connect(self._format_changed)
        form.addRow("Format", self.fmt)
        rng = QHBoxLayout()
        self.all_dates = QCheckBox("All dates", objectName="allDates")
        self.all_dates.setChecked(True)
        today = datetime.now(ctx.tz).date()
        self.date_from = QDateEdit(QDate(today.year, today.month, 1), calendarPopup=True, objectName="exportFrom")
        self.date_to = QDateEdit(QDate(today.year, today.month, today.day), calendarPopup=True, objectName="exportTo")
        for w in (self.date_from, self.date_to):
            w.setDisplayFormat("yyyy-MM-dd")
            w.setEnabled(False)
        self.all_dates.toggled.connect(lambda on: [w.setEnabled(not on) for w in (self.date_from, self.date_to)])
        rng.addWidget(self.all_dates)
        rng.addWidget(QLabel("from"))
        rng.addWidget(self.date_from)
        rng.addWidget(QLabel("to"))
        rng.addWidget(self.date_to)
        rng.addStretch(1)
        form.addRow("Local days", rng)
        self.filters: dict[str, QComboBox] = {}
        grid = QHBoxLayout()
        for name in ("provider", "account", "model", "source", "workspace"):
            box = QComboBox(objectName=f"{name}Filter")
            box.setEditable(name == "model")
            box.addItem(ANY)
            box.setToolTip(name)
            self.filters[name] = box
            col = QVBoxLayout()
            col.addWidget(QLabel(name.capitalize()))
            col.addWidget(box)
            grid.addLayout(col)
        form.addRow("Filters", grid)
        root.addLayout(form)
        cols = QGroupBox("Columns")
        cl = QVBoxLayout(cols)
        self.columns = QListWidget(objectName="columnList")
        self.columns.setFlow(QListWidget.Flow.LeftToRight)
        self.columns.setWrapping(True)
        self.columns.setResizeMode(QListWidget.ResizeMode.Adjust)
        # Even cells, as wide as the longest name, three across: the picker reads as aligned columns, every
        # column in view without scrolling.
        fm = self.columns.fontMetrics()
        cell = QSize(max(fm.horizontalAdvance(w) for w, _ in COLUMN_WORDS.values()) + 2 * fm.height(),
                     fm.height() + 6)
        self.columns.setGridSize(cell)
        self.columns.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        rows = -(-len(ALL_COLUMNS) // 3)
        bar = self.columns.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        frame = 2 * self.columns.frameWidth()
        self.columns.setMinimumSize(3 * cell.width() + bar + frame + 8, rows * cell.height() + frame + 8)
        for c in ALL_COLUMNS:  # words in the picker; the file's header keeps the field names scripts key on
            words, what = COLUMN_WORDS[c]
            item = QListWidgetItem(words)
            item.setData(FIELD_ROLE, c)
            item.setToolTip(f"{what}.\nHeader in the file: {c}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if c in DEFAULT_COLUMNS else Qt.CheckState.Unchecked)
            self.columns.addItem(item)
        self.columns.itemChanged.connect(self._lock_currency)
        self._lock_currency()
        cl.addWidget(self.columns)
        display = ctx.settings.get("display_currency") or "USD"
        # Two set lines, not word wrap: a wrapped label in a group box lets the dialog shrink below its content.
        self.currency_note = QLabel(
            "Amounts stay as recorded, each in its row's currency (Currency is always included with an amount),\n"
            f"not converted to the display currency ({display}). Headers are field names: hover a column for its own.",
            objectName="exportCurrencyNote")
        cl.addWidget(self.currency_note)
        root.addWidget(cols)
        self.bom = QCheckBox("UTF-8 BOM (for Excel)", objectName="bomCheck")
        root.addWidget(self.bom)
        target = QHBoxLayout()
        self.path = QLineEdit(str(ctx.paths.exports / f"aicost-{today.isoformat()}.csv"), objectName="targetPath")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        target.addWidget(QLabel("Save to"))
        target.addWidget(self.path, 1)
        target.addWidget(browse)
        root.addLayout(target)
        self.progress = QProgressBar(objectName="exportProgress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%v / %m rows")
        root.addWidget(self.progress)
        self.message = QLabel("", objectName="exportMessage")
        self.message.setWordWrap(True)
        root.addWidget(self.message)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.export_btn = QPushButton("Export", objectName="exportButton")
        self.export_btn.setDefault(True)
        self.cancel_btn = QPushButton("Cancel", objectName="cancelButton")
        self.close_btn = QPushButton("Close", objectName="closeButton")
        self.cancel_btn.setEnabled(False)
        self.export_btn.clicked.connect(self.start)
        self.cancel_btn.clicked.connect(self.cancel)
        self.close_btn.clicked.connect(self.reject)
        for b in (self.export_btn, self.cancel_btn, self.close_btn):
            buttons.addWidget(b)
        root.addLayout(buttons)
        # The pickers' values come from a worker: reading them must not hold up the dialog on a large ledger.
        services.run(filter_choices, ctx.db, on_done=self._fill_choices, owner=self)

    def _item(self, field: str) -> QListWidgetItem:
        return next(self.columns.item(i) for i in range(self.columns.count())
                    if self.columns.item(i).data(FIELD_ROLE) == field)

    def _lock_currency(self, changed: QListWidgetItem | None = None) -> None:
        """Currency is checked and cannot be unchecked while an amount column is: a figure says its currency."""
        if changed is not None and changed.data(FIELD_ROLE) not in MONEY_COLUMNS:
            return
        cur = self._item("currency")
        money = any(self._item(c).checkState() == Qt.CheckState.Checked for c in MONEY_COLUMNS)
        self.columns.blockSignals(True)
        if money:
            cur.setCheckState(Qt.CheckState.Checked)
            cur.setFlags(cur.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
        else:
            cur.setFlags(cur.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        self.columns.blockSignals(False)

    def _fill_choices(self, choices: dict[str, list[str]]) -> None:
        for name, box in self.filters.items():
            box.addItems(choices[name])  # after "(any)": what is selected or typed stays
        self.choices_loaded.emit()

    # -- spec ---------------------------------------------------------------------------------

    def spec(self) -> ExportSpec:
        def val(name: str) -> str | None:
            t = self.filters[name].currentText().strip()
            return None if t in ("", ANY) else t

        columns = [self.columns.item(i).data(FIELD_ROLE) for i in range(self.columns.count())
                   if self.columns.item(i).checkState() == Qt.CheckState.Checked]
        start: date | None = None
        end: date | None = None
        if not self.all_dates.isChecked():
            start, end = self.date_from.date().toPython(), self.date_to.date().toPython()
        return ExportSpec(fmt=self.fmt.currentData(), path=Path(self.path.text()).expanduser(), start=start, end=end,
                          filters=LedgerFilter.of(provider=val("provider"), account=val("account"),
                                                  model=val("model"), source=val("source"),
                                                  workspace=val("workspace")),
                          columns=with_currency(columns), bom=self.bom.isChecked())

    def _format_changed(self) -> None:
        fmt = self.fmt.currentData()
        p = Path(self.path.text())
        if p.suffix.lstrip(".") in FORMATS:
            self.path.setText(str(p.with_suffix("." + fmt)))
        self.bom.setEnabled(fmt == "csv")

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text())
        if path:
            self.path.setText(path)

    # -- running ------------------------------------------------------------------------------

    def start(self) -> None:
        try:
            spec = self.spec()
            spec.validate()
            if spec.path.parent == self.ctx.paths.exports:  # the default folder is ours to create
                spec.path.parent.mkdir(parents=True, exist_ok=True)
        except Exception as exc:  # noqa: BLE001 - InputError names the field
            self._say(f"<span style='color:#d64545'>{exc}</span>")
            return
        self._running(True)
        self._say(f"Exporting to {spec.path}…")
        # The runtime reports on its thread; on_gui brings each callback to this dialog's thread.
        self.worker = self.services.runtime.exports.start(
            spec, on_done=on_gui(self._done, owner=self), on_error=on_gui(self._failed, owner=self),
            on_progress=on_gui(self._progress, owner=self))

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self._say("Cancelling…")

    def _say(self, text: str) -> None:
        """Show `text` under the progress bar, growing the dialog when it wraps to more lines than there is room for
        (a dialog does not grow by itself: its rows would be squeezed over each other)."""
        self.message.setText(text)
        lay = self.layout()
        need = lay.totalHeightForWidth(self.width()) if lay is not None and lay.hasHeightForWidth() else -1
        if need > self.height():
            self.resize(self.width(), need)

    def _running(self, on: bool) -> None:
        self.export_btn.setEnabled(not on)
        self.cancel_btn.setEnabled(on)
        self.close_btn.setEnabled(not on)
        if on:
            self.progress.setRange(0, 0)

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _done(self, result: ExportResult) -> None:
        self.worker = None
        self.result = result
        self._running(False)
        self.progress.setRange(0, max(result.rows, 1))
        self.progress.setValue(result.rows)
        s = self.ctx.settings
        cost = cost_summary(result, s.get("display_currency") or "USD", s.fx_rates())
        self._say(f"Exported {result.rows:,} rows to {result.path}. Cost: {cost}.")
        self.exported.emit(result)

    def _failed(self, exc: BaseException) -> None:
        self.worker = None
        self._running(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        if isinstance(exc, (Cancelled, ExportCancelled)):
            self._say("Export cancelled; no file was written.")
        else:
            log.warning("export failed: %s", exc)
            self._say(f"<span style='color:#d64545'>Export failed: {exc}</span>")

    def reject(self) -> None:
        if self.worker is not None:  # closing mid-export cancels it
            self.cancel()
            return
        super().reject()


def open_export_dialog(ctx: "AppContext", services: "Services", parent: QWidget | None = None) -> ExportDialog:
    dlg = ExportDialog(ctx, services, parent)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.show()
    return dlg
