"""Add / edit a budget: every field validated live (all invalid fields marked at once, none before the user
types), scope values picked from what the ledger knows, a typo warned; pause_key asks for confirmation."""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import (QCheckBox, QComboBox, QCompleter, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QMessageBox, QTimeEdit, QVBoxLayout, QWidget)

from aicost_desktop.budgets.model import BudgetSpec, format_thresholds, parse_thresholds
from aicost_desktop.budgets.periods import PERIODS
from aicost_desktop.budgets.spend import SCOPE_KINDS, SOURCES, Scope
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import CURRENCIES, parse_amount
from aicost_desktop.notify.email import parse_email
from aicost_desktop.storage.query.names import close_matches
from aicost_desktop.ui.dialogs.locale_numbers import decimal_text

INVALID_STYLE = 'QLineEdit[invalid="true"] { border: 1px solid #c62828; border-radius: 2px; }'
# Scope kinds whose value must name something that exists (the core refuses others on save).
STRICT_SCOPES = ("account", "workspace")

ON_EXCEED_LABELS = [("notify", "Notify only"), ("require_ack", "Require acknowledgement"),
                    ("pause_key", "Pause the OpenRouter key"), ("block", "Block gateway calls")]
BLOCK_HELP = ("Calls through the local metering gateway (Settings › Gateway) are refused with HTTP 429 naming this "
              "budget once its spend, with the calls still in flight, reaches the amount; raise the budget or change "
              "this choice and they go through again. Nothing outside the gateway is stopped.")
SCOPE_LABELS = {"all": "Everything", "workspace": "Workspace", "provider": "Provider", "account": "Account",
                "project": "Project", "model": "Model", "source": "Source"}


def _confirm_pause(parent: QWidget, text: str) -> bool:
    return QMessageBox.question(parent, "Pause a key automatically?", text) == QMessageBox.StandardButton.Yes


class BudgetDialog(QDialog):
    """`spec` holds the validated result after `accept()`. `accounts` are (id, name) OpenRouter accounts;
    `known` the values the ledger has per scope kind (provider, account, project, model, workspace, source);
    `email_configured` shows "Email alerts to" (an SMTP server is set up, or the budget already mails)."""

    def __init__(self, parent: QWidget | None = None, spec: BudgetSpec | None = None,
                 openrouter_accounts: Sequence[tuple[int, str]] = (),
                 confirm: Callable[[QWidget, str], bool] = _confirm_pause,
                 known: Mapping[str, Sequence[str]] | None = None, email_configured: bool = False) -> None:
        super().__init__(parent)
        self.known: dict[str, list[str]] = {k: sorted(v) for k, v in (known or {}).items()}
        self.known.setdefault("source", list(SOURCES))
        self._touched: set[str] = set()
        self.setStyleSheet(INVALID_STYLE)
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
        # An editable combo: pick what the ledger knows, or type (completion matches anywhere, any case).
        self.scope_combo = QComboBox()
        self.scope_combo.setObjectName("scopeValueCombo")
        self.scope_combo.setEditable(True)
        self.scope_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.scope_value: QLineEdit = self.scope_combo.lineEdit()
        self.scope_value.setPlaceholderText("e.g. openai")
        scope_row = QHBoxLayout()
        scope_row.addWidget(self.scope_kind)
        scope_row.addWidget(self.scope_combo, 1)
        self.scope_hint = QLabel("")
        self.scope_hint.setObjectName("scopeHint")
        self.scope_hint.setWordWrap(True)
        self.scope_hint.setMinimumWidth(320)
        self.scope_hint.setProperty("banner", "warning")
        self.scope_hint.hide()
        self.thresholds = QLineEdit("50,80,100")
        self.forecast = QCheckBox("Alert when projected to exceed")
        self.emails = QLineEdit()
        self.emails.setPlaceholderText("me@example.com, team@example.com (optional)")
        self.on_exceed = QComboBox()
        for k, label in ON_EXCEED_LABELS:
            self.on_exceed.addItem(label, k)
        self.block_help = QLabel(BLOCK_HELP)
        self.block_help.setObjectName("blockHelp")
        self.block_help.setWordWrap(True)
        self.block_help.setMinimumWidth(320)
        self.block_help.setVisible(False)
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
        form.addRow("", self.scope_hint)
        form.addRow("Alert at (%)", self.thresholds)
        form.addRow("", self.forecast)
        form.addRow("Email alerts to", self.emails)
        self.email_row_shown = email_configured or bool(spec and spec.emails)
        form.setRowVisible(self.emails, self.email_row_shown)
        form.addRow("When exceeded", self.on_exceed)
        form.addRow("", self.block_help)
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
        self._fill_scope_values()
        if spec is not None:
            self._load(spec)
            self._touched |= set(self.FIELDS)  # an existing budget: show what is wrong with it at once
        for key, w in (("name", self.name), ("amount", self.amount), ("scope", self.scope_value),
                       ("thresholds", self.thresholds), ("email", self.emails), ("pause-key", self.pause_key)):
            w.textChanged.connect(lambda _t, k=key: self._touch(k))
        self.scope_kind.currentIndexChanged.connect(lambda _i: (self._fill_scope_values(), self._touch("scope")))
        for c in (self.currency, self.period, self.on_exceed, self.pause_account):
            c.currentIndexChanged.connect(self.validate)
        self.on_exceed.currentIndexChanged.connect(lambda _i: self._touch("on-exceed"))
        self.quiet.toggled.connect(self.validate)
        self.validate()

    FIELDS = ("name", "amount", "scope", "thresholds", "email", "on-exceed", "pause-key", "quiet-start")

    def _touch(self, key: str) -> None:
        self._touched.add(key)
        self.validate()

    def _fill_scope_values(self) -> None:
        """The scope value picker offers what the ledger has for the chosen kind."""
        kind = self.scope_kind.currentData()
        text = self.scope_value.text()
        values = self.known.get(kind, []) if kind != "all" else []
        self.scope_combo.blockSignals(True)
        self.scope_combo.clear()
        self.scope_combo.addItems(values)
        self.scope_combo.setCurrentIndex(-1)
        self.scope_value.setText(text)
        self.scope_combo.blockSignals(False)
        completer = QCompleter(values, self.scope_combo)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.scope_combo.setCompleter(completer)
        if values:
            self.scope_value.setPlaceholderText(f"e.g. {values[0]}")

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

    def amount_text(self) -> str:
        """The amount as typed, read with the locale's decimal separator ('12,50' where it is a comma)."""
        return decimal_text(self.amount.text())

    def _build(self) -> BudgetSpec:
        kind = self.scope_kind.currentData()
        scope = Scope() if kind == "all" else Scope.parse(f"{kind}:{self.scope_value.text().strip()}")
        emails = [e.strip() for e in self.emails.text().replace(";", ",").split(",") if e.strip()]
        pausing = self.on_exceed.currentData() == "pause_key"
        if pausing and self.pause_account.count() == 0:
            raise InputError("on-exceed", "pause_key", "add an OpenRouter account with a management key first")
        quiet = self.quiet.isChecked()
        return BudgetSpec.build(
            name=self.name.text(), amount=self.amount_text() or "0", period=self.period.currentText(),
            scope=scope, currency=self.currency.currentText(), thresholds=self.thresholds.text(),
            forecast_alert=self.forecast.isChecked(), emails=emails, on_exceed=self.on_exceed.currentData(),
            quiet_start=self.quiet_start.time().toString("HH:mm") if quiet else None,
            quiet_end=self.quiet_end.time().toString("HH:mm") if quiet else None,
            pause_account_id=self.pause_account.currentData() if pausing else None,
            pause_key_hash=self.pause_key.text().strip() or None if pausing else None,
            enabled=self._initial.enabled if self._initial else True)

    def field_errors(self) -> dict[str, str]:
        """Every invalid field's message, keyed by the core's field names (all of them, not the first)."""
        out: dict[str, str] = {}

        def check(key: str, fn: Callable[[], object]) -> None:
            try:
                fn()
            except InputError as exc:
                out.setdefault(key, f"{_label(exc.field)}: {exc.reason}")

        name = self.name.text().strip()
        if not name or len(name) > 120:
            out["name"] = "Name: must be 1..120 characters"
        check("amount", lambda: parse_amount(self.amount_text() or "0", "amount"))
        kind = self.scope_kind.currentData()
        if kind != "all":
            value = self.scope_value.text().strip()
            check("scope", lambda: Scope.parse(f"{kind}:{value}"))
            known = self.known.get(kind)
            if "scope" not in out and kind in STRICT_SCOPES and known is not None and value not in known:
                out["scope"] = f"Scope: {self._nothing_matches(kind, value)}"
        check("thresholds", lambda: parse_thresholds(self.thresholds.text()))
        for e in [e.strip() for e in self.emails.text().replace(";", ",").split(",") if e.strip()]:
            check("email", lambda e=e: parse_email(e, "email"))
        if not out:
            check("form", self._build)  # the rest (pause key, quiet hours) as the core checks it
            if "form" in out:
                try:
                    self._build()
                except InputError as exc:
                    out[{"quiet-end": "quiet-start"}.get(exc.field, exc.field)] = out.pop("form")
        return out

    def _nothing_matches(self, kind: str, value: str) -> str:
        known = self.known.get(kind, [])
        near = close_matches(value, known, n=2)
        text = f"nothing in the ledger matches '{value}'"
        if near:
            return text + " — did you mean " + " or ".join(near) + "?"
        return text + (f" (it has {', '.join(known[:6])}{', …' if len(known) > 6 else ''})" if known else " yet")

    def scope_warning(self) -> str:
        """A warning (not an error) for a scope value nothing in the ledger has yet: usually a typo."""
        kind = self.scope_kind.currentData()
        value = self.scope_value.text().strip()
        if kind in ("all", *STRICT_SCOPES) or not value or kind not in self.known or value in self.known[kind]:
            return ""
        if kind == "provider" and value.lower() in {k.lower() for k in self.known[kind]}:
            return ""
        return self._nothing_matches(kind, value)[:1].upper() + self._nothing_matches(kind, value)[1:] + \
            " The budget will count nothing until rows with that name arrive."

    def _widget_of(self, key: str) -> QWidget | None:
        return {"name": self.name, "amount": self.amount, "scope": self.scope_value, "thresholds": self.thresholds,
                "email": self.emails, "pause-key": self.pause_key}.get(key)

    def validate(self, *_: Any) -> bool:
        kind = self.scope_kind.currentData()
        self.scope_combo.setEnabled(kind != "all")
        pausing = self.on_exceed.currentData() == "pause_key"
        self.pause_account.setEnabled(pausing)
        self.pause_key.setEnabled(pausing)
        blocking = self.on_exceed.currentData() == "block"
        if self.block_help.isHidden() == blocking:
            self.block_help.setVisible(blocking)
            if self.isVisible():
                self.adjustSize()  # the sentence needs its wrapped height
        self.quiet_start.setEnabled(self.quiet.isChecked())
        self.quiet_end.setEnabled(self.quiet.isChecked())
        errors = self.field_errors()
        # Only fields the user has touched say what is wrong; OK stays off while anything is.
        shown = {k: v for k, v in errors.items() if k in self._touched or k not in self.FIELDS}
        for key in self.FIELDS:
            w = self._widget_of(key)
            if w is not None and bool(w.property("invalid")) != (key in shown):
                w.setProperty("invalid", key in shown)
                w.style().unpolish(w)
                w.style().polish(w)
        self.error.setText("\n".join(shown.values()))
        warning = self.scope_warning() if "scope" not in errors else ""
        if warning != self.scope_hint.text():
            self.scope_hint.setText(warning)
            self.scope_hint.setVisible(bool(warning))
            if self.isVisible():
                self.adjustSize()  # a wrapped warning needs its height (it was clipped to one line)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not errors)
        return not errors

    def accept(self) -> None:
        self._touched |= set(self.FIELDS)
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
