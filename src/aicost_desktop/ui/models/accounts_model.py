"""The Accounts table: `AccountRow`s (loaded in a worker) plus live sync progress, sorted on raw values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from aicost_desktop.budgets.wording import provider_label
from aicost_desktop.account_sync import retention_notes
from aicost_desktop.accounts import AccountView, list_accounts
from aicost_desktop.domain.money import fmt_money
from aicost_desktop.storage.queries import latest_balances
from aicost_desktop.ui.models.base import SORT_ROLE, Index, RawSortProxy, RowsTableModel
from aicost_desktop.sync.registry import PROVIDERS

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext

ROW_ROLE = Qt.ItemDataRole.UserRole + 2    # the AccountRow
STATUS_ROLE = Qt.ItemDataRole.UserRole + 3  # the effective status key ("ok", "syncing", ...)

COLUMNS: list[tuple[str, str]] = [
    ("name", "Account"), ("provider", "Provider"), ("status", "Status"), ("last_sync", "Last sync"),
    ("last_success", "Last success"), ("balance", "Balance"), ("next_sync", "Next sync"),
]
COL = {key: i for i, (key, _) in enumerate(COLUMNS)}

# status key -> (label, colour, rank for sorting: problems first when sorted ascending)
STATUS: dict[str, tuple[str, str, int]] = {
    "error": ("Error", "#c62828", 0),
    "needs_attention": ("Needs attention", "#d08700", 1),
    "syncing": ("Syncing", "#2f6fdb", 2),
    "queued": ("Queued", "#5b8def", 3),
    "new": ("Not synced yet", "#8a8f98", 4),
    "ok": ("OK", "#2e7d32", 5),
    "disabled": ("Disabled", "#8a8f98", 6),
    "demo": ("Demo", "#7b4fd6", 7),
}
_ICONS: dict[str, QIcon] = {}


def status_icon(status: str) -> QIcon:
    """A filled circle in the status colour (cached; built on the GUI thread)."""
    if status not in _ICONS:
        pm = QPixmap(14, 14)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(STATUS.get(status, STATUS["new"])[1]))
        p.drawEllipse(1, 1, 12, 12)
        p.end()
        _ICONS[status] = QIcon(pm)
    return _ICONS[status]


@dataclass(frozen=True)
class Balance:
    """The newest balance snapshot of an account (prepaid credit, not spend)."""

    currency: str
    remaining: Decimal | None
    total: Decimal | None
    limit: Decimal | None
    used: Decimal | None
    taken_at: datetime

    def text(self) -> str:
        if self.remaining is not None:
            return fmt_money(self.remaining, self.currency)
        if self.limit is None and self.used is not None:
            return f"{fmt_money(self.used, self.currency)} used"
        return "—"


@dataclass(frozen=True)
class AccountRow:
    """One account as the panel shows it (no secret)."""

    view: AccountView
    balance: Balance | None
    next_sync: datetime | None   # None: not scheduled (disabled, demo)
    history_note: str | None = None  # a standing hole in history (OpenRouter keeps 30 days of activity)

    @property
    def id(self) -> int:
        return self.view.id

    @property
    def base_status(self) -> str:
        if self.view.status == "demo":
            return "demo"
        if not self.view.enabled:
            return "disabled"
        return self.view.status if self.view.status in STATUS else "new"


def load_account_rows(ctx: "AppContext", now: datetime | None = None) -> list[AccountRow]:
    """Worker side: accounts, their newest balance snapshot and next scheduled sync (no Qt)."""
    now = now or datetime.now(timezone.utc)
    default = int(ctx.settings.get("sync_interval_minutes"))
    views = list_accounts(ctx.db)
    balances = {i: Balance(b.currency, b.remaining, b.total, b.limit, b.used, b.taken_at)
                for i, b in latest_balances(ctx.db).items()}
    rows = []
    for v in views:
        nxt = None
        if v.enabled and v.status != "demo" and v.provider in PROVIDERS:
            interval = timedelta(minutes=v.sync_interval_minutes or default)
            nxt = max(now, v.last_sync_at + interval) if v.last_sync_at else now
        rows.append(AccountRow(v, balances.get(v.id), nxt))
    notes = retention_notes(ctx.db)
    return [AccountRow(r.view, r.balance, r.next_sync, notes[r.id]) if r.id in notes else r for r in rows]


def _fmt_time(value: datetime | None, tz: ZoneInfo, now: datetime | None = None) -> str:
    if value is None:
        return "never"
    local = value.astimezone(tz)
    today = (now or datetime.now(timezone.utc)).astimezone(tz).date()
    return local.strftime("today %H:%M") if local.date() == today else local.strftime("%Y-%m-%d %H:%M")


class AccountsTableModel(RowsTableModel[AccountRow]):
    """Read-only account rows; `set_rows` replaces them, `set_live` overlays a running sync's progress."""

    def __init__(self, tz: ZoneInfo | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self.tz = tz or ZoneInfo("UTC")
        self.paused = False
        self._live: dict[int, tuple[int, int] | None] = {}  # running: (done, total); queued: None

    columns = COLUMNS

    # -- updates -----------------------------------------------------------------------------

    def set_live(self, account_id: int, progress: tuple[int, int] | None) -> None:
        """Overlay a running sync's (done, total) on an account, or None for "queued"."""
        self._live[account_id] = progress
        self._changed(account_id)

    def clear_live(self, account_id: int) -> None:
        if self._live.pop(account_id, "absent") != "absent":
            self._changed(account_id)

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        if self._rows:
            col = COL["next_sync"]
            self.dataChanged.emit(self.index(0, col), self.index(len(self._rows) - 1, col))

    def _changed(self, account_id: int) -> None:
        r = self.row_of(account_id)
        if r >= 0:
            self.dataChanged.emit(self.index(r, 0), self.index(r, len(COLUMNS) - 1))

    # -- lookup ------------------------------------------------------------------------------

    def row_of(self, account_id: int) -> int:
        for i, r in enumerate(self._rows):
            if r.id == account_id:
                return i
        return -1

    def rows(self) -> list[AccountRow]:
        return list(self._rows)

    def status_of(self, r: AccountRow) -> str:
        if r.id in self._live:
            return "syncing" if self._live[r.id] is not None else "queued"
        return r.base_status

    def status_text(self, r: AccountRow) -> str:
        status = self.status_of(r)
        label = STATUS[status][0]
        if status == "syncing":
            done, total = self._live[r.id] or (0, 0)
            return f"Syncing {done}/{total}…" if total else "Syncing…"
        if r.history_note:
            return f"{label} · partial history"  # the row's tooltip and detail pane say which part
        return label

    # -- Qt model API ------------------------------------------------------------------------

    def _raw(self, r: AccountRow, key: str) -> Any:
        v = r.view
        if key == "name":
            return v.name
        if key == "provider":
            return provider_label(v.provider)
        if key == "status":
            return STATUS[self.status_of(r)][2]
        if key == "last_sync":
            return v.last_sync_at
        if key == "last_success":
            return v.last_success_at
        if key == "balance":
            return r.balance.remaining if r.balance is not None else None
        if key == "next_sync":
            return None if self.paused else r.next_sync
        return None

    def _display(self, r: AccountRow, key: str) -> str:
        if key == "status":
            return self.status_text(r)
        if key in ("last_sync", "last_success"):
            return _fmt_time(self._raw(r, key), self.tz)
        if key == "balance":
            return r.balance.text() if r.balance is not None else ""
        if key == "next_sync":
            if self.status_of(r) in ("syncing", "queued"):
                return "now"
            if r.next_sync is None:
                return "—"
            if self.paused:
                return "paused"
            if r.next_sync <= datetime.now(timezone.utc) + timedelta(seconds=30):
                return "due"
            return _fmt_time(r.next_sync, self.tz)
        return str(self._raw(r, key))

    def _tooltip(self, r: AccountRow, key: str) -> str | None:
        v = r.view
        if key in ("status", "name"):
            msg = v.status_message or ""
            head = f"{v.name}: {self.status_text(r)}"
            lines = [head, msg] if msg else [head]
            if r.history_note and r.history_note not in msg:  # the sync that found it says it already
                lines.append(r.history_note)
            return "\n".join(lines)
        if key == "balance" and r.balance is not None:
            b = r.balance
            parts = [f"{label} {fmt_money(val, b.currency)}" for label, val in
                     (("remaining", b.remaining), ("total", b.total), ("limit", b.limit), ("used", b.used))
                     if val is not None]
            return f"Balance at {_fmt_time(b.taken_at, self.tz)}: " + ", ".join(parts) + " (not spend)"
        if key == "provider" and v.provider in PROVIDERS:
            return f"{v.base_url}\nNeeds {PROVIDERS[v.provider].key_hint}"
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r = self._rows[index.row()]
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(r, key)
        if role == SORT_ROLE:
            return self._raw(r, key)
        if role == ROW_ROLE:
            return r
        if role == STATUS_ROLE:
            return self.status_of(r)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(r, key)
        if role == Qt.ItemDataRole.DecorationRole and key == "status":
            return status_icon(self.status_of(r))
        if role == Qt.ItemDataRole.ForegroundRole and key == "status":
            status = self.status_of(r)
            if status in ("error", "needs_attention"):
                return QColor(STATUS[status][1])
        if role == Qt.ItemDataRole.TextAlignmentRole and key == "balance":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class AccountsProxy(RawSortProxy):
    """Sorts on SORT_ROLE's raw values (None first)."""
