"""Shared table-model plumbing: a flat model over a list of row objects, and a proxy sorting raw values."""

from __future__ import annotations

from typing import Any, Generic, Sequence, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

SORT_ROLE = Qt.ItemDataRole.UserRole + 1  # every model answers it with the raw value (Decimal, datetime...)
Index = QModelIndex | QPersistentModelIndex
R = TypeVar("R")


class RowsTableModel(QAbstractTableModel, Generic[R]):
    """Read-only rows replaced wholesale by `set_rows` (loaded in a worker); subclasses set `columns`
    as (key, header) pairs and implement `data`."""

    columns: Sequence[tuple[str, str]] = ()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[R] = []

    def set_rows(self, rows: Sequence[R]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> R:
        return self._rows[row]

    def valid(self, index: Index) -> bool:
        return index.isValid() and 0 <= index.row() < len(self._rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 (Qt API)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.columns):
            return self.columns[section][1]
        return None


def raw_sort_key(value: Any) -> tuple[int, Any]:
    """None sorts before everything; strings case-insensitively; other values as they are."""
    if value is None:
        return (0, 0)
    if isinstance(value, str):
        return (1, value.casefold())
    return (1, value)


class RawSortProxy(QSortFilterProxyModel):
    """Sorts on SORT_ROLE's Python values (Decimal has no QVariant ordering of its own)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)

    def lessThan(self, left: Index, right: Index) -> bool:  # noqa: N802
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        try:
            return bool(raw_sort_key(a) < raw_sort_key(b))
        except TypeError:
            return str(a) < str(b)
