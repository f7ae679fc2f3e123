"""Main window: every registry dock with a stable objectName, persisted layout, shortcuts, tray behaviour."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget

from aicost_desktop.ui.docks import DOCKS
from aicost_desktop.ui.main_window import window_settings

NAMES = {"costTrackerDock", "budgetsDock", "analyticsDock", "integrationsDock", "accountsDock"}


def test_all_five_docks_with_stable_names(make_window):
    w = make_window()
    assert {s.object_name for s in DOCKS} == NAMES
    for name in NAMES:
        dock = w.findChild(QDockWidget, name)
        assert dock is not None and dock.widget() is not None, name
        assert dock.windowTitle()


def test_menus_and_shortcuts(make_window):
    w = make_window()
    menus = [a.text() for a in w.menuBar().actions()]
    assert menus == ["&File", "&View", "&Sync", "&Help"]
    a = w.actions
    expected = {a.quit: "Ctrl+Q", a.sync_now: "Ctrl+R", a.export: "Ctrl+E", a.settings: "Ctrl+,", a.docs: "F1"}
    for action, keys in expected.items():
        assert action.shortcut() == QKeySequence(keys), action.text()
    view_items = [act.text() for act in w.menuBar().actions()[1].menu().actions() if act.text()]
    assert {"Cost tracker", "Budgets", "Analytics", "Accounts", "Integrations", "&Reset layout"} <= set(view_items)


def test_geometry_and_dock_state_persist(qtbot, make_window, ctx):
    w1 = make_window()
    w1.show()
    qtbot.waitExposed(w1)
    w1.setGeometry(QRect(30, 40, 640, 470))  # fits the offscreen 800x600 screen
    expected = w1.size()  # as large as asked, or the window's minimum size
    w1.docks["integrationsDock"].hide()
    w1.save_layout()
    assert (ctx.paths.home / "window.ini").exists()  # under the home dir, never real settings

    w2 = make_window()
    w2.show()
    qtbot.waitExposed(w2)
    assert w2.size() == expected and expected.height() == 470
    assert not w2.docks["integrationsDock"].isVisible()
    assert w2.docks["costTrackerDock"].isVisible()


def test_layout_saved_on_a_missing_screen_is_recentred(qtbot, make_window, ctx):
    w1 = make_window()
    w1.setGeometry(QRect(40, 50, 800, 600))
    w1.save_layout()
    # Pretend the window was last on a monitor far to the right that no longer exists.
    w1.move(20_000, 20_000)
    w1.save_layout()
    w2 = make_window()
    screen = w2.screen().availableGeometry()
    assert screen.intersects(w2.frameGeometry())


def test_reset_layout_shows_every_dock(make_window):
    w = make_window()
    w.show()
    w.docks["budgetsDock"].hide()
    w.actions.reset_layout.trigger()
    assert all(not d.isHidden() for d in w.docks.values())


def test_window_settings_are_ini_in_home(ctx):
    s = window_settings(ctx)
    assert s.fileName().startswith(str(ctx.paths.home))


class FakeTray:
    def __init__(self):
        self.messages = []
        from PySide6.QtCore import QObject, Signal

        class _S(QObject):
            open_requested = Signal()

        self._s = _S()
        self.open_requested = self._s.open_requested

    def notify(self, title, message, on_click=None):
        self.messages.append((title, message, on_click))

    def hide(self):
        pass


def test_close_keeps_app_in_tray_when_setting_on(qtbot, make_window, ctx):
    w = make_window()
    tray = FakeTray()
    w.attach_tray(tray)
    w.show()
    qtbot.waitExposed(w)
    assert ctx.settings.get("close_to_tray") is True
    w.close()
    assert not w.isVisible() and tray.messages  # hidden, told where it went
    tray.messages[0][2]()  # clicking the notification brings the window back
    assert w.isVisible()
    ctx.settings.set("close_to_tray", False)
    assert w.close()


def test_notify_without_tray_uses_status_bar(make_window):
    w = make_window()
    w.services.notify("Monthly: 80% of budget", "Monthly: 80% of budget reached - spent $8.00 of $10.00 (80%).")
    assert w.statusBar().currentMessage() == "Monthly: 80% of budget reached - spent $8.00 of $10.00 (80%)."


def test_status_bar_shows_month_to_date(qtbot, make_window):
    w = make_window()
    with qtbot.waitSignal(w.status_refreshed, timeout=10_000):
        w.refresh_status()
    assert w.mtd_label.text() == "This month: $0.00"
    assert w.sync_label.text() == "Last sync: never"


def test_load_sample_data(qtbot, make_window):
    pytest.importorskip("aicost_desktop.demo")
    w = make_window()
    tracker = w.docks["costTrackerDock"].tracker
    with qtbot.waitSignal(w.demo_loaded, timeout=60_000) as blocker:
        w.actions.load_sample.trigger()
    assert blocker.args[0] > 100
    with qtbot.waitSignal(tracker.refreshed, timeout=20_000):
        pass  # the bus's coalesced ledger_changed refreshes the dock
    assert not tracker.is_empty_state()


def test_pause_sync_persists(make_window, ctx):
    w = make_window()
    w.actions.pause_sync.setChecked(True)
    assert ctx.settings.get("sync_paused") is True


def test_export_handler_replaces_placeholder(make_window):
    w = make_window()
    called = []
    w.actions.handle("export", lambda: called.append(1))
    w.actions.export.trigger()
    assert called == [1]


def test_the_shell_owns_the_runtime_and_wires_the_file_menu(qtbot, make_window, ctx):
    """The window builds Services once around a started Runtime; File entries are shell actions (no dock looks
    for a menu by its text); Export opens the export dialog; the window stops the runtime it made."""
    from PySide6.QtWidgets import QApplication

    from aicost_desktop.ui.dialogs.export_dialog import ExportDialog

    w = make_window()
    assert w.runtime.started and w.services.runtime is w.runtime and w.services.sync.service is w.runtime.sync
    file_items = [act.text() for act in w.menuBar().actions()[0].menu().actions() if act.text()]
    assert file_items[:4] == ["Add &account…", "Add &manual entry…", "Add s&ubscription…", "&Import logs or CSV…"]
    panel = w.docks["accountsDock"].panel
    qtbot.waitUntil(lambda: panel.keychain_ok is not None, timeout=5000)
    w.actions.add_account.trigger()  # served by the Accounts dock (keychain check, first sync on save)
    dialogs = [d for d in QApplication.topLevelWidgets() if d.objectName() == "accountDialog" and d.isVisible()]
    assert len(dialogs) == 1
    dialogs[0].reject()
    w.actions.export.trigger()
    exports = [d for d in QApplication.topLevelWidgets() if isinstance(d, ExportDialog) and d.isVisible()]
    assert len(exports) == 1
    exports[0].reject()
    w.shutdown()
    assert w.runtime.stopped


def test_views_load_one_at_a_time_on_their_own_pool_and_a_slow_job_does_not_hold_them(qtbot, make_window):
    """On the GIL two Python-heavy loads side by side take as long as one after the other and slow the GUI
    thread more; a slow general job (a connection test timing out) must not hold the views' reloads."""
    import threading

    w = make_window()
    reads, general = w.services.view_pool, w.services.pool
    assert reads is not general and reads.maxThreadCount() == 1 and general.maxThreadCount() >= 2
    gate = threading.Event()
    w.services.run(lambda: gate.wait(20))  # a job on the general pool that hangs
    cost = w.docks["costTrackerDock"].content
    try:
        with qtbot.waitSignal(cost.refreshed, timeout=10_000):
            w.services.bus.ledger_changed.emit()
    finally:
        gate.set()
