"""The dock registry: every dock of the main window, built by a factory, so nobody edits main_window.

To plug a dock in, change its `factory` entry below (one line) to "package.module:function".
A factory is `factory(ctx, services) -> QDockWidget`; the main window sets the objectName from
the spec (it must stay stable: saved layouts refer to it). A dock (or its widget) may define
`refresh()`: the main window calls it on Ctrl+R and the smoke test calls it once. Docks refresh
themselves on `services.bus.ledger_changed` through a `workers.Refresher` (the one refresh
policy) and reach the runtime only through `services.sync` / `services.alerts`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Union

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QWidget

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.ui.services import Services

DockFactory = Callable[["AppContext", "Services"], QDockWidget]
Area = Qt.DockWidgetArea


@dataclass(frozen=True)
class DockSpec:
    """One dock: stable objectName, title, factory (callable or "module:function") and start area."""

    object_name: str
    title: str
    factory: Union[DockFactory, str]
    area: Area = Area.RightDockWidgetArea
    tabify_with: str | None = None  # start tabbed with this dock (objectName)

    def resolve(self) -> DockFactory:
        if callable(self.factory):
            return self.factory
        module, _, attr = self.factory.partition(":")
        return getattr(importlib.import_module(module), attr)

    def build(self, ctx: "AppContext", services: "Services") -> QDockWidget:
        dock = self.resolve()(ctx, services)
        dock.setObjectName(self.object_name)
        if not dock.windowTitle():
            dock.setWindowTitle(self.title)
        return dock


_P = "aicost_desktop.ui.docks"
DOCKS: list[DockSpec] = [
    DockSpec("costTrackerDock", "Cost tracker", f"{_P}.cost_tracker:cost_tracker_dock", Area.LeftDockWidgetArea),
    DockSpec("budgetsDock", "Budgets", f"{_P}.budgets:budgets_dock", Area.RightDockWidgetArea),
    DockSpec("analyticsDock", "Analytics", f"{_P}.analytics:analytics_dock", Area.RightDockWidgetArea,
             tabify_with="budgetsDock"),
    DockSpec("accountsDock", "Accounts", f"{_P}.accounts:accounts_dock", Area.BottomDockWidgetArea),
    DockSpec("integrationsDock", "Integrations", f"{_P}.integrations:integrations_dock", Area.BottomDockWidgetArea,
             tabify_with="accountsDock"),
]


def spec(object_name: str) -> DockSpec:
    for s in DOCKS:
        if s.object_name == object_name:
            return s
    raise KeyError(object_name)


DOCK_FEATURES = (QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetClosable
                 | QDockWidget.DockWidgetFeature.DockWidgetFloatable)


def make_dock(title: str, widget: QWidget, parent: QWidget | None = None) -> QDockWidget:
    """A QDockWidget around `widget` with the features every dock of this app shares."""
    dock = QDockWidget(title, parent)
    dock.setWidget(widget)
    dock.setFeatures(DOCK_FEATURES)
    return dock


def call_refresh(dock: QDockWidget) -> bool:
    """Call `refresh()` on the dock or its widget if either defines it; True if one did."""
    for target in (dock, getattr(dock, "content", None) or dock.widget()):
        fn = getattr(target, "refresh", None)
        if callable(fn):
            fn()
            return True
    return False
