"""No autolaunched dbus-daemon outlives the app: the GUI names its session bus before Qt loads."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from aicost_desktop.ui.session_bus import ADDRESS, DISABLED, name_session_bus


def test_an_address_already_set_is_kept() -> None:
    env = {ADDRESS: "unix:path=/run/user/1000/bus"}
    assert name_session_bus(env, "linux") == "unix:path=/run/user/1000/bus"


def test_the_systemd_user_bus_is_used_when_its_socket_exists(tmp_path: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "bus"))
    try:
        env = {"XDG_RUNTIME_DIR": str(tmp_path)}
        assert name_session_bus(env, "linux") == f"unix:path={tmp_path / 'bus'}"
    finally:
        sock.close()


def test_without_a_bus_autolaunch_is_disabled(tmp_path: Path) -> None:
    env = {"XDG_RUNTIME_DIR": str(tmp_path)}  # no socket there
    assert name_session_bus(env, "linux") == DISABLED and env[ADDRESS] == DISABLED
    assert name_session_bus({}, "darwin") is None


def _daemons(marker: str) -> set[int]:
    """dbus-daemons whose environment holds `marker`: one the app autolaunched inherits its environment. Other
    tests running at the same time (the keychain ones under dbus-run-session) have daemons of their own."""
    out = subprocess.run(["pgrep", "-x", "dbus-daemon"], capture_output=True, text=True).stdout
    mine = set()
    for pid in out.split():
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile
            continue
        if marker.encode() in environ:
            mine.add(int(pid))
    return mine


@pytest.mark.e2e
@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("Xvfb") is None
                    or shutil.which("pgrep") is None or shutil.which("dbus-launch") is None,
                    reason="needs Xvfb, pgrep and dbus-launch (dbus-x11), which .ci/run installs")
def test_the_app_on_x11_without_a_session_bus_leaves_no_dbus_daemon(tmp_path: Path) -> None:

    read_fd, write_fd = os.pipe()  # Xvfb writes the free display it took once it accepts clients
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as fh:
            display = ":" + fh.readline().strip()
        home = f"AICOST_HOME={tmp_path / 'home'}"
        before = _daemons(home)
        env = {k: v for k, v in os.environ.items() if k not in (ADDRESS, "XDG_RUNTIME_DIR") and not k.startswith("COV_CORE_")}
        env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", AICOST_HOME=str(tmp_path / "home"))
        proc = subprocess.run([sys.executable, "-m", "aicost_desktop", "--smoke-test"], env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        stray = _daemons(home) - before
        for pid in stray:
            os.kill(pid, 15)
        assert not stray, "an autolaunched dbus-daemon outlived the app"
    finally:
        xvfb.terminate()
        xvfb.wait(10)
