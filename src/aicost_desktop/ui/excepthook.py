"""One global excepthook: every uncaught exception (GUI or worker thread) is logged and shown, never silent."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType
from typing import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from aicost_desktop.domain.redact import redact

log = logging.getLogger("aicost.crash")


class _Dialogs(QObject):
    """Shows the error dialog on the GUI thread.

    Signals:
        show(str, str): summary and details of an uncaught exception (queued from any thread).
    """

    show = Signal(str, str)

    def __init__(self, parent_getter: Callable[[], QWidget | None], log_path: str) -> None:
        super().__init__()
        self._parent = parent_getter
        self._log_path = log_path
        self._open: list[QMessageBox] = []
        self.show.connect(self._show, Qt.ConnectionType.QueuedConnection)

    @Slot(str, str)
    def _show(self, summary: str, details: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Critical, "AI Cost Tracker — unexpected error",
                          f"{summary}\n\nThe app keeps running. Details were written to:\n{self._log_path}",
                          QMessageBox.StandardButton.Ok, self._parent())
        box.setDetailedText(details)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # Without a parent (before the window exists) nothing else owns the box: keep it until closed.
        self._open.append(box)
        box.finished.connect(lambda _result, b=box: self._open.remove(b) if b in self._open else None)
        box.open()  # non-blocking: an error inside a modal loop must not stack loops


class ExceptHook:
    """Installed by `install()`; counts errors so `--smoke-test` can fail on them."""

    def __init__(self, log_path: str, parent_getter: Callable[[], QWidget | None] = lambda: None,
                 show_dialog: bool = True) -> None:
        self.errors: list[str] = []
        self._show_dialog = show_dialog
        self._dialogs = _Dialogs(parent_getter, log_path) if show_dialog else None
        self._prev_sys = sys.excepthook
        self._prev_thread = threading.excepthook

    def __call__(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            app = QApplication.instance()
            if app is not None:
                app.quit()
            return
        # The dialog and its details are on screen (and in screenshots): no registered secret in them.
        details = redact("".join(traceback.format_exception(exc_type, exc, tb)))
        summary = redact(f"{exc_type.__name__}: {exc}")
        log.critical("uncaught exception\n%s", details)
        self.errors.append(summary)
        if self._dialogs is not None and QApplication.instance() is not None:
            self._dialogs.show.emit(summary, details)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        self(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)

    def install(self) -> "ExceptHook":
        sys.excepthook = self
        threading.excepthook = self._thread_hook
        return self

    def uninstall(self) -> None:
        if sys.excepthook is self:
            sys.excepthook = self._prev_sys
        if threading.excepthook == self._thread_hook:
            threading.excepthook = self._prev_thread


def install(log_path: str, parent_getter: Callable[[], QWidget | None] = lambda: None,
            show_dialog: bool = True) -> ExceptHook:
    return ExceptHook(log_path, parent_getter, show_dialog).install()
