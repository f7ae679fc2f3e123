"""Openers for the non-modal dialogs (menus, docks and empty states all open them the same way)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from aicost_desktop.ui.services import Services


def _open(dialog: QWidget) -> QWidget:
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()  # type: ignore[attr-defined]
    return dialog


def open_account_dialog(services: "Services", parent: QWidget | None = None, account: Any = None) -> QWidget:
    # lazy: the dialog module loads when it is first opened, not at start-up
    from aicost_desktop.ui.dialogs.account_dialog import AccountDialog

    return _open(AccountDialog(services, account, parent))


def open_manual_entry_dialog(services: "Services", parent: QWidget | None = None) -> QWidget:
    # lazy: the dialog module loads when it is first opened, not at start-up
    from aicost_desktop.ui.dialogs.manual_entry_dialog import ManualEntryDialog

    return _open(ManualEntryDialog(services, parent=parent))


def open_subscription_dialog(services: "Services", parent: QWidget | None = None) -> QWidget:
    # lazy: the dialog module loads when it is first opened, not at start-up
    from aicost_desktop.ui.dialogs.subscription_dialog import SubscriptionDialog

    return _open(SubscriptionDialog(services, parent))


def open_import_dialog(services: "Services", parent: QWidget | None = None, kind: str = "claude-code") -> QWidget:
    # lazy: the dialog module loads when it is first opened, not at start-up
    from aicost_desktop.ui.dialogs.import_dialog import ImportDialog

    return _open(ImportDialog(services, kind, parent))
