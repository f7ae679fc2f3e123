"""The core imports no Qt: importing every module outside `ui/` leaves PySide6/pyqtgraph/shiboken6 unloaded."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import aicost_desktop

QT_MODULES = ("PySide6", "pyqtgraph", "shiboken6")


def core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(aicost_desktop.__path__, "aicost_desktop."):
        name = info.name
        if name.startswith("aicost_desktop.ui") or ".migrations" in name or name == "aicost_desktop.__main__":
            continue
        names.append(name)
    return sorted(names)


def test_core_modules_import_without_qt():
    mods = core_modules()
    assert "aicost_desktop.storage.queries" in mods and "aicost_desktop.app_context" in mods
    code = (
        "import importlib, json, sys\n"
        f"failed = {{}}\n"
        f"for m in {mods!r}:\n"
        "    try:\n"
        "        importlib.import_module(m)\n"
        "    except Exception as exc:\n"
        "        failed[m] = repr(exc)\n"
        f"qt = sorted(k for k in sys.modules if k.split('.')[0] in {QT_MODULES!r})\n"
        "print(json.dumps({'qt': qt, 'failed': failed}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["qt"] == [], f"core pulled in Qt: {result['qt']} (import failures: {result['failed']})"
