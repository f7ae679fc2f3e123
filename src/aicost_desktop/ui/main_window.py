"""The main window: docks from the registry, menus, toolbar, status bar, persisted layout, tray behaviour."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QByteArray, QPoint, QSettings, QThreadPool, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QMessageBox, QToolBar, QWidget

from aicost_desktop import APP_NAME
from aicost_desktop.domain.money import fmt_money
from aicost_desktop.domain.private_files import private_file
from aicost_desktop.analytics.report import SpendSummary, spend_summary
from aicost_desktop.storage.queries import last_sync_at
from aicost_desktop.ui.actions import AppActions
from aicost_desktop.ui.bus import LedgerBus
from aicost_desktop.ui.docks import DOCKS, call_refresh
from aicost_desktop.ui.services import Services

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.ui.tray import Tray

log = logging.getLogger("aicost.ui.window")
STATE_VERSION = 1  # bump when the dock set changes incompatibly: old saved layouts are then ignored
WINDOW_INI = "window.ini"


LEDGER_CHECK_MS = 5000


def window_settings(ctx: "AppContext") -> QSettings:
    """Window geometry and dock layout live in an INI file in the home dir (never the user's registry)."""
    # Created 0600 here: Qt's save-and-rename keeps the mode of the file it replaces.
    return QSettings(str(private_file(ctx.paths.home / WINDOW_INI)), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    """The desktop shell. `services` is shared with every dock; `tray` is attached by the app.

    Signals:
        demo_loaded(int): sample data finished loading (rows written).
        status_refreshed(): the status bar figures were recomputed.
    """

    demo_loaded = Signal(int)
    status_refreshed = Signal()

    def __init__(self, ctx: "AppContext", pool: QThreadPool | None = None, bus: LedgerBus | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_NAME)
        self.ctx = ctx
        self.tray: "Tray | None" = None
        self._quitting = False
        self.quit_on_close = False  # set by the app: closing for real quits the application
        self._tray_hint_shown = False
        self.actions = AppActions(self)
        self.services = Services(ctx=ctx, pool=pool or QThreadPool(self), bus=bus or LedgerBus(parent=self),
                                 actions=self.actions, notify=self.notify, show_dock=self.show_dock)
        self.docks: dict[str, QDockWidget] = {}
        self.setDockNestingEnabled(True)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._build_docks()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self._connect_actions()
        self._default_sizes()
        self._default_state = self.saveState(STATE_VERSION)
        self.restore_layout()
        self.services.bus.ledger_changed.connect(self.refresh_status)
        self.services.bus.sync_state_changed.connect(self.refresh_status)
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
                from aicost_desktop.ui.docks import make_dock
                from aicost_desktop.ui.widgets.empty_state import EmptyState

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

    def _default_sizes(self) -> None:
        """First-run proportions: the ledger gets most of the width, budgets most of the right column."""
        screen = QGuiApplication.primaryScreen()
        avail = screen.availableGeometry() if screen is not None else None
        w = min(1500, int(avail.width() * 0.92)) if avail else 1200
        h = min(950, int(avail.height() * 0.9)) if avail else 760
        self.resize(w, h)
        by_area: dict[Qt.DockWidgetArea, list[QDockWidget]] = {}
        for spec in DOCKS:
            if not spec.tabify_with:
                by_area.setdefault(spec.area, []).append(self.docks[spec.object_name])
        left = by_area.get(Qt.DockWidgetArea.LeftDockWidgetArea, [])
        right = by_area.get(Qt.DockWidgetArea.RightDockWidgetArea, [])
        bottom = by_area.get(Qt.DockWidgetArea.BottomDockWidgetArea, [])
        if left and right:
            self.resizeDocks([left[0], right[0]], [int(w * 0.62), int(w * 0.38)], Qt.Orientation.Horizontal)
        if right and bottom:
            self.resizeDocks([right[0], bottom[0]], [int(h * 0.42), int(h * 0.42)], Qt.Orientation.Vertical)

    def _build_menus(self) -> None:
        a = self.actions
        bar = self.menuBar()
        file = bar.addMenu("&File")
        file.addActions([a.export, a.load_sample])
        file.addSeparator()
        file.addAction(a.settings)
        file.addSeparator()
        file.addAction(a.quit)
        view = bar.addMenu("&View")
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        view.addAction(a.reset_layout)
        sync = bar.addMenu("&Sync")
        sync.addActions([a.sync_now, a.pause_sync])
        help_ = bar.addMenu("&Help")
        help_.addAction(a.about)

    def _build_toolbar(self) -> None:
        tb = QToolBar("Main toolbar")
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.addActions([self.actions.sync_now, self.actions.pause_sync, self.actions.export,
                       self.actions.load_sample, self.actions.settings])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)

    def _build_status_bar(self) -> None:
        self.mtd_label = QLabel("This month: —")
        self.mtd_label.setObjectName("statusMonthToDate")
        self.sync_label = QLabel("Last sync: never")
        self.sync_label.setObjectName("statusLastSync")
        sb = self.statusBar()
        sb.addPermanentWidget(self.mtd_label)
        sb.addPermanentWidget(self.sync_label)

    def _connect_actions(self) -> None:
        a = self.actions
        a.quit.triggered.connect(self.quit_app)
        a.sync_now.triggered.connect(self.sync_now)
        a.pause_sync.setChecked(bool(self.ctx.settings.get("sync_paused")))
        a.pause_sync.toggled.connect(self._set_paused)
        a.load_sample.triggered.connect(self.load_sample_data)
        a.about.triggered.connect(self.show_about)
        a.settings.triggered.connect(self.show_settings)
        a.reset_layout.triggered.connect(self.reset_layout)
        a.open_window.triggered.connect(self.bring_to_front)
        a.handle("export", self._export_placeholder, replace=False)  # until the export helper plugs in

    # -- layout persistence ----------------------------------------------------------------

    def save_layout(self) -> None:
        s = window_settings(self.ctx)
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(STATE_VERSION))
        s.sync()

    def restore_layout(self) -> bool:
        """Restore geometry and docks if saved; a window saved on a vanished screen is re-centred."""
        s = window_settings(self.ctx)
        geometry, state = s.value("window/geometry"), s.value("window/state")
        restored = False
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            restored = self.restoreGeometry(geometry)
            self._ensure_on_screen()
        if isinstance(state, QByteArray) and not state.isEmpty():
            restored = self.restoreState(state, STATE_VERSION) or restored
        return restored

    def _ensure_on_screen(self) -> None:
        frame = self.frameGeometry()
        screens = QGuiApplication.screens()
        if any(sc.availableGeometry().intersects(frame) for sc in screens):
            return
        primary = QGuiApplication.primaryScreen()
        if primary is None:
            return
        avail = primary.availableGeometry()
        w, h = min(self.width(), avail.width()), min(self.height(), avail.height())
        self.resize(w, h)
        self.move(avail.center() - QPoint(w // 2, h // 2))

    def reset_layout(self) -> None:
        self.restoreState(self._default_state, STATE_VERSION)
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()

    # -- commands --------------------------------------------------------------------------

    def refresh_all(self) -> None:
        for dock in self.docks.values():
            try:
                call_refresh(dock)
            except Exception:
                log.exception("refreshing %s failed", dock.objectName())
        self.refresh_status()

    def sync_now(self) -> None:
        """Ctrl+R: start a sync of every account (when the sync service is plugged in) and refresh."""
        sync = self.services.extra.get("sync")
        if sync is not None and hasattr(sync, "sync_all"):
            sync.sync_all()
        self.refresh_all()

    def _set_paused(self, paused: bool) -> None:
        self.ctx.settings.set("sync_paused", bool(paused))
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
        banner.setStyleSheet("QLabel { background: #b00020; color: white; padding: 2px 8px; }")
        banner.setWordWrap(True)
        self.statusBar().insertPermanentWidget(0, banner, 1)
        self._ledger_check.stop()
        return False

    def refresh_status(self) -> None:
        ctx = self.ctx

        def job() -> tuple[SpendSummary, datetime | None]:
            return (spend_summary(ctx.db, ctx.tz, fx=ctx.settings.fx_rates(),
                                  currency=ctx.settings.get("display_currency")), last_sync_at(ctx.db))

        self.services.run(job, on_done=self._show_status, owner=self)

    def _show_status(self, result: tuple[SpendSummary, datetime | None]) -> None:
        summary, synced = result
        self.mtd_label.setText(f"This month: {fmt_money(summary.month_to_date, summary.currency)}")
        when = synced.astimezone(self.ctx.tz).strftime("%Y-%m-%d %H:%M") if synced else "never"
        self.sync_label.setText(f"Last sync: {when}")
        self.status_refreshed.emit()

    def load_sample_data(self) -> None:
        try:
            from aicost_desktop.demo import load_demo
        except ImportError:
            QMessageBox.information(self, "Sample data", "Sample data is not available in this build.")
            return
        self.actions.load_sample.setEnabled(False)
        self.statusBar().showMessage("Loading sample data…")
        ctx = self.ctx

        def job(progress: Callable[[int, int], None]) -> int:
            return load_demo(ctx, days=90, seed=1, progress=progress)

        def done(rows: int) -> None:
            self.actions.load_sample.setEnabled(True)
            self.statusBar().showMessage(f"Sample data loaded ({rows:,} new rows)", 5000)
            log.info("sample data loaded: %d new rows", rows)
            self.services.bus.notify_ledger_changed()
            self.demo_loaded.emit(rows)

        def failed(exc: BaseException) -> None:
            self.actions.load_sample.setEnabled(True)
            log.error("loading sample data failed: %s", exc, exc_info=(type(exc), exc, exc.__traceback__))
            QMessageBox.warning(self, "Sample data", f"Could not load sample data:\n{exc}")

        self.services.run(job, on_done=done, on_error=failed, owner=self,
                          on_progress=lambda d, t: self.statusBar().showMessage(f"Loading sample data… {d:,}/{t:,}"))

    def load_demo_if_empty(self) -> None:
        """--demo: load sample data unless the ledger already has rows."""
        from aicost_desktop.storage.queries import count_records

        ctx = self.ctx
        self.services.run(lambda: count_records(ctx.db, ctx.tz), owner=self,
                          on_done=lambda n: None if n else self.load_sample_data())

    def _export_placeholder(self) -> None:
        QMessageBox.information(self, "Export", "Export from a terminal for now:\n\n    aicost export --help")

    def show_about(self) -> None:
        from aicost_desktop.ui.dialogs.about import AboutDialog

        dlg = AboutDialog(self.ctx, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()

    def show_settings(self) -> None:
        from aicost_desktop.ui.dialogs.settings import SettingsDialog

        dlg = SettingsDialog(self.ctx, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.settings_changed.connect(self._settings_changed)
        dlg.open()

    def _settings_changed(self, keys: list[str]) -> None:
        if "start_at_login" in keys:
            from aicost_desktop import autostart

            try:
                autostart.enable() if self.ctx.settings.get("start_at_login") else autostart.disable()
            except Exception as exc:
                log.warning("start at login: %s", exc)
                self.statusBar().showMessage(f"Could not change start at login: {exc}", 8000)
        if {"timezone", "display_currency", "week_start"} & set(keys):
            self.services.bus.notify_ledger_changed()

    # -- tray, notifications, window state ---------------------------------------------------

    def attach_tray(self, tray: "Tray") -> None:
        self.tray = tray
        tray.open_requested.connect(self.bring_to_front)

    def notify(self, title: str, message: str, on_click: Callable[[], None] | None = None) -> None:
        if self.tray is not None:
            self.tray.notify(title, message, on_click or self.bring_to_front)
        else:
            self.statusBar().showMessage(f"{title}: {message}", 10_000)
            log.info("notification (no tray): %s: %s", title, message)

    def show_dock(self, object_name: str) -> None:
        dock = self.docks.get(object_name)
        self.bring_to_front()
        if dock is not None:
            dock.show()
            dock.raise_()

    def bring_to_front(self) -> None:
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

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
        """Stop listening and let running jobs finish (they are cancelled where they check)."""
        self.services.bus.close()
        if self.tray is not None:
            self.tray.hide()
        if hasattr(self.services.extra.get("sync"), "shutdown"):  # cancel running syncs before waiting
            self.services.extra["sync"].shutdown()
        self.services.pool.clear()
        self.services.pool.waitForDone(timeout_ms)


def _scroll_when_small(dock: QDockWidget) -> None:
    """Let a dock scroll its content when made smaller than the content's minimum.

    Without this the window's minimum size is the sum of every dock's minimum (over 1100x700),
    more than a small laptop screen offers. The content stays reachable as `dock.content`.
    """
    from PySide6.QtWidgets import QScrollArea

    content = dock.widget()
    if content is None or isinstance(content, QScrollArea):
        return
    area = QScrollArea()
    area.setObjectName(f"{dock.objectName()}Scroll")
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidgetResizable(True)
    area.setMinimumSize(160, 120)
    dock.setWidget(area)
    area.setWidget(content)
    dock.content = content  # type: ignore[attr-defined]
