"""Settings: general (time zone, currency, week start, theme, sync interval, cost mode, tray/login), exchange rates
(view and edit), email (SMTP, password in the keychain, "Send test email"), the metering gateway (on/off, port,
upstreams, the key sent per provider) and incoming webhooks (on/off, port); every invalid field marked at once."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Sequence

from PySide6.QtCore import Qt, QThreadPool, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QApplication, QCheckBox, QComboBox, QCompleter, QDialog, QDialogButtonBox,
                               QFormLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton, QSpinBox,
                               QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from aicost_desktop.accounts import list_accounts
from aicost_desktop.config import GATEWAY_PROVIDERS, SETTINGS
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import CURRENCIES
from aicost_desktop.notify.alerts import AlertView
from aicost_desktop.notify.email import EmailChannel, SECURITY, SMTP_SECRET_KEY, SmtpConfig, parse_email
from aicost_desktop.notify.outbox import Delivery
from aicost_desktop.ui.dialogs.locale_numbers import decimal_text
from aicost_desktop.ui.theme import apply_theme
from aicost_desktop.ui.workers import run_in_pool

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
BOOLS = ("start_minimized", "close_to_tray", "start_at_login", "http_debug_log")
THEMES = (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark"))
COST_MODES = (("auto", "Provider-reported where available, else computed"), ("reported", "Provider-reported only"),
              ("computed", "Computed from the price catalog"))
INVALID_STYLE = 'QLineEdit[invalid="true"] { border: 1px solid #c62828; border-radius: 2px; }'
BAD_CELL = QColor(198, 40, 40, 70)
PROVIDER_NAMES = {"openai": "OpenAI", "anthropic": "Anthropic"}
PASS_THROUGH = "Pass the client's key through"
GATEWAY_NOTE = ("A proxy on this machine (127.0.0.1 only) that meters every call your scripts make through it: point "
                "them at http://127.0.0.1:PORT/openai/v1 or /anthropic with the gateway token "
                "(aicost gateway token). See docs/gateway.md.")
INCOMING_NOTE = ("Receive signed requests from Slack, GitHub, Stripe or your own service at "
                 "http://127.0.0.1:PORT/hooks/<connection name>, through a tunnel you run (cloudflared, ngrok...). "
                 "A request without a valid signature gets 401 and is logged; the connection needs its signing "
                 "secret. See docs/integrations/incoming.md.")


def send_test_email(smtp: dict[str, Any], password: str | None, to: str) -> str:
    """Pool thread: mail a sample budget alert through `smtp` (notify.email's channel); returns what was done."""
    cfg = SmtpConfig.from_setting(smtp)
    if cfg is None:
        raise InputError("smtp.host", "", "give the SMTP server's host first")
    alert = AlertView(0, "threshold", "Test budget", None, Decimal(80),
                      "This is a test email from AI Cost Tracker: alert email works.", Decimal(80), Decimal(100),
                      "USD", None, datetime.now(timezone.utc), False)
    EmailChannel(cfg, lambda: password).send(Delivery(0, "email", to, 1, alert))
    return f"Test email sent to {to} through {cfg.host}:{cfg.port}."


def _mark(w: QWidget, bad: bool) -> None:
    """The red border of an invalid field (QLineEdit[invalid="true"])."""
    if bool(w.property("invalid")) != bad:
        w.setProperty("invalid", bad)
        w.style().unpolish(w)
        w.style().polish(w)


class GatewayFields:
    """The Gateway tab: the six `gateway_*` settings; each field says what is wrong under it once it is typed in.

    `accounts` are (provider, name) pairs: a provider's route offers its own accounts' keys to inject."""

    def __init__(self, settings: Any, accounts: Sequence[tuple[str, str]]) -> None:
        self.widget = QWidget(objectName="gatewayTab")
        form = self._form = QFormLayout(self.widget)
        note = QLabel(GATEWAY_NOTE)
        note.setWordWrap(True)
        form.addRow(note)
        self.enabled = QCheckBox(SETTINGS["gateway_enabled"].label, objectName="gatewayEnabledCheck")
        self.enabled.setChecked(bool(settings.get("gateway_enabled")))
        form.addRow("", self.enabled)
        self.errors: dict[str, QLabel] = {}
        self._labels: dict[str, str] = {}
        self.port = QLineEdit(str(settings.get("gateway_port")), objectName="gatewayPort")
        self.port.setPlaceholderText("8788")
        self._row(form, "gateway_port", "Port", self.port)
        self.upstream: dict[str, QLineEdit] = {}
        self.inject: dict[str, QComboBox] = {}
        for p in GATEWAY_PROVIDERS:
            edit = QLineEdit(settings.get(f"gateway_upstream_{p}"), objectName=f"gatewayUpstream_{p}")
            self.upstream[p] = edit
            self._row(form, f"gateway_upstream_{p}", f"{PROVIDER_NAMES[p]} base URL", edit)
        for p in GATEWAY_PROVIDERS:
            combo = QComboBox(objectName=f"gatewayInject_{p}")
            combo.addItem(PASS_THROUGH, "")
            for provider, name in accounts:
                if provider == p:
                    combo.addItem(name, name)
            current = settings.get(f"gateway_inject_{p}")
            if current and combo.findData(current) < 0:  # an account since removed: kept, the gateway says why
                combo.addItem(current, current)
            combo.setCurrentIndex(max(0, combo.findData(current)))
            combo.setToolTip(f"Send this account's stored key to {PROVIDER_NAMES[p]} (clients then use the gateway "
                             "token as their API key), or pass each client's own key through")
            self.inject[p] = combo
            form.addRow(f"{PROVIDER_NAMES[p]} key", combo)

    def _row(self, form: QFormLayout, key: str, label: str, edit: QLineEdit) -> None:
        error = QLabel("", objectName=f"{key}Error")
        error.setStyleSheet("color: #c62828;")
        error.setWordWrap(True)
        self.errors[key] = error
        self._labels[key] = label
        edit.textEdited.connect(lambda _t, k=key: self.check(k))  # typing, not construction: no error before
        form.addRow(label, edit)
        form.addRow("", error)
        form.setRowVisible(error, False)  # no gap under a field that is fine

    def values(self) -> dict[str, Any]:
        text = self.port.text().strip()
        out: dict[str, Any] = {"gateway_enabled": self.enabled.isChecked(),
                               "gateway_port": int(text) if text.isdigit() and len(text) < 7 else text}
        out.update({f"gateway_upstream_{p}": e.text().strip() for p, e in self.upstream.items()})
        out.update({f"gateway_inject_{p}": c.currentData() or "" for p, c in self.inject.items()})
        return out

    def check(self, key: str) -> str:
        """Validate one field with its setting's rule; '' when fine, else 'Port: must be …' (also shown under it)."""
        spec = SETTINGS[key]
        message = ""
        try:
            if spec.validate:
                spec.validate(self.values()[key])
        except InputError as exc:
            message = f"{self._labels.get(key, key)}: {exc.reason}"
        error = self.errors.get(key)
        if error is not None:
            error.setText(message)
            self._form.setRowVisible(error, bool(message))
            _mark(self.port if key == "gateway_port" else self.upstream[key.rsplit("_", 1)[1]], bool(message))
        return message


def _apply_theme(mode: str) -> None:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        apply_theme(app, mode)


class SettingsDialog(QDialog):
    """Edits the declared settings; invalid values are shown inline and nothing is saved.

    Signals:
        settings_changed(object): the list of keys whose values changed, after saving.
        test_finished(str): the outcome of "Send test email" (sent, or why not).
    """

    settings_changed = Signal(object)
    test_finished = Signal(str)

    def __init__(self, ctx: "AppContext", parent: QWidget | None = None, pool: QThreadPool | None = None,
                 accounts: Sequence[tuple[str, str]] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.setStyleSheet(INVALID_STYLE)
        self.ctx, self.pool = ctx, pool
        self.apply_theme = _apply_theme  # replaceable in tests (the palette is the application's)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._general(), "General")
        self.tabs.addTab(self._rates(), "Exchange rates")
        self.tabs.addTab(self._email(), "Email")
        if accounts is None:  # a short read of the accounts list, as the email tab reads the keychain
            accounts = [(a.provider, a.name) for a in list_accounts(ctx.db, include_demo=False)]
        self.tabs.addTab(self._incoming(), "Webhooks")
        self.gateway_fields = GatewayFields(ctx.settings, accounts)
        self.tabs.addTab(self.gateway_fields.widget, "Gateway")
        self.error = QLabel("")
        self.error.setObjectName("settingsError")
        self.error.setStyleSheet("color: #c62828;")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.tabs)
        lay.addWidget(self.error)
        lay.addWidget(buttons)

    # -- tabs ---------------------------------------------------------------------------------

    def _general(self) -> QWidget:
        s, w = self.ctx.settings, QWidget()
        form = QFormLayout(w)
        self.tz = QLineEdit(s.get("timezone"))
        self.tz.setObjectName("timezoneEdit")
        self.tz.setPlaceholderText(f"System ({self.ctx.tz_name})")
        completer = QCompleter(sorted(zoneinfo.available_timezones()), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.tz.setCompleter(completer)
        self.tz.textEdited.connect(lambda _t: self._mark(self.tz, False))
        form.addRow(SETTINGS["timezone"].label, self.tz)
        self.currency = QComboBox(objectName="currencyCombo")
        self.currency.addItems(sorted(CURRENCIES))
        self.currency.setCurrentText(s.get("display_currency"))
        form.addRow(SETTINGS["display_currency"].label, self.currency)
        self.week_start = QComboBox(objectName="weekStartCombo")
        self.week_start.addItems(WEEKDAYS)
        self.week_start.setCurrentIndex(s.get("week_start"))
        form.addRow("First day of the week", self.week_start)
        self.theme = QComboBox(objectName="themeCombo")
        for key, label in THEMES:
            self.theme.addItem(label, key)
        self.theme.setCurrentIndex(max(0, self.theme.findData(s.get("theme"))))
        form.addRow("Theme", self.theme)
        self.sync_interval = QSpinBox(objectName="syncIntervalSpin")
        self.sync_interval.setRange(1, 24 * 60)
        self.sync_interval.setSuffix(" min")
        self.sync_interval.setValue(min(s.get("sync_interval_minutes"), 24 * 60))
        form.addRow(SETTINGS["sync_interval_minutes"].label, self.sync_interval)
        self.cost_mode = QComboBox(objectName="costModeCombo")
        for key, label in COST_MODES:
            self.cost_mode.addItem(label, key)
        self.cost_mode.setCurrentIndex(max(0, self.cost_mode.findData(s.get("cost_mode"))))
        form.addRow("Cost mode", self.cost_mode)
        self.checks: dict[str, QCheckBox] = {}
        for key in BOOLS:
            box = QCheckBox(SETTINGS[key].label)
            box.setObjectName(f"{key}Check")
            box.setChecked(bool(s.get(key)))
            self.checks[key] = box
            form.addRow("", box)
        return w

    def _incoming(self) -> QWidget:
        s, w = self.ctx.settings, QWidget(objectName="incomingTab")
        form = QFormLayout(w)
        note = QLabel(INCOMING_NOTE)
        note.setWordWrap(True)
        form.addRow(note)
        self.incoming_enabled = QCheckBox(SETTINGS["incoming_webhooks_enabled"].label, objectName="incomingEnabledCheck")
        self.incoming_enabled.setChecked(bool(s.get("incoming_webhooks_enabled")))
        form.addRow("", self.incoming_enabled)
        self.incoming_port = QLineEdit(str(s.get("incoming_webhooks_port")), objectName="incomingPort")
        self.incoming_port.textEdited.connect(lambda _t: self._mark(self.incoming_port, False))
        form.addRow("Port", self.incoming_port)
        return w

    def _rates(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        note = QLabel("What one unit of each currency is worth in US dollars. Totals in another display currency "
                      "are converted with these rates.")
        note.setWordWrap(True)
        lay.addWidget(note)
        self.rates = QTableWidget(0, 2, objectName="ratesTable")
        self.rates.setHorizontalHeaderLabels(["Currency", "Rate to USD"])
        self.rates.verticalHeader().setVisible(False)
        self.rates.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for code, rate in sorted(self.ctx.settings.get("fx_rates").items()):
            self._add_rate(code, str(rate))
        self.rates.itemChanged.connect(lambda item: self._rate_edited(item))
        row = QHBoxLayout()
        add = QPushButton("Add currency")
        add.clicked.connect(lambda: self._add_rate("", ""))
        remove = QPushButton("Remove")
        remove.clicked.connect(lambda: self.rates.removeRow(self.rates.currentRow())
                               if self.rates.currentRow() >= 0 else None)
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        lay.addWidget(self.rates, 1)
        lay.addLayout(row)
        return w

    def _add_rate(self, code: str, rate: str) -> None:
        r = self.rates.rowCount()
        self.rates.insertRow(r)
        item = QTableWidgetItem(code)
        if code == "USD":  # the base: always 1
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
        self.rates.setItem(r, 0, item)
        value = QTableWidgetItem(rate)
        if code == "USD":
            value.setFlags(value.flags() & ~Qt.ItemFlag.ItemIsEditable)
        value.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.rates.setItem(r, 1, value)

    def _rate_edited(self, item: QTableWidgetItem) -> None:
        item.setBackground(QBrush())  # the user is fixing it: no red until the next check

    def _email(self) -> QWidget:
        smtp = dict(self.ctx.settings.get("smtp") or {})
        w = QWidget()
        form = QFormLayout(w)
        self.smtp_host = QLineEdit(str(smtp.get("host") or ""), objectName="smtpHost")
        self.smtp_host.setPlaceholderText("smtp.example.com (empty: no email)")
        self.smtp_port = QSpinBox(objectName="smtpPort")
        self.smtp_port.setRange(1, 65535)
        self.smtp_port.setValue(int(smtp.get("port") or 587))
        self.smtp_security = QComboBox(objectName="smtpSecurity")
        for key, label in zip(SECURITY, ("STARTTLS (port 587)", "SSL/TLS (port 465)", "None (local relay only)")):
            self.smtp_security.addItem(label, key)
        self.smtp_security.setCurrentIndex(max(0, self.smtp_security.findData(smtp.get("security", "starttls"))))
        self.smtp_user = QLineEdit(str(smtp.get("user") or ""), objectName="smtpUser")
        self.smtp_from = QLineEdit(str(smtp.get("from") or ""), objectName="smtpFrom")
        self.smtp_from.setPlaceholderText("sender address (default: the user)")
        self.smtp_password = QLineEdit(objectName="smtpPassword")
        self.smtp_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.has_password = self._stored_password() is not None
        self.smtp_password.setPlaceholderText("stored in the keychain (type to replace)" if self.has_password
                                              else "kept in the system keychain, never in the settings file")
        self.test_to = QLineEdit(str(smtp.get("from") or smtp.get("user") or ""), objectName="smtpTestTo")
        self.test_btn = QPushButton("Send test email", objectName="smtpTestButton")
        self.test_btn.clicked.connect(self.send_test)
        self.test_result = QLabel("", objectName="smtpTestResult")
        self.test_result.setWordWrap(True)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_to, 1)
        test_row.addWidget(self.test_btn)
        form.addRow("Host", self.smtp_host)
        form.addRow("Port", self.smtp_port)
        form.addRow("Security", self.smtp_security)
        form.addRow("User", self.smtp_user)
        form.addRow("Password", self.smtp_password)
        form.addRow("From", self.smtp_from)
        form.addRow("Send a test to", test_row)
        form.addRow("", self.test_result)
        for e in (self.smtp_host, self.smtp_user, self.smtp_from, self.test_to):
            e.textEdited.connect(lambda _t, e=e: self._mark(e, False))
        return w

    def _stored_password(self) -> str | None:
        try:
            return self.ctx.secrets.get(SMTP_SECRET_KEY)
        except Exception:  # noqa: BLE001 - no keychain: nothing stored
            return None

    # -- values and validation ----------------------------------------------------------------

    def smtp_values(self) -> dict[str, Any]:
        host = self.smtp_host.text().strip()
        if not host:
            return {}
        out: dict[str, Any] = {"host": host, "port": self.smtp_port.value(),
                               "security": self.smtp_security.currentData()}
        if self.smtp_user.text().strip():
            out["user"] = self.smtp_user.text().strip()
        if self.smtp_from.text().strip():
            out["from"] = self.smtp_from.text().strip()
        return out

    def rate_values(self) -> tuple[dict[str, str], list[str]]:
        """The rates table as {code: rate string} and the problems found (bad cells are tinted red)."""
        rates: dict[str, str] = {}
        problems: list[str] = []
        for r in range(self.rates.rowCount()):
            code_item, rate_item = self.rates.item(r, 0), self.rates.item(r, 1)
            code = (code_item.text() if code_item else "").strip().upper()
            text = decimal_text(rate_item.text() if rate_item else "")
            if not code and not text:
                continue
            if code not in CURRENCIES or code in rates:
                problems.append(f"Exchange rates: '{code or '(empty)'}' is not a currency code such as EUR"
                                if code not in CURRENCIES else f"Exchange rates: {code} is listed twice")
                if code_item:
                    code_item.setBackground(BAD_CELL)
                continue
            try:
                d = Decimal(text)
            except (InvalidOperation, ValueError):
                d = Decimal("NaN")
            if not d.is_finite() or d <= 0 or d > 10**9:
                problems.append(f"Exchange rates: {code} must be a number above 0 such as 1.08, not '{text}'")
                if rate_item:
                    rate_item.setBackground(BAD_CELL)
                continue
            rates[code] = f"{d.normalize():f}"
        rates["USD"] = "1"
        return rates, problems

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {"timezone": self.tz.text().strip(), "display_currency": self.currency.currentText(),
                               "week_start": self.week_start.currentIndex(), "theme": self.theme.currentData(),
                               "sync_interval_minutes": self.sync_interval.value(),
                               "cost_mode": self.cost_mode.currentData(), "fx_rates": self.rate_values()[0],
                               "smtp": self.smtp_values()}
        out.update({k: box.isChecked() for k, box in self.checks.items()})
        out.update(self.gateway_fields.values())
        port = self.incoming_port.text().strip()
        out.update({"incoming_webhooks_enabled": self.incoming_enabled.isChecked(),
                    "incoming_webhooks_port": int(port) if port.isdigit() and len(port) < 7 else port})
        return out

    def _mark(self, w: QWidget, bad: bool) -> None:
        if bool(w.property("invalid")) != bad:
            w.setProperty("invalid", bad)
            w.style().unpolish(w)
            w.style().polish(w)

    def validate(self) -> dict[str, Any] | None:
        """Validated values, or None after marking every problem at once (fields and the error line)."""
        values = self.values()
        problems: list[str] = []
        _rates, rate_problems = self.rate_values()
        problems += rate_problems
        for key, value in values.items():
            if key in self.gateway_fields.errors:  # named by its field, under the field too
                message = self.gateway_fields.check(key)
                if message:
                    problems.append(f"Gateway › {message} ({key})")
                    continue
            spec = SETTINGS[key]
            try:
                values[key] = spec.validate(value) if spec.validate else value
            except InputError as exc:
                if key == "incoming_webhooks_port":  # named by its tab and field, as the gateway's are
                    problems.append(f"Webhooks › Port: {exc.reason} ({key})")
                    self._mark(self.incoming_port, True)
                    continue
                problems.append(str(exc))
                if key == "timezone":
                    self._mark(self.tz, True)
        if values["display_currency"] not in values["fx_rates"]:
            problems.append(f"Exchange rates: the display currency {values['display_currency']} needs a rate")
        for field_, edit in (("smtp.from", self.smtp_from), ("smtp.user", self.smtp_user)):
            text = edit.text().strip()
            if field_ == "smtp.user" and "@" not in text:
                continue  # a user name need not be an address
            if text:
                try:
                    parse_email(text, field_)
                except InputError as exc:
                    problems.append(str(exc))
                    self._mark(edit, True)
        if (self.smtp_user.text().strip() or self.smtp_password.text() or self.smtp_from.text().strip()) \
                and not self.smtp_host.text().strip():
            problems.append("smtp.host: give the SMTP server's host (or clear the email fields)")
            self._mark(self.smtp_host, True)
        if problems:
            self.error.setText("\n".join(problems))
            self.error.show()
            return None
        self.error.hide()
        return values

    # -- actions ------------------------------------------------------------------------------

    def send_test(self) -> None:
        """Mail a sample alert with what the form holds now (not yet saved), on a worker."""
        to = self.test_to.text().strip()
        try:
            parse_email(to, "test address")
        except InputError as exc:
            self._mark(self.test_to, True)
            self.test_result.setText(str(exc))
            return
        password = self.smtp_password.text() or self._stored_password()
        self.test_btn.setEnabled(False)
        self.test_result.setText(f"Sending a test email to {to}…")
        run_in_pool(self.pool, send_test_email, self.smtp_values(), password, to, owner=self,
                    on_done=self._test_done, on_error=lambda exc: self._test_done(f"Not sent: {exc}"))

    def _test_done(self, text: str) -> None:
        self.test_btn.setEnabled(True)
        self.test_result.setText(text)
        self.test_finished.emit(text)

    def accept(self) -> None:
        values = self.validate()
        if values is None:
            return
        changed = [k for k, v in values.items() if self.ctx.settings.get(k) != v]
        password = self.smtp_password.text()
        if password:
            try:
                self.ctx.secrets.set(SMTP_SECRET_KEY, password)
            except Exception as exc:  # noqa: BLE001 - no keychain: say so, keep the dialog open
                self.error.setText(f"SMTP password: could not store it in the keychain ({exc})")
                self.error.show()
                return
            changed.append("smtp_password")
        for key in changed:
            if key in SETTINGS:
                self.ctx.settings.set(key, values[key])
        if "theme" in changed:
            self.apply_theme(values["theme"])
        if changed:
            self.ctx.apply_logging_settings()
            self.settings_changed.emit(changed)
        super().accept()
