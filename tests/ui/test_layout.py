"""Window layout: the dashboard is visible at first start on small and large screens, compact below 1440 px,
Reset layout, Ctrl+1..5, Tab out of tables, a saved state of an older layout ignored, sample data asked for."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from PySide6.QtCore import QObject, QPoint, QRect, Qt, Slot
from PySide6.QtGui import QDesktopServices, QPalette
from PySide6.QtWidgets import QApplication, QDockWidget, QScrollArea, QToolBar, QWidget

from aicost_desktop.ui.layout import COMPACT, COMPACT_BELOW, MIN_PLOT, WIDE, arrangement_for, content_of
from aicost_desktop.ui.main_window import MainWindow, window_settings

DASHBOARD = ("costTrackerDock", "analyticsDock", "budgetsDock")
SCREENS = {"1366x768": QRect(0, 0, 1366, 768), "1440x900": QRect(0, 0, 1440, 900),
           "1920x1080": QRect(0, 0, 1920, 1080)}


@pytest.fixture
def demo_ctx(ctx):
    """The suite's ctx with 30 days of sample data and a budget (what a first start with --demo shows)."""
    from aicost_desktop.budgets.model import BudgetSpec, add_budget
    from aicost_desktop.demo import load_demo

    load_demo(ctx, days=30, seed=1)
    add_budget(ctx.db, BudgetSpec.build(name="Monthly total", amount=Decimal("1500")))
    return ctx


def shown_on(qtbot, w: MainWindow, screen: QRect) -> None:
    """Lay `w` out as a first start on a screen of that size and wait until the docks have their sizes."""
    w.window_layout.apply_default(screen)
    w.show()
    qtbot.waitExposed(w)
    chart = content_of(w.docks["analyticsDock"]).chart
    qtbot.waitUntil(lambda: chart.height() > 0 and w.docks["budgetsDock"].height() > 0)
    QApplication.processEvents()  # the layout's second pass (after show) runs from the event loop


def on_screen(dock: QDockWidget) -> bool:
    """Visible: not closed, and not behind another dock's tab (QMainWindow hides those)."""
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


def whole(widget: QWidget) -> bool:
    """Shown and not clipped by any of its parents (a dock too small, a window too small)."""
    if not widget.isVisible():
        return False
    win = widget.window()
    rect = QRect(widget.mapTo(win, QPoint(0, 0)), widget.size())
    shown = QRect(rect)
    p = widget.parentWidget()
    while p is not None and p is not win:
        shown = shown.intersected(QRect(p.mapTo(win, QPoint(0, 0)), p.size()))
        p = p.parentWidget()
    return shown.intersected(win.rect()) == rect


def not_scrolled(dock: QDockWidget) -> bool:
    """The dock shows all of its content: its scroll area (if any) needs no scroll bar."""
    area = dock.widget()
    if not isinstance(area, QScrollArea):
        return True
    return not area.verticalScrollBar().isVisible() and not area.horizontalScrollBar().isVisible()


@pytest.mark.parametrize("size", list(SCREENS))
def test_first_start_shows_chart_totals_and_budgets(qtbot, make_window, demo_ctx, size):
    w = make_window()
    shown_on(qtbot, w, SCREENS[size])
    tracker = content_of(w.docks["costTrackerDock"])
    budgets = content_of(w.docks["budgetsDock"])
    analytics = content_of(w.docks["analyticsDock"])
    qtbot.waitUntil(lambda: tracker.model.rowCount() > 0 and budgets.model.rowCount() > 0
                    and analytics.data is not None, timeout=15_000)
    for name in DASHBOARD:
        assert on_screen(w.docks[name]), name
    # Rows arriving re-lay a dock out from the event loop: on a busy machine its scroll bar can still be the one
    # of the layout before (seen with the installer build beside the suite). What stays is what a user sees.
    try:
        qtbot.waitUntil(lambda: all(not_scrolled(w.docks[name]) for name in DASHBOARD), timeout=3_000)
    except qtbot.TimeoutError:
        pass
    for name in DASHBOARD:
        assert not_scrolled(w.docks[name]), f"{name} is cut off at {size}"
    assert analytics.chart.height() >= MIN_PLOT, analytics.chart.height()
    # The chart, the totals and the budget controls are on screen, whole ("Check now" was cut off at 1366x768).
    for widget in (analytics.chart, tracker.month_figure, tracker.today_figure, budgets.check_btn, budgets.add_btn,
                   budgets.table):
        assert whole(widget), widget
    # The ledger is one dock among others (not most of the window), and shows more than a row and a half.
    assert w.docks["costTrackerDock"].width() < 0.6 * w.width()
    table = tracker.table
    assert table.viewport().height() >= 5 * table.verticalHeader().defaultSectionSize()
    assert budgets.table.viewport().height() >= 2 * budgets.table.verticalHeader().defaultSectionSize()
    # What a budget is doing reads without scrolling sideways, through "Days left" (cut at 1920 px, where Budgets
    # shares its row with Accounts).
    assert _columns_shown(budgets.table, through="Days left")
    accounts = content_of(w.docks["accountsDock"])
    if on_screen(w.docks["accountsDock"]):  # beside Budgets (wide): the detail pane goes under a narrow table
        qtbot.waitUntil(lambda: accounts.table.isVisible(), timeout=5_000)
        assert _columns_shown(accounts.table, through="Status"), size


def _columns_shown(table, through: str) -> bool:
    """The table's columns up to and including the one headed `through` fit its viewport (no sideways scroll)."""
    header, model = table.horizontalHeader(), table.model()
    names = [model.headerData(i, Qt.Orientation.Horizontal) for i in range(header.count())]
    last = names.index(through)
    need = sum(header.sectionSize(i) for i in range(last + 1) if not header.isSectionHidden(i))
    return need <= table.viewport().width() and table.horizontalScrollBar().value() == 0


def test_compact_layout_below_1440_px(qtbot, make_window, ctx):
    assert arrangement_for(COMPACT_BELOW - 1) is COMPACT and arrangement_for(COMPACT_BELOW) is WIDE
    w = make_window()
    # Wide enough but too short for the chart over the budgets with their lower panes open: compact too.
    assert w.window_layout.choose(SCREENS["1440x900"]) is COMPACT
    assert w.window_layout.choose(SCREENS["1920x1080"]) is WIDE
    shown_on(qtbot, w, SCREENS["1366x768"])
    budgets, accounts = w.docks["budgetsDock"], w.docks["accountsDock"]
    assert w.window_layout.current is COMPACT and w.actions.compact_layout.isChecked()
    assert accounts in w.tabifiedDockWidgets(budgets)  # Accounts waits behind Budgets' tab
    assert on_screen(budgets) and not on_screen(accounts)
    assert w.width() <= 1366 and w.height() <= 768

    shown_on(qtbot, w, SCREENS["1920x1080"])
    assert w.window_layout.current is WIDE and not w.actions.compact_layout.isChecked()
    assert accounts not in w.tabifiedDockWidgets(budgets)
    qtbot.waitUntil(lambda: on_screen(accounts) and on_screen(budgets))


def test_reset_layout_brings_closed_and_floating_docks_back(qtbot, make_window):
    w = make_window()
    shown_on(qtbot, w, SCREENS["1366x768"])
    for name in DASHBOARD:
        w.docks[name].close()
    w.docks["accountsDock"].setFloating(True)
    assert not any(w.docks[n].isVisible() for n in DASHBOARD)
    w.actions.reset_layout.trigger()
    qtbot.waitUntil(lambda: all(on_screen(w.docks[n]) for n in DASHBOARD))
    assert not any(d.isFloating() for d in w.docks.values())
    assert all(not d.isHidden() for d in w.docks.values())


def test_ctrl_1_to_5_show_and_raise_each_dock(qtbot, make_window):
    w = make_window()
    shown_on(qtbot, w, SCREENS["1366x768"])  # compact: Accounts and Integrations are tabbed behind Budgets
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w)
    keys = {Qt.Key.Key_1: "costTrackerDock", Qt.Key.Key_2: "budgetsDock", Qt.Key.Key_3: "analyticsDock",
            Qt.Key.Key_4: "accountsDock", Qt.Key.Key_5: "integrationsDock"}
    w.docks["analyticsDock"].close()
    for key, name in keys.items():
        qtbot.keyClick(w, key, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda name=name: on_screen(w.docks[name]))
    # Ctrl+4 raised Accounts over Budgets' tab, Ctrl+2 brings Budgets to the front again.
    qtbot.keyClick(w, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: on_screen(w.docks["budgetsDock"]) and not on_screen(w.docks["accountsDock"]))
    shortcuts = {a.shortcut().toString() for a in w.window_layout.dock_actions}
    assert shortcuts == {f"Ctrl+{i}" for i in range(1, 6)}


def test_tab_leaves_the_ledger_table(qtbot, make_window, demo_ctx):
    w = make_window()
    shown_on(qtbot, w, SCREENS["1366x768"])
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w)
    table = content_of(w.docks["costTrackerDock"]).table
    qtbot.waitUntil(lambda: table.model().rowCount() > 2 and table.isVisible(), timeout=15_000)
    table.setFocus()
    table.setCurrentIndex(table.model().index(0, 0))
    qtbot.waitUntil(table.hasFocus)
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert not table.hasFocus() and QApplication.focusWidget() is not None
    assert table.currentIndex().column() == 0  # Tab did not walk to the next cell
    # The arrows still move within the table.
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Down)
    assert table.currentIndex().row() == 1


def test_a_state_saved_by_an_older_layout_does_not_hide_the_charts(qtbot, make_window, ctx):
    old = make_window()
    old.docks["analyticsDock"].hide()  # say the old layout had the chart tabbed away or closed
    s = window_settings(ctx)
    s.setValue("window/state", old.saveState(1))  # layout version 1, no arrangement name
    s.sync()
    w = make_window()
    shown_on(qtbot, w, SCREENS["1366x768"])
    assert not w.docks["analyticsDock"].isHidden()
    qtbot.waitUntil(lambda: on_screen(w.docks["analyticsDock"]))


def test_the_saved_layout_comes_back(qtbot, make_window, ctx):
    w1 = make_window()
    w1.show()
    qtbot.waitExposed(w1)
    w1.docks["integrationsDock"].hide()
    w1.save_layout()
    w2 = make_window()  # the same (offscreen) screen: restored, not re-arranged
    assert w2.window_layout.current.name == w1.window_layout.current.name
    w2.show()
    qtbot.waitExposed(w2)
    assert w2.docks["integrationsDock"].isHidden() and not w2.docks["costTrackerDock"].isHidden()


def test_f1_opens_the_docs_in_the_browser(qtbot, make_window):
    class Browser(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.urls: list[str] = []

        @Slot("QUrl")
        def open(self, url) -> None:  # type: ignore[no-untyped-def]
            self.urls.append(url.toString())

    browser = Browser()
    QDesktopServices.setUrlHandler("file", browser, "open")
    try:
        w = make_window()
        w.show()
        qtbot.waitExposed(w)
        w.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is w)
        qtbot.keyClick(w, Qt.Key.Key_F1)
        qtbot.waitUntil(lambda: bool(browser.urls))
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert browser.urls[0].endswith(("README.md", "README.html")), browser.urls


def test_sample_data_is_a_menu_entry_not_a_toolbar_button(make_window):
    w = make_window()
    toolbar = w.findChild(QToolBar, "mainToolbar")
    assert w.actions.load_sample not in toolbar.actions()
    file_menu = w.menuBar().actions()[0].menu()
    assert {w.actions.load_sample, w.actions.clear_sample} <= set(file_menu.actions())


def _real_entry(ctx) -> None:  # type: ignore[no-untyped-def]
    from aicost_desktop.manual import ManualEntry, add_entry

    add_entry(ctx.db, ManualEntry(service="Perplexity", amount=Decimal("20"), entry_date=date.today(),
                                  provider="perplexity"))


def test_load_sample_data_asks_before_mixing_with_real_rows(qtbot, make_window, ctx):
    from aicost_desktop.demo import demo_counts

    _real_entry(ctx)
    w = make_window()
    asked: list[str] = []

    def refuse(title: str, text: str) -> bool:
        asked.append(text)
        return False

    w.confirm = refuse
    w.actions.load_sample.trigger()
    qtbot.waitUntil(lambda: bool(asked) and w.actions.load_sample.isEnabled())
    assert "1 rows and subscriptions of your own" in asked[0] or "of your own" in asked[0]
    assert demo_counts(ctx.db) == (1, 0)  # nothing mixed in

    w.confirm = lambda title, text: asked.append(text) or True
    with qtbot.waitSignal(w.demo_loaded, timeout=60_000):
        w.actions.load_sample.trigger()
    assert len(asked) == 2
    real, demo = demo_counts(ctx.db)
    assert real == 1 and demo > 0


def test_load_sample_data_into_an_empty_ledger_does_not_ask(qtbot, make_window, ctx):
    w = make_window()
    w.confirm = lambda title, text: pytest.fail("asked although the ledger was empty")
    with qtbot.waitSignal(w.demo_loaded, timeout=60_000):
        w.actions.load_sample.trigger()


def test_remove_sample_data_keeps_the_users_rows(qtbot, make_window, ctx):
    from aicost_desktop.demo import demo_counts, load_demo

    _real_entry(ctx)
    load_demo(ctx, days=10, seed=1)
    w = make_window()
    w.confirm = lambda title, text: True
    with qtbot.waitSignal(w.sample_cleared, timeout=30_000) as removed:
        w.actions.clear_sample.trigger()
    assert removed.args[0] > 0
    assert demo_counts(ctx.db) == (1, 0)


def test_toolbar_icons_follow_the_dark_palette():
    from aicost_desktop.ui.theme import line_icon, palette

    for kind in ("light", "dark"):
        pal = palette(kind)
        text = pal.color(QPalette.ColorRole.ButtonText)
        for name in ("sync", "pause", "export", "settings", "help"):
            img = line_icon(name, pal).pixmap(24, 24).toImage()
            drawn = [img.pixelColor(x, y) for x in range(24) for y in range(24) if img.pixelColor(x, y).alpha() > 200]
            assert drawn, name
            # Drawn in the palette's text colour: light on the dark theme, dark on the light one.
            assert all(abs(c.lightness() - text.lightness()) < 30 for c in drawn), (kind, name)


@pytest.mark.parametrize("kind", ["light", "dark"])
def test_radio_buttons_read_on_both_palettes(qtbot, kind):
    from PySide6.QtWidgets import QRadioButton, QStyleFactory

    from aicost_desktop.ui.theme import AppStyle, palette

    pal = palette(kind)
    window = pal.color(QPalette.ColorRole.Window)

    def ring_contrast(style) -> int:  # type: ignore[no-untyped-def]
        rb = QRadioButton("Covered by a subscription")
        rb.setStyle(style)
        rb.setPalette(pal)
        rb.setAutoFillBackground(True)
        qtbot.addWidget(rb)
        rb.resize(rb.sizeHint())
        img = rb.grab().toImage()
        side = img.height()  # the indicator sits at the left, about as wide as the widget is high
        return max(abs(img.pixelColor(x, y).lightness() - window.lightness())
                   for x in range(min(side, img.width())) for y in range(img.height()))

    fusion = QStyleFactory.create("Fusion")
    ours = AppStyle()
    assert ring_contrast(ours) >= 60, kind
    if kind == "dark":  # what it fixes: Fusion's own outline all but vanishes on the dark palette
        assert ring_contrast(fusion) < ring_contrast(ours)


def test_an_idle_window_stops_reloading(qtbot, make_window, demo_ctx):
    # A budget evaluation rewrote workspace_usage each time; the ledger watcher (which sees this process's
    # commits too) then reported a change, which evaluated again: the Analytics dock reloaded every second
    # for ever, a core busy in a window nobody touched, "Updating…" never left its status line.
    w = make_window()
    shown_on(qtbot, w, SCREENS["1920x1080"])
    analytics = content_of(w.docks["analyticsDock"])
    qtbot.waitUntil(lambda: analytics.data is not None, timeout=15_000)
    loads: list[object] = []
    analytics.refreshed.connect(loads.append)
    qtbot.wait(4_000)  # the watcher polls every second: a loop would have reloaded three times or more
    assert len(loads) <= 1, f"{len(loads)} reloads of an idle window"
    qtbot.waitUntil(lambda: "Updating" not in analytics.status.text(), timeout=5_000)


def test_no_dock_shows_its_empty_state_before_its_first_load_answers(qtbot, make_window, monkeypatch):
    """A full ledger on a slow disk must not read "No spend yet" / "Add your first account" for a second."""
    import threading

    import aicost_desktop.ui.docks.accounts as accounts_mod
    import aicost_desktop.ui.docks.budgets as budgets_mod
    import aicost_desktop.ui.docks.cost_tracker as cost_mod

    gate = threading.Event()

    def held(load):  # type: ignore[no-untyped-def]
        def wait_then_load(*args):  # type: ignore[no-untyped-def]
            gate.wait(20)
            return load(*args)
        return wait_then_load

    for mod, name in ((cost_mod, "_load"), (accounts_mod, "load_account_rows"), (budgets_mod, "_load")):
        monkeypatch.setattr(mod, name, held(getattr(mod, name)))
    w = make_window()
    w.show()
    qtbot.waitExposed(w)
    cost, accounts, budgets = (w.docks[n].content for n in ("costTrackerDock", "accountsDock", "budgetsDock"))
    assert not cost.is_empty_state() and cost.stack.currentWidget() is cost.loading
    assert accounts.stack.currentWidget() is accounts.loading and not budgets.empty.isVisibleTo(budgets)
    assert "Loading" in cost.loading.text() and "Loading" in accounts.loading.text()
    gate.set()  # the ledger is empty: once read, each says so
    qtbot.waitUntil(lambda: cost.is_empty_state() and accounts.stack.currentWidget() is accounts.empty_page
                    and budgets.empty.isVisibleTo(budgets), timeout=20_000)
