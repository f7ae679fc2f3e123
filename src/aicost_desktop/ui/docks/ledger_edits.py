"""Fix what you own: edit and delete manual entries and subscriptions from the ledger table, with Undo."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Sequence

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from aicost_desktop.budgets.wording import provider_label
from aicost_desktop.domain.money import format_money, money_json
from aicost_desktop.manual import (ManualEntry, add_entry, add_subscription, delete_entry, get_subscription,
                                  remove_subscription)
from aicost_desktop.storage.queries import LedgerRowView

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.manual import ManualEntry
    from aicost_desktop.ui.services import Services

log = logging.getLogger("aicost.ui.ledger_edits")
UNDO_MS = 20_000  # how long "Deleted … Undo" stays offered

_ORIGIN = {"log": "read from local agent logs (the next import reads them again)",
           "import": "imported from a file (re-importing it writes the same rows)",
           "proxy": "metered by the local gateway"}


def not_editable_reason(r: LedgerRowView) -> str:
    """Why a row cannot be edited here, in words (the context menu says it)."""
    if r.source == "api":
        return (f"From the {provider_label(r.provider) or 'provider'} API: the provider's own report, re-read "
                "on every sync, so it is not editable here")
    return f"This row was {_ORIGIN.get(r.source, 'not entered by you')}, so it is not editable here"


def manual_entry_of(r: LedgerRowView) -> "ManualEntry":
    """The form values of a manual entry's row (what `manual.to_record` stored, read back)."""
    amount = abs(r.reported_cost if r.reported_cost is not None else r.cost)
    service = r.project or r.provider
    return ManualEntry(service=service, amount=money_json(amount) or "0", entry_date=r.local_date,
                       currency=r.currency, provider=None if r.provider == service.lower() else r.provider,
                       model=r.model or None, note=r.note or None, refund=r.line_item == "refund",
                       input_tokens=r.input_tokens, output_tokens=r.output_tokens)


@dataclass
class Deleted:
    """What one delete removed, enough to create it again (a new id: ids are never reused)."""

    kind: str                 # "manual" or "subscription"
    name: str
    values: dict[str, Any]
    is_demo: bool


def delete_rows(ctx: "AppContext", rows: Sequence[LedgerRowView]) -> list[Deleted]:
    """Worker side: delete the manual entries and subscriptions (with their charges) behind `rows`."""
    out: list[Deleted] = []
    done_subs: set[int] = set()
    for r in rows:
        if r.source == "manual":
            entry = manual_entry_of(r)
            delete_entry(ctx.db, r.id)
            out.append(Deleted("manual", entry.service, asdict(entry), r.is_demo))
        elif r.source == "subscription" and r.subscription_id is not None and r.subscription_id not in done_subs:
            done_subs.add(r.subscription_id)
            sub = get_subscription(ctx.db, r.subscription_id)
            values = dict(service=sub.service, amount=sub.amount, period=sub.period, start=sub.start_date,
                          end=sub.end_date, currency=sub.currency, provider=sub.provider, note=sub.note)
            remove_subscription(ctx.db, r.subscription_id)
            out.append(Deleted("subscription", sub.service, values, sub.is_demo))
    return out


def restore(ctx: "AppContext", deleted: Sequence[Deleted]) -> int:
    """Worker side: create what `delete_rows` removed again; returns how many."""
    for d in deleted:
        if d.kind == "manual":
            add_entry(ctx.db, ManualEntry(**d.values), is_demo=d.is_demo)
        else:
            add_subscription(ctx.db, **d.values, is_demo=d.is_demo)
    return len(deleted)


def deleted_text(deleted: Sequence[Deleted]) -> str:
    if len(deleted) == 1:
        d = deleted[0]
        if d.kind == "manual":
            amount = Decimal(str(d.values["amount"]))
            return f"Deleted manual entry {d.name} ({format_money(amount, d.values['currency'])})"
        return f"Deleted subscription {d.name} and its charges"
    return f"Deleted {len(deleted)} entries"


class UndoBanner(QFrame):
    """"Deleted … [Undo] [×]" under the table for UNDO_MS; Undo runs the callback given with the message."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ledgerUndoBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#ledgerUndoBanner { background: palette(alternate-base); border-radius: 4px; }")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 2, 4, 2)
        self.text = QLabel("")
        self.text.setObjectName("ledgerUndoText")
        self.undo = QPushButton("Undo")
        self.undo.setObjectName("ledgerUndoButton")
        close = QToolButton()
        close.setText("×")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.undo)
        lay.addWidget(close)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self._on_undo: Callable[[], None] | None = None
        self.undo.clicked.connect(self._undo)
        self.hide()

    def offer(self, text: str, on_undo: Callable[[], None] | None) -> None:
        self.text.setText(text)
        self._on_undo = on_undo
        self.undo.setVisible(on_undo is not None)
        self.show()
        self._timer.start(UNDO_MS)

    def say(self, text: str) -> None:
        self.offer(text, None)

    def _undo(self) -> None:
        cb, self._on_undo = self._on_undo, None
        self.undo.setVisible(False)
        if cb is not None:
            cb()


class LedgerEdits(QObject):
    """Opens the edit dialogs for a row and deletes rows with Undo (the dock wires menus and keys to it).

    Signals:
        changed(): a delete or an undo was written (the bus has been told too).
        dialog_opened(object): the edit dialog just opened (tests and the dock may watch it).
    """

    changed = Signal()
    dialog_opened = Signal(object)

    def __init__(self, services: "Services", banner: UndoBanner, parent: QWidget) -> None:
        super().__init__(parent)
        self.services, self.banner, self._parent = services, banner, parent

    def edit(self, r: LedgerRowView) -> None:
        """Open the row's dialog: the manual entry's, or its subscription's (read in a worker first)."""
        if r.source == "manual":
            # lazy: the dialog module loads when it is first opened, not at start-up
            from aicost_desktop.ui.dialogs.manual_entry_dialog import ManualEntryDialog

            self._open(ManualEntryDialog(self.services, manual_entry_of(r), r.id, self._parent))
        elif r.source == "subscription" and r.subscription_id is not None:
            self.services.run(get_subscription, self.services.ctx.db, r.subscription_id, owner=self,
                              on_done=self._edit_subscription, on_error=self._failed)

    def _edit_subscription(self, sub: Any) -> None:
        # lazy: the dialog module loads when it is first opened, not at start-up
        from aicost_desktop.ui.dialogs.subscription_dialog import SubscriptionDialog

        self._open(SubscriptionDialog(self.services, self._parent, subscription=sub))

    def _open(self, dialog: QWidget) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()  # type: ignore[attr-defined]
        self.dialog_opened.emit(dialog)

    def delete(self, rows: Sequence[LedgerRowView]) -> bool:
        """Delete the editable ones of `rows` in a worker, then offer Undo; False when none is editable."""
        mine = [r for r in rows if r.editable]
        if not mine:
            return False
        ctx = self.services.ctx
        self.services.run(delete_rows, ctx, mine, owner=self, on_done=self._deleted, on_error=self._failed)
        return True

    def _deleted(self, deleted: list[Deleted]) -> None:
        self._written()
        if deleted:
            self.banner.offer(deleted_text(deleted), lambda: self._undo(deleted))

    def _undo(self, deleted: list[Deleted]) -> None:
        def done(n: int) -> None:
            self._written()
            self.banner.say("Restored" if n == 1 else f"Restored {n} entries")

        self.services.run(restore, self.services.ctx, deleted, owner=self, on_done=done, on_error=self._failed)

    def _written(self) -> None:
        self.services.bus.notify_ledger_changed()
        self.changed.emit()

    def _failed(self, exc: BaseException) -> None:
        log.error("ledger edit failed: %s", exc, exc_info=(type(exc), exc, exc.__traceback__))
        self.banner.say(f"Could not change the ledger: {exc}")
