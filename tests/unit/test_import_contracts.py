"""The import contracts in pyproject.toml name every top-level module, and they hold (lint-imports)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import aicost_desktop

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(aicost_desktop.__file__).parent
ENTRY_POINTS = {"__main__"}  # `python -m aicost_desktop` starts the GUI: above every layer


def top_level_modules() -> set[str]:
    out = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    out |= {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    return out - ENTRY_POINTS


def contracts() -> dict[str, dict]:  # type: ignore[type-arg]
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["type"]: c for c in conf["contracts"]}


def test_every_module_is_in_a_layer_and_under_the_qt_ban() -> None:
    layered = {name.strip("() ") for layer in contracts()["layers"]["layers"] for name in re.split(r"[|:]", layer)}
    assert layered == top_level_modules()
    banned = {m.removeprefix("aicost_desktop.") for m in contracts()["forbidden"]["source_modules"]}
    assert banned == top_level_modules() - {"ui"}
    assert set(contracts()["forbidden"]["forbidden_modules"]) >= {"PySide6", "pyqtgraph", "shiboken6",
                                                                  "aicost_desktop.ui"}


def test_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "0 broken" in r.stdout
