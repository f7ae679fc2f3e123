"""The page a view shows until its first load answers: neither rows nor its empty state, which would tell a
user with a full ledger to "add your first account" for the second the first query takes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget


class LoadingPage(QLabel):
    """'Loading the ledger…' in the palette's placeholder colour, centred."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setObjectName("loadingPage")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("color: palette(placeholder-text);")
