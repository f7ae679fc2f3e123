"""Start the app at login: XDG autostart entry (Linux), Run registry key (Windows), LaunchAgent (macOS).

No Qt here. Each public function takes an optional `platform` (a `sys.platform` value) so the
file writers of every platform can be tested anywhere; paths honour `$HOME`/`$XDG_CONFIG_HOME`.
"""

from __future__ import annotations

import logging
import os
import plistlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Sequence

from aicost_desktop import APP_NAME

log = logging.getLogger("aicost.autostart")

DESKTOP_FILE = "aicost-desktop.desktop"
LAUNCH_AGENT_LABEL = "io.github.aicost.desktop"
WINDOWS_RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
WINDOWS_VALUE = "AI Cost Tracker"

Command = str | Sequence[str]


def default_command() -> list[str]:
    """How to launch this very app: the frozen executable, or `python -m aicost_desktop`."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "aicost_desktop"]


def _argv(exec_cmd: Command) -> list[str]:
    argv = [exec_cmd] if isinstance(exec_cmd, str) else list(exec_cmd)
    if not argv or not argv[0]:
        raise ValueError("autostart needs a command to run")
    return argv


def _platform(platform: str | None) -> str:
    p = platform or sys.platform
    if p.startswith("linux") or p.startswith("freebsd"):
        return "linux"
    if p == "darwin":
        return "darwin"
    if p == "win32":
        return "win32"
    raise NotImplementedError(f"autostart is not supported on {p}")


# -- Linux: $XDG_CONFIG_HOME/autostart/aicost-desktop.desktop ---------------------------------------
def linux_autostart_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "autostart" / DESKTOP_FILE


def _desktop_quote(arg: str) -> str:
    """Quote one Exec argument per the Desktop Entry spec (then escape for a string value)."""
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`='):
        quoted = arg
    else:
        quoted = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
    # Field codes start with %; a literal % is %%. Then the value-level escape of backslashes.
    return quoted.replace("%", "%%").replace("\\", "\\\\")


def desktop_entry(exec_cmd: Command) -> str:
    """The text of the XDG autostart entry that runs `exec_cmd`."""
    exec_line = " ".join(_desktop_quote(a) for a in _argv(exec_cmd))
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        f"Name={APP_NAME}\n"
        "Comment=Track AI spend from the system tray\n"
        f"Exec={exec_line}\n"
        "Icon=aicost-desktop\n"
        "Terminal=false\n"
        "Categories=Office;Finance;\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


def _linux_enabled(path: Path) -> bool:
    if not path.is_file():
        return False
    keys = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        k, sep, v = line.partition("=")
        if sep:
            keys[k.strip()] = v.strip().lower()
    return keys.get("Hidden") != "true" and keys.get("X-GNOME-Autostart-enabled") != "false"


# -- macOS: ~/Library/LaunchAgents/<label>.plist ----------------------------------------------------
def macos_agent_path() -> Path:
    return Path(os.path.expanduser("~")) / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"


def launch_agent(exec_cmd: Command) -> bytes:
    """The LaunchAgent property list (XML) that runs `exec_cmd` at login."""
    return plistlib.dumps({
        "Label": LAUNCH_AGENT_LABEL,
        "ProgramArguments": _argv(exec_cmd),
        "RunAtLoad": True,
        "KeepAlive": False,
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",
    })


def _macos_enabled(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        data = plistlib.loads(path.read_bytes())
    except (plistlib.InvalidFileException, ValueError):
        return False
    return bool(data.get("RunAtLoad")) and not data.get("Disabled", False)


# -- Windows: HKCU\...\Run ------------------------------------------------------------------------
def windows_command_line(exec_cmd: Command) -> str:
    return subprocess.list2cmdline(_argv(exec_cmd))


def _winreg() -> ModuleType:
    import winreg  # platform: Windows only (tests pass a fake module)

    return winreg


def _windows_set(value: str | None) -> None:
    winreg = _winreg()
    with winreg.OpenKey(winreg.HKEY_CURRENT_USER, WINDOWS_RUN_KEY, 0,
                        winreg.KEY_SET_VALUE | winreg.KEY_QUERY_VALUE) as key:
        if value is None:
            try:
                winreg.DeleteValue(key, WINDOWS_VALUE)
            except FileNotFoundError:
                pass
        else:
            winreg.SetValueEx(key, WINDOWS_VALUE, 0, winreg.REG_SZ, value)


def _windows_enabled() -> bool:
    winreg = _winreg()
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, WINDOWS_RUN_KEY, 0, winreg.KEY_QUERY_VALUE) as key:
            value, _kind = winreg.QueryValueEx(key, WINDOWS_VALUE)
    except FileNotFoundError:
        return False
    return bool(value)


# -- public API ------------------------------------------------------------------------------------
def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # never leave a half-written entry the session manager would choke on


def enable(exec_cmd: Command | None = None, platform: str | None = None) -> None:
    """Start `exec_cmd` (default: this app) when the user logs in."""
    cmd = exec_cmd if exec_cmd is not None else default_command()
    p = _platform(platform)
    if p == "linux":
        _write(linux_autostart_path(), desktop_entry(cmd).encode("utf-8"))
    elif p == "darwin":
        _write(macos_agent_path(), launch_agent(cmd))
    else:
        _windows_set(windows_command_line(cmd))
    log.info("autostart enabled (%s)", p)


def disable(platform: str | None = None) -> None:
    """Stop starting at login; a no-op when it was not enabled."""
    p = _platform(platform)
    if p == "linux":
        linux_autostart_path().unlink(missing_ok=True)
    elif p == "darwin":
        macos_agent_path().unlink(missing_ok=True)
    else:
        _windows_set(None)
    log.info("autostart disabled (%s)", p)


def is_enabled(platform: str | None = None) -> bool:
    """Whether the app is set to start at login."""
    p = _platform(platform)
    if p == "linux":
        return _linux_enabled(linux_autostart_path())
    if p == "darwin":
        return _macos_enabled(macos_agent_path())
    return _windows_enabled()
