"""SIGTERM (a logout, `kill`, a service manager) and SIGINT (Ctrl+C in a terminal) quit the app the way
File > Quit does: the layout saved, jobs and the runtime stopped, the ledger closed and the single-instance
socket removed, instead of the process dying mid-write with its socket left behind.

Qt's event loop runs in C++, where Python's signal handlers cannot run; the signal's wake-up byte on a
socket pair wakes a QSocketNotifier, whose slot (Python code) lets the handler run at once.
"""

from __future__ import annotations

import logging
import signal
import socket
from typing import Any, Callable

from PySide6.QtCore import QObject, QSocketNotifier

log = logging.getLogger("aicost.ui.quit_signals")

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class QuitOnSignals(QObject):
    """While installed, SIGTERM and SIGINT call `quit` on the GUI thread. `uninstall()` restores what was there."""

    def __init__(self, quit: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._quit = quit
        self._reader, self._writer = socket.socketpair()
        for s in (self._reader, self._writer):
            s.setblocking(False)
        self._old_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._old: dict[int, Any] = {s: signal.signal(s, self._handle) for s in SIGNALS}
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)
        self._quitting = False

    def _handle(self, signum: int, _frame: object) -> None:
        if self._quitting:  # a second signal while quitting changes nothing
            return
        self._quitting = True
        log.info("%s received: quitting", signal.Signals(signum).name)
        self._quit()

    def _drain(self) -> None:
        try:
            while self._reader.recv(64):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def uninstall(self) -> None:
        self._notifier.setEnabled(False)
        for s, old in self._old.items():
            signal.signal(s, old)
        signal.set_wakeup_fd(self._old_fd)
        self._reader.close()
        self._writer.close()
