"""Placeholder docks (Budgets, Analytics, Accounts) with purposeful empty states until the real ones land."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDockWidget

from aicost_desktop.ui.docks import make_dock
from aicost_desktop.ui.widgets.empty_state import EmptyState, scrollable

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.ui.services import Services


def _placeholder(title: str, headline: str, detail: str, services: "Services",
                 cli_hint: str, sample_button: bool = False) -> QDockWidget:
    state = EmptyState(headline, f"{detail}\n\nFrom a terminal today: {cli_hint}")
    state.setObjectName(f"{title.lower()}Placeholder")
    if sample_button and services.actions is not None:
        state.add_button("Load sample data", services.actions.load_sample.trigger)
    return make_dock(title, scrollable(state))


def budgets_dock(ctx: "AppContext", services: "Services") -> QDockWidget:
    return _placeholder("Budgets", "No budgets yet",
                        "Set a monthly, weekly or daily limit per account, provider or model and get "
                        "alerts at 50 / 80 / 100 %.", services, "aicost budgets add --help")


def analytics_dock(ctx: "AppContext", services: "Services") -> QDockWidget:
    return _placeholder("Analytics", "Charts appear once there is spend",
                        "Daily spend by provider and model, month-over-month, forecast and anomalies.",
                        services, "aicost report --group-by day,provider", sample_button=True)


def accounts_dock(ctx: "AppContext", services: "Services") -> QDockWidget:
    return _placeholder("Accounts", "No accounts connected",
                        "Add an OpenAI, Anthropic, OpenRouter, DeepSeek or Moonshot admin key to sync "
                        "usage and cost automatically. Keys are kept in the OS keychain.",
                        services, "aicost accounts add --help")
