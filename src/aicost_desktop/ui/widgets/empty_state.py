"""A centred empty-state panel: a headline, what to do next, and buttons that do it."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget


class EmptyState(QWidget):
    """Shown instead of an empty table/chart; buttons are added with `add_button`."""

    def __init__(self, headline: str, detail: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emptyState")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 24, 24, 24)
        lay.addStretch(1)
        self.headline = QLabel(headline)
        self.headline.setObjectName("emptyHeadline")
        self.headline.setWordWrap(True)
        self.headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.headline.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.headline.setFont(font)
        lay.addWidget(self.headline)
        self.detail = QLabel(detail)
        self.detail.setObjectName("emptyDetail")
        self.detail.setWordWrap(True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setVisible(bool(detail))
        lay.addWidget(self.detail)
        self._buttons = QHBoxLayout()
        self._buttons.addStretch(1)
        self._buttons.addStretch(1)
        lay.addLayout(self._buttons)
        lay.addStretch(2)

    def add_button(self, text: str, on_click: Callable[[], None] | None = None, *,
                   primary: bool = False, name: str | None = None) -> QPushButton:
        btn = QPushButton(text)
        if name:
            btn.setObjectName(name)
        btn.setDefault(primary)
        if on_click is not None:
            btn.clicked.connect(lambda _checked=False: on_click())
        self._buttons.insertWidget(self._buttons.count() - 1, btn)
        return btn

    def add_widget(self, widget: QWidget) -> None:
        """Extra content under the buttons (e.g. a list of planned services)."""
        self.layout().insertWidget(self.layout().count() - 1, widget)


def scrollable(widget: QWidget) -> QScrollArea:
    """Wrap `widget` so a short dock scrolls it instead of squeezing text over text."""
    area = QScrollArea()
    area.setObjectName(f"{widget.objectName() or 'content'}Scroll")
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    # As needed, not off: a dock narrower than its toolbar must scroll rather than clip buttons.
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    return area
