"""Add or edit a manual spend entry (service, amount, currency, date, optional provider/model/tokens, note, refund).

Validation is the core's: `manual.add_entry` / `update_entry` run in a worker and an `InputError`
shows under the field it names.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QDialog, QFormLayout, QLabel,
                               QPlainTextEdit, QSpinBox, QVBoxLayout, QWidget)

from aicost_desktop.domain.errors import InputError
from aicost_desktop.manual import ManualEntry, add_entry, to_record, update_entry
from aicost_desktop.ui.dialogs.form_kit import (FormErrors, add_footer, currency_combo, date_edit,
                                                from_qdate, line_edit, to_qdate)

if TYPE_CHECKING:
    from aicost_desktop.manual import ManualEntry
    from aicost_desktop.ui.services import Services

log = logging.getLogger("aicost.ui.manual")
TOKEN_MAX = 2_000_000_000


class ManualEntryDialog(QDialog):
    """Signals:
        saved(int): the ledger row id after a successful save (the dialog then closes).
        save_failed(str): the error shown (under its field, or at the bottom).
    """

    saved = Signal(int)
    save_failed = Signal(str)
    LABELS = {"input_tokens": "input tokens", "output_tokens": "output tokens"}

    def __init__(self, services: "Services", entry: "ManualEntry | None" = None, entry_id: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.ctx, self.entry_id = services, services.ctx, entry_id
        self.setObjectName("manualEntryDialog")
        self.setWindowTitle("Edit manual entry" if entry_id else "Add manual entry")
        self.setMinimumWidth(460)
        lay = QVBoxLayout(self)
        intro = QLabel("Spend no API reports: a top-up, an invoice, a team seat. It carries the Manual badge.")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.service = line_edit("serviceEdit", "e.g. Cursor, Perplexity, OpenAI invoice")
        self.errors.add_row("&Service", "service", self.service)
        self.amount = line_edit("amountEdit", "12.50")
        self.errors.add_row("&Amount", "amount", self.amount)
        self.currency = currency_combo(self.ctx.settings.get("display_currency") or "USD")
        self.currency.setObjectName("currencyCombo")
        self.errors.add_row("&Currency", "currency", self.currency)
        self.date = date_edit("dateEdit")
        self.errors.add_row("&Date", "date", self.date)
        self.refund = QCheckBox("This is a refund (reduces spend)")
        self.refund.setObjectName("refundCheck")
        self.errors.add_row("", "refund", self.refund)
        self.provider = line_edit("providerEdit", "optional (defaults to the service)")
        self.errors.add_row("&Provider", "provider", self.provider)
        self.model = line_edit("modelEdit", "optional")
        self.errors.add_row("&Model", "model", self.model)
        self.input_tokens = QSpinBox()
        self.input_tokens.setObjectName("inputTokensSpin")
        self.output_tokens = QSpinBox()
        self.output_tokens.setObjectName("outputTokensSpin")
        for spin in (self.input_tokens, self.output_tokens):
            spin.setRange(0, TOKEN_MAX)
            spin.setGroupSeparatorShown(True)
        self.errors.add_row("&Input tokens", "input_tokens", self.input_tokens)
        self.errors.add_row("&Output tokens", "output_tokens", self.output_tokens)
        self.note = QPlainTextEdit()
        self.note.setObjectName("noteEdit")
        self.note.setFixedHeight(60)
        self.errors.add_row("&Note", "note", self.note)
        lay.addLayout(form)
        self.general_error, self.buttons = add_footer(self, lay, self.save)
        if entry is not None:
            self._fill(entry)

    def _fill(self, e: "ManualEntry") -> None:
        self.service.setText(e.service)
        self.amount.setText(str(e.amount))
        self.currency.setCurrentText(e.currency)
        self.date.setDate(to_qdate(e.entry_date))
        self.refund.setChecked(e.refund)
        self.provider.setText(e.provider or "")
        self.model.setText(e.model or "")
        self.input_tokens.setValue(e.input_tokens)
        self.output_tokens.setValue(e.output_tokens)
        self.note.setPlainText(e.note or "")

    def entry(self) -> "ManualEntry":
        return ManualEntry(service=self.service.text(), amount=self.amount.text().strip(),
                           entry_date=from_qdate(self.date.date()), currency=self.currency.currentText().strip(),
                           provider=self.provider.text() or None, model=self.model.text() or None,
                           note=self.note.toPlainText() or None, refund=self.refund.isChecked(),
                           input_tokens=self.input_tokens.value(), output_tokens=self.output_tokens.value())

    def validate(self) -> bool:
        """Run the core's validation on the GUI thread (pure, no I/O) to show errors at once."""
        self.errors.clear()
        self.general_error.setVisible(False)
        try:
            to_record(self.entry(), "manual:check")
        except InputError as exc:
            self._show(exc)
            return False
        return True

    def _show(self, exc: InputError) -> str:
        if self.errors.show_input_error(exc, self.LABELS):
            return self.errors.text(exc.field)
        self.general_error.setText(str(exc))
        self.general_error.setVisible(True)
        return str(exc)

    def save(self) -> None:
        if not self.validate():
            self.save_failed.emit("invalid input")
            return
        entry, ctx, entry_id = self.entry(), self.ctx, self.entry_id

        def job() -> int:
            if entry_id is None:
                return add_entry(ctx.db, entry)
            update_entry(ctx.db, entry_id, entry)
            return entry_id

        self.buttons.setEnabled(False)
        self.services.run(job, on_done=self._saved, on_error=self._failed, owner=self)

    def _saved(self, row_id: int) -> None:
        self.buttons.setEnabled(True)
        self.services.bus.notify_ledger_changed()
        self.saved.emit(row_id)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        msg = self._show(exc) if isinstance(exc, InputError) else str(exc)
        if not isinstance(exc, InputError):
            self.general_error.setText(f"Could not save: {exc}")
            self.general_error.setVisible(True)
        log.warning("saving manual entry failed: %s", exc)
        self.save_failed.emit(msg)

