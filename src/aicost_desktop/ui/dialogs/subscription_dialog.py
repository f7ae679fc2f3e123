"""Add or edit a recurring subscription (e.g. ChatGPT Plus $20 monthly); it materializes one ledger row per period."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QFormLayout, QHBoxLayout,
                               QLabel, QVBoxLayout, QWidget)

from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.limits import parse_row_amount
from aicost_desktop.domain.money import money_json, validate_currency
from aicost_desktop.manual import add_subscription, update_subscription
from aicost_desktop.ui.dialogs.form_kit import (FormErrors, add_footer, currency_combo, date_edit, from_qdate,
                                                line_edit, to_qdate)

if TYPE_CHECKING:
    from aicost_desktop.ui.services import Services

log = logging.getLogger("aicost.ui.manual")
PERIODS = [("Monthly", "monthly"), ("Quarterly", "quarterly"), ("Yearly", "yearly")]


class SubscriptionDialog(QDialog):
    """Signals:
        saved(int): the subscription's id (its charges up to today are in the ledger).
        save_failed(str): the error shown (under its field, or at the bottom).
    """

    saved = Signal(int)
    save_failed = Signal(str)

    def __init__(self, services: "Services", parent: QWidget | None = None, subscription: Any = None) -> None:
        """`subscription` (a storage Subscription): edit it instead of adding one."""
        super().__init__(parent)
        self.services, self.ctx = services, services.ctx
        self.sub_id: int | None = subscription.id if subscription is not None else None
        self.setObjectName("subscriptionDialog")
        self.setWindowTitle("Edit subscription" if subscription is not None else "Add subscription")
        self.setMinimumWidth(440)
        lay = QVBoxLayout(self)
        intro = QLabel("A fixed charge every period, e.g. ChatGPT Plus $20 monthly. "
                       "One ledger row per period, with the Subscription badge.")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        form = QFormLayout()
        self.errors = FormErrors(form)
        self.service = line_edit("serviceEdit", "e.g. ChatGPT Plus")
        self.errors.add_row("&Service", "service", self.service)
        self.amount = line_edit("amountEdit", "20.00")
        self.errors.add_row("&Amount", "amount", self.amount)
        self.currency = currency_combo(self.ctx.settings.get("display_currency") or "USD")
        self.currency.setObjectName("currencyCombo")
        self.errors.add_row("&Currency", "currency", self.currency)
        self.period = QComboBox()
        self.period.setObjectName("periodCombo")
        for label, value in PERIODS:
            self.period.addItem(label, value)
        self.errors.add_row("&Every", "period", self.period)
        self.start = date_edit("startEdit")
        self.errors.add_row("S&tarts", "start", self.start)
        end_box = QWidget()
        end_lay = QHBoxLayout(end_box)
        end_lay.setContentsMargins(0, 0, 0, 0)
        self.has_end = QCheckBox("Ends")
        self.has_end.setObjectName("hasEndCheck")
        self.end = date_edit("endEdit")
        self.end.setEnabled(False)
        self.has_end.toggled.connect(self.end.setEnabled)
        end_lay.addWidget(self.has_end)
        end_lay.addWidget(self.end, 1)
        self.errors.add_row("E&nd", "end", end_box)
        self.provider = line_edit("providerEdit", "optional (e.g. openai)")
        self.errors.add_row("&Provider", "provider", self.provider)
        self.note = line_edit("noteEdit")
        self.errors.add_row("N&ote", "note", self.note)
        lay.addLayout(form)
        self.general_error, self.buttons = add_footer(self, lay, self.save)
        if subscription is not None:
            self._fill(subscription)

    def _fill(self, sub: Any) -> None:
        self.service.setText(sub.service)
        self.amount.setText(money_json(sub.amount) or "")
        self.currency.setCurrentText(sub.currency)
        self.period.setCurrentIndex(max(0, self.period.findData(sub.period)))
        self.start.setDate(to_qdate(sub.start_date))
        self.has_end.setChecked(sub.end_date is not None)
        if sub.end_date is not None:
            self.end.setDate(to_qdate(sub.end_date))
        self.provider.setText(sub.provider or "")
        self.note.setText(sub.note or "")

    def values(self) -> dict[str, object]:
        return {"service": self.service.text(), "amount": self.amount.text().strip(),
                "period": self.period.currentData(), "start": from_qdate(self.start.date()),
                "end": from_qdate(self.end.date()) if self.has_end.isChecked() else None,
                "currency": self.currency.currentText().strip(), "provider": self.provider.text() or None,
                "note": self.note.text() or None}

    def validate(self) -> bool:
        """Field checks that need no database (the core repeats them in the worker)."""
        self.errors.clear()
        self.general_error.setVisible(False)
        v = self.values()
        try:
            if not str(v["service"]).strip():
                raise InputError("service", v["service"], "must not be empty")
            parse_row_amount(v["amount"], "amount")
            validate_currency(str(v["currency"]))
            if v["end"] is not None and v["end"] < v["start"]:  # type: ignore[operator]
                raise InputError("end", v["end"], "is before the start date")
        except InputError as exc:
            self._show(exc)
            return False
        return True

    def _show(self, exc: InputError) -> str:
        if self.errors.show_input_error(exc):
            return self.errors.text(exc.field)
        self.general_error.setText(str(exc))
        self.general_error.setVisible(True)
        return str(exc)

    def save(self) -> None:
        if not self.validate():
            self.save_failed.emit("invalid input")
            return
        v, ctx, sub_id = self.values(), self.ctx, self.sub_id

        def job() -> int:
            today = ctx.today()  # charges due by the user's day, as the CLI and the runtime count
            if sub_id is not None:
                update_subscription(ctx.db, sub_id, str(v["service"]), str(v["amount"]), str(v["period"]),
                                    v["start"], v["end"], str(v["currency"]), v["provider"],  # type: ignore[arg-type]
                                    v["note"], today=today)  # type: ignore[arg-type]
                return sub_id
            return add_subscription(ctx.db, str(v["service"]), str(v["amount"]), str(v["period"]),
                                    v["start"], v["end"], str(v["currency"]), v["provider"],  # type: ignore[arg-type]
                                    v["note"], today=today)  # type: ignore[arg-type]

        self.buttons.setEnabled(False)
        self.services.run(job, on_done=self._saved, on_error=self._failed, owner=self)

    def _saved(self, sub_id: int) -> None:
        self.buttons.setEnabled(True)
        self.services.bus.notify_ledger_changed()
        self.saved.emit(sub_id)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        if isinstance(exc, InputError):
            msg = self._show(exc)
        else:
            msg = f"Could not save: {exc}"
            self.general_error.setText(msg)
            self.general_error.setVisible(True)
        log.warning("saving subscription failed: %s", exc)
        self.save_failed.emit(msg)
