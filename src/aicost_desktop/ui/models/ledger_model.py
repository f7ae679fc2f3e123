"""The ledger table: a QAbstractTableModel over folded `LedgerRowView`s whose parts expand beneath them, and a
proxy that hands sorting to it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Sequence

from PySide6.QtCore import QModelIndex, QPointF, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPolygonF

from aicost_desktop.analytics.dashboard import convert
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import format_money
from aicost_desktop.ui.models.base import SORT_ROLE, Index, RawSortProxy, RowsTableModel, sort_permutation
from aicost_desktop.storage.queries import LedgerRowView

ROW_ROLE = Qt.ItemDataRole.UserRole + 2     # the whole LedgerRowView
SOURCE_ROLE = Qt.ItemDataRole.UserRole + 3  # the row's source ("api", "log", ...)
UNPRICED_COLOR = QColor("#d08700")          # amber, readable on light and dark backgrounds
MUTED_COLOR = QColor("#8a8f98")

COLUMNS: list[tuple[str, str]] = [  # (key, header)
    # What was paid for and its cost first: at 1366 px the dock shows about five columns.
    ("when", "Date / time"), ("model", "Model / service"), ("cost", "Cost"), ("source", "Source"),
    ("provider", "Provider"), ("account", "Account"), ("input", "Input"), ("output", "Output"), ("cache", "Cache"),
    ("reported", "Reported"), ("computed", "Computed"), ("note", "Note"),
]
COL = {key: i for i, (key, _) in enumerate(COLUMNS)}
NUMERIC = {COL[k] for k in ("input", "output", "cache", "cost", "reported", "computed")}


ARROW = 12  # px: the expand arrow of a folded row (and the blank of the same size on the others, to align)
_icons: dict[str, QImage] = {}


def _arrow(kind: str) -> QImage:
    """A small grey triangle, right ('closed') or down ('open'); 'none' is a blank of the same size (an image:
    unlike a pixmap it needs no GUI application, so the model works without one)."""
    if kind not in _icons:
        pm = QImage(ARROW, ARROW, QImage.Format.Format_ARGB32_Premultiplied)
        pm.fill(Qt.GlobalColor.transparent)
        if kind != "none":
            p = QPainter(pm)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(MUTED_COLOR)
            pts = [(3, 2), (9, 6), (3, 10)] if kind == "closed" else [(2, 3), (10, 3), (6, 9)]
            p.drawPolygon(QPolygonF([QPointF(x, y) for x, y in pts]))
            p.end()
        _icons[kind] = pm
    return _icons[kind]


def part_label(r: LedgerRowView) -> str:
    """What one part of a folded row is: the provider's usage report (tokens) or a billed line item."""
    if r.cost_role == "detail":
        return "↳ tokens"
    return f"↳ billed: {r.line_item}" if r.line_item else "↳ billed"


def _tokens(n: int) -> str:
    return f"{n:,}" if n else ""


def _when(r: LedgerRowView) -> str:
    if r.local_time is None:
        return r.local_date.isoformat()
    return r.local_time.strftime("%Y-%m-%d %H:%M")


class ShownMoney:
    """Ledger amounts in the display currency through the user's rates to USD (the rule of every other
    figure); an amount whose currency has no rate stays as billed, its currency named, never converted at 1."""

    def __init__(self, currency: str = "USD", fx: dict[str, Decimal] | None = None) -> None:
        self.currency = currency
        self._fx = dict(fx or {})
        self._converts: dict[str, bool] = {}  # per row currency: asked for every money cell the view paints

    @property
    def rates(self) -> dict[str, Decimal]:
        return dict(self._fx)

    def converts(self, currency: str) -> bool:
        """Whether an amount in `currency` is shown converted (another currency, and the rates for it)."""
        known = self._converts.get(currency)
        if known is None:
            known = self._converts[currency] = currency != self.currency and self._has_rates(currency)
        return known

    def _has_rates(self, currency: str) -> bool:
        try:
            convert(Decimal(1), currency, self.currency, self._fx)
        except InputError:
            return False
        return True

    def value(self, amount: Decimal | None, currency: str) -> Decimal | None:
        """`amount` in the display currency (analytics' one conversion rule), or as billed when a rate is
        missing (None stays None)."""
        if amount is None or not self.converts(currency):
            return amount
        return convert(amount, currency, self.currency, self._fx)

    def text(self, amount: Decimal, currency: str) -> str:
        if self.converts(currency):
            return format_money(self.value(amount, currency) or Decimal(0), self.currency)
        return format_money(amount, currency)

    def billed(self, amount: Decimal | None, currency: str) -> str:
        """' (billed 12.50 EUR)' when the figure shown is a conversion, else ''."""
        return f" (billed {format_money(amount, currency)})" if amount is not None and self.converts(currency) else ""


def _cost_text(r: LedgerRowView, money: ShownMoney) -> str:
    if r.unpriced:
        return "unpriced"
    if r.cost_role == "covered":
        return "covered"
    if r.cost_role == "detail":
        return "—"
    return money.text(r.cost, r.currency)


_RAW: dict[str, Callable[[LedgerRowView], Any]] = {
    "when": lambda r: r.at, "provider": lambda r: r.provider, "account": lambda r: r.account,
    "model": lambda r: r.label, "source": lambda r: r.source, "input": lambda r: r.input_tokens,
    "output": lambda r: r.output_tokens, "cache": lambda r: r.cache_read_tokens + r.cache_write_tokens,
    "cost": lambda r: None if r.unpriced else r.cost, "reported": lambda r: r.reported_cost,
    "computed": lambda r: r.computed_cost, "note": lambda r: r.note,
}
_MONEY = ("cost", "reported", "computed")


def _raw(r: LedgerRowView, key: str, money: ShownMoney) -> Any:
    """The sort value: money in the display currency, so rows billed in two currencies sort by worth."""
    value = _RAW[key](r)
    return money.value(value, r.currency) if key in _MONEY else value


def _display(r: LedgerRowView, key: str, money: ShownMoney) -> str:
    if key == "when":
        return _when(r)
    if key in ("input", "output"):
        return _tokens(_RAW[key](r))
    if key == "cache":
        return _tokens(r.cache_read_tokens + r.cache_write_tokens)
    if key == "cost":
        return _cost_text(r, money)
    if key in ("reported", "computed"):
        value = _RAW[key](r)
        return "" if value is None else money.text(value, r.currency)
    if key == "source":
        return r.source.capitalize()
    return str(_RAW[key](r))


def _tooltip(r: LedgerRowView, key: str, money: ShownMoney) -> str | None:
    if key == "cost":
        if r.unpriced:
            return f"No price known for model '{r.model or '?'}': set a price (aicost prices set) to count it."
        if r.cost_role == "covered":
            eq = money.text(r.computed_cost, r.currency) if r.computed_cost is not None else "unpriced"
            return f"Paid by a subscription; equivalent API cost {eq} is not added to spend."
        if r.cost_role == "detail":
            return "Token detail for money reported on another row (not added twice)."
        billed = money.billed(r.cost, r.currency)
        if r.parts:
            return (f"{len(r.parts)} ledger rows folded: the provider's cost and usage reports of this model-day "
                    f"(expand to see them){billed}")
        return ("Provider-reported cost" if r.reported_cost is not None else "Computed from the price catalog") + billed
    if key in ("reported", "computed"):
        return money.billed(_RAW[key](r), r.currency) or None
    if key == "cache":
        return f"cache read {r.cache_read_tokens:,} · cache write {r.cache_write_tokens:,}"
    if key == "when":
        return "Whole-day bucket (dated)" if r.dated else f"{r.at.isoformat()} UTC"
    if key == "note" and r.note:
        return r.note
    if key == "model" and r.source == "subscription":
        return "Subscription charge (double-click to edit the subscription)"
    if key == "model" and r.source == "manual":
        return "Manual entry (double-click to edit)"
    return None


class LedgerTableModel(RowsTableModel[LedgerRowView]):
    """Rows of the ledger, newest first, loaded page by page in a worker: `set_rows` replaces them, and when
    the view scrolls to the end while `has_more`, `more_requested` asks the owner for the next page, which
    arrives through `append_page`. A folded row (a model-day's usage and cost reports) expands to show its
    parts right beneath it (`toggle`); sorting orders the folded rows, parts stay under theirs.

    Signals:
        more_requested(): the view wants the next page (owner loads it and calls append_page).
    """

    columns = COLUMNS
    more_requested = Signal()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.has_more = False
        self._fetching = False
        self._groups: list[LedgerRowView] = []   # top-level rows, in the current order
        self._part_of: list[str | None] = []     # per visible row: the key of the row it is a part of
        self._expanded: set[str] = set()         # kept across reloads (by fold key)
        self.money = ShownMoney()                # amounts in the display currency (set before set_rows)
        self._given: tuple[Any, ...] | None = None  # what update_rows last showed, as it was given

    # -- rows ----------------------------------------------------------------------------

    @property
    def fetching(self) -> bool:
        """A page was asked for and has not arrived yet."""
        return self._fetching

    @property
    def top_count(self) -> int:
        """How many rows (folded ones count once) are loaded."""
        return len(self._groups)

    def top_rows(self) -> list[LedgerRowView]:
        return list(self._groups)

    def update_rows(self, rows: Sequence[LedgerRowView], has_more: bool, money: ShownMoney) -> bool:
        """`set_rows` in `money`'s currency unless the view shows exactly this already (a reload that found
        nothing new: no reset, so nothing is repainted and the scroll stays). Returns whether it changed."""
        key = (list(rows), has_more, money.currency, money.rates)
        if key == self._given:
            self._fetching = False  # as set_rows: a page asked for before this reload is dropped by the owner
            return False
        self.money = money
        self.set_rows(rows, has_more)
        self._given = key
        return True

    def set_rows(self, rows: Sequence[LedgerRowView], has_more: bool = False) -> None:
        self._given = None
        self.has_more = has_more
        self._fetching = False  # a page requested before this reload is dropped by the owner
        self.beginResetModel()
        self._groups = list(rows)
        if self._sort is not None:
            self._order_groups(*self._sort)
        self._rebuild()
        self.endResetModel()

    def append_page(self, rows: Sequence[LedgerRowView], has_more: bool) -> None:
        """Add the next page; rows already shown (new rows arriving on top shift pages) are skipped."""
        seen = {r.key or r.id for r in self._groups}
        new = [r for r in rows if (r.key or r.id) not in seen]
        self.has_more = has_more
        self._fetching = False
        if not new:
            return
        entries = [e for r in new for e in self._entries(r)]
        self._given = None  # the rows shown are no longer one reload's answer
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(entries) - 1)
        self._groups.extend(new)
        for row, part_of in entries:
            self._rows.append(row)
            self._part_of.append(part_of)
        self.endInsertRows()
        if self._sort is not None:
            self.sort(*self._sort)

    def _entries(self, r: LedgerRowView) -> list[tuple[LedgerRowView, str | None]]:
        out: list[tuple[LedgerRowView, str | None]] = [(r, None)]
        if r.parts and r.key in self._expanded:
            out += [(p, r.key) for p in r.parts]
        return out

    def _rebuild(self) -> None:
        self._rows, self._part_of = [], []
        for g in self._groups:
            for row, part_of in self._entries(g):
                self._rows.append(row)
                self._part_of.append(part_of)

    def is_part(self, row: int) -> bool:
        """Whether visible row `row` is a part shown under a folded row."""
        return 0 <= row < len(self._part_of) and self._part_of[row] is not None

    def is_folded(self, row: int) -> bool:
        """Whether visible row `row` is a folded row (it has parts to expand)."""
        return 0 <= row < len(self._rows) and not self.is_part(row) and bool(self._rows[row].parts)

    def is_expanded(self, row: int) -> bool:
        return self.is_folded(row) and self._rows[row].key in self._expanded

    def toggle(self, row: int) -> bool:
        """Expand or collapse the folded row at `row`; False when it has no parts."""
        if not self.is_folded(row):
            return False
        r = self._rows[row]
        n = len(r.parts)
        if r.key in self._expanded:
            self.beginRemoveRows(QModelIndex(), row + 1, row + n)
            del self._rows[row + 1:row + 1 + n]
            del self._part_of[row + 1:row + 1 + n]
            self._expanded.discard(r.key)
            self.endRemoveRows()
        else:
            self.beginInsertRows(QModelIndex(), row + 1, row + n)
            self._rows[row + 1:row + 1] = list(r.parts)
            self._part_of[row + 1:row + 1] = [r.key] * n
            self._expanded.add(r.key)
            self.endInsertRows()
        first = self.index(row, 0)
        self.dataChanged.emit(first, first, [Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.DisplayRole])
        return True

    # -- sorting: folded rows are ordered, their parts follow them -------------------------

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns):
            self._sort = None
            return
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        ident = [self._ident(i) for i in range(len(self._rows))]
        self._order_groups(column, order)
        self._rebuild()
        where = {self._ident(i): i for i in range(len(self._rows))}
        new = []
        for i in old:
            at = where.get(ident[i.row()]) if 0 <= i.row() < len(ident) else None
            new.append(self.index(at, i.column()) if at is not None else QModelIndex())
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    def _ident(self, i: int) -> tuple[Any, ...]:
        r, part_of = self._rows[i], self._part_of[i]
        return (part_of, r.id) if part_of is not None else (None, r.key or r.id)

    def _order_groups(self, column: int, order: Qt.SortOrder) -> None:
        key = COLUMNS[column][0]
        perm = sort_permutation([_raw(g, key, self.money) for g in self._groups], order)
        self._groups = [self._groups[i] for i in perm]

    # -- paging ----------------------------------------------------------------------------

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: N802 (Qt API)
        return not parent.isValid() and self.has_more and not self._fetching

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: N802
        if self.canFetchMore(parent):
            self._fetching = True
            self.more_requested.emit()

    # -- data ------------------------------------------------------------------------------

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
        part = self._part_of[index.row()] is not None
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            if part and key in ("when", "provider", "account"):
                return ""  # the row above says it
            if part and key == "model":
                return part_label(r)
            return _display(r, key, self.money)
        if role == Qt.ItemDataRole.DecorationRole and key == "when":
            if part:
                return None
            return _arrow(("open" if r.key in self._expanded else "closed") if r.parts else "none")
        if role == SORT_ROLE:
            return _raw(r, key, self.money)
        if role == ROW_ROLE:
            return r
        if role == SOURCE_ROLE:
            return r.source
        if role == Qt.ItemDataRole.ToolTipRole:
            if part and key == "model":
                return ("The provider's usage report: tokens of the money billed on the other part"
                        if r.cost_role == "detail" else f"The provider's cost report: {r.line_item or 'a charge'}")
            if key == "when" and r.parts and not part:
                return f"{len(r.parts)} ledger rows folded into one: click the arrow to show them"
            return _tooltip(r, key, self.money)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if key == "cost" and r.unpriced:
                return UNPRICED_COLOR
            if part or (key == "cost" and r.cost_role != "spend"):
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
            hay = " ".join((r.provider, r.account, r.model, r.note, r.project, r.source, r.line_item)).casefold()
            return all(word in hay for word in self._text.split())
        return True

