"""Coloured source badges (API, Log, Import, Manual, Subscription, Proxy) as an item delegate."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

# Saturated fills with white text: the same contrast on light and dark palettes.
SOURCE_COLORS: dict[str, str] = {
    "api": "#2f6fdb",
    "log": "#13866f",
    "import": "#7b4fd6",
    "manual": "#c2570c",
    "subscription": "#c0357a",
    "proxy": "#5b6472",
}
SOURCE_LABELS: dict[str, str] = {
    "api": "API", "log": "Log", "import": "Import", "manual": "Manual", "subscription": "Subscription",
    "proxy": "Proxy",
}


def badge_color(source: str) -> QColor:
    return QColor(SOURCE_COLORS.get(source, "#5b6472"))


def badge_label(source: str) -> str:
    return SOURCE_LABELS.get(source, source.capitalize() or "?")


class SourceBadgeDelegate(QStyledItemDelegate):
    """Paints the source column's value (the model's `source_role` data) as a rounded pill."""

    PAD_X, PAD_Y = 7, 3

    def __init__(self, source_role: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._role = source_role

    def _source(self, index: QModelIndex | QPersistentModelIndex) -> str:
        value = index.data(self._role)
        return str(value) if value else ""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        source = self._source(index)
        # Background/selection as usual, without the text.
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        if not source:
            return
        label = badge_label(source)
        fm = QFontMetrics(option.font)
        w = fm.horizontalAdvance(label) + 2 * self.PAD_X
        h = fm.height() + 2 * self.PAD_Y - 2
        r = option.rect
        rect = QRectF(r.x() + 4, r.y() + (r.height() - h) / 2, min(w, r.width() - 8), h)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(badge_color(source))
        painter.drawRoundedRect(rect, h / 2, h / 2)
        painter.setPen(QColor("white"))
        painter.setFont(option.font)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, fm.elidedText(label, Qt.TextElideMode.ElideRight,
                                                                           int(rect.width()) - 4))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem,  # noqa: N802
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        fm = QFontMetrics(option.font)
        label = badge_label(self._source(index))
        return QSize(fm.horizontalAdvance(label) + 2 * self.PAD_X + 10, fm.height() + 2 * self.PAD_Y + 4)
