"""Shared pieces of the app's entry dialogs: per-field error labels, common editors and the footer."""

from __future__ import annotations

from datetime import date
from typing import Callable

from PySide6.QtCore import QDate
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (QComboBox, QDateEdit, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit,
                               QVBoxLayout, QWidget)

from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import CURRENCIES

ERROR_STYLE = "color: #c62828;"


class FormErrors:
    """Red labels under form fields, keyed by the core's InputError field names."""

    def __init__(self, form: QFormLayout) -> None:
        self.form = form
        self.labels: dict[str, QLabel] = {}
        self.hints: dict[str, QLabel] = {}
        self.aliases: dict[str, str] = {}

    def add_row(self, label: str, field: str, widget: QWidget, *aliases: str, hint: str | None = None) -> QLabel:
        """Add `widget` under `label` with an (initially hidden) error label for `field` and its aliases."""
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(widget)
        if hint is not None:
            h = QLabel(hint)
            h.setObjectName(f"hint_{field}")
            h.setWordWrap(True)
            h.setForegroundRole(QPalette.ColorRole.PlaceholderText)
            self.hints[field] = h
            lay.addWidget(h)
        err = QLabel("")
        err.setObjectName(f"error_{field}")
        err.setWordWrap(True)
        err.setStyleSheet(ERROR_STYLE)
        err.setVisible(False)
        lay.addWidget(err)
        self.form.addRow(label, box)
        self.labels[field] = err
        for a in aliases:
            self.aliases[a] = field
        return err

    def clear(self) -> None:
        for lab in self.labels.values():
            lab.clear()
            lab.setVisible(False)

    def show(self, field: str, message: str) -> bool:
        """Show `message` under the field (or its alias); False if the form has no such field."""
        key = self.aliases.get(field, field)
        lab = self.labels.get(key)
        if lab is None:
            return False
        lab.setText(message)
        lab.setVisible(True)
        return True

    def show_input_error(self, exc: InputError, label_of: dict[str, str] | None = None) -> bool:
        name = (label_of or {}).get(exc.field, exc.field.replace("_", " ").replace("-", " "))
        return self.show(exc.field, f"{name[:1].upper()}{name[1:]}: {exc.reason}")

    def text(self, field: str) -> str:
        lab = self.labels.get(self.aliases.get(field, field))
        return lab.text() if lab is not None and not lab.isHidden() else ""


def currency_combo(default: str) -> QComboBox:
    """An editable currency picker with the common codes first (the core validates what is typed)."""
    combo = QComboBox()
    combo.setEditable(True)
    common = ["USD", "EUR", "GBP", "CNY", "JPY"]
    for code in common + sorted(c for c in CURRENCIES if c not in common):
        combo.addItem(code)
    combo.setCurrentText(default)
    return combo


def to_qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def from_qdate(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())


def date_edit(object_name: str, initial: date | None = None) -> QDateEdit:
    """An ISO-formatted date picker with a calendar popup."""
    edit = QDateEdit()
    edit.setObjectName(object_name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setDate(to_qdate(initial or date.today()))
    return edit


def line_edit(object_name: str, placeholder: str = "") -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(object_name)
    if placeholder:
        edit.setPlaceholderText(placeholder)
    return edit


def add_footer(dialog: QDialog, layout: QVBoxLayout, on_save: Callable[[], None]) -> tuple[QLabel, QDialogButtonBox]:
    """The error line for messages no field claims, then Save / Cancel; returns both."""
    error = QLabel("")
    error.setObjectName("generalError")
    error.setStyleSheet(ERROR_STYLE)
    error.setWordWrap(True)
    error.setVisible(False)
    layout.addWidget(error)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(on_save)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    return error, buttons
