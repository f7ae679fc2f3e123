"""The GUI's log file handler: rotating, and every file of it (the current one and each rotated one) 0600.

Apart from domain/private_files.py because logging.handlers (with socket, pickle and queue) is ~10 ms of
each CLI start, and only the GUI writes a log file."""

from __future__ import annotations

import io
import logging.handlers
from pathlib import Path

from aicost_desktop.domain.private_files import FILE_MODE, private_file, restrict


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler whose log files (the current one and each rotated one) are 0600."""

    def _open(self) -> io.TextIOWrapper:
        private_file(Path(self.baseFilename))
        return super()._open()

    def doRollover(self) -> None:
        super().doRollover()
        for i in range(1, self.backupCount + 1):
            restrict(Path(f"{self.baseFilename}.{i}"), FILE_MODE)
