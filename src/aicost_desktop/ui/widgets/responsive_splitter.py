"""A splitter that puts its panes side by side when it is wide and one above the other when it is narrow."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QSplitter, QWidget

HYSTERESIS = 24  # px: a width at the threshold must not flip the orientation back and forth while a user drags


class ResponsiveSplitter(QSplitter):
    """Horizontal at `stack_below` px of width and more, vertical below it.

    A table beside its detail pane in a narrow dock shows neither whole (the Accounts table scrolled
    sideways at 1920 px, where Accounts shares a row with Budgets); stacked, the table keeps its columns.
    """

    def __init__(self, stack_below: int, shares: tuple[int, ...], parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.stack_below = stack_below
        self.shares = shares  # each pane's share of the room, either way round
        self.setChildrenCollapsible(False)

    def addWidget(self, widget: QWidget) -> None:  # noqa: N802 - Qt override
        super().addWidget(widget)
        i = self.count() - 1
        self.setStretchFactor(i, self.shares[i] if i < len(self.shares) else 1)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        width = event.size().width()
        stacked = self.orientation() == Qt.Orientation.Vertical
        if not stacked and width < self.stack_below:
            self._turn(Qt.Orientation.Vertical)
        elif stacked and width >= self.stack_below + HYSTERESIS:
            self._turn(Qt.Orientation.Horizontal)

    def _turn(self, orientation: Qt.Orientation) -> None:
        self.setOrientation(orientation)
        # Sizes kept from the other direction mean nothing in this one: share it anew (stretch factors are per
        # direction in Qt, so they are set again too).
        factors = [self.shares[i] if i < len(self.shares) else 1 for i in range(self.count())]
        for i, f in enumerate(factors):
            self.setStretchFactor(i, f)
        total = self.height() if orientation == Qt.Orientation.Vertical else self.width()
        whole = sum(factors) or 1
        self.setSizes([total * f // whole for f in factors])
