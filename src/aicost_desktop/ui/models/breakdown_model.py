"""Table model of a spend breakdown (by model, provider, ...): display strings, raw sort values."""

from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt

from aicost_desktop.analytics.series import BreakdownRow
from aicost_desktop.domain.money import format_money
from aicost_desktop.ui.models.base import SORT_ROLE, Index, RawSortProxy


class BreakdownModel(QAbstractTableModel):
    """Rows of `BreakdownRow`; SORT_ROLE returns Decimal / float / int so sorting is numeric."""

    HEADERS = ("Name", "Provider", "Cost", "Share", "Tokens", "Requests")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[BreakdownRow] = []
        self.dimension = "model"
        self.currency = "USD"

    def set_rows(self, rows: Sequence[BreakdownRow], dimension: str = "model", currency: str = "USD") -> None:
        """`currency`: the one of every row's cost (the display currency of the query)."""
        self.beginResetModel()
        self._rows = list(rows)
        self.dimension = dimension
        self.currency = currency
        self.endResetModel()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, 0)

    def row_at(self, row: int) -> BreakdownRow:
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            if section == 0:
                return self.dimension.capitalize()
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r, c = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (r.key, r.provider, format_money(r.cost, self.currency), f"{r.share * 100:.1f}%", f"{r.tokens:,}",
                    f"{r.requests:,}")[c]
        if role == SORT_ROLE:
            return (r.key.lower(), r.provider, r.cost, r.share, r.tokens, r.requests)[c]
        if role == Qt.ItemDataRole.TextAlignmentRole and c >= 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            exact = f"${r.cost:f}" if self.currency == "USD" else f"{r.cost:f} {self.currency}"
            return f"{r.key} ({r.provider}): {exact} exact, {r.share * 100:.2f}% of the period"
        return None


def make_proxy(model: BreakdownModel) -> QSortFilterProxyModel:
    proxy = RawSortProxy(model.parent())
    proxy.setSourceModel(model)
    proxy.setFilterKeyColumn(0)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    return proxy
