"""Add / edit a provider account: provider, name, key (to the keychain), base URL, workspace, interval, test.

Saving and "Test connection" run in pool workers; an `InputError` from the core shows in red under
the field it names. The key is only ever in the password field and the worker's arguments: it is
never logged and is scrubbed from any message shown.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from aicost_desktop.accounts import (MAX_NAME, account_key, add_account, make_client, replace_key, update_account,
                                     validate_base_url)
from aicost_desktop.domain.errors import InputError
from aicost_desktop.sync.base import AccountInfo, AuthError, ProviderError
from aicost_desktop.storage.tables import Account
from aicost_desktop.sync.registry import PROVIDERS, make_sync
from aicost_desktop.ui.dialogs.form_kit import ERROR_STYLE, FormErrors, add_footer

if TYPE_CHECKING:
    from aicost_desktop.accounts import AccountView
    from aicost_desktop.ui.services import Services

log = logging.getLogger("aicost.ui.accounts")
OK_STYLE = "color: #2e7d32;"


def scrub(message: str, secret: str) -> str:
    """Remove a secret from a message (defence in depth: core messages already avoid it)."""
    return message.replace(secret, "<redacted>") if secret and len(secret) >= 4 else message


def check_connection_job(provider: str, base_url: str, key: str, name: str = "test") -> str:
    """Worker side: one authenticated request through the provider's sync; returns its one-liner."""
    info = AccountInfo(0, name, provider, base_url, 0, key)
    with make_client(timeout=20.0) as client:
        try:
            return make_sync(provider).test_connection(client, info)
        except (AuthError, ProviderError) as exc:
            raise RuntimeError(scrub(str(exc), key)) from None
        except Exception as exc:  # network trouble: one line
            raise RuntimeError(scrub(f"{type(exc).__name__}: {exc}", key)) from None


class AccountDialog(QDialog):
    """Add (account=None) or edit an account. Non-modal-friendly: call `open()`.

    Signals:
        saved(int): the account id after a successful save (the dialog then closes).
        save_failed(str): saving failed; the message is shown inline (field errors under fields).
        tested(bool, str): "Test connection" finished: ok and its one-line result.
    """

    saved = Signal(int)
    save_failed = Signal(str)
    tested = Signal(bool, str)

    LABELS = {"provider": "provider", "name": "display name", "key": "API key", "base-url": "base URL",
              "workspace": "workspace", "sync-interval": "sync interval"}

    def __init__(self, services: "Services", account: "AccountView | None" = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.ctx, self.account = services, services.ctx, account
        self.setObjectName("accountDialog")
        self.setWindowTitle("Edit account" if account else "Add account")
        self.setMinimumWidth(520)
        self._busy = False
        lay = QVBoxLayout(self)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.errors = FormErrors(form)

        self.provider = QComboBox()
        self.provider.setObjectName("providerCombo")
        for spec in PROVIDERS.values():
            self.provider.addItem(spec.label, spec.name)
        self.errors.add_row("&Provider", "provider", self.provider)
        self.name = QLineEdit()
        self.name.setObjectName("nameEdit")
        self.name.setPlaceholderText("e.g. OpenAI (prod)")
        self.errors.add_row("Display &name", "name", self.name)
        self.key = QLineEdit()
        self.key.setObjectName("keyEdit")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)
        self.errors.add_row("API &key", "key", self.key, hint="")
        self.key_hint = self.errors.hints["key"]
        self.base_url = QLineEdit()
        self.base_url.setObjectName("baseUrlEdit")
        self.errors.add_row("&Base URL", "base-url", self.base_url, "base_url",
                            hint="Change only for a gateway or proxy that speaks the provider's API.")
        self.workspace = QLineEdit()
        self.workspace.setObjectName("workspaceEdit")
        self.workspace.setPlaceholderText("Default")
        self.errors.add_row("&Workspace", "workspace", self.workspace)
        self.interval = QSpinBox()
        self.interval.setObjectName("intervalSpin")
        self.interval.setRange(0, 24 * 60)
        self.interval.setSuffix(" min")
        self.interval.setSpecialValueText(f"Default ({self.ctx.settings.get('sync_interval_minutes')} min)")
        self.errors.add_row("Sync &every", "sync-interval", self.interval, "sync_interval_minutes")
        lay.addLayout(form)

        test_row = QHBoxLayout()
        self.test_button = QPushButton("&Test connection")
        self.test_button.setObjectName("testConnectionButton")
        self.test_button.clicked.connect(self.test_connection)
        self.test_result = QLabel("")
        self.test_result.setObjectName("testResult")
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)
        lay.addLayout(test_row)
        self.general_error, self.buttons = add_footer(self, lay, self.save)

        self._last_default = ""
        self.provider.currentIndexChanged.connect(self._provider_changed)
        if account is not None:
            self._fill(account)
        self._provider_changed()

    # -- form ------------------------------------------------------------------------------

    def _fill(self, acc: "AccountView") -> None:
        i = self.provider.findData(acc.provider)
        if i >= 0:
            self.provider.setCurrentIndex(i)
        self.provider.setEnabled(False)  # a different provider is a different account
        self.name.setText(acc.name)
        self.key.setPlaceholderText("Leave empty to keep the key in the keychain")
        self.base_url.setText(acc.base_url)
        self.workspace.setEnabled(False)
        self.workspace.setPlaceholderText("Set when the account is added")
        self.interval.setValue(acc.sync_interval_minutes or 0)

    def provider_name(self) -> str:
        return str(self.provider.currentData())

    def _provider_changed(self) -> None:
        spec = PROVIDERS[self.provider_name()]
        self.key_hint.setText(f"Needs {spec.key_hint}. Stored in the OS keychain, never in the database.")
        if not self.base_url.text().strip() or self.base_url.text().strip() == self._last_default:
            self.base_url.setText(spec.base_url)
        self._last_default = spec.base_url
        self.base_url.setPlaceholderText(spec.base_url)

    def values(self) -> dict[str, Any]:
        return {"provider": self.provider_name(), "name": self.name.text().strip(), "key": self.key.text(),
                "base_url": self.base_url.text().strip() or None, "workspace": self.workspace.text().strip() or None,
                "sync_interval_minutes": self.interval.value() or None}

    def validate(self) -> bool:
        """Quick checks on the GUI thread (the core re-checks everything in the worker)."""
        self.errors.clear()
        self.general_error.setVisible(False)
        v = self.values()
        problems: list[tuple[str, str]] = []
        if not v["name"]:
            problems.append(("name", "Display name is required"))
        elif len(v["name"]) > MAX_NAME:
            problems.append(("name", f"Display name must be at most {MAX_NAME} characters"))
        if self.account is None or v["key"]:
            if not v["key"].strip():
                problems.append(("key", "API key is required"))
            elif any(c.isspace() for c in v["key"].strip()):
                problems.append(("key", "API key contains whitespace (paste only the key)"))
        try:
            validate_base_url(v["base_url"], v["provider"])
        except InputError as exc:
            problems.append(("base-url", f"Base URL {exc.reason}"))
        for field, message in problems:
            self.errors.show(field, message)
        ok = not problems
        return ok

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(not busy)
        self.test_button.setEnabled(not busy)

    # -- save ------------------------------------------------------------------------------

    def save(self) -> None:
        if self._busy or not self.validate():
            if not self._busy:
                self.save_failed.emit("invalid input")
            return
        v = self.values()
        ctx = self.ctx
        acc = self.account
        job: Callable[[], int]
        if acc is None:
            def job() -> int:
                return add_account(ctx.db, ctx.secrets, v["provider"], v["name"], v["key"], v["base_url"],
                                   v["workspace"], v["sync_interval_minutes"])
        else:
            def job() -> int:
                update_account(ctx.db, acc.id, name=v["name"], base_url=v["base_url"] or "",
                               sync_interval_minutes=v["sync_interval_minutes"])
                if acc.sync_interval_minutes and not v["sync_interval_minutes"]:
                    _clear_interval(ctx, acc.id)
                if v["key"].strip():
                    replace_key(ctx.db, ctx.secrets, acc.id, v["key"])
                return acc.id
        self._set_busy(True)
        self.services.run(job, on_done=self._saved, on_error=self._save_error, owner=self)

    def _saved(self, account_id: int) -> None:
        self._set_busy(False)
        self.key.clear()
        self.services.bus.notify_sync_state_changed()
        self.saved.emit(account_id)
        self.accept()

    def _save_error(self, exc: BaseException) -> None:
        self._set_busy(False)
        key = self.key.text()
        if isinstance(exc, InputError) and self.errors.show_input_error(exc, self.LABELS):
            msg = self.errors.text(exc.field)
        else:
            msg = scrub(str(exc), key) or type(exc).__name__
            self.general_error.setText(f"Could not save: {msg}")
            self.general_error.setVisible(True)
        log.warning("saving account failed: %s", scrub(str(exc), key))
        self.save_failed.emit(msg)

    # -- test ------------------------------------------------------------------------------

    def test_connection(self) -> None:
        """Test the typed key (or, when editing with an empty key field, the stored one)."""
        if self._busy:
            return
        self.errors.clear()
        v = self.values()

        try:
            url = validate_base_url(v["base_url"], v["provider"])
        except InputError as exc:
            self.errors.show("base-url", f"Base URL {exc.reason}")
            self.tested.emit(False, exc.reason)
            return
        key = v["key"].strip()
        ctx, acc = self.ctx, self.account
        if not key and acc is None:
            self.errors.show("key", "API key is required to test the connection")
            self.tested.emit(False, "no key")
            return

        def job() -> str:
            secret = key or account_key(ctx.db, ctx.secrets, acc.id)  # type: ignore[union-attr]
            return check_connection_job(v["provider"], url, secret, v["name"] or "test")

        self._set_busy(True)
        self.test_result.setStyleSheet("")
        self.test_result.setText("Testing…")
        self.services.run(job, on_done=self._tested_ok, on_error=self._tested_err, owner=self)

    def _tested_ok(self, text: str) -> None:
        self._set_busy(False)
        self.test_result.setStyleSheet(OK_STYLE)
        self.test_result.setText(f"✓ {text}")
        self.tested.emit(True, text)

    def _tested_err(self, exc: BaseException) -> None:
        self._set_busy(False)
        msg = scrub(str(exc), self.key.text()) or type(exc).__name__
        self.test_result.setStyleSheet(ERROR_STYLE)
        self.test_result.setText(f"✗ {msg}")
        self.tested.emit(False, msg)


def _clear_interval(ctx: Any, account_id: int) -> None:
    """Back to the default interval (update_account only sets a positive one)."""
    with ctx.db.write_session() as s:
        acc = s.get(Account, account_id)
        if acc is not None:
            acc.sync_interval_minutes = None
