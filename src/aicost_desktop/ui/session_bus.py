"""The D-Bus session bus the GUI talks to (tray, notifications, keychain): the real one, never an autolaunched one.

With no DBUS_SESSION_BUS_ADDRESS and an X display, libdbus "autolaunches" a private dbus-daemon
on first use (Qt's tray and notifications use D-Bus) and that daemon outlives the app: a stray
process per start, holding no keychain anyway. So the GUI names the bus before Qt loads: the
user's systemd bus at $XDG_RUNTIME_DIR/bus when it exists, otherwise "disabled:" (D-Bus features
then report themselves unavailable and the app falls back: icon-less tray hints, no keychain).
"""

from __future__ import annotations

import os
import stat
import sys
from typing import MutableMapping

ADDRESS = "DBUS_SESSION_BUS_ADDRESS"
DISABLED = "disabled:"


def _is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


def name_session_bus(env: MutableMapping[str, str] | None = None, platform: str = sys.platform) -> str | None:
    """Set DBUS_SESSION_BUS_ADDRESS when it is unset on Linux/BSD; returns the address now in force."""
    env = os.environ if env is None else env
    if platform in ("darwin", "win32") or platform.startswith("cygwin"):
        return env.get(ADDRESS)
    if env.get(ADDRESS):
        return env[ADDRESS]
    runtime_dir = env.get("XDG_RUNTIME_DIR")
    user_bus = os.path.join(runtime_dir, "bus") if runtime_dir else ""
    env[ADDRESS] = f"unix:path={user_bus}" if user_bus and _is_socket(user_bus) else DISABLED
    return env[ADDRESS]
