"""The Accounts dock: accounts with live sync status, their actions and the keychain banner.

Syncs run in the app's runtime (`services.sync`); the dock only asks for them and shows what
they report. It serves the shell's "Add account…" action. Everything that reads or writes runs
in a worker; a background sync never pops a dialog: failures show on the row, its tooltip and
the detail pane.
"""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QItemSelectionModel, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QAbstractItemView, QDockWidget, QFrame, QHeaderView, QLabel, QMenu, QMessageBox,
                               QScrollArea, QStackedWidget, QTableView, QToolBar, QToolButton,
                               QVBoxLayout, QWidget)

from aicost_desktop.accounts import account_key, remove_account, update_account
from aicost_desktop.budgets.wording import provider_label
from aicost_desktop.sync.registry import PROVIDERS
from aicost_desktop.ui.docks import DOCK_FEATURES
from aicost_desktop.ui.models.accounts_model import (COL, ROW_ROLE, AccountRow, AccountsProxy, AccountsTableModel,
                                                     load_account_rows)
from aicost_desktop.ui.dialogs.launch import (open_account_dialog, open_import_dialog, open_manual_entry_dialog,
                                              open_subscription_dialog)
from aicost_desktop.ui.widgets.empty_state import EmptyState
from aicost_desktop.ui.widgets.loading import LoadingPage
from aicost_desktop.ui.widgets.responsive_splitter import ResponsiveSplitter
from aicost_desktop.ui.workers import Refresher

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.ui.services import Services
    from aicost_desktop.ui.sync_scheduler import SyncScheduler

log = logging.getLogger("aicost.ui.accounts")
EMPTY_HEADLINE = "Add your first account"
EMPTY_DETAIL = ("OpenAI, Anthropic, OpenRouter, DeepSeek, Moonshot — or import Claude Code / Codex logs.\n"
                "Usage and cost then sync in the background; keys stay in the OS keychain.")
NO_KEYCHAIN = ("<b>No OS keychain is available</b> (keyring backend: {backend}). API keys are only ever stored "
               "in the OS keychain, so accounts cannot be added until one is installed and unlocked "
               "(gnome-keyring or KWallet, macOS Keychain, Windows Credential Locker) or "
               "PYTHON_KEYRING_BACKEND is set. Log imports, CSV imports and manual entries still work.")
# Below this width the detail pane goes under the table: beside it, the table shows less than its name,
# provider and status columns (~400 px) next to a readable pane (160 px).
STACK_BELOW = 600
ADD_DISABLED_TIP = "No OS keychain is available: keys are never stored anywhere else (see the banner)."


# -- the panel ------------------------------------------------------------------------------------

class AccountsPanel(QWidget):
    """Banner, empty state or table + detail pane, and the account buttons.

    Signals:
        refreshed(): the rows were reloaded.
        keychain_checked(bool): whether an OS keychain is usable (the banner shows when False).
        tested(int, bool, str): "Test connection" for an account finished (ok, one-line result).
        changed(int): an account was enabled, disabled or removed.
    """

    refreshed = Signal()
    keychain_checked = Signal(bool)
    tested = Signal(int, bool, str)
    changed = Signal(int)

    def __init__(self, ctx: "AppContext", services: "Services", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("accountsPanel")
        self.ctx, self.services = ctx, services
        self.scheduler: "SyncScheduler" = services.sync
        scheduler = self.scheduler
        self.keychain_ok: bool | None = None
        self.confirm: Callable[[str, str], bool] = self._confirm_dialog  # tests replace it
        self._loads = Refresher(services.view_pool, load_account_rows, self._apply, owner=self,
                                failed=self._load_failed,
                                args=lambda: (ctx,), settled=lambda _ok: self.refreshed.emit())
        self._notes: dict[int, str] = {}  # per account: last test result / job failure for the detail pane
        self.model = AccountsTableModel(ctx.tz, self)
        self.model.set_paused(bool(ctx.settings.get("sync_paused")))
        self.proxy = AccountsProxy(self)
        self.proxy.setSourceModel(self.model)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        self.banner = QLabel("")
        self.banner.setObjectName("keychainBanner")
        self.banner.setWordWrap(True)
        self.banner.setProperty("banner", "warning")  # styled from the palette (theme.banner_stylesheet)
        self.banner.setVisible(False)
        lay.addWidget(self.banner)
        lay.addWidget(self._build_buttons())
        self.stack = QStackedWidget()
        self.empty = self._build_empty()
        self.content = self._build_content()
        scroll = QScrollArea()  # the empty state may scroll in a short dock instead of making the window taller
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.empty)
        self.empty_page = scroll
        self.loading = LoadingPage("Loading accounts…")
        self.stack.addWidget(scroll)
        self.stack.addWidget(self.content)
        self.stack.addWidget(self.loading)
        self.stack.setCurrentWidget(self.loading)  # never "Add your first account" before the accounts are read
        lay.addWidget(self.stack, 1)

        scheduler.state_changed.connect(self._sync_live)
        scheduler.finished.connect(self._sync_finished)
        scheduler.failed.connect(self._sync_failed)
        services.bus.sync_state_changed.connect(self.refresh)
        if services.actions is not None:
            services.actions.pause_sync.toggled.connect(self.model.set_paused)
        self._clock = QTimer(self)  # "due" / "next sync" texts age; re-read once a minute
        self._clock.setInterval(60_000)
        self._clock.timeout.connect(self.refresh)
        self._clock.start()
        self._update_buttons()
        self.check_keychain()

    # -- construction ----------------------------------------------------------------------

    def _action(self, text: str, name: str, slot: Callable[[], None], tip: str) -> QAction:
        act = QAction(text, self)
        act.setObjectName(name)
        act.setToolTip(tip)
        act.setStatusTip(tip)
        act.triggered.connect(lambda _checked=False: slot())
        return act

    def _build_buttons(self) -> QToolBar:
        # A toolbar, not a row of buttons: it overflows into a ">>" menu in a narrow dock instead of
        # forcing the whole window wider.
        bar = QToolBar("Account actions")
        bar.setObjectName("accountsToolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        bar.setIconSize(QSize(1, 1))
        self.add_button = self._action("&Add…", "addAccountAction", self.add_account,
                                       "Connect an OpenAI, Anthropic, OpenRouter, DeepSeek or Moonshot account")
        self.edit_button = self._action("&Edit…", "editAccountAction", self.edit_selected,
                                        "Name, key, base URL and sync interval")
        self.test_button = self._action("&Test connection", "testAccountAction", self.test_selected,
                                        "One authenticated request with the stored key")
        self.sync_button = self._action("&Sync now", "syncAccountAction", self.sync_selected,
                                        "Sync the selected account now")
        self.enable_button = self._action("&Disable", "enableAccountAction", self.toggle_selected,
                                          "Stop or resume syncing this account")
        self.remove_button = self._action("&Remove…", "removeAccountAction", self.remove_selected,
                                          "Forget the account and its key; its ledger history stays")
        bar.addActions([self.add_button, self.edit_button, self.test_button, self.sync_button, self.enable_button,
                        self.remove_button])
        bar.addSeparator()
        menu = QMenu("More", self)
        menu.addAction("Import Claude Code / Codex logs or CSV…", lambda: open_import_dialog(self.services, self))
        menu.addAction("Add manual entry…", lambda: open_manual_entry_dialog(self.services, self))
        menu.addAction("Add subscription…", lambda: open_subscription_dialog(self.services, self))
        more = menu.menuAction()
        more.setObjectName("moreAction")
        bar.addAction(more)
        more_button = bar.widgetForAction(more)
        if isinstance(more_button, QToolButton):
            more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        return bar

    def _build_empty(self) -> EmptyState:
        state = EmptyState(EMPTY_HEADLINE, EMPTY_DETAIL)
        state.setObjectName("accountsEmpty")
        self.empty_add = state.add_button("Add account", self.add_account, primary=True, name="emptyAddAccount")
        state.add_button("Import logs", lambda: open_import_dialog(self.services, self), name="emptyImportLogs")
        return state

    def _build_content(self) -> QWidget:
        split = ResponsiveSplitter(stack_below=STACK_BELOW, shares=(3, 2))
        t = self.table = QTableView()
        t.setObjectName("accountsTable")
        t.setModel(self.proxy)
        t.setSortingEnabled(True)
        t.sortByColumn(COL["name"], Qt.SortOrder.AscendingOrder)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setAlternatingRowColors(True)
        t.verticalHeader().setVisible(False)
        t.setWordWrap(False)
        h = t.horizontalHeader()
        h.setStretchLastSection(True)
        h.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        fm = t.fontMetrics()
        for key, sample in {"name": "OpenAI (production)", "provider": "OpenRouter", "status": "Needs attention ",
                            "last_sync": "2025-01-01 00:00", "last_success": "2025-01-01 00:00",
                            "balance": "$1,234.56"}.items():
            h.resizeSection(COL[key], fm.horizontalAdvance(sample) + 34)
        t.selectionModel().selectionChanged.connect(self._selection_changed)
        t.doubleClicked.connect(lambda _i: self.edit_selected())
        split.addWidget(t)
        self.detail = QLabel("")
        self.detail.setObjectName("accountDetail")
        self.detail.setWordWrap(True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setMinimumWidth(160)
        self.detail.setContentsMargins(8, 4, 4, 4)
        # Scrolls rather than clips: stacked under the table in a short dock it may have less room than lines.
        detail_area = QScrollArea()
        detail_area.setObjectName("accountDetailArea")
        detail_area.setWidget(self.detail)
        detail_area.setWidgetResizable(True)
        detail_area.setFrameShape(QFrame.Shape.NoFrame)
        detail_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        split.addWidget(detail_area)
        return split

    # -- keychain --------------------------------------------------------------------------

    def check_keychain(self) -> None:
        """Ask the secret store (in a worker: a keyring backend may talk to D-Bus) whether it is usable."""
        secrets = self.ctx.secrets
        self.services.run(lambda: (secrets.available(), secrets.describe()), on_done=self._keychain_result,
                          on_error=lambda exc: self._keychain_result((False, type(exc).__name__)), owner=self)

    def _keychain_result(self, result: tuple[bool, str]) -> None:
        ok, backend = result
        self.keychain_ok = ok
        self.banner.setText(NO_KEYCHAIN.format(backend=html.escape(backend)))
        self.banner.setVisible(not ok)
        for b in (self.add_button, self.empty_add):
            b.setEnabled(ok)
            b.setToolTip("" if ok else ADD_DISABLED_TIP)
        self._update_buttons()
        self.keychain_checked.emit(ok)

    # -- data ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the rows in a worker (calls during a load fold into one more)."""
        self._loads.request()

    def _apply(self, rows: list[AccountRow]) -> None:
        selected = self.selected()
        self.model.set_rows(rows)
        self._sync_live()
        self.stack.setCurrentWidget(self.content if rows else self.empty_page)
        if selected is not None:
            self.select(selected.id)
        elif rows:
            self.table.selectRow(0)
        self._show_detail()
        self._update_buttons()

    def _load_failed(self, exc: BaseException) -> None:
        log.error("loading accounts failed: %s", exc)
        self.detail.setText(f"<span style='color:#c62828'>Could not read accounts: {html.escape(str(exc))}</span>")

    def _sync_live(self) -> None:
        running = self.scheduler.running()
        for r in self.model.rows():
            if r.id in running:
                self.model.set_live(r.id, running[r.id])
            elif self.scheduler.is_queued(r.id):
                self.model.set_live(r.id, None)
            else:
                self.model.clear_live(r.id)
        self._show_detail()
        self._update_buttons()

    def _sync_finished(self, account_id: int, outcome: Any) -> None:
        self._notes.pop(account_id, None)
        self.refresh()

    def _sync_failed(self, account_id: int, message: str) -> None:
        self._notes[account_id] = f"Last sync job failed: {message}"
        self.refresh()

    # -- selection -------------------------------------------------------------------------

    def selected(self) -> AccountRow | None:
        if self.stack.currentWidget() is not self.content:
            return None
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(ROW_ROLE) if rows else None

    def select(self, account_id: int) -> bool:
        r = self.model.row_of(account_id)
        if r < 0:
            return False
        idx = self.proxy.mapFromSource(self.model.index(r, 0))
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.table.selectionModel().select(idx, flags)
        self.table.setCurrentIndex(idx)
        return True

    def _selection_changed(self, *_args: Any) -> None:
        self._show_detail()
        self._update_buttons()

    def _update_buttons(self) -> None:
        r = self.selected()
        real = r is not None and r.base_status != "demo"
        for b in (self.edit_button, self.test_button, self.remove_button):
            b.setEnabled(real)
        self.enable_button.setEnabled(real)
        self.enable_button.setText("&Enable" if r is not None and not r.view.enabled else "&Disable")
        busy = r is not None and (self.scheduler.is_running(r.id) or self.scheduler.is_queued(r.id))
        self.sync_button.setEnabled(real and r is not None and r.view.enabled and not busy)

    def _show_detail(self) -> None:
        r = self.selected()
        if r is None:
            self.detail.setText("")
            return
        v = r.view
        spec = PROVIDERS.get(v.provider)
        status = self.model.status_text(r)
        colour = {"error": "#c62828", "needs_attention": "#d08700"}.get(self.model.status_of(r), "")
        idx = self.model.index(self.model.row_of(r.id), 0)
        lines = [f"<b>{html.escape(v.name)}</b> · {html.escape(provider_label(v.provider))}",
                 f"Status: <span style='color:{colour}'>{html.escape(status)}</span>" if colour
                 else f"Status: {html.escape(status)}"]
        if v.status_message:
            lines.append(f"<span style='color:{colour}'>{html.escape(v.status_message)}</span>" if colour
                         else html.escape(v.status_message))
        if r.history_note and r.history_note not in (v.status_message or ""):
            lines.append(html.escape(r.history_note))
        if r.id in self._notes:
            lines.append(html.escape(self._notes[r.id]))
        for label, key in (("Last sync", "last_sync"), ("Last success", "last_success"), ("Next sync", "next_sync"),
                           ("Balance", "balance")):
            text = self.model.data(idx.siblingAtColumn(COL[key]))
            if text:
                lines.append(f"{label}: {html.escape(str(text))}")
        lines.append(f"Endpoint: {html.escape(v.base_url)}")
        if spec is not None:
            lines.append(f"<span style='color:#8a8f98'>Needs {html.escape(spec.key_hint)}.</span>")
        self.detail.setText("<br>".join(lines))

    # -- actions ---------------------------------------------------------------------------

    def add_account(self) -> QWidget | None:
        if self.keychain_ok is False:
            return None
        dlg = open_account_dialog(self.services, self)
        dlg.saved.connect(self._saved)  # type: ignore[attr-defined]
        return dlg

    def edit_selected(self) -> QWidget | None:
        r = self.selected()
        if r is None or r.base_status == "demo":
            return None
        dlg = open_account_dialog(self.services, self, r.view)
        dlg.saved.connect(self._saved)  # type: ignore[attr-defined]
        return dlg

    def _saved(self, account_id: int) -> None:
        self._notes.pop(account_id, None)
        self._after_change(account_id, select=True)
        self.scheduler.sync_account(account_id)  # new or re-keyed: its history appears right away

    def test_selected(self) -> None:
        r = self.selected()
        if r is None:
            return
        ctx, v = self.ctx, r.view

        def job() -> str:
            # lazy: the dialog module loads when it is first opened, not at start-up
            from aicost_desktop.ui.dialogs.account_dialog import check_connection_job

            return check_connection_job(v.provider, v.base_url, account_key(ctx.db, ctx.secrets, v.id), v.name)

        self._notes[v.id] = "Testing connection…"
        self._show_detail()
        self.services.run(job, owner=self, on_done=lambda text: self._tested(v.id, True, text),
                          on_error=lambda exc: self._tested(v.id, False, str(exc) or type(exc).__name__))

    def _tested(self, account_id: int, ok: bool, text: str) -> None:
        self._notes[account_id] = f"Test connection: {'✓' if ok else '✗'} {text}"
        self._show_detail()
        self.tested.emit(account_id, ok, text)

    def sync_selected(self) -> None:
        r = self.selected()
        if r is not None:
            self.scheduler.sync_account(r.id)

    def toggle_selected(self) -> None:
        r = self.selected()
        if r is None:
            return

        ctx, enabled = self.ctx, not r.view.enabled
        self.services.run(lambda: update_account(ctx.db, r.id, enabled=enabled), owner=self,
                          on_done=lambda _=None: self._after_change(r.id),
                          on_error=lambda exc: self._action_failed(r.id, "change", exc))

    def remove_selected(self) -> None:
        r = self.selected()
        if r is None or not self.confirm(
                "Remove account",
                f"Remove {r.view.name}? Its key is deleted from the keychain; its ledger history stays."):
            return

        ctx = self.ctx
        self.services.run(lambda: remove_account(ctx.db, ctx.secrets, r.id), owner=self,
                          on_done=lambda _=None: self._after_change(r.id),
                          on_error=lambda exc: self._action_failed(r.id, "remove", exc))

    def _after_change(self, account_id: int, select: bool = False) -> None:
        if select:
            self._select_once(account_id)()
        self.refresh()
        self.services.bus.notify_sync_state_changed()
        self.changed.emit(account_id)

    def _select_once(self, account_id: int) -> Callable[[], None]:
        connection: list[Any] = []

        def go() -> None:
            QObject.disconnect(connection.pop())  # not refreshed.disconnect(go): it leaks in PySide6 6.12
            self.select(account_id)
        return lambda: connection.append(self.refreshed.connect(go))

    def _action_failed(self, account_id: int, what: str, exc: BaseException) -> None:
        log.warning("could not %s account %s: %s", what, account_id, exc)
        self._notes[account_id] = f"Could not {what} the account: {exc}"
        self._show_detail()

    def _confirm_dialog(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes


class AccountsDock(QDockWidget):
    """The dock wrapper; `refresh()` reloads; `panel` is the content widget."""

    def __init__(self, panel: AccountsPanel) -> None:
        super().__init__("Accounts")
        self.panel = panel
        self.setWidget(panel)
        self.setFeatures(DOCK_FEATURES)

    def refresh(self) -> None:
        self.panel.refresh()


def accounts_dock(ctx: "AppContext", services: "Services") -> QDockWidget:
    panel = AccountsPanel(ctx, services)
    dock = AccountsDock(panel)
    panel.refresh()
    if services.actions is not None:  # File > Add account… opens this panel's dialog (keychain check, first sync)
        services.actions.handle("add_account", panel.add_account)
    return dock
