"""The Budgets table: one `BudgetStatus` per row, progress coloured by state, sorted on raw values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from aicost_desktop.budgets.engine import BudgetStatus
from aicost_desktop.budgets.wording import STATE_WORDS, scope_words
from aicost_desktop.domain.spend_words import over_text
from aicost_desktop.domain.money import format_money
from aicost_desktop.ui.models.base import SORT_ROLE, Index, RawSortProxy, RowsTableModel

STATUS_ROLE = Qt.ItemDataRole.UserRole + 2  # the BudgetStatus

# What a budget is doing first (state right after the forecast): a dock at 1366 px shows about five columns.
COLUMNS = [("name", "Budget"), ("progress", "Progress"), ("spent", "Spent"), ("forecast", "Forecast"),
           ("state", "State"), ("days_left", "Days left"), ("scope", "Scope"), ("period", "Period")]
COL = {k: i for i, (k, _) in enumerate(COLUMNS)}
# state -> (label, bar colour)
STATE_STYLE = {k: (STATE_WORDS[k], colour) for k, colour in
               (("ok", "#2e7d32"), ("at_risk", "#d08700"), ("warning", "#ef6c00"), ("exceeded", "#c62828"))}


def state_color(state: str) -> QColor:
    return QColor(STATE_STYLE.get(state, ("", "#8a8f98"))[1])


class BudgetTableModel(RowsTableModel[BudgetStatus]):
    """Rows are BudgetStatus objects computed in a worker (`set_rows`)."""

    columns = COLUMNS

    @property
    def rows(self) -> list[BudgetStatus]:
        return self._rows

    def status_at(self, row: int) -> BudgetStatus | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not self.valid(index):
            return None
        st = self._rows[index.row()]
        key = COLUMNS[index.column()][0]
        if role == STATUS_ROLE:
            return st
        if role == SORT_ROLE:
            return {"name": st.name.lower(), "progress": st.percent, "spent": st.spent, "forecast": st.forecast.amount,
                    "days_left": st.days_left, "scope": str(st.scope), "period": st.period.kind,
                    "state": list(STATE_STYLE).index(st.state) if st.state in STATE_STYLE else -1}[key]
        if role == Qt.ItemDataRole.DisplayRole:
            if key == "name":
                return st.name + (" (key paused)" if st.key_paused else "")
            if key == "progress":
                return f"{st.percent:.0f}%"
            if key == "spent":  # two lines, like the forecast: the table fits its dock at 1920 px wide
                return f"{format_money(st.spent, st.currency)}\nof {format_money(st.amount, st.currency)}"
            if key == "forecast":  # the projection, its 80% band beneath (as Analytics writes both)
                band = st.forecast_band()
                return (f"{format_money(st.forecast.amount, st.currency)} by {st.period_end()}"
                        + (f"\n({band})" if band else ""))
            if key == "days_left":
                return str(st.days_left)
            if key == "scope":
                return scope_words(st.scope)
            if key == "period":
                return f"{st.period.kind} ({st.period.first:%b %d} – {st.period.last:%b %d})"
            over = over_text(st.spent, st.amount, st.currency)
            if over:
                return over[:1].upper() + over[1:]
            return STATE_STYLE.get(st.state, (st.state, ""))[0]
        if role == Qt.ItemDataRole.DecorationRole and key == "state" and st.spent > st.amount:
            return QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        if role == Qt.ItemDataRole.ForegroundRole and key == "state":
            return state_color(st.state)
        if role == Qt.ItemDataRole.ToolTipRole:
            f = st.forecast
            over = over_text(st.spent, st.amount, st.currency)
            return (f"Spent {format_money(st.spent, st.currency)} of {format_money(st.amount, st.currency)} "
                    f"({st.percent:.1f}%){', ' + over if over else ''}\nForecast {format_money(f.amount, st.currency)}"
                    f" (80% band {format_money(f.lower, st.currency)}–{format_money(f.upper, st.currency)}): spent so "
                    f"far + usage forecast ({f.method}) + {format_money(f.known, st.currency)} of charges already due" +
                    (f"\nUnpriced rows not counted: {st.unpriced_rows}" if st.unpriced_rows else ""))
        if role == Qt.ItemDataRole.TextAlignmentRole and key in ("spent", "days_left", "progress"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class ProgressDelegate(QStyledItemDelegate):
    """Paints the Progress column as a bar (full at 100%, colour by state) with the percentage."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        st: BudgetStatus | None = index.data(STATUS_ROLE)
        if st is None:
            return super().paint(painter, option, index)
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, option.palette.highlight())
        r = option.rect.adjusted(4, 5, -4, -5)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        pal = option.palette
        painter.setBrush(pal.color(QPalette.ColorRole.Midlight))  # the track: a step off the base in either theme
        painter.drawRoundedRect(r, 3, 3)
        frac = float(min(st.percent, Decimal(100))) / 100
        painter.setBrush(state_color(st.state))
        painter.drawRoundedRect(QRect(r.x(), r.y(), int(r.width() * frac), r.height()), 3, 3)
        painter.setPen(pal.color(QPalette.ColorRole.Text) if frac < 0.55 else QColor("white"))
        painter.drawText(r, int(Qt.AlignmentFlag.AlignCenter), f"{st.percent:.0f}%")
        painter.restore()


class BudgetSortProxy(RawSortProxy):
    """Sorts on SORT_ROLE raw values (Decimal, int, str)."""
