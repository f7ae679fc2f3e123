"""Connect an integration: a form built from the spec's credential fields, or its OAuth sign-in in the browser."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QUrl, Qt, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QPalette
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLayout,
                               QLineEdit, QPushButton, QToolButton, QVBoxLayout, QWidget)

from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.redact import redact
from aicost_desktop.integrations.spec import AuthKind
from aicost_desktop.ui.widgets.integration_card import Spinner, error_color, monogram
from aicost_desktop.ui.workers import on_gui

if TYPE_CHECKING:
    from aicost_desktop.integrations.manager import IntegrationManager
    from aicost_desktop.integrations.spec import AuthMethod, IntegrationSpec
    from aicost_desktop.ui.workers import Worker

log = logging.getLogger("aicost.ui.integrations")
R = QPalette.ColorRole
OAUTH = (AuthKind.OAUTH_PKCE, AuthKind.OAUTH_DEVICE)
Run = Callable[..., "Worker"]


def free_name(kind: str, taken: set[str]) -> str:
    """The spec id, or id-2, id-3... when a connection already has that name."""
    if kind not in taken:
        return kind
    n = 2
    while f"{kind}-{n}" in taken:
        n += 1
    return f"{kind}-{n}"


def message_of(exc: BaseException) -> str:
    """What the user reads for a failure: the typed error's own text (what happened; what to do), redacted."""
    if isinstance(exc, InputError):
        return exc.reason
    return redact(str(exc)) or type(exc).__name__


class FieldRow(QWidget):
    """One credential field: the edit (masked with a Show toggle when secret), its hint and its error line."""

    def __init__(self, key: str, placeholder: str, secret: bool, hint: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.touched = False  # no error is shown before the user typed in the field (or pressed Connect)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        line = QHBoxLayout()
        line.setSpacing(4)
        self.edit = QLineEdit()
        self.edit.setObjectName(f"field_{key}")
        self.edit.setPlaceholderText(placeholder)
        self.edit.setMinimumWidth(280)
        line.addWidget(self.edit, 1)
        self.toggle: QToolButton | None = None
        if secret:
            self.edit.setEchoMode(QLineEdit.EchoMode.Password)
            self.edit.setInputMethodHints(Qt.InputMethodHint.ImhHiddenText | Qt.InputMethodHint.ImhNoPredictiveText)
            self.toggle = QToolButton()
            self.toggle.setObjectName(f"show_{key}")
            self.toggle.setText("Show")
            self.toggle.setCheckable(True)
            self.toggle.setToolTip("Show or hide what you typed")
            self.toggle.toggled.connect(self._reveal)
            line.addWidget(self.toggle)
        lay.addLayout(line)
        if hint:
            h = QLabel(hint)
            h.setObjectName(f"hint_{key}")
            h.setWordWrap(True)
            h.setForegroundRole(R.PlaceholderText)
            lay.addWidget(h)
        self.error = QLabel()
        self.error.setObjectName(f"error_{key}")
        self.error.setWordWrap(True)
        self.error.hide()
        lay.addWidget(self.error)

    def _reveal(self, shown: bool) -> None:
        self.edit.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        if self.toggle is not None:
            self.toggle.setText("Hide" if shown else "Show")

    def show_error(self, message: str | None) -> None:
        pal = self.error.palette()
        pal.setColor(R.WindowText, error_color(self.palette()))
        self.error.setPalette(pal)
        self.error.setText(message or "")
        self.error.setVisible(bool(message))

    def error_text(self) -> str:
        return self.error.text() if not self.error.isHidden() else ""


class ConnectDialog(QDialog):
    """Connect one integration: pick how to sign in, fill the spec's fields (each checked as typed, all marked at
    once on Connect), then the manager proves and stores the credential on the pool. OAuth methods open the
    system browser (or show a device code) and wait, cancellably; the 5-minute limit is the core's.

    Signals:
        connected(object): the stored ConnectionRecord (the dialog then closes).
    """

    connected = Signal(object)

    def __init__(self, spec: "IntegrationSpec", manager: "IntegrationManager", run: Run, *,
                 taken: Iterable[str] = (), open_guide: Callable[[], None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("integrationDialog")
        self.setWindowTitle(f"Connect {spec.name}")
        self.spec, self.manager, self._run = spec, manager, run
        self.taken = set(taken)
        self.worker: "Worker | None" = None
        self._oauth = False  # the running job is a sign-in (cancellable) rather than a credential test
        self._cancelled = False
        self.rows: dict[str, dict[str, FieldRow]] = {}
        self.open_url: Callable[[QUrl], Any] = QDesktopServices.openUrl  # tests replace it

        lay = QVBoxLayout(self)
        lay.setSpacing(8)
        # The dialog grows with what it shows (status, device code, errors) instead of squeezing the fields.
        lay.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        head = QHBoxLayout()
        icon = QLabel()
        icon.setPixmap(monogram(spec.name, spec.category.value, self.palette(), 40))
        head.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        about = QLabel(f"<b>{spec.name}</b><br>{spec.description}")
        about.setObjectName("dialogAbout")
        about.setWordWrap(True)
        about.setMinimumWidth(420)  # the layout sets the dialog's minimum from its content (SetMinimumSize)
        head.addWidget(about, 1)
        lay.addLayout(head)
        if open_guide is not None:
            guide = QLabel('<a href="guide">Setup guide</a>: where to get the credential, scopes, troubleshooting')
            guide.setObjectName("dialogGuide")
            guide.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                          | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
            guide.linkActivated.connect(lambda _href: open_guide())
            lay.addWidget(guide)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.method = QComboBox()
        self.method.setObjectName("authMethod")
        for m in spec.auth_methods:
            self.method.addItem(m.label, m.key)
        self.method_label = QLabel("Sign in with")
        form.addRow(self.method_label, self.method)
        self.method.setVisible(len(spec.auth_methods) > 1)
        self.method_label.setVisible(len(spec.auth_methods) > 1)
        self.name_row = FieldRow("name", spec.id, False, "How routes and the CLI refer to this connection")
        self.name_row.edit.setText(free_name(spec.id, self.taken))
        self.name_row.edit.textEdited.connect(lambda _t: self._touch(self.name_row))
        form.addRow("Connection name", self.name_row)
        lay.addLayout(form)

        # Only the chosen method's page takes room (a QStackedWidget is as tall as its tallest page).
        self.pages = QWidget()
        self.pages.setObjectName("methodPages")
        pages_lay = QVBoxLayout(self.pages)
        pages_lay.setContentsMargins(0, 0, 0, 0)
        self.page_widgets = [self._page(m) for m in spec.auth_methods]
        for page in self.page_widgets:
            pages_lay.addWidget(page)
        lay.addWidget(self.pages)
        self.method.currentIndexChanged.connect(self._method_changed)

        status = QHBoxLayout()
        self.spinner = Spinner()
        status.addWidget(self.spinner, 0, Qt.AlignmentFlag.AlignTop)
        self.status = QLabel()
        self.status.setObjectName("dialogStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.hide()
        status.addWidget(self.status, 1)
        lay.addLayout(status)
        self.device = QWidget()  # device flow: the code to type and a button that opens the page
        self.device.setObjectName("deviceCode")
        dev = QHBoxLayout(self.device)
        dev.setContentsMargins(0, 0, 0, 0)
        self.device_code = QLabel()
        self.device_code.setObjectName("deviceCodeText")
        self.device_code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        dev.addWidget(self.device_code, 1)
        self.device_open = QPushButton("Open the page")
        self.device_copy = QPushButton("Copy code")
        for b in (self.device_open, self.device_copy):
            b.setAutoDefault(False)
            dev.addWidget(b)
        self.device.hide()
        lay.addWidget(self.device)
        self.error = QLabel()
        self.error.setObjectName("generalError")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        lay.addWidget(self.error)

        self.buttons = QDialogButtonBox()
        self.submit = self.buttons.addButton("Connect", QDialogButtonBox.ButtonRole.AcceptRole)
        self.submit.setObjectName("submitButton")
        self.submit.setDefault(True)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setObjectName("cancelButton")
        self.submit.clicked.connect(self.submit_form)
        self.cancel_button.clicked.connect(self.cancel)
        lay.addWidget(self.buttons)
        self._method_changed()

    # -- building ---------------------------------------------------------------------------------
    def _page(self, m: "AuthMethod") -> QWidget:
        page = QWidget()
        page.setObjectName(f"page_{m.key}")
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        rows: dict[str, FieldRow] = {}
        for key in m.fields:
            f = self.spec.field(key)
            placeholder = f.placeholder or (f.default or "")
            row = FieldRow(key, placeholder, f.secret, f.help)
            if f.default and not f.secret:
                row.edit.setText(f.default)
            row.edit.textEdited.connect(lambda _t, r=row: self._touch(r))
            rows[key] = row
            label = f.label if f.required and f.default is None else f"{f.label} (optional)"
            form.addRow(label, row)
        if m.kind in OAUTH:
            note = QLabel("Your browser opens the service's sign-in page; come back here when it says you can "
                          "close the tab." if m.kind is AuthKind.OAUTH_PKCE else
                          "You get a code to type on the service's page; this window waits until you approve.")
            note.setWordWrap(True)
            note.setForegroundRole(R.PlaceholderText)
            form.addRow(note)
        self.rows[m.key] = rows
        return page

    def current_method(self) -> "AuthMethod":
        return self.spec.auth(self.method.currentData())

    def field(self, key: str) -> FieldRow:
        """The row of `key` on the current method's page ('name': the connection name)."""
        return self.name_row if key == "name" else self.rows[self.current_method().key][key]

    def _method_changed(self, _index: int = 0) -> None:
        m = self.current_method()
        for i, page in enumerate(self.page_widgets):
            page.setVisible(i == self.method.currentIndex())
        self.submit.setText("Sign in with the browser" if m.kind is AuthKind.OAUTH_PKCE
                            else "Get a device code" if m.kind is AuthKind.OAUTH_DEVICE else "Connect")
        self._show_error("")
        self.adjustSize()
        self._refit()

    # -- checking ---------------------------------------------------------------------------------
    def _problem(self, row: FieldRow) -> str | None:
        text = row.edit.text()
        if row is self.name_row:
            name = text.strip()
            if not name:
                return "A connection name is required"
            if name in self.taken:
                return f"a connection named {name!r} exists: pick another name"
            return None
        try:
            self.spec.field(row.key).check(text)
        except InputError as exc:
            return f"{exc.reason[:1].upper()}{exc.reason[1:]}"
        return None

    def _touch(self, row: FieldRow) -> None:
        row.touched = True
        row.show_error(self._problem(row))

    def validate(self) -> bool:
        """Mark every invalid field of the current method at once; True when none is."""
        rows = [self.name_row, *self.rows[self.current_method().key].values()]
        first = None
        for row in rows:
            row.touched = True
            problem = self._problem(row)
            row.show_error(problem)
            if problem and first is None:
                first = row
        if first is not None:
            first.edit.setFocus()
        return first is None

    def errors(self) -> dict[str, str]:
        rows = [self.name_row, *self.rows[self.current_method().key].values()]
        return {r.key: r.error_text() for r in rows if r.error_text()}

    # -- running ----------------------------------------------------------------------------------
    def submit_form(self) -> None:
        self._show_error("")
        if self.worker is not None or not self.validate():
            return
        m = self.current_method()
        name = self.name_row.edit.text().strip()
        values = {k: r.edit.text() for k, r in self.rows[m.key].items()}
        self._cancelled = False
        if m.kind in OAUTH:
            manager, kind, client_id = self.manager, self.spec.id, values.get("client_id", "")
            show = on_gui(self._show_device_code, self)

            def sign_in(cancel: threading.Event) -> Any:  # on the pool
                return manager.connect_oauth(kind, client_id=client_id, name=name, auth=m.key, cancel=cancel,
                                             show_code=show)

            wait = ("Waiting for the browser… finish signing in there (up to 5 minutes)."
                    if m.kind is AuthKind.OAUTH_PKCE else "Asking for a device code…")
            self._busy(wait, oauth=True)
            self.worker = self._run(sign_in, on_done=self._done, on_error=self._failed, owner=self)
        else:
            self._busy("Testing the credential with " + self.spec.test.request + "…", oauth=False)
            self.worker = self._run(self.manager.connect, self.spec.id, values, name=name, auth=m.key,
                                    on_done=self._done, on_error=self._failed, owner=self)

    def _busy(self, text: str, oauth: bool) -> None:
        self._oauth = oauth
        self.spinner.show()
        self.status.setText(text)
        self.status.show()
        self.submit.setEnabled(False)
        self.method.setEnabled(False)
        self.pages.setEnabled(False)
        self.name_row.setEnabled(False)
        self.cancel_button.setText("Cancel sign-in" if oauth else "Cancel")
        self._refit()

    def _idle(self) -> None:
        self.worker = None
        self.spinner.hide()
        self.status.hide()
        self.device.hide()
        self.submit.setEnabled(True)
        self.method.setEnabled(True)
        self.pages.setEnabled(True)
        self.name_row.setEnabled(True)
        self.cancel_button.setText("Cancel")
        self._refit()

    def waiting(self) -> bool:
        return self.worker is not None

    def _done(self, record: Any) -> None:
        self._idle()
        self.connected.emit(record)
        if self.isVisible():
            self.accept()

    def _failed(self, exc: BaseException) -> None:
        cancelled = self._cancelled
        self._idle()
        if cancelled:
            self._show_error("Sign-in cancelled. Start it again when you are ready.")
            return
        if isinstance(exc, InputError):
            key = exc.field
            rows = self.rows[self.current_method().key]
            row = self.name_row if key == "name" else rows.get(key)
            if row is not None:
                row.show_error(message_of(exc))
                return
        log.info("connecting %s failed: %s", self.spec.id, message_of(exc))
        self._show_error(message_of(exc))

    def _show_error(self, text: str) -> None:
        pal = self.error.palette()
        pal.setColor(R.WindowText, error_color(self.palette()))
        self.error.setPalette(pal)
        self.error.setText(text)
        self.error.setVisible(bool(text))
        self._refit()

    def _refit(self) -> None:
        """Tall enough for the wrapped text at the current width (never narrower than the user made it)."""
        lay = self.layout()
        lay.activate()
        need = lay.totalHeightForWidth(self.width()) if lay.hasHeightForWidth() else lay.totalMinimumSize().height()
        if need > self.height():
            self.resize(self.width(), need)

    def _show_device_code(self, code: Any) -> None:
        url = QUrl(code.verification_uri)
        self.status.setText(f"Waiting for you to approve at {code.verification_uri} (the code expires in "
                            f"{max(1, code.expires_in // 60)} minutes)…")
        self.device_code.setText(f"Code: <b>{code.user_code}</b>")
        for b in (self.device_open, self.device_copy):
            try:
                b.clicked.disconnect()
            except (RuntimeError, TypeError):
                pass
        self.device_open.clicked.connect(lambda _c=False: self.open_url(url))
        self.device_copy.clicked.connect(lambda _c=False: QGuiApplication.clipboard().setText(code.user_code))
        self.device.show()
        self._refit()

    def cancel(self) -> None:
        """Cancel a running sign-in (the loopback listener closes; the form comes back) or close the dialog."""
        if self.worker is not None and self._oauth:
            self._cancelled = True
            self.worker.cancel()
            self.status.setText("Cancelling…")
            return
        self.reject()

    def reject(self) -> None:
        """Esc or the close button also stops a sign-in. A credential test already sent is not cancelled:
        it ends on its own and a connection it stored still reaches `connected` (the card shows it)."""
        if self.worker is not None and self._oauth:
            self._cancelled = True
            self.worker.cancel()
        super().reject()

