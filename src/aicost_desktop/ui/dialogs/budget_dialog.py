"""Add / edit a budget: every field validated live through `BudgetSpec.build`; pause_key asks for confirmation."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from PySide6.QtCore import QTime
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QMessageBox, QTimeEdit, QVBoxLayout, QWidget)

from aicost_desktop.budgets.model import BudgetSpec, format_thresholds
from aicost_desktop.budgets.periods import PERIODS
from aicost_desktop.budgets.spend import SCOPE_KINDS, Scope
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import CURRENCIES

ON_EXCEED_LABELS = [("notify", "Notify only"), ("require_ack", "Require acknowledgement"),
                    ("pause_key", "Pause the OpenRouter key")]
SCOPE_LABELS = {"all": "Everything", "workspace": "Workspace", "provider": "Provider", "account": "Account",
                "project": "Project", "model": "Model", "source": "Source"}


def _confirm_pause(parent: QWidget, text: str) -> bool:
    return QMessageBox.question(parent, "Pause a key automatically?", text) == QMessageBox.StandardButton.Yes


class BudgetDialog(QDialog):
    """`spec` holds the validated result after `accept()`. `accounts` are (id, name) OpenRouter accounts."""

    def __init__(self, parent: QWidget | None = None, spec: BudgetSpec | None = None,
                 openrouter_accounts: Sequence[tuple[int, str]] = (),
                 confirm: Callable[[QWidget, str], bool] = _confirm_pause) -> None:
        super().__init__(parent)
        self.setObjectName("budgetDialog")
        self.setWindowTitle("Edit budget" if spec else "Add budget")
        self.spec: BudgetSpec | None = None
        self._confirm = confirm
        self._initial = spec
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. OpenAI monthly")
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("100")
        self.currency = QComboBox()
        self.currency.addItems(sorted(CURRENCIES))
        self.currency.setCurrentText("USD")
        amount_row = QHBoxLayout()
        amount_row.addWidget(self.amount, 1)
        amount_row.addWidget(self.currency)
        self.period = QComboBox()
        self.period.addItems(list(PERIODS))
        self.period.setCurrentText("monthly")
        self.scope_kind = QComboBox()
        for k in SCOPE_KINDS:
            self.scope_kind.addItem(SCOPE_LABELS[k], k)
        self.scope_value = QLineEdit()
        self.scope_value.setPlaceholderText("e.g. openai")
        scope_row = QHBoxLayout()
        scope_row.addWidget(self.scope_kind)
        scope_row.addWidget(self.scope_value, 1)
        self.thresholds = QLineEdit("50,80,100")
        self.forecast = QCheckBox("Alert when projected to exceed")
        self.emails = QLineEdit()
        self.emails.setPlaceholderText("me@example.com, team@example.com (optional)")
        self.on_exceed = QComboBox()
        for k, label in ON_EXCEED_LABELS:
            self.on_exceed.addItem(label, k)
        self.pause_account = QComboBox()
        for acc_id, acc_name in openrouter_accounts:
            self.pause_account.addItem(acc_name, acc_id)
        self.pause_key = QLineEdit()
        self.pause_key.setPlaceholderText("key hash from OpenRouter's keys list")
        self.quiet = QCheckBox("Quiet hours")
        self.quiet_start = QTimeEdit(QTime(22, 0))
        self.quiet_end = QTimeEdit(QTime(7, 0))
        for t in (self.quiet_start, self.quiet_end):
            t.setDisplayFormat("HH:mm")
        quiet_row = QHBoxLayout()
        for w in (self.quiet, self.quiet_start, QLabel("to"), self.quiet_end):
            quiet_row.addWidget(w)
        form.addRow("Name", self.name)
        form.addRow("Amount", amount_row)
        form.addRow("Period", self.period)
        form.addRow("Scope", scope_row)
        form.addRow("Alert at (%)", self.thresholds)
        form.addRow("", self.forecast)
        form.addRow("Email alerts to", self.emails)
        form.addRow("When exceeded", self.on_exceed)
        form.addRow("OpenRouter account", self.pause_account)
        form.addRow("Key to pause", self.pause_key)
        form.addRow("", quiet_row)
        self.error = QLabel("")
        self.error.setObjectName("budgetDialogError")
        self.error.setStyleSheet("color: #c62828")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(self.buttons)
        if spec is not None:
            self._load(spec)
        for w in (self.name, self.amount, self.scope_value, self.thresholds, self.emails, self.pause_key):
            w.textChanged.connect(self.validate)
        for c in (self.currency, self.period, self.scope_kind, self.on_exceed, self.pause_account):
            c.currentIndexChanged.connect(self.validate)
        self.quiet.toggled.connect(self.validate)
        self.validate()

    def _load(self, s: BudgetSpec) -> None:
        self.name.setText(s.name)
        self.amount.setText(f"{s.amount.normalize():f}")
        self.currency.setCurrentText(s.currency)
        self.period.setCurrentText(s.period)
        self.scope_kind.setCurrentIndex(max(0, self.scope_kind.findData(s.scope.kind)))
        self.scope_value.setText(s.scope.value or "")
        self.thresholds.setText(format_thresholds(s.thresholds))
        self.forecast.setChecked(s.forecast_alert)
        self.emails.setText(", ".join(s.emails))
        self.on_exceed.setCurrentIndex(max(0, self.on_exceed.findData(s.on_exceed)))
        if s.pause_account_id is not None:
            self.pause_account.setCurrentIndex(max(0, self.pause_account.findData(s.pause_account_id)))
        self.pause_key.setText(s.pause_key_hash or "")
        if s.quiet_start and s.quiet_end:
            self.quiet.setChecked(True)
            self.quiet_start.setTime(QTime.fromString(s.quiet_start, "HH:mm"))
            self.quiet_end.setTime(QTime.fromString(s.quiet_end, "HH:mm"))

    def _build(self) -> BudgetSpec:
        kind = self.scope_kind.currentData()
        scope = Scope() if kind == "all" else Scope.parse(f"{kind}:{self.scope_value.text().strip()}")
        emails = [e.strip() for e in self.emails.text().replace(";", ",").split(",") if e.strip()]
        pausing = self.on_exceed.currentData() == "pause_key"
        if pausing and self.pause_account.count() == 0:
            raise InputError("on-exceed", "pause_key", "add an OpenRouter account with a management key first")
        quiet = self.quiet.isChecked()
        return BudgetSpec.build(
            name=self.name.text(), amount=self.amount.text().strip() or "0", period=self.period.currentText(),
            scope=scope, currency=self.currency.currentText(), thresholds=self.thresholds.text(),
            forecast_alert=self.forecast.isChecked(), emails=emails, on_exceed=self.on_exceed.currentData(),
            quiet_start=self.quiet_start.time().toString("HH:mm") if quiet else None,
            quiet_end=self.quiet_end.time().toString("HH:mm") if quiet else None,
            pause_account_id=self.pause_account.currentData() if pausing else None,
            pause_key_hash=self.pause_key.text().strip() or None if pausing else None,
            enabled=self._initial.enabled if self._initial else True)

    def validate(self, *_: Any) -> bool:
        kind = self.scope_kind.currentData()
        self.scope_value.setEnabled(kind != "all")
        pausing = self.on_exceed.currentData() == "pause_key"
        self.pause_account.setEnabled(pausing)
        self.pause_key.setEnabled(pausing)
        self.quiet_start.setEnabled(self.quiet.isChecked())
        self.quiet_end.setEnabled(self.quiet.isChecked())
        try:
            self._build()
        except InputError as exc:
            self.error.setText(f"{_label(exc.field)}: {exc.reason}")
            self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
            return False
        self.error.setText("")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)
        return True

    def accept(self) -> None:
        if not self.validate():
            return
        spec = self._build()
        if spec.on_exceed == "pause_key" and (self._initial is None or self._initial.on_exceed != "pause_key"
                                              or self._initial.pause_key_hash != spec.pause_key_hash):
            text = (f"When '{spec.name}' reaches 100%, the app will disable the OpenRouter key "
                    f"{spec.pause_key_hash} on account '{self.pause_account.currentText()}' through OpenRouter's "
                    "management API. Requests with that key will fail until you resume it from the Budgets "
                    "dock. Every pause and resume is logged.\n\nTurn this on?")
            if not self._confirm(self, text):
                return
        self.spec = spec
        super().accept()


def _label(field: str) -> str:
    return {"thresholds": "Alert at", "on-exceed": "When exceeded", "quiet-start": "Quiet hours",
            "quiet-end": "Quiet hours", "email": "Email", "pause-key": "Key to pause"}.get(field, field.capitalize())
