"""autostart: the XDG entry and LaunchAgent writers against a temp HOME, Windows via a fake winreg."""

from __future__ import annotations

import plistlib
import sys
import types
from pathlib import Path

import pytest

from aicost_desktop import autostart


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return tmp_path


def _exec_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("Exec="))[len("Exec="):]


# -- Linux ------------------------------------------------------------------------------------------
def test_linux_enable_writes_xdg_autostart_entry(home: Path) -> None:
    assert not autostart.is_enabled("linux")
    autostart.enable(["/usr/bin/aicost-desktop", "--home", "/data/ai cost"], platform="linux")
    path = home / ".config" / "autostart" / "aicost-desktop.desktop"
    assert path.is_file()
    text = path.read_text()
    assert text.startswith("[Desktop Entry]\n")
    assert "Type=Application\n" in text and "Name=AI Cost Tracker\n" in text
    assert _exec_line(text) == '/usr/bin/aicost-desktop --home "/data/ai cost"'
    assert autostart.is_enabled("linux")
    assert not list(path.parent.glob("*.tmp"))


def test_linux_honours_xdg_config_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "cfg"))
    autostart.enable("/opt/aicost-desktop/aicost-desktop", platform="linux")
    assert (home / "cfg" / "autostart" / "aicost-desktop.desktop").is_file()
    assert autostart.is_enabled("linux")


def test_linux_disable_removes_entry_and_is_idempotent(home: Path) -> None:
    autostart.enable(["/usr/bin/aicost-desktop"], platform="linux")
    autostart.disable("linux")
    assert not autostart.is_enabled("linux")
    autostart.disable("linux")  # no error the second time
    assert not autostart.linux_autostart_path().exists()


@pytest.mark.parametrize("hidden", ["Hidden=true", "X-GNOME-Autostart-enabled=false"])
def test_linux_entry_disabled_by_the_desktop_counts_as_off(home: Path, hidden: str) -> None:
    autostart.enable(["/usr/bin/aicost-desktop"], platform="linux")
    path = autostart.linux_autostart_path()
    path.write_text(path.read_text().replace("X-GNOME-Autostart-enabled=true", "") + hidden + "\n")
    assert not autostart.is_enabled("linux")


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("plain", "plain"),
        ("with space", '"with space"'),
        ('say "hi"', '"say \\\\"hi\\\\""'),
        ("$HOME", '"\\\\$HOME"'),
        ("50%", "50%%"),
        ("C:\\x", '"C:\\\\\\\\x"'),
        ("", '""'),
    ],
)
def test_desktop_exec_quoting(arg: str, expected: str) -> None:
    assert _exec_line(autostart.desktop_entry(["/bin/app", arg])) == f"/bin/app {expected}"


# -- macOS ------------------------------------------------------------------------------------------
def test_macos_enable_writes_launch_agent(home: Path) -> None:
    assert not autostart.is_enabled("darwin")
    cmd = ["/Applications/AI Cost Tracker.app/Contents/MacOS/aicost-desktop", "--home", "/tmp/x"]
    autostart.enable(cmd, platform="darwin")
    path = home / "Library" / "LaunchAgents" / "io.github.aicost.desktop.plist"
    data = plistlib.loads(path.read_bytes())
    assert data["Label"] == "io.github.aicost.desktop"
    assert data["ProgramArguments"] == cmd
    assert data["RunAtLoad"] is True
    assert autostart.is_enabled("darwin")
    autostart.disable("darwin")
    assert not path.exists() and not autostart.is_enabled("darwin")


def test_macos_corrupt_or_disabled_plist_is_off(home: Path) -> None:
    path = autostart.macos_agent_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a plist")
    assert not autostart.is_enabled("darwin")
    path.write_bytes(plistlib.dumps({"Label": "x", "RunAtLoad": True, "Disabled": True}))
    assert not autostart.is_enabled("darwin")


# -- Windows (fake winreg) --------------------------------------------------------------------------
class _FakeKey:
    def __init__(self, store: dict[str, str]) -> None:
        self.store = store

    def __enter__(self) -> "_FakeKey":
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.fixture
def fake_winreg(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    store: dict[str, str] = {}
    key = _FakeKey(store)

    def query(k: _FakeKey, name: str) -> tuple[str, int]:
        if name not in k.store:
            raise FileNotFoundError(name)
        return k.store[name], 1

    def delete(k: _FakeKey, name: str) -> None:
        if name not in k.store:
            raise FileNotFoundError(name)
        del k.store[name]

    mod = types.SimpleNamespace(
        HKEY_CURRENT_USER=object(), KEY_SET_VALUE=2, KEY_QUERY_VALUE=1, REG_SZ=1,
        OpenKey=lambda root, path, res, access: key,
        QueryValueEx=query,
        SetValueEx=lambda k, name, res, kind, value: k.store.__setitem__(name, value),
        DeleteValue=delete,
    )
    monkeypatch.setitem(sys.modules, "winreg", mod)
    return store


def test_windows_run_key(fake_winreg: dict[str, str]) -> None:
    assert not autostart.is_enabled("win32")
    autostart.enable([r"C:\Users\me\AppData\Local\Programs\AI Cost Tracker\aicost-desktop.exe"], platform="win32")
    assert fake_winreg["AI Cost Tracker"] == r'"C:\Users\me\AppData\Local\Programs\AI Cost Tracker\aicost-desktop.exe"'
    assert autostart.is_enabled("win32")
    autostart.disable("win32")
    assert not autostart.is_enabled("win32")
    autostart.disable("win32")  # deleting a missing value is fine


# -- common -----------------------------------------------------------------------------------------
def test_default_command_from_source_and_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    assert autostart.default_command() == [sys.executable, "-m", "aicost_desktop"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert autostart.default_command() == [sys.executable]


def test_enable_without_command_uses_default(home: Path) -> None:
    autostart.enable(platform="linux")
    assert sys.executable in autostart.linux_autostart_path().read_text()


def test_current_platform_dispatch(home: Path) -> None:
    if sys.platform.startswith("linux"):
        autostart.enable(["/usr/bin/aicost-desktop"])
        assert autostart.is_enabled()
        autostart.disable()
        assert not autostart.is_enabled()


def test_bad_input() -> None:
    with pytest.raises(ValueError):
        autostart.desktop_entry([])
    with pytest.raises(NotImplementedError):
        autostart.is_enabled("sunos5")
