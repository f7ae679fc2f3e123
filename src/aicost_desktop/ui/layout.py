"""The main window's dock layout: dashboard-first wide and compact arrangements, reset, saved state, dock keys."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QByteArray, QEvent, QObject, QPoint, QRect, QSettings, QSize, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QTextDocument
from PySide6.QtWidgets import (QAbstractItemView, QDockWidget, QMainWindow, QScrollArea, QSplitter, QStyle, QTabBar,
                               QWidget)

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMenu

log = logging.getLogger("aicost.ui.layout")

# QMainWindow.saveState version. 2: dashboard-first arrangements (the charts used to start tabbed behind
# Budgets); a state saved by an older layout is ignored instead of restoring its hidden charts.
STATE_VERSION = 2
COMPACT_BELOW = 1440  # available screen width (px) under which the compact arrangement is used
# Ctrl+1..5 in this order (the registry's objectNames).
DOCK_KEYS = ("costTrackerDock", "budgetsDock", "analyticsDock", "accountsDock", "integrationsDock")
MIN_PLOT = 250  # the spend chart's height in every arrangement
TITLE_BAR = 24  # a dock's title bar
SEPARATOR = 6  # between docks
ABOVE_CHART = 110  # the Analytics dock's title bar, its two rows of controls and margins (measured ~100 px)


@dataclass(frozen=True)
class Arrangement:
    """Where the docks go. Left column: the Cost tracker (totals, budget card, ledger). Right column: the
    Analytics chart on top of Budgets; Accounts and Integrations beside Budgets (wide) or tabbed behind
    it (compact). Fractions are of the dock area; `window` of the available screen."""

    name: str
    left: float          # width share of the left column
    top: float           # height share of Analytics in the right column
    budgets: float       # width share of Budgets in the bottom-right row (wide only)
    window: float        # window size as a share of the available screen
    secondary_panes: bool  # the docks' lower panes (month over month, alert log) open


WIDE = Arrangement("wide", left=0.37, top=0.63, budgets=0.57, window=0.94, secondary_panes=True)
COMPACT = Arrangement("compact", left=0.46, top=0.64, budgets=1.0, window=1.0, secondary_panes=False)


def arrangement_for(available_width: int) -> Arrangement:
    """By width alone; WindowLayout.choose also checks that the wide one fits the docks' minimum sizes."""
    return COMPACT if available_width < COMPACT_BELOW else WIDE


def available_geometry(window: QWidget | None = None) -> QRect:
    screen = (window.screen() if window is not None else None) or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else QRect(0, 0, 1280, 800)


def content_of(dock: QDockWidget) -> QWidget | None:
    """The dock's own widget (inside the scroll area the main window wraps it in)."""
    return getattr(dock, "content", None) or dock.widget()


class WindowLayout:
    """Arranges, resets, saves and restores the window's docks; installs Ctrl+1..5 and Tab behaviour.

    `settings()` returns the QSettings the layout is saved in (the window's INI file in the home).
    """

    def __init__(self, window: QMainWindow, docks: dict[str, QDockWidget],
                 settings: Callable[[], QSettings]) -> None:
        self.window = window
        self.docks = docks
        self.settings = settings
        self.current: Arrangement = WIDE
        self.dock_actions: list[QAction] = []
        self.compact_action: QAction | None = None

    # -- arranging -------------------------------------------------------------------------

    def apply_default(self, available: QRect | None = None, arrangement: Arrangement | None = None,
                      resize_window: bool = True) -> Arrangement:
        """Put every dock where the arrangement for this screen wants it, visible, sized to the screen.

        `available` is the screen's available geometry (tests pass one); the window is resized to it
        unless `resize_window` is False (the user picked the other arrangement from the View menu).
        """
        real_screen = available is None
        avail = available if available is not None else available_geometry(self.window)
        arr = arrangement or self.choose(avail)
        self.current = arr
        if resize_window:
            self._size_window(avail, arr, maximize=real_screen and arr is COMPACT)
        self._place(arr)
        self._size_docks(arr)
        # QMainWindow lays docks out for real only once it is shown at its size: size them again then.
        QTimer.singleShot(0, self.window, lambda: (self._drop_stale_tab_bars(), self._size_docks(arr)))
        if self.compact_action is not None:
            self.compact_action.setChecked(arr is COMPACT)
        return arr

    def _size_window(self, avail: QRect, arr: Arrangement, maximize: bool) -> None:
        w = min(avail.width(), int(avail.width() * arr.window))
        h = min(avail.height(), int(avail.height() * arr.window))
        self.window.setWindowState(self.window.windowState() & ~Qt.WindowState.WindowMaximized)
        self.window.resize(w, h)
        self.window.move(avail.topLeft() + QPoint((avail.width() - w) // 2, (avail.height() - h) // 2))
        if maximize:  # a small screen: all of it (the window manager leaves room for its panels)
            self.window.setWindowState(self.window.windowState() | Qt.WindowState.WindowMaximized)

    def _place(self, arr: Arrangement) -> None:
        win, d = self.window, self.docks
        for dock in d.values():
            dock.setFloating(False)
        tracker, analytics, budgets = d.get("costTrackerDock"), d.get("analyticsDock"), d.get("budgetsDock")
        accounts, integrations = d.get("accountsDock"), d.get("integrationsDock")
        L, R = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        if tracker is not None:
            win.addDockWidget(L, tracker)
        placed = [x for x in (analytics, budgets, accounts, integrations) if x is not None]
        for dock in placed:  # out of their tab groups first, so the splits below start from scratch
            win.addDockWidget(R, dock, Qt.Orientation.Vertical)
        if analytics is not None and budgets is not None:
            win.splitDockWidget(analytics, budgets, Qt.Orientation.Vertical)
        if budgets is not None and accounts is not None:
            if arr.budgets < 1.0:
                win.splitDockWidget(budgets, accounts, Qt.Orientation.Horizontal)
            else:
                win.tabifyDockWidget(budgets, accounts)
        if accounts is not None and integrations is not None:
            win.tabifyDockWidget(accounts, integrations)
        for dock in d.values():
            dock.show()
        for front in (budgets, accounts):  # the front tab of each group
            if front is not None:
                front.raise_()
        if budgets is not None:
            budgets.raise_()
        self._drop_stale_tab_bars()
        self._set_panes(arr)

    def _drop_stale_tab_bars(self) -> None:
        """Hide the tab bars of dissolved tab groups (Qt 6 leaves them drawn over the docks, listing docks
        that are no longer tabbed); re-laying the state out shows again the ones in use."""
        for bar in self.window.findChildren(QTabBar):
            if bar.parentWidget() is self.window:
                bar.hide()
        self.window.restoreState(self.window.saveState(STATE_VERSION), STATE_VERSION)

    def choose(self, available: QRect) -> Arrangement:
        """Compact below COMPACT_BELOW px of width, or when the wide arrangement would squeeze a dock below
        its minimum (e.g. 1440x900: too short for the chart over the budgets with both lower panes open)."""
        if arrangement_for(available.width()) is COMPACT:
            return COMPACT
        size = QSize(int(available.width() * WIDE.window), int(available.height() * WIDE.window))
        area, need = self._dock_area(size), self._needs(WIDE)
        return WIDE if area.width() >= need.width() and area.height() >= need.height() else COMPACT

    def _dock_area(self, window: QSize | None = None) -> QSize:
        """The window's size less menu, toolbars and status bar: what the docks share."""
        win = self.window
        size = window or win.size()
        h = size.height() - win.menuBar().sizeHint().height() - win.statusBar().sizeHint().height()
        for tb in win.findChildren(QWidget, "mainToolbar"):
            h -= tb.sizeHint().height()
        return QSize(size.width(), max(200, h))

    def _least(self, name: str) -> QSize:
        """A dock's smallest size that shows its content whole: the content's minimum and the title bar."""
        dock = self.docks.get(name)
        widget = content_of(dock) if dock is not None else None
        if dock is None or widget is None or dock.isHidden():
            return QSize(0, 0)
        least = widget.minimumSizeHint().expandedTo(widget.minimumSize())
        return QSize(least.width() + 4, least.height() + TITLE_BAR)

    def _needs(self, arr: Arrangement) -> QSize:
        """The dock area the arrangement needs so that no dock scrolls (separators included)."""
        tracker, analytics = self._least("costTrackerDock"), self._least("analyticsDock")
        budgets, accounts = self._least("budgetsDock"), self._least("accountsDock")
        bottom_w = budgets.width() + SEPARATOR + accounts.width() if arr.budgets < 1.0 else budgets.width()
        bottom_h = max(budgets.height(), accounts.height()) if arr.budgets < 1.0 else budgets.height()
        top_h = max(analytics.height(), self._analytics_min_height(arr))
        return QSize(tracker.width() + SEPARATOR + max(analytics.width(), bottom_w),
                     max(tracker.height(), top_h + SEPARATOR + bottom_h))

    def _size_docks(self, arr: Arrangement) -> None:
        """Split the dock area by the arrangement's shares, each dock kept at least at its minimum."""
        d, area = self.docks, self._dock_area()
        tracker, analytics, budgets, accounts = (d.get(n) for n in
                                                 ("costTrackerDock", "analyticsDock", "budgetsDock", "accountsDock"))
        least = {n: self._least(n) for n in ("costTrackerDock", "analyticsDock", "budgetsDock", "accountsDock")}
        split_bottom = arr.budgets < 1.0
        right_least = max(least["analyticsDock"].width(), least["budgetsDock"].width()
                          + (SEPARATOR + least["accountsDock"].width() if split_bottom else 0))
        win = self.window
        left = _clamp(int(area.width() * arr.left), least["costTrackerDock"].width(), area.width() - right_least)
        right = area.width() - left - SEPARATOR
        if tracker is not None and analytics is not None:
            win.resizeDocks([tracker, analytics], [max(1, left), max(1, right)], Qt.Orientation.Horizontal)
        if analytics is not None and budgets is not None:
            bottom_least = max(least["budgetsDock"].height(), least["accountsDock"].height() if split_bottom else 0)
            top = _clamp(max(int(area.height() * arr.top), self._analytics_min_height(arr)),
                         least["analyticsDock"].height(), area.height() - SEPARATOR - bottom_least)
            win.resizeDocks([analytics, budgets], [max(1, top), max(1, area.height() - top - SEPARATOR)],
                            Qt.Orientation.Vertical)
        if budgets is not None and accounts is not None and split_bottom:
            b = _clamp(int(right * arr.budgets), least["budgetsDock"].width(),
                       right - SEPARATOR - least["accountsDock"].width())
            win.resizeDocks([budgets, accounts], [max(1, b), max(1, right - b - SEPARATOR)], Qt.Orientation.Horizontal)
        self._set_panes(arr)

    def _analytics_min_height(self, arr: Arrangement) -> int:
        """The Analytics dock's height that leaves the chart MIN_PLOT px (with its lower pane when open)."""
        analytics = self.docks.get("analyticsDock")
        widget = content_of(analytics) if analytics is not None else None
        split = _splitter_holding(getattr(widget, "chart", None))
        if split is None:
            return 0
        lower = (split.widget(1).minimumSizeHint().height() + split.handleWidth()
                 if split.count() > 1 and arr.secondary_panes else 0)
        return MIN_PLOT + lower + ABOVE_CHART

    def _set_panes(self, arr: Arrangement) -> None:
        """Open or fold the docks' secondary panes: in compact the chart and the budget table get the room
        (a table squeezed to a row and a half is worse than a pane one drag away)."""
        analytics = self.docks.get("analyticsDock")
        budgets = self.docks.get("budgetsDock")
        for dock, anchor, share in ((analytics, "chart", 0.6), (budgets, "tabs", 0.45)):
            widget = content_of(dock) if dock is not None else None
            target = getattr(widget, anchor, None) if widget is not None else None
            split = _splitter_holding(target) if target is not None else None
            if split is None or split.count() < 2:
                continue
            total = max(sum(split.sizes()), split.height(), 1)
            if arr.secondary_panes:
                if anchor == "chart":
                    first = max(int(total * share), MIN_PLOT)
                    split.setSizes([first, max(total - first, 1)])
                else:
                    second = int(total * share)
                    split.setSizes([total - second, second])
                split.setCollapsible(1, False)
                split.widget(1).setMinimumHeight(0)  # back to its own minimum
            else:
                # Folded, and out of the dock's minimum height (a collapsed pane still counts in it).
                split.widget(1).setMinimumHeight(1)
                split.setCollapsible(1, True)
                split.setSizes([total, 0])

    # -- menu hooks ------------------------------------------------------------------------

    def reset(self) -> None:
        """View > Reset layout: the arrangement for this screen, every dock back and visible."""
        self.apply_default()

    def set_compact(self, compact: bool) -> None:
        """View > Compact layout: switch arrangement without resizing the window."""
        if (self.current is COMPACT) != compact:
            self.apply_default(arrangement=COMPACT if compact else WIDE, resize_window=False)

    def install(self, view_menu: "QMenu", compact_action: QAction, reset_action: QAction) -> None:
        """Ctrl+1..5 (show and raise a dock, focus into it), Tab leaving tables, the View menu entries."""
        self.compact_action = compact_action
        compact_action.setChecked(self.current is COMPACT)
        compact_action.toggled.connect(self.set_compact)
        for i, name in enumerate(DOCK_KEYS, start=1):
            dock = self.docks.get(name)
            if dock is None:
                continue
            act = QAction(dock.windowTitle(), self.window)
            act.setObjectName(f"show_{name}")
            act.setShortcut(QKeySequence(f"Ctrl+{i}"))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.setStatusTip(f"Show the {dock.windowTitle()} panel")
            act.triggered.connect(lambda _c=False, n=name: self.show_dock(n))
            self.window.addAction(act)
            view_menu.addAction(act)
            self.dock_actions.append(act)
        view_menu.addSeparator()
        panels = view_menu.addMenu("&Panels")
        for dock in self.docks.values():
            panels.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        view_menu.addAction(compact_action)
        view_menu.addAction(reset_action)
        leave_tables_by_tab(self.window)

    def show_dock(self, name: str) -> None:
        dock = self.docks.get(name)
        if dock is None:
            return
        dock.show()
        dock.raise_()
        widget = content_of(dock)
        if widget is not None:
            target = widget.focusProxy() or _first_focusable(widget)
            (target or widget).setFocus(Qt.FocusReason.ShortcutFocusReason)

    # -- persistence -----------------------------------------------------------------------

    def save(self) -> None:
        s = self.settings()
        s.setValue("window/geometry", self.window.saveGeometry())
        s.setValue("window/state", self.window.saveState(STATE_VERSION))
        s.setValue("window/layout", self.current.name)
        for name, split in self._splitters().items():
            s.setValue(f"splitters/{name}", split.saveState())
        s.sync()

    def restore(self, available: QRect | None = None) -> bool:
        """The saved layout if it was saved by this layout version for this kind of screen; else the default.

        Returns True when a saved layout was restored.
        """
        s = self.settings()
        avail = available if available is not None else available_geometry(self.window)
        wanted = self.choose(avail)
        geometry, state, saved = s.value("window/geometry"), s.value("window/state"), s.value("window/layout")
        usable = (isinstance(state, QByteArray) and not state.isEmpty() and saved in (WIDE.name, COMPACT.name)
                  and (saved == wanted.name or (saved == COMPACT.name and wanted is WIDE)))
        if not usable:
            # Nothing saved, an older layout's state (it started the charts hidden), or one saved for a wider
            # screen than this one: the default for this screen.
            self.apply_default(available)
            return False
        self.current = COMPACT if saved == COMPACT.name else WIDE
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.window.restoreGeometry(geometry)
            self._ensure_on_screen()
        if not self.window.restoreState(state, STATE_VERSION):
            self.apply_default(available)
            return False
        self._drop_stale_tab_bars()
        if self.current is COMPACT:
            for split in self._splitters().values():
                split.widget(1).setMinimumHeight(1)
                split.setCollapsible(1, True)
        for name, split in self._splitters().items():
            value = s.value(f"splitters/{name}")
            if isinstance(value, QByteArray):
                split.restoreState(value)
        if self.compact_action is not None:
            self.compact_action.setChecked(self.current is COMPACT)
        return True

    def _splitters(self) -> dict[str, QSplitter]:
        out: dict[str, QSplitter] = {}
        for dock_name, anchor in (("analyticsDock", "chart"), ("budgetsDock", "tabs")):
            dock = self.docks.get(dock_name)
            widget = content_of(dock) if dock is not None else None
            target = getattr(widget, anchor, None) if widget is not None else None
            split = _splitter_holding(target) if target is not None else None
            if split is not None:
                out[dock_name] = split
        return out

    def _ensure_on_screen(self) -> None:
        """A window saved on a screen that is gone comes back centred on the primary one."""
        frame = self.window.frameGeometry()
        if any(sc.availableGeometry().intersects(frame) for sc in QGuiApplication.screens()):
            return
        primary = QGuiApplication.primaryScreen()
        if primary is None:
            return
        avail = primary.availableGeometry()
        w, h = min(self.window.width(), avail.width()), min(self.window.height(), avail.height())
        self.window.resize(w, h)
        self.window.move(avail.center() - QPoint(w // 2, h // 2))


class DockScrollArea(QScrollArea):
    """Scrolls a dock's content only once the dock is smaller than the content's minimum size.

    Not QScrollArea's widgetResizable: with a height-for-width layout (any word-wrapped label) that sizes
    the content to its preferred height, so a dock shorter than that scrolled, its chart cut in half.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(False)
        self.setFrameShape(QScrollArea.Shape.NoFrame)

    def setWidget(self, widget: QWidget) -> None:  # noqa: N802 - Qt override
        super().setWidget(widget)
        widget.installEventFilter(self)
        self.fit()

    def resizeEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)  # type: ignore[arg-type]
        self.fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            QTimer.singleShot(0, self, self.fit)  # after the layout has taken the change in
        return super().eventFilter(watched, event)

    def fit(self) -> None:
        """The content fills the viewport, never below its minimum (then a scroll bar takes over)."""
        w = self.widget()
        if w is None:
            return
        least = w.minimumSizeHint().expandedTo(w.minimumSize())
        room = self.maximumViewportSize()  # the viewport without scroll bars
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
        width, height = max(room.width(), least.width()), max(room.height(), least.height())
        if height > room.height():  # a vertical bar appears and takes its width
            width = max(room.width() - bar, least.width())
        if width > room.width():
            height = max(room.height() - bar, least.height())
        if w.size() != QSize(width, height):
            w.resize(width, height)


def scroll_when_small(dock: QDockWidget) -> None:
    """Let a dock scroll its content when made smaller than the content's minimum.

    Without this the window's minimum size is the sum of every dock's minimum (over 1100x700),
    more than a small laptop screen offers. The content stays reachable as `dock.content`.
    """
    content = dock.widget()
    if content is None or isinstance(content, QScrollArea):
        return
    area = DockScrollArea()
    area.setObjectName(f"{dock.objectName()}Scroll")
    area.setMinimumSize(160, 120)
    dock.setWidget(area)
    area.setWidget(content)
    dock.content = content  # type: ignore[attr-defined]


def _clamp(value: int, low: int, high: int) -> int:
    """`value` within low..high; `low` wins when they cross (a dock's minimum over the others' share)."""
    return max(low, min(value, high))


def leave_tables_by_tab(root: QWidget) -> None:
    """Tab moves focus to the next control instead of walking a table's cells (arrows still do)."""
    for view in root.findChildren(QAbstractItemView):
        view.setTabKeyNavigation(False)


def _splitter_holding(widget: QWidget | None) -> QSplitter | None:
    """The QSplitter `widget` is (or sits inside) a pane of, nearest first."""
    w = widget
    while w is not None:
        parent = w.parentWidget()
        if isinstance(parent, QSplitter):
            return parent
        if isinstance(parent, (QDockWidget, QScrollArea, QMainWindow)):
            return None
        w = parent
    return None


def _first_focusable(widget: QWidget) -> QWidget | None:
    for child in widget.findChildren(QAbstractItemView):
        if child.isVisibleTo(widget):
            return child
    return None


def docs_url(home: Path | None = None) -> QUrl:
    """F1's target: the README of this checkout (it links docs/), or the README shipped in the package's
    metadata, rendered to HTML under `home` (installed builds carry no docs/ folder)."""
    root = Path(__file__).resolve().parents[3]
    readme = root / "README.md"
    if readme.is_file() and (root / "docs").is_dir():
        return QUrl.fromLocalFile(str(readme))

    try:
        text = metadata.metadata("aicost-desktop").get_payload() or ""  # type: ignore[attr-defined]
    except metadata.PackageNotFoundError:
        text = ""
    doc = QTextDocument()
    doc.setMarkdown(text or "# AI Cost Tracker\n\nThe user guide is in the README of the project.")
    folder = (home or Path.home()) / "help"
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "README.html"
    page.write_text(doc.toHtml(), encoding="utf-8")
    return QUrl.fromLocalFile(str(page))
