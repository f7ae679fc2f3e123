"""Settings: time zone (with completion), display currency, week start and tray/login behaviour."""

from __future__ import annotations

import zoneinfo
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QCompleter, QDialog, QDialogButtonBox, QFormLayout, QLabel,
                               QLineEdit, QVBoxLayout, QWidget)

from aicost_desktop.config import SETTINGS
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import CURRENCIES

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
BOOLS = ("start_minimized", "close_to_tray", "start_at_login", "http_debug_log")


class SettingsDialog(QDialog):
    """Edits the declared settings; invalid values are shown inline and nothing is saved.

    Signals:
        settings_changed(object): the list of keys whose values changed, after saving.
    """

    settings_changed = Signal(object)

    def __init__(self, ctx: "AppContext", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.ctx = ctx
        s = ctx.settings
        form = QFormLayout()
        self.tz = QLineEdit(s.get("timezone"))
        self.tz.setObjectName("timezoneEdit")
        self.tz.setPlaceholderText(f"System ({ctx.tz_name})")
        completer = QCompleter(sorted(zoneinfo.available_timezones()), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.tz.setCompleter(completer)
        form.addRow(SETTINGS["timezone"].label, self.tz)
        self.currency = QComboBox()
        self.currency.setObjectName("currencyCombo")
        self.currency.addItems(sorted(CURRENCIES))
        self.currency.setCurrentText(s.get("display_currency"))
        form.addRow(SETTINGS["display_currency"].label, self.currency)
        self.week_start = QComboBox()
        self.week_start.setObjectName("weekStartCombo")
        self.week_start.addItems(WEEKDAYS)
        self.week_start.setCurrentIndex(s.get("week_start"))
        form.addRow("First day of the week", self.week_start)
        self.checks: dict[str, QCheckBox] = {}
        for key in BOOLS:
            box = QCheckBox(SETTINGS[key].label)
            box.setObjectName(f"{key}Check")
            box.setChecked(bool(s.get(key)))
            self.checks[key] = box
            form.addRow("", box)
        self.error = QLabel("")
        self.error.setObjectName("settingsError")
        self.error.setStyleSheet("color: #c62828;")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.tz.textEdited.connect(lambda _t: self._clear_error())

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {"timezone": self.tz.text().strip(), "display_currency": self.currency.currentText(),
                               "week_start": self.week_start.currentIndex()}
        out.update({k: box.isChecked() for k, box in self.checks.items()})
        return out

    def _clear_error(self) -> None:
        self.error.hide()
        self.tz.setStyleSheet("")

    def validate(self) -> dict[str, Any] | None:
        """Validated values, or None after showing the first problem inline."""
        values = self.values()
        for key, value in values.items():
            spec = SETTINGS[key]
            try:
                values[key] = spec.validate(value) if spec.validate else value
            except InputError as exc:
                self.error.setText(str(exc))
                self.error.show()
                if key == "timezone":
                    self.tz.setStyleSheet("border: 1px solid #c62828;")
                    self.tz.setFocus()
                return None
        return values

    def accept(self) -> None:
        values = self.validate()
        if values is None:
            return
        changed = [k for k, v in values.items() if self.ctx.settings.get(k) != v]
        for key in changed:
            self.ctx.settings.set(key, values[key])
        if changed:
            self.ctx.apply_logging_settings()
            self.settings_changed.emit(changed)
        super().accept()
