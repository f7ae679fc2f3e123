"""The ledger table: a QAbstractTableModel over `LedgerRowView`s and a proxy that sorts on raw values."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor

from aicost_desktop.domain.money import fmt_money
from aicost_desktop.ui.models.base import SORT_ROLE, Index, RawSortProxy, RowsTableModel
from aicost_desktop.storage.queries import LedgerRowView

ROW_ROLE = Qt.ItemDataRole.UserRole + 2     # the whole LedgerRowView
SOURCE_ROLE = Qt.ItemDataRole.UserRole + 3  # the row's source ("api", "log", ...)
UNPRICED_COLOR = QColor("#d08700")          # amber, readable on light and dark backgrounds
MUTED_COLOR = QColor("#8a8f98")

COLUMNS: list[tuple[str, str]] = [  # (key, header)
    ("when", "Date / time"), ("provider", "Provider"), ("account", "Account"), ("model", "Model"),
    ("source", "Source"), ("cost", "Cost"), ("input", "Input"), ("output", "Output"), ("cache", "Cache"),
    ("reported", "Reported"), ("computed", "Computed"), ("note", "Note"),
]
COL = {key: i for i, (key, _) in enumerate(COLUMNS)}
NUMERIC = {COL[k] for k in ("input", "output", "cache", "cost", "reported", "computed")}


def _tokens(n: int) -> str:
    return f"{n:,}" if n else ""


def _when(r: LedgerRowView) -> str:
    if r.local_time is None:
        return r.local_date.isoformat()
    return r.local_time.strftime("%Y-%m-%d %H:%M")


def _cost_text(r: LedgerRowView) -> str:
    if r.unpriced:
        return "unpriced"
    if r.cost_role == "covered":
        return "covered"
    if r.cost_role == "detail":
        return "—"
    return fmt_money(r.cost, r.currency)


_RAW: dict[str, Callable[[LedgerRowView], Any]] = {
    "when": lambda r: r.at, "provider": lambda r: r.provider, "account": lambda r: r.account,
    "model": lambda r: r.model, "source": lambda r: r.source, "input": lambda r: r.input_tokens,
    "output": lambda r: r.output_tokens, "cache": lambda r: r.cache_read_tokens + r.cache_write_tokens,
    "cost": lambda r: None if r.unpriced else r.cost, "reported": lambda r: r.reported_cost,
    "computed": lambda r: r.computed_cost, "note": lambda r: r.note,
}


def _raw(r: LedgerRowView, key: str) -> Any:
    return _RAW[key](r)


def _display(r: LedgerRowView, key: str) -> str:
    if key == "when":
        return _when(r)
    if key in ("input", "output"):
        return _tokens(_raw(r, key))
    if key == "cache":
        return _tokens(r.cache_read_tokens + r.cache_write_tokens)
    if key == "cost":
        return _cost_text(r)
    if key in ("reported", "computed"):
        value = _raw(r, key)
        return "" if value is None else fmt_money(value, r.currency, places=4)
    if key == "source":
        return r.source.capitalize()
    return str(_raw(r, key))


def _tooltip(r: LedgerRowView, key: str) -> str | None:
    if key == "cost":
        if r.unpriced:
            return f"No price known for model '{r.model or '?'}': set a price (aicost prices set) to count it."
        if r.cost_role == "covered":
            eq = fmt_money(r.computed_cost, r.currency) if r.computed_cost is not None else "unpriced"
            return f"Paid by a subscription; equivalent API cost {eq} is not added to spend."
        if r.cost_role == "detail":
            return "Token detail for money reported on another row (not added twice)."
        return "Provider-reported cost" if r.reported_cost is not None else "Computed from the price catalog"
    if key == "cache":
        return f"cache read {r.cache_read_tokens:,} · cache write {r.cache_write_tokens:,}"
    if key == "when":
        return "Whole-day bucket (dated)" if r.dated else f"{r.at.isoformat()} UTC"
    if key == "note" and r.note:
        return r.note
    return None


class LedgerTableModel(RowsTableModel[LedgerRowView]):
    """Read-only rows of the ledger, newest first, loaded page by page in a worker: `set_rows` replaces
    them, and when the view scrolls to the end while `has_more`, `more_requested` asks the owner for the
    next page, which arrives through `append_page`.

    Signals:
        more_requested(): the view wants the next page (owner loads it and calls append_page).
    """

    columns = COLUMNS
    more_requested = Signal()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.has_more = False
        self._fetching = False

    def set_rows(self, rows: Sequence[LedgerRowView], has_more: bool = False) -> None:
        self.has_more = has_more
        self._fetching = False  # a page requested before this reload is dropped by the owner
        super().set_rows(rows)

    def append_page(self, rows: Sequence[LedgerRowView], has_more: bool) -> None:
        """Add the next page; rows already shown (new rows arriving on top shift pages) are skipped."""
        seen = {r.id for r in self._rows}
        self.append_rows([r for r in rows if r.id not in seen])
        self.has_more = has_more
        self._fetching = False

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: N802 (Qt API)
        return not parent.isValid() and self.has_more and not self._fetching

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: N802
        if self.canFetchMore(parent):
            self._fetching = True
            self.more_requested.emit()

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.TextAlignmentRole \
                and section in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return super().headerData(section, orientation, role)

    def sort_value(self, row: LedgerRowView, position: int, column: int) -> Any:
        return _RAW[COLUMNS[column][0]](row)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r = self._rows[index.row()]
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(r, key)
        if role == SORT_ROLE:
            return _raw(r, key)
        if role == ROW_ROLE:
            return r
        if role == SOURCE_ROLE:
            return r.source
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(r, key)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and key == "cost":
            if r.unpriced:
                return UNPRICED_COLOR
            if r.cost_role != "spend":
                return MUTED_COLOR
        return None


class LedgerFilterProxy(RawSortProxy):
    """Sorts on SORT_ROLE's raw values; filters by source and by text over provider/account/model/note."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._source: str | None = None
        self._text = ""

    def set_source_filter(self, source: str | None) -> None:
        """Only rows of `source` ("api", "log", ...); None or "" for all."""
        self._begin()
        self._source = source or None
        self._end()

    def set_text_filter(self, text: str) -> None:
        """Rows whose provider/account/model/note/project contain every word of `text`."""
        self._begin()
        self._text = (text or "").strip().casefold()
        self._end()

    def _begin(self) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.9
            self.beginFilterChange()

    def _end(self) -> None:
        if hasattr(self, "endFilterChange"):
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:  # noqa: N802
        model = self.sourceModel()
        if not isinstance(model, LedgerTableModel):
            return True
        r = model.row_at(source_row)
        if self._source and r.source != self._source:
            return False
        if self._text:
            hay = " ".join((r.provider, r.account, r.model, r.note, r.project, r.source)).casefold()
            return all(word in hay for word in self._text.split())
        return True

