"""`aicost-desktop`: builds the context, logging, excepthook, QApplication, the runtime, main window and tray.

    aicost-desktop [--home DIR] [--db URL] [--tz ZONE] [--demo] [--smoke-test]

`--smoke-test` builds the whole window with every dock, refreshes each once, and exits 0, or 1
on any error, failed dock or Qt warning (works with QT_QPA_PLATFORM=offscreen; CI runs it on
the frozen bundle too).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

from aicost_desktop import APP_NAME, ORG_NAME, __version__
from aicost_desktop.domain import redact
from aicost_desktop.domain.private_files import private_dir
from aicost_desktop.domain.private_log import PrivateRotatingFileHandler
from aicost_desktop.ui.heap import startup_heap
from aicost_desktop.ui.session_bus import name_session_bus

log = logging.getLogger("aicost.ui.app")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="aicost-desktop", description=f"{APP_NAME}: the desktop app.")
    p.add_argument("--home", metavar="DIR", help="data directory (default: AICOST_HOME or the user data dir)")
    p.add_argument("--db", metavar="URL", help="database URL (sqlite:///PATH or postgresql://...)")
    p.add_argument("--tz", metavar="ZONE", help="IANA time zone for days and months (default: setting/system)")
    p.add_argument("--demo", action="store_true", help="load 90 days of sample data if the ledger is empty")
    p.add_argument("--smoke-test", action="store_true", help="build every dock, refresh once, exit 0 if healthy")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p.parse_args(list(argv) if argv is not None else None)


class _Counter(logging.Handler):
    """Collects ERROR records of our loggers during a smoke test."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.name}: {record.getMessage()}")


def setup_logging(log_file: Path, level: int = logging.INFO) -> list[logging.Handler]:
    """Named `aicost.*` loggers write to a rotating file in the home dir (and warnings to stderr)."""
    root = logging.getLogger("aicost")
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    private_dir(log_file.parent)
    # 0600 files, and every line redacted: a provider echoing a key of any shape never lands in the log.
    fh = PrivateRotatingFileHandler(log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    fh.setLevel(level)
    err = logging.StreamHandler(sys.stderr)
    err.setLevel(logging.WARNING)
    err.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handlers: list[logging.Handler] = [fh, err]
    redact.install(*handlers)
    for h in handlers:
        root.addHandler(h)
    return handlers


# Platform-plugin limitations that say nothing about the app (the headless `offscreen` plugin).
BENIGN_QT = ("This plugin does not support propagateSizeHints()", "This plugin does not support raise()")


class QtMessages:
    """Routes Qt's own messages to the `aicost.qt` logger and keeps the warnings (smoke test fails on them)."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self._prev = None

    def __call__(self, mode, context, message: str) -> None:  # type: ignore[no-untyped-def]
        # lazy: Qt loads only after name_session_bus() in main()
        from PySide6.QtCore import QtMsgType

        qlog = logging.getLogger("aicost.qt")
        if message in BENIGN_QT:
            qlog.debug("%s", message)
        elif mode in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            self.warnings.append(message)
            qlog.warning("%s", message)
        else:
            qlog.debug("%s", message)
        if self._prev is not None:  # keep pytest-qt's capture working when run in-process
            self._prev(mode, context, message)

    def install(self) -> "QtMessages":
        # lazy: Qt loads only after name_session_bus() in main()
        from PySide6.QtCore import qInstallMessageHandler

        self._prev = qInstallMessageHandler(self)
        return self

    def uninstall(self) -> None:
        # lazy: Qt loads only after name_session_bus() in main()
        from PySide6.QtCore import qInstallMessageHandler

        qInstallMessageHandler(self._prev)


def _settle(app, pools, runtime, timeout_s: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    """Process events until background jobs (GUI pools and runtime) and their queued results are all done."""
    deadline = time.monotonic() + timeout_s
    idle = 0
    while time.monotonic() < deadline:
        app.processEvents()
        if all(p.activeThreadCount() == 0 for p in pools) and not runtime.busy():
            idle += 1
            if idle >= 5:
                return True
        else:
            idle = 0
            for p in pools:
                p.waitForDone(50)
        time.sleep(0.01)  # a wall-clock tick lets coalescing timers (bus) fire
    return False


def _smoke(app, window, problems: list[str], settle: Callable[[], None]) -> int:  # type: ignore[no-untyped-def]
    # lazy: Qt loads only after name_session_bus() in main()
    from PySide6.QtWidgets import QDockWidget

    # lazy: Qt loads only after name_session_bus() in main()
    from aicost_desktop.ui.docks import DOCKS

    window.show()
    app.processEvents()
    settle()
    for spec in DOCKS:
        dock = window.findChild(QDockWidget, spec.object_name)
        if dock is None or dock.widget() is None:
            problems.append(f"dock {spec.object_name} missing")
    window.refresh_all()
    if not _settle(app, window.services.pools, window.runtime):
        problems.append("background jobs did not finish within 60 s")
    window._quitting = True
    window.close()
    window.shutdown()
    app.processEvents()
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with startup_heap() as settle:  # no collections while startup builds the objects that live as long as we do
        return _main(args, settle)


def _main(args: argparse.Namespace, settle: Callable[[], None]) -> int:
    name_session_bus()  # before Qt loads: no autolaunched dbus-daemon outliving the app
    # lazy: Qt loads only after name_session_bus() in main()
    from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

    from aicost_desktop.app_context import AppContext  # lazy: --help and --version exit without it (~50 ms)

    # lazy: Qt loads only after name_session_bus() in main()
    from aicost_desktop.ui import excepthook
    from aicost_desktop.ui.theme import app_icon, apply_theme

    ctx = AppContext(home=args.home, db_url=args.db, tz=args.tz)
    handlers = setup_logging(ctx.paths.log_file)
    counter = _Counter()
    redact.install(counter)  # its messages are printed by --smoke-test
    logging.getLogger("aicost").addHandler(counter)
    app = QApplication.instance() or QApplication(["aicost-desktop"])  # argv[0] names the X11 WM_CLASS
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("aicost-desktop")
    app.setWindowIcon(app_icon())
    qt_messages = QtMessages().install()
    window = None
    runtime = None
    hook = excepthook.install(str(ctx.paths.log_file), lambda: window, show_dialog=not args.smoke_test)
    log.info("starting %s %s (home %s, smoke=%s)", APP_NAME, __version__, ctx.paths.home, args.smoke_test)
    guard = None
    try:
        try:
            ctx.db  # opens the ledger and runs migrations (after a backup copy)
        except Exception as exc:
            log.error("cannot open the ledger: %s", exc)
            if not args.smoke_test:
                QMessageBox.critical(None, APP_NAME, f"Cannot open the ledger:\n{exc}\n\nLog: {ctx.paths.log_file}")
            print(f"aicost-desktop: cannot open the ledger: {exc}", file=sys.stderr)
            return 1
        apply_theme(app, ctx.settings.get("theme"))
        if not args.smoke_test:
            # lazy: Qt loads only after name_session_bus() in main()
            from aicost_desktop.ui.single_instance import SingleInstance

            guard = SingleInstance(str(ctx.paths.home))
            if not guard.is_primary():
                log.info("another instance runs on %s; asking it to show its window", ctx.paths.home)
                return 0 if guard.send_activate() else 1
        # lazy: Qt loads only after name_session_bus() in main()
        from aicost_desktop.runtime import Runtime
        from aicost_desktop.ui.main_window import MainWindow

        # The app owns the runtime: started here, stopped in `finally` after the window is gone.
        runtime = Runtime(ctx)
        window = MainWindow(ctx, runtime=runtime)
        runtime.start()
        if args.smoke_test:
            problems: list[str] = []
            code = _smoke(app, window, problems, settle)
            problems += [f"Qt: {w}" for w in qt_messages.warnings] + counter.messages + hook.errors
            for p in problems:
                print(f"smoke-test: {p}", file=sys.stderr)
            code = 1 if problems else code
            print(f"smoke-test: {'ok' if code == 0 else 'FAILED'} ({len(window.docks)} docks)")
            return code
        return _run(app, ctx, window, guard, args.demo, QSystemTrayIcon.isSystemTrayAvailable(), settle)
    finally:
        if runtime is not None:
            runtime.stop()
        hook.uninstall()
        qt_messages.uninstall()
        logging.getLogger("aicost").removeHandler(counter)
        if guard is not None:
            guard.close()
        ctx.close()
        for h in handlers:
            logging.getLogger("aicost").removeHandler(h)
            h.close()


def _run(app, ctx, window, guard, demo: bool, tray_ok: bool,  # type: ignore[no-untyped-def]
         settle: Callable[[], None]) -> int:
    # lazy: Qt loads only after name_session_bus() in main()
    from aicost_desktop.ui.single_instance import bring_to_front
    from aicost_desktop.ui.theme import app_icon
    from aicost_desktop.ui.tray import Tray

    guard.activated.connect(lambda: bring_to_front(window))
    if tray_ok:
        tray = Tray(window.services, window.actions, app_icon(), parent=window)
        window.attach_tray(tray)
        tray.show()
        log.info("tray icon shown")
    else:
        log.info("no system tray available; closing the window quits")
    window.quit_on_close = True
    app.setQuitOnLastWindowClosed(not tray_ok)
    # lazy: Qt loads only after name_session_bus() in main()
    from aicost_desktop.ui.quit_signals import QuitOnSignals

    signals = QuitOnSignals(window.quit_app, parent=window)
    window.refresh_status()  # every dock started its own first load when it was built
    if demo:
        window.load_demo_if_empty()
    if ctx.settings.get("start_minimized"):
        if not tray_ok:
            window.showMinimized()
    else:
        window.show()
    settle()
    log.info("main window ready")
    try:
        code = app.exec()
    finally:
        signals.uninstall()
    window.shutdown()
    return code
