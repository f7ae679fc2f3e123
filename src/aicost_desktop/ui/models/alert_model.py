"""The alert log: `AlertView` rows, filterable by type / budget / acknowledged, sorted on raw values."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont

from aicost_desktop.notify.alerts import AlertView
from aicost_desktop.ui.models.base import SORT_ROLE, Index, RawSortProxy, RowsTableModel

ALERT_ROLE = Qt.ItemDataRole.UserRole + 2
COLUMNS = [("sent_at", "When"), ("type", "Type"), ("budget", "Budget"), ("message", "Message"), ("ack", "Ack")]
TYPE_LABELS = {"threshold": "Threshold", "forecast": "Forecast", "sync_failure": "Sync failure",
               "unpriced_model": "Unpriced model", "anomaly": "Anomaly"}


class AlertTableModel(RowsTableModel[AlertView]):
    columns = COLUMNS

    def __init__(self, tz: ZoneInfo | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self.tz = tz or ZoneInfo("UTC")

    @property
    def rows(self) -> list[AlertView]:
        return self._rows

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not self.valid(index):
            return None
        a = self._rows[index.row()]
        key = COLUMNS[index.column()][0]
        if role == ALERT_ROLE:
            return a
        if role == SORT_ROLE:
            return {"sent_at": a.sent_at, "type": a.type, "budget": a.budget or "", "message": a.message,
                    "ack": int(a.acknowledged)}[key]
        if role == Qt.ItemDataRole.DisplayRole:
            if key == "sent_at":
                return a.sent_at.astimezone(self.tz).strftime("%m-%d %H:%M")
            if key == "type":
                t = TYPE_LABELS.get(a.type, a.type)
                return f"{t} {a.threshold.normalize():f}%" if a.type == "threshold" and a.threshold is not None else t
            if key == "budget":
                return a.budget or "—"
            if key == "message":
                return a.message
            return "yes" if a.acknowledged else "no"
        if role == Qt.ItemDataRole.FontRole and not a.acknowledged:
            f = QFont()
            f.setBold(True)
            return f
        if role == Qt.ItemDataRole.ForegroundRole and a.type == "threshold" and (a.threshold or 0) >= 100:
            return QColor("#c62828")
        if role == Qt.ItemDataRole.ToolTipRole and key == "message":
            return a.message
        return None


class AlertFilterProxy(RawSortProxy):
    """Filters: alert type (None = all), only unacknowledged, budget name substring."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.type_filter: str | None = None
        self.unacknowledged_only = False

    def set_type(self, t: str | None) -> None:
        self.type_filter = t or None
        self.invalidate()

    def set_unacknowledged_only(self, on: bool) -> None:
        self.unacknowledged_only = bool(on)
        self.invalidate()

    def filterAcceptsRow(self, row: int, parent: Index) -> bool:  # noqa: N802
        a: AlertView = self.sourceModel().index(row, 0, parent).data(ALERT_ROLE)
        if a is None:
            return False
        if self.type_filter and a.type != self.type_filter:
            return False
        if self.unacknowledged_only and a.acknowledged:
            return False
        return super().filterAcceptsRow(row, parent)
