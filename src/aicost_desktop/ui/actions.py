"""The application's shared QActions (menus, toolbar, tray and docks all use the same objects).

Other parts connect to these instead of adding menu entries: e.g. the export helper calls
`services.actions.handle("export", open_export_dialog)` (replacing the shell's placeholder), the
sync service reads `actions.pause_sync.isChecked()` (or the `sync_paused` setting).
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QMetaObject, QObject
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QStyle, QWidget
from aicost_desktop.ui.theme import line_icon


class AppActions:
    """Every top-level action, created once per main window (owned by `parent`)."""

    def __init__(self, parent: QWidget) -> None:
        style = parent.style()
        self._handlers: dict[str, QMetaObject.Connection] = {}

        def make(text: str, tip: str, shortcut: QKeySequence | str | None = None,
                 icon: QStyle.StandardPixmap | None = None, checkable: bool = False) -> QAction:
            act = QAction(text, parent)
            act.setToolTip(tip)
            act.setStatusTip(tip)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            if icon is not None:
                act.setIcon(style.standardIcon(icon))
            act.setCheckable(checkable)
            return act

        SP = QStyle.StandardPixmap
        self.export = make("&Export…", "Export ledger rows to CSV/JSON", "Ctrl+E")
        self.load_sample = make("Load &sample data…", "Add 90 days of demo spend, marked as sample data")
        self.clear_sample = make("Remove sample &data…", "Delete every sample row, subscription and account; "
                                 "your own data stays")
        self.quit = make("&Quit", "Quit AI Cost Tracker", QKeySequence.StandardKey.Quit, SP.SP_DialogCloseButton)
        self.quit.setShortcut(QKeySequence("Ctrl+Q"))
        self.sync_now = make("&Sync now", "Refresh every dock and sync all accounts now", "Ctrl+R")
        self.pause_sync = make("&Pause syncing", "Stop scheduled syncs until unchecked", None, checkable=True)
        self.settings = make("Se&ttings…", "Time zone, currency, tray behaviour", "Ctrl+,")
        self.about = make("&About", "Version, price snapshot, data and log locations", None,
                          SP.SP_MessageBoxInformation)
        self.docs = make("&Documentation", "Open the user guide in your browser", "F1")
        self.reset_layout = make("&Reset layout", "Put every dock back where it started, sized to this screen")
        self.compact_layout = make("&Compact layout", "Chart and budgets first on a small screen; "
                                   "lower panes folded", checkable=True)
        self.open_window = make("&Open", "Show the AI Cost Tracker window")
        self.open_window.setIcon(QIcon())
        # File menu entries; the shell handles them, the Accounts dock serves add_account.
        self.add_account = make("Add &account…", "Connect an OpenAI, Anthropic, OpenRouter, DeepSeek or Moonshot "
                                "account")
        self.add_manual_entry = make("Add &manual entry…", "Record spend the providers do not report")
        self.add_subscription = make("Add s&ubscription…", "A monthly or yearly plan, charged on its renewal day")
        self.import_logs = make("&Import logs or CSV…", "Claude Code / Codex logs or a console CSV export")

        self._line_icons = {"sync_now": "sync", "pause_sync": "pause", "export": "export", "settings": "settings",
                            "docs": "help"}
        self.refresh_icons()

    def refresh_icons(self) -> None:
        """Toolbar icons drawn in the current palette's text colour (again after a theme change)."""
        for attr, icon in self._line_icons.items():
            getattr(self, attr).setIcon(line_icon(icon))

    def handle(self, name: str, fn: Callable[[], None], *, replace: bool = True) -> None:
        """Make `fn` THE handler of action `name` (e.g. "export"), replacing an earlier one.

        With replace=False an existing handler is kept (the shell's placeholders use this).
        """
        if name in self._handlers:
            if not replace:
                return
            # By connection handle: PySide6 6.12's `signal.disconnect(slot)` leaks a reference to True.
            QObject.disconnect(self._handlers[name])
        slot = lambda _checked=False, fn=fn: fn()  # noqa: E731 - triggered(bool) -> fn()
        self._handlers[name] = getattr(self, name).triggered.connect(slot)

    def all(self) -> list[QAction]:
        return [self.export, self.load_sample, self.clear_sample, self.quit, self.sync_now, self.pause_sync,
                self.settings, self.about, self.docs, self.reset_layout, self.compact_layout, self.open_window,
                self.add_account, self.add_manual_entry, self.add_subscription, self.import_logs]
