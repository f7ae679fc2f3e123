"""The Integrations dock: a purposeful empty state until alert delivery integrations land."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QListWidget, QListWidgetItem, QSizePolicy

from aicost_desktop.ui.docks import make_dock
from aicost_desktop.ui.widgets.empty_state import EmptyState, scrollable

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.ui.services import Services

PLANNED = [
    ("Slack", "post budget alerts to a channel"),
    ("Discord", "alerts through a webhook"),
    ("Microsoft Teams", "alerts to a channel"),
    ("Email (SMTP)", "alert email to budget owners"),
    ("Telegram", "alerts to a chat"),
    ("Webhook", "POST alerts as JSON anywhere"),
    ("Google Sheets", "append daily spend rows"),
    ("GitHub / Jira", "open an issue when a budget is exceeded"),
]


def integrations_dock(ctx: "AppContext", services: "Services") -> QDockWidget:
    state = EmptyState("Integrations are coming",
                       "Slack, Discord, email… alert delivery and exports will live here. "
                       "Until then, alerts appear as tray notifications.")
    state.setObjectName("integrationsEmpty")
    planned = QListWidget()
    planned.setObjectName("plannedIntegrations")
    planned.setSelectionMode(QListWidget.SelectionMode.NoSelection)
    planned.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    for name, what in PLANNED:
        item = QListWidgetItem(f"{name} — {what}")
        item.setFlags(Qt.ItemFlag.NoItemFlags)  # greyed out: planned, not available
        item.setToolTip("Planned")
        planned.addItem(item)
    planned.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    planned.setMaximumHeight(planned.sizeHintForRow(0) * len(PLANNED) + 8)
    state.add_widget(planned)
    return make_dock("Integrations", scrollable(state))
