"""SingleInstance: primary election, activation over QLocalSocket, stale socket cleanup."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path

import pytest

from aicost_desktop.ui.single_instance import SingleInstance, bring_to_front, server_name


@pytest.fixture
def key(tmp_path: Path) -> str:
    # A unique home per test: instances of different tests (or the real app) never collide.
    return str(tmp_path / f"home-{uuid.uuid4().hex}")


def _in_thread(fn):
    """Run a blocking pure-Python client off the GUI thread, so the primary's event loop answers.

    (Qt's own blocking waitFor* calls keep the GIL, so a QLocalSocket client must be a process.)
    """
    result: dict[str, object] = {}
    t = threading.Thread(target=lambda: result.setdefault("value", fn()), daemon=True)
    t.start()
    return t, result


def test_server_name_is_stable_short_and_per_home(tmp_path: Path) -> None:
    a, b = server_name(str(tmp_path / "a")), server_name(str(tmp_path / "b"))
    assert a == server_name(str(tmp_path / "a"))
    assert a != b
    assert a.startswith("aicost-desktop-") and len(a) < 40


def test_first_is_primary_second_is_not(qtbot, key: str) -> None:
    first = SingleInstance(key)
    try:
        assert first.is_primary()
        assert first.is_primary()  # cached, does not re-listen
        second = SingleInstance(key, timeout_ms=2000)
        assert not second.is_primary()
    finally:
        first.close()


def test_other_home_is_independent(qtbot, key: str) -> None:
    first, other = SingleInstance(key), SingleInstance(key + "-other")
    try:
        assert first.is_primary()
        assert other.is_primary()
    finally:
        first.close()
        other.close()


def test_send_activate_without_primary_fails_fast(qtbot, key: str) -> None:
    assert SingleInstance(key, timeout_ms=300).send_activate() is False


@pytest.mark.skipif(sys.platform == "win32", reason="talks to the Unix socket directly [ci-ok]")
def test_unknown_message_is_ignored(qtbot, key: str) -> None:
    import socket

    first = SingleInstance(key)
    try:
        assert first.is_primary()
        received: list[bool] = []
        first.activated.connect(lambda: received.append(True))
        path = first._server.fullServerName()  # type: ignore[union-attr]

        def talk() -> bytes:
            # Plain Python sockets release the GIL while blocking, so the primary keeps running.
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(5)
                s.connect(path)
                s.sendall(b"hello\n")
                return s.recv(100)  # b"" once the primary hangs up without an answer

        thread, result = _in_thread(talk)
        qtbot.waitUntil(lambda: not thread.is_alive(), timeout=5000)
        assert result["value"] == b""
        assert received == []
    finally:
        first.close()


def test_close_releases_the_name(qtbot, key: str) -> None:
    first = SingleInstance(key)
    assert first.is_primary()
    first.close()
    again = SingleInstance(key)
    try:
        assert again.is_primary()
    finally:
        again.close()


@pytest.mark.skipif(sys.platform == "win32", reason="stale socket files exist only on Unix [ci-ok]")
def test_stale_socket_file_is_removed(qtbot, key: str) -> None:
    import socket

    name = server_name(key)
    path = os.path.join(tempfile.gettempdir(), name)
    # What a crashed instance leaves behind: a bound socket file nobody listens on.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()
    assert os.path.exists(path)
    inst = SingleInstance(key, timeout_ms=300)
    try:
        assert inst.is_primary()
    finally:
        inst.close()


def test_second_process_activates_the_first(qtbot, key: str) -> None:
    first = SingleInstance(key)
    try:
        assert first.is_primary()
        code = (
            "import sys; from aicost_desktop.ui.single_instance import SingleInstance; "
            "g = SingleInstance(sys.argv[1], timeout_ms=5000); "
            "sys.exit(3 if g.is_primary() else (0 if g.send_activate() else 1))"
        )
        with qtbot.waitSignal(first.activated, timeout=10000):
            proc = subprocess.Popen([sys.executable, "-c", code, key])
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=10000)
        assert proc.returncode == 0
    finally:
        first.close()


def test_bring_to_front_shows_and_restores(qtbot) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QWidget

    w = QWidget()
    qtbot.addWidget(w)
    bring_to_front(w)
    assert w.isVisible()
    w.setWindowState(Qt.WindowState.WindowMinimized)
    bring_to_front(w)
    assert w.isVisible()


def test_send_activate_reaches_a_primary_in_another_process(qtbot, key: str) -> None:
    code = (
        "import sys\n"
        "from PySide6.QtCore import QCoreApplication, QTimer\n"
        "from aicost_desktop.ui.single_instance import SingleInstance\n"
        "app = QCoreApplication([])\n"
        "g = SingleInstance(sys.argv[1])\n"
        "assert g.is_primary()\n"
        "g.activated.connect(lambda: (print('activated', flush=True), QTimer.singleShot(50, app.quit)))\n"
        "print('ready', flush=True)\n"
        "QTimer.singleShot(20000, lambda: app.exit(4))\n"
        "sys.exit(app.exec())\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, key], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        second = SingleInstance(key, timeout_ms=5000)
        assert not second.is_primary()
        assert second.send_activate() is True
        assert proc.stdout.readline().strip() == "activated"
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()


def test_race_lost_while_listening_means_secondary(qtbot, key: str, monkeypatch) -> None:
    first = SingleInstance(key)
    try:
        assert first.is_primary()
        late = SingleInstance(key)
        calls = iter([False])  # the first probe misses the other instance, as in a start-up race
        real = late._someone_listens
        monkeypatch.setattr(late, "_someone_listens", lambda: next(calls, None) or real())
        assert late.is_primary() is False
    finally:
        first.close()


def test_listen_error_other_than_in_use_runs_without_guard(qtbot, key: str, monkeypatch) -> None:
    from PySide6.QtNetwork import QAbstractSocket, QLocalServer

    monkeypatch.setattr(QLocalServer, "listen", lambda self, name: False)
    monkeypatch.setattr(QLocalServer, "serverError",
                        lambda self: QAbstractSocket.SocketError.SocketAccessError)
    inst = SingleInstance(key, timeout_ms=200)
    assert inst.is_primary() is True
    inst.close()


@pytest.mark.skipif(sys.platform == "win32", reason="a named pipe has no path limit [ci-ok]")
def test_a_temp_dir_too_long_for_a_socket_still_guards(qtbot, key: str, tmp_path: Path, monkeypatch) -> None:
    # TMPDIR of 150 bytes: the socket path no longer fits sun_path, and listening failed ("running
    # without it"), so a second launch also became primary and opened a second window on the ledger.
    long_tmp = tmp_path / ("t" * (150 - len(str(tmp_path))))
    long_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(long_tmp))
    first = SingleInstance(key)
    try:
        assert first.is_primary()
        assert len(os.fsencode(first.name)) <= 103 and first.name.endswith(server_name(key))
        second = SingleInstance(key, timeout_ms=2000)
        assert not second.is_primary()
    finally:
        first.close()
    again = SingleInstance(key)  # closing removed the socket: the next launch is primary again
    try:
        assert again.is_primary()
    finally:
        again.close()
