"""Status-bar strip: "Syncing <account> 2/3" with a progress bar while syncing, "Last sync HH:MM" after."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

if TYPE_CHECKING:
    from aicost_desktop.ui.sync_scheduler import SyncScheduler


class SyncStatusWidget(QWidget):
    """Re-reads the runtime's status line on every sync state change (nothing to load: no refresh policy needed)."""

    def __init__(self, scheduler: "SyncScheduler", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncStatus")
        self.scheduler = scheduler
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("")
        self.label.setObjectName("syncStatusLabel")
        self.bar = QProgressBar()
        self.bar.setObjectName("syncProgress")
        self.bar.setMaximumWidth(120)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        self.bar.setVisible(False)
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        scheduler.state_changed.connect(self.update_text)
        self.update_text()

    def update_text(self) -> None:
        self.label.setText(self.scheduler.status_text())
        running = self.scheduler.running()
        self.bar.setVisible(bool(running))
        if running:
            done = sum(d for d, _ in running.values())
            total = sum(t for _, t in running.values())
            if total and all(t for _, t in running.values()):
                self.bar.setRange(0, total)
                self.bar.setValue(min(done, total))
            else:
                self.bar.setRange(0, 0)
