"""Import Claude Code / Codex logs or a console / generic CSV in a worker, then show added/updated/skipped/rejected."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPlainTextEdit, QProgressBar, QPushButton, QRadioButton,
                               QVBoxLayout, QWidget)

from aicost_desktop.domain.errors import InputError
from aicost_desktop.importers.base import Billing, ImportReport
from aicost_desktop.importers.claude_code import discover_roots
from aicost_desktop.importers.codex import discover_homes
from aicost_desktop.importers.runner import CSV_FORMATS, import_claude_code, import_codex, import_csv, remember_source
from aicost_desktop.ui.dialogs.form_kit import ERROR_STYLE, FormErrors

if TYPE_CHECKING:
    from aicost_desktop.ui.services import Services

log = logging.getLogger("aicost.ui.import")
SOURCES = [("Claude Code logs", "claude-code"), ("Codex CLI logs", "codex"), ("CSV export", "csv")]
CSV_LABELS = {"openai-costs": "OpenAI cost export", "anthropic-usage": "Anthropic console usage",
              "anthropic-cost": "Anthropic console cost", "generic": "Generic (map columns)"}
SHOWN_REJECTS = 50


def default_log_path(kind: str) -> str:
    """Where the tool keeps its logs on this machine (the first that exists, else the usual place)."""
    home = Path.home()
    try:
        if kind == "claude-code":
            roots = discover_roots()
            return str(roots[0].parent if roots and roots[0].name == "projects" else roots[0]) if roots \
                else str(home / ".claude")

        homes = discover_homes()
        return str(homes[0]) if homes else str(home / ".codex")
    except InputError:  # a broken CLAUDE_CONFIG_DIR: let the user pick
        return str(home / (".claude" if kind == "claude-code" else ".codex"))


def run_import(ctx: Any, kind: str, path: str, billing: str, fmt: str = "", mapping: list[str] | None = None,
               auto: bool = False) -> ImportReport:
    """Worker side: one import through the core's entry points (no Qt)."""
    if not path.strip():
        raise InputError("path", path, "choose a folder or file")
    p = Path(path).expanduser()
    if kind == "csv":
        return import_csv(ctx.db, ctx.catalog.cost_of, p, fmt, mapping or [], tz=ctx.tz)
    run = import_claude_code if kind == "claude-code" else import_codex
    report = run(ctx.db, ctx.catalog.cost_of, p, billing)
    if auto:
        remember_source(ctx.db, kind, p, billing)
    return report


class ImportDialog(QDialog):
    """Signals:
        imported(object): the ImportReport of a finished import (the dialog stays open to show it).
        import_failed(str): the error shown.
    """

    imported = Signal(object)
    import_failed = Signal(str)

    def __init__(self, services: "Services", kind: str = "claude-code", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.ctx = services, services.ctx
        self.setObjectName("importDialog")
        self.setWindowTitle("Import usage")
        self.setMinimumWidth(560)
        self._paths: dict[str, str] = {}
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.source = QComboBox()
        self.source.setObjectName("sourceCombo")
        for label, value in SOURCES:
            self.source.addItem(label, value)
        self.errors.add_row("&Source", "kind", self.source)
        path_box = QWidget()
        path_lay = QHBoxLayout(path_box)
        path_lay.setContentsMargins(0, 0, 0, 0)
        self.path = QLineEdit()
        self.path.setObjectName("pathEdit")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_lay.addWidget(self.path, 1)
        path_lay.addWidget(browse)
        self.errors.add_row("&Folder or file", "path", path_box, "file", "CLAUDE_CONFIG_DIR")
        self.format = QComboBox()
        self.format.setObjectName("formatCombo")
        for fmt in CSV_FORMATS:
            self.format.addItem(CSV_LABELS.get(fmt, fmt), fmt)
        self.errors.add_row("CSV &format", "format", self.format)
        self.mapping = QLineEdit()
        self.mapping.setObjectName("mappingEdit")
        self.mapping.setPlaceholderText("Date=date, Cost=amount, Model=model")
        self.errors.add_row("Column &map", "map", self.mapping, "mapping")
        bill_box = QWidget()
        bill_lay = QVBoxLayout(bill_box)
        bill_lay.setContentsMargins(0, 0, 0, 0)
        self.per_token = QRadioButton("Billed per token (counts as spend)")
        self.per_token.setObjectName("billingPerToken")
        self.per_token.setChecked(True)
        self.covered = QRadioButton("Covered by a subscription (shown as equivalent API cost, not spend)")
        self.covered.setObjectName("billingCovered")
        bill_lay.addWidget(self.per_token)
        bill_lay.addWidget(self.covered)
        self.errors.add_row("&Billing", "billing", bill_box)
        self.auto = QCheckBox("Re-import this folder automatically (keeps history after the tool deletes old logs)")
        self.auto.setObjectName("autoCheck")
        self.auto.setChecked(True)
        self.errors.add_row("", "auto", self.auto)
        lay.addLayout(form)
        self.progress = QProgressBar()
        self.progress.setObjectName("importProgress")
        self.progress.setRange(0, 0)  # the importers stream without a known total: busy indicator
        self.progress.setVisible(False)
        lay.addWidget(self.progress)
        self.result = QLabel("")
        self.result.setObjectName("importResult")
        self.result.setWordWrap(True)
        lay.addWidget(self.result)
        self.details = QPlainTextEdit()
        self.details.setObjectName("importDetails")
        self.details.setReadOnly(True)
        self.details.setVisible(False)
        self.details.setMaximumHeight(140)
        lay.addWidget(self.details)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.run_button = self.buttons.addButton("&Import", QDialogButtonBox.ButtonRole.ActionRole)
        self.run_button.setObjectName("runImportButton")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.source.currentIndexChanged.connect(self._source_changed)
        self._current = ""
        i = self.source.findData(kind)
        self.source.setCurrentIndex(max(i, 0))
        self._source_changed()

    def kind(self) -> str:
        return str(self.source.currentData())

    def _source_changed(self) -> None:
        if self._current:
            self._paths[self._current] = self.path.text()
        kind = self.kind()
        self._current = kind
        is_csv = kind == "csv"
        if kind in self._paths:
            self.path.setText(self._paths[kind])
        else:
            self.path.setText("" if is_csv else default_log_path(kind))
        self.path.setPlaceholderText("A .csv file" if is_csv else "The tool's config folder")
        form = self.errors.form
        for field, visible in (("format", is_csv), ("map", is_csv), ("billing", not is_csv), ("auto", not is_csv)):
            form.setRowVisible(self.errors.labels[field].parentWidget(), visible)
        self.errors.clear()

    def _browse(self) -> None:
        if self.kind() == "csv":
            path, _ = QFileDialog.getOpenFileName(self, "CSV file", self.path.text(), "CSV files (*.csv);;All files (*)")
        else:
            path = QFileDialog.getExistingDirectory(self, "Log folder", self.path.text())
        if path:
            self.path.setText(path)

    def start(self) -> None:
        """Run the import in a worker; the result shows below."""
        self.errors.clear()
        kind, path = self.kind(), self.path.text().strip()
        if not path:
            self.errors.show("path", "Choose a folder or file to import")
            self.import_failed.emit("no path")
            return
        billing = (Billing.SUBSCRIPTION if self.covered.isChecked() else Billing.PER_TOKEN).value
        mapping = [m.strip() for m in self.mapping.text().split(",") if m.strip()]
        self.run_button.setEnabled(False)
        self.progress.setVisible(True)
        self.result.setStyleSheet("")
        self.result.setText("Importing…")
        self.details.setVisible(False)
        self.services.run(run_import, self.ctx, kind, path, billing, str(self.format.currentData()), mapping,
                          self.auto.isChecked() and kind != "csv", on_done=self._done,
                          on_error=self._failed, owner=self)

    def _done(self, report: ImportReport) -> None:
        self.run_button.setEnabled(True)
        self.progress.setVisible(False)
        self.result.setText(f"{report.files} file(s): {report.added:,} added, {report.updated:,} updated, "
                            f"{report.skipped:,} skipped, {report.rejected_total:,} rejected")
        lines = [str(r) for r in report.rejected[:SHOWN_REJECTS]]
        if report.rejected_total > len(lines):
            lines.append(f"… and {report.rejected_total - len(lines):,} more rejected")
        lines += [f"warning: {w}" for w in report.warnings]
        self.details.setPlainText("\n".join(lines))
        self.details.setVisible(bool(lines))
        if report.added or report.updated:
            self.services.bus.notify_ledger_changed()
        self.imported.emit(report)

    def _failed(self, exc: BaseException) -> None:
        self.run_button.setEnabled(True)
        self.progress.setVisible(False)
        if isinstance(exc, InputError) and self.errors.show_input_error(exc):
            msg = self.errors.text(exc.field)
            self.result.setText("")
        else:
            msg = f"Import failed: {exc}"
            self.result.setStyleSheet(ERROR_STYLE)
            self.result.setText(msg)
        log.warning("import failed: %s", exc)
        self.import_failed.emit(msg)
