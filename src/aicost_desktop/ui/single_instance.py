"""One running app per data directory: a second launch asks the first to show its window, then exits.

Usage in `ui/app.py`, before building the main window::

    guard = SingleInstance(str(paths.home))
    if not guard.is_primary():
        return 0 if guard.send_activate() else 1   # the running instance raises its window
    guard.activated.connect(lambda: bring_to_front(window))

The channel is a `QLocalServer` (a Unix socket in the temp dir, or a shorter folder when that path is
too long for a socket; a named pipe on Windows) whose name is derived from the user and the home
directory, so test instances with their own `--home` never collide with each other or with the user's
real app.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import os

from PySide6.QtCore import QDir, QObject, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtNetwork import QAbstractSocket, QLocalServer, QLocalSocket
from PySide6.QtWidgets import QWidget

log = logging.getLogger("aicost.ui.single_instance")

ACTIVATE = b"activate\n"
ACK = b"ok\n"


def server_name(key: str) -> str:
    """A short, stable local-server name for `key` (a home directory) and the current user."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    digest = hashlib.sha256(f"{user}\0{os.path.normcase(os.path.abspath(key))}".encode()).hexdigest()
    return f"aicost-desktop-{digest[:16]}"


# sockaddr_un.sun_path holds 108 bytes on Linux and 104 on macOS, the terminating NUL included.
SOCKET_PATH_MAX = 103


def listen_name(name: str) -> str:
    """What the server listens on and clients connect to: `name` (a socket in Qt's temp dir) when that path
    fits a Unix socket address, else the socket's full path in a short per-user folder. A long TMPDIR
    (sandboxes, CI) made the socket unbindable, and the app ran without its single-instance guard."""
    if os.name == "nt":  # a named pipe: no path limit
        return name
    temp = QDir.tempPath()
    if len(os.fsencode(os.path.join(temp, name))) <= SOCKET_PATH_MAX:
        return name  # Qt puts a bare name in its temp dir
    for folder in (os.environ.get("XDG_RUNTIME_DIR", ""), "/tmp"):
        path = os.path.join(folder, name)
        if folder and os.path.isdir(folder) and len(os.fsencode(path)) <= SOCKET_PATH_MAX:
            return path
    return name


def bring_to_front(window: QWidget) -> None:
    """Show, un-minimize and raise `window` (the window manager may still refuse focus)."""
    if window.isMinimized():
        window.showNormal()
    else:
        window.show()
    if QGuiApplication.platformName() in ("offscreen", "minimal"):
        return  # these platforms warn "does not support raise()"; there is no focus to take
    window.raise_()  # pragma: no cover - needs a real window system (covered by the e2e test)
    window.activateWindow()  # pragma: no cover


class SingleInstance(QObject):
    """Decides whether this process is the primary instance for a home dir and relays activations.

    Signals:
        activated(): another launch asked this (primary) instance to bring its window forward.
    """

    activated = Signal()

    def __init__(self, name: str, parent: QObject | None = None, timeout_ms: int = 1000) -> None:
        super().__init__(parent)
        self.name = listen_name(server_name(name))
        self._timeout_ms = timeout_ms
        self._server: QLocalServer | None = None
        self._primary: bool | None = None
        self._clients: list[QLocalSocket] = []

    # -- deciding ---------------------------------------------------------------------------------
    def is_primary(self) -> bool:
        """True when no other instance listens on our name; the first call starts listening."""
        if self._primary is None:
            self._primary = self._become_primary()
        return self._primary

    def _someone_listens(self) -> bool:
        sock = QLocalSocket()
        sock.connectToServer(self.name)
        ok = sock.waitForConnected(self._timeout_ms)
        if ok:
            sock.disconnectFromServer()
        sock.abort()
        return ok

    def _become_primary(self) -> bool:
        if self._someone_listens():
            return False
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            if server.serverError() != QAbstractSocket.SocketError.AddressInUseError:
                log.warning("single-instance server %s failed: %s; running without it",
                            self.name, server.errorString())
                return True
            # Either a stale socket file left by a crash, or an instance that started just now.
            if self._someone_listens():
                return False
            log.info("removing stale single-instance socket %s", self.name)
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                log.warning("single-instance server %s failed after cleanup: %s",
                            self.name, server.errorString())
                return True
        server.newConnection.connect(self._on_new_connection)
        self._server = server
        log.debug("single-instance server listening on %s", server.fullServerName())
        return True

    # -- primary side -----------------------------------------------------------------------------
    def _on_new_connection(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            if sock is None:  # pragma: no cover - Qt says hasPendingConnections()
                break
            self._clients.append(sock)
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(lambda s=sock: self._drop(s))
            self._read(sock)  # the message may already be buffered

    def _read(self, sock: QLocalSocket) -> None:
        if not sock.canReadLine():
            return
        line = bytes(sock.readLine().data())
        if line == ACTIVATE:
            log.info("activation requested by another launch")
            sock.write(ACK)
            sock.flush()
            self.activated.emit()
        else:
            log.warning("ignoring unknown single-instance message %r", line[:40])
        sock.disconnectFromServer()

    def _drop(self, sock: QLocalSocket) -> None:
        if sock in self._clients:
            self._clients.remove(sock)
            sock.deleteLater()

    def close(self) -> None:
        """Stop listening (the socket file is removed); called at quit."""
        if self._server is not None:
            self._server.close()
            self._server = None
        self._primary = None

    # -- secondary side ---------------------------------------------------------------------------
    def send_activate(self) -> bool:
        """Ask the primary instance to show its window; True once it acknowledged.

        Blocking (no event loop needed), bounded by the timeout given to the constructor. Call it
        from another process: Qt's blocking waits keep the GIL, so a primary in the same process
        could not answer.
        """
        sock = QLocalSocket()
        sock.connectToServer(self.name)
        if not sock.waitForConnected(self._timeout_ms):
            log.info("no running instance answers on %s: %s", self.name, sock.errorString())
            return False
        sock.write(ACTIVATE)
        ok = sock.waitForBytesWritten(self._timeout_ms)
        while ok and not sock.canReadLine():
            ok = sock.waitForReadyRead(self._timeout_ms)
        acked = ok and bytes(sock.readLine().data()) == ACK
        sock.abort()
        if not acked:
            log.warning("the running instance on %s did not acknowledge", self.name)
        return acked
