"""The main window: docks from the registry, menus, toolbar, status bar, persisted layout, tray behaviour."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QEvent, QSettings, QThreadPool, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QMessageBox, QToolBar, QWidget

from aicost_desktop import APP_NAME
from aicost_desktop.domain.money import fmt_money
from aicost_desktop.domain.private_files import private_file
from aicost_desktop.analytics.report import SpendSummary, spend_summary
from aicost_desktop.runtime import Runtime
from aicost_desktop.storage.queries import count_records, last_sync_at
from aicost_desktop.ui.actions import AppActions
from aicost_desktop.ui.bus import LedgerBus
from aicost_desktop.ui.dialogs.export_dialog import open_export_dialog
from aicost_desktop.ui.dialogs.launch import open_import_dialog, open_manual_entry_dialog, open_subscription_dialog
from aicost_desktop.ui.docks import DOCKS, call_refresh, make_dock
from aicost_desktop.ui.layout import STATE_VERSION, WindowLayout, docs_url, scroll_when_small
from aicost_desktop.ui.services import ShellHooks, build_services
from aicost_desktop.ui.widgets.empty_state import EmptyState
from aicost_desktop.ui.widgets.sync_status import SyncStatusWidget
from aicost_desktop.ui.workers import Refresher

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.runtime import Runtime
    from aicost_desktop.ui.tray import Tray

log = logging.getLogger("aicost.ui.window")
__all__ = ["MainWindow", "STATE_VERSION", "window_settings"]
WINDOW_INI = "window.ini"


LEDGER_CHECK_MS = 5000


def window_settings(ctx: "AppContext") -> QSettings:
    """Window geometry and dock layout live in an INI file in the home dir (never the user's registry)."""
    # Created 0600 here: Qt's save-and-rename keeps the mode of the file it replaces.
    return QSettings(str(private_file(ctx.paths.home / WINDOW_INI)), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    """The desktop shell. `services` is shared with every dock; `tray` is attached by the app.

    The shell builds `services` once, around the app's `Runtime`: the app passes the one it started
    (and stops it after the window); without one (tests, a window built alone) the window makes,
    starts and stops its own.

    Signals:
        demo_loaded(int): sample data finished loading (rows written).
        sample_cleared(int): sample data was removed (rows deleted).
        status_refreshed(): the status bar figures were recomputed.
    """

    demo_loaded = Signal(int)
    sample_cleared = Signal(int)
    status_refreshed = Signal()

    def __init__(self, ctx: "AppContext", pool: QThreadPool | None = None, bus: LedgerBus | None = None,
                 parent: QWidget | None = None, runtime: "Runtime | None" = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_NAME)
        self.ctx = ctx
        self.tray: "Tray | None" = None
        self._quitting = False
        self.quit_on_close = False  # set by the app: closing for real quits the application
        self._tray_hint_shown = False
        self.actions = AppActions(self)
        self._own_runtime = runtime is None
        if runtime is None:
            runtime = Runtime(ctx)
        self.runtime = runtime
        reads = None
        if pool is None:  # the app: its views' loads on a pool of their own, one at a time (Services.view_pool)
            pool, reads = QThreadPool(self), QThreadPool(self)
            reads.setMaxThreadCount(1)
        self.services = build_services(ctx, runtime, pool=pool, bus=bus or LedgerBus(parent=self), reads=reads,
                                       actions=self.actions, shell=ShellHooks(self.notify, self.show_dock), parent=self)
        self._status_loads = Refresher(self.services.view_pool, _status_figures, self._show_status, owner=self,
                                       args=lambda: (ctx,))
        self.docks: dict[str, QDockWidget] = {}
        self.setDockNestingEnabled(True)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._build_docks()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self._connect_actions()
        # Arrangements, reset, saved state, Ctrl+1..5 and Tab out of tables: ui/layout.py.
        self.window_layout = WindowLayout(self, self.docks, lambda: window_settings(ctx))
        self.window_layout.install(self._view_menu, self.actions.compact_layout, self.actions.reset_layout)
        self.window_layout.restore()
        # Asked before sample rows join a ledger with the user's own rows; tests replace it.
        self.confirm: Callable[[str, str], bool] = self._ask
        self.services.bus.ledger_changed.connect(self.refresh_status)
        self.services.bus.sync_state_changed.connect(self.refresh_status)
        if self._own_runtime:
            runtime.start()
        # A ledger file deleted under the running app is noticed within seconds, not at the next write.
        self._ledger_check = QTimer(self)
        self._ledger_check.setInterval(LEDGER_CHECK_MS)
        self._ledger_check.timeout.connect(self.check_ledger_file)
        self._ledger_check.start()

    # -- construction --------------------------------------------------------------------

    def _build_docks(self) -> None:
        for spec in DOCKS:
            try:
                dock = spec.build(self.ctx, self.services)
            except Exception:  # one broken dock must not take the window down
                log.exception("building dock %s failed", spec.object_name)

                dock = make_dock(spec.title, EmptyState(f"{spec.title} could not be loaded",
                                                       f"See the log: {self.ctx.paths.log_file}"))
                dock.setObjectName(spec.object_name)
            _scroll_when_small(dock)
            self.docks[spec.object_name] = dock
            self.addDockWidget(spec.area, dock)
            if spec.tabify_with and spec.tabify_with in self.docks:
                self.tabifyDockWidget(self.docks[spec.tabify_with], dock)
        for spec in DOCKS:  # the first dock of each tab group in front
            if not spec.tabify_with and any(s.tabify_with == spec.object_name for s in DOCKS):
                self.docks[spec.object_name].raise_()

    def _build_menus(self) -> None:
        a = self.actions
        bar = self.menuBar()
        file = bar.addMenu("&File")
        file.addActions([a.add_account, a.add_manual_entry, a.add_subscription, a.import_logs])
        file.addSeparator()
        file.addAction(a.export)
        file.addSeparator()
        file.addActions([a.load_sample, a.clear_sample])  # sample data: a menu entry, not a toolbar button
        file.addSeparator()
        file.addAction(a.settings)
        file.addSeparator()
        file.addAction(a.quit)
        self._view_menu = bar.addMenu("&View")  # filled by the layout: docks (Ctrl+1..5), compact, reset
        sync = bar.addMenu("&Sync")
        sync.addActions([a.sync_now, a.pause_sync])
        help_ = bar.addMenu("&Help")
        help_.addActions([a.docs, a.about])

    def _build_toolbar(self) -> None:
        tb = QToolBar("Main toolbar")
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.addActions([self.actions.sync_now, self.actions.pause_sync, self.actions.export, self.actions.settings])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)

    def _build_status_bar(self) -> None:
        self.mtd_label = QLabel("This month: —")
        self.mtd_label.setObjectName("statusMonthToDate")
        self.sync_label = QLabel("Last sync: never")
        self.sync_label.setObjectName("statusLastSync")
        sb = self.statusBar()
        self.sync_status = SyncStatusWidget(self.services.sync)
        sb.addPermanentWidget(self.sync_status)
        sb.addPermanentWidget(self.mtd_label)
        sb.addPermanentWidget(self.sync_label)

    def _connect_actions(self) -> None:
        a = self.actions
        a.quit.triggered.connect(self.quit_app)
        a.sync_now.triggered.connect(self.sync_now)
        a.pause_sync.setChecked(bool(self.ctx.settings.get("sync_paused")))
        a.pause_sync.toggled.connect(self._set_paused)
        a.load_sample.triggered.connect(self.load_sample_data)
        a.clear_sample.triggered.connect(self.clear_sample_data)
        a.docs.triggered.connect(self.open_docs)
        a.about.triggered.connect(self.show_about)
        a.settings.triggered.connect(self.show_settings)
        a.reset_layout.triggered.connect(self.reset_layout)
        a.open_window.triggered.connect(self.bring_to_front)

        s = self.services
        a.handle("export", lambda: open_export_dialog(self.ctx, s, self))
        a.handle("add_manual_entry", lambda: open_manual_entry_dialog(s, self))
        a.handle("add_subscription", lambda: open_subscription_dialog(s, self))
        a.handle("import_logs", lambda: open_import_dialog(s, self))
        a.handle("add_account", lambda: self.show_dock("accountsDock"), replace=False)  # the Accounts dock serves it

    # -- layout persistence ----------------------------------------------------------------

    def save_layout(self) -> None:
        self.window_layout.save()

    def restore_layout(self) -> bool:
        """Restore geometry and docks if saved by this layout version; else the default for this screen."""
        return self.window_layout.restore()

    def reset_layout(self) -> None:
        self.window_layout.reset()

    # -- commands --------------------------------------------------------------------------

    def refresh_all(self) -> None:
        for dock in self.docks.values():
            try:
                call_refresh(dock)
            except Exception:
                log.exception("refreshing %s failed", dock.objectName())
        self.refresh_status()

    def sync_now(self) -> None:
        """Ctrl+R: sync every account (in the runtime) and refresh every dock."""
        self.services.sync.sync_all()
        self.refresh_all()

    def _set_paused(self, paused: bool) -> None:
        self.services.sync.set_paused(paused)  # stores the setting; queued scheduled syncs wait
        self.statusBar().showMessage("Syncing paused" if paused else "Syncing resumed", 4000)
        self.services.bus.notify_sync_state_changed()

    def check_ledger_file(self) -> bool:
        """Show the banner (and stop checking) once the SQLite ledger file is gone; True while it is there."""
        db = self.ctx.__dict__.get("db")  # never open the database from here
        if db is None or not db.file_gone():
            return True
        banner = QLabel(f"The ledger file {db.file} was deleted or replaced while the app was running: nothing "
                        "more is saved. Restore the file, or restart to start a new ledger.")
        banner.setObjectName("ledgerGoneBanner")
        banner.setProperty("banner", "error")  # styled from the palette by the theme (reads light and dark)
        banner.setWordWrap(True)
        self.statusBar().insertPermanentWidget(0, banner, 1)
        self._ledger_check.stop()
        return False

    def refresh_status(self) -> None:
        """Recompute the status bar figures in a worker (the UI's refresh policy)."""
        self._status_loads.request()

    def _show_status(self, result: tuple[SpendSummary, datetime | None]) -> None:
        summary, synced = result
        self.mtd_label.setText(f"This month: {fmt_money(summary.month_to_date, summary.currency)}")
        when = synced.astimezone(self.ctx.tz).strftime("%Y-%m-%d %H:%M") if synced else "never"
        self.sync_label.setText(f"Last sync: {when}")
        self.status_refreshed.emit()

    def load_sample_data(self) -> None:
        """File > Load sample data: asks first when the ledger holds rows of the user's own."""
        try:
            from aicost_desktop.demo import demo_counts, load_demo  # optional: a build may leave demo out
        except ImportError:
            QMessageBox.information(self, "Sample data", "Sample data is not available in this build.")
            return
        self.actions.load_sample.setEnabled(False)
        ctx = self.ctx

        def counted(counts: tuple[int, int]) -> None:
            real, _demo = counts
            if real and not self.confirm(
                    "Load sample data?",
                    f"Your ledger already has {real:,} rows and subscriptions of your own. Sample rows would be "
                    "counted with them in every total, budget and chart until you remove them (File > Remove "
                    "sample data, which leaves your own rows alone).\n\nLoad sample data anyway?"):
                self.actions.load_sample.setEnabled(True)
                return
            self._start_loading_sample(load_demo)

        def count_failed(exc: BaseException) -> None:
            self.actions.load_sample.setEnabled(True)
            QMessageBox.warning(self, "Sample data", f"Could not read the ledger:\n{exc}")

        self.services.run(lambda: demo_counts(ctx.db), on_done=counted, on_error=count_failed, owner=self)

    def _start_loading_sample(self, load_demo: Callable[..., int]) -> None:
        self.statusBar().showMessage("Loading sample data…")
        ctx = self.ctx

        def job(progress: Callable[[int, int], None]) -> int:
            return load_demo(ctx, days=90, seed=1, progress=progress)

        def done(rows: int) -> None:
            self.actions.load_sample.setEnabled(True)
            self.statusBar().showMessage(f"Sample data loaded ({rows:,} new rows) · File > Remove sample data "
                                         "takes it out again", 8000)
            log.info("sample data loaded: %d new rows", rows)
            self.services.bus.notify_ledger_changed()
            self.demo_loaded.emit(rows)

        def failed(exc: BaseException) -> None:
            self.actions.load_sample.setEnabled(True)
            log.error("loading sample data failed: %s", exc, exc_info=(type(exc), exc, exc.__traceback__))
            QMessageBox.warning(self, "Sample data", f"Could not load sample data:\n{exc}")

        self.services.run(job, on_done=done, on_error=failed, owner=self,
                          on_progress=lambda d, t: self.statusBar().showMessage(f"Loading sample data… {d:,}/{t:,}"))

    def clear_sample_data(self) -> None:
        """File > Remove sample data: every demo row, subscription and account (demo.clear_demo)."""
        from aicost_desktop.demo import clear_demo, demo_counts  # optional: a build may leave demo out

        ctx = self.ctx
        self.actions.clear_sample.setEnabled(False)

        def counted(counts: tuple[int, int]) -> None:
            _real, demo = counts
            if not demo:
                self.actions.clear_sample.setEnabled(True)
                self.statusBar().showMessage("There is no sample data to remove", 5000)
                return
            if not self.confirm("Remove sample data?", f"Remove the {demo:,} sample rows with their sample "
                                "subscriptions and accounts? Your own rows are kept."):
                self.actions.clear_sample.setEnabled(True)
                return
            self.services.run(lambda: clear_demo(ctx.db), on_done=removed, on_error=failed, owner=self)

        def removed(rows: int) -> None:
            self.actions.clear_sample.setEnabled(True)
            self.statusBar().showMessage(f"Sample data removed ({rows:,} rows)", 5000)
            log.info("sample data removed: %d rows", rows)
            self.services.bus.notify_ledger_changed()
            self.sample_cleared.emit(rows)

        def failed(exc: BaseException) -> None:
            self.actions.clear_sample.setEnabled(True)
            log.error("removing sample data failed: %s", exc)
            QMessageBox.warning(self, "Sample data", f"Could not remove sample data:\n{exc}")

        self.services.run(lambda: demo_counts(ctx.db), on_done=counted, on_error=failed, owner=self)

    def _ask(self, title: str, text: str) -> bool:
        return QMessageBox.question(self, title, text) == QMessageBox.StandardButton.Yes

    def open_docs(self) -> bool:
        """F1: the user guide (docs/ or the README of this checkout, else the project page) in the browser."""
        url = docs_url(self.ctx.paths.home)
        log.info("opening the documentation: %s", url.toString())
        ok = QDesktopServices.openUrl(url)
        if not ok:
            self.statusBar().showMessage(f"Could not open a browser; the guide is at {url.toString()}", 10_000)
        return ok

    def load_demo_if_empty(self) -> None:
        """--demo: load sample data unless the ledger already has rows."""
        ctx = self.ctx
        self.services.run(lambda: count_records(ctx.db, ctx.tz), owner=self,
                          on_done=lambda n: None if n else self.load_sample_data())

    def show_about(self) -> None:
        # lazy: the dialog module loads when it is first opened, not at start-up
        from aicost_desktop.ui.dialogs.about import AboutDialog

        dlg = AboutDialog(self.ctx, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()

    def show_settings(self) -> None:
        # lazy: the dialog module loads when it is first opened, not at start-up
        from aicost_desktop.ui.dialogs.settings import SettingsDialog

        dlg = SettingsDialog(self.ctx, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.settings_changed.connect(self._settings_changed)
        dlg.open()

    def _settings_changed(self, keys: list[str]) -> None:
        if "start_at_login" in keys:
            from aicost_desktop import autostart  # lazy: plistlib and expat load when the setting changes

            try:
                autostart.enable() if self.ctx.settings.get("start_at_login") else autostart.disable()
            except Exception as exc:
                log.warning("start at login: %s", exc)
                self.statusBar().showMessage(f"Could not change start at login: {exc}", 8000)
        if {"timezone", "display_currency", "week_start", "fx_rates", "cost_mode"} & set(keys):
            self.services.bus.notify_ledger_changed()
        if self.services.gateway is not None and any(k.startswith("gateway_") for k in keys):
            self.services.gateway.settings_changed(keys)  # on/off, or a restart on the new port/upstreams/keys
        if any(k.startswith("incoming_webhooks_") for k in keys):
            self.services.runtime.incoming.settings_changed(keys)  # on/off, or listen again on the new port

    # -- tray, notifications, window state ---------------------------------------------------

    def attach_tray(self, tray: "Tray") -> None:
        self.tray = tray
        tray.open_requested.connect(self.bring_to_front)

    def notify(self, title: str, message: str, on_click: Callable[[], None] | None = None) -> None:
        if self.tray is not None:
            self.tray.notify(title, message, on_click or self.bring_to_front)
        else:
            # An alert's message is a whole sentence naming its budget or account ("Claude daily: 80% of budget
            # reached - …"); the title before it read "Claude daily: 80% of budget: Claude daily: 80% …".
            self.statusBar().showMessage(message or title, 10_000)
            log.info("notification (no tray): %s: %s", title, message)

    def show_dock(self, object_name: str) -> None:
        self.bring_to_front()
        self.window_layout.show_dock(object_name)

    def bring_to_front(self) -> None:
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:  # a theme change: icons follow the new text colour
            self.actions.refresh_icons()
        super().changeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.save_layout()
        if not self._quitting and self.tray is not None and self.ctx.settings.get("close_to_tray"):
            event.ignore()
            self.hide()
            if not self._tray_hint_shown:
                self._tray_hint_shown = True
                self.tray.notify(APP_NAME, "Still running in the tray. Use Quit to exit.", self.bring_to_front)
            return
        self.shutdown()
        event.accept()
        app = QApplication.instance()
        if self.quit_on_close and app is not None:
            QTimer.singleShot(0, app.quit)

    def quit_app(self) -> None:
        """File > Quit, Ctrl+Q, tray Quit: leave for real (not to the tray)."""
        self._quitting = True
        if not self.close():  # a hidden window (tray mode) still runs closeEvent
            self.shutdown()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stop listening and let running jobs finish (they are cancelled where they check). A runtime the
        window made is stopped here; the app stops the one it passed in."""
        self.services.bus.close()
        if self.tray is not None:
            self.tray.hide()
        if self._own_runtime:
            self.runtime.stop(timeout_ms / 1000)
        self.services.close()
        self.services.wait(timeout_ms)


def _status_figures(ctx: "AppContext") -> tuple[SpendSummary, datetime | None]:  # pool thread
    return (spend_summary(ctx.db, ctx.tz, fx=ctx.settings.fx_rates(), currency=ctx.settings.get("display_currency")),
            last_sync_at(ctx.db))


def _scroll_when_small(dock: QDockWidget) -> None:
    """The dock scrolls its content only below the content's minimum size (ui/layout.py)."""
    scroll_when_small(dock)
