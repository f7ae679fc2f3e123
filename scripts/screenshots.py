"""Regenerate docs/screenshot-*.png: the first start with demo data at 1920x1080 and 1366x768, light and dark.

    .venv/bin/python scripts/screenshots.py            # all four, plus docs/screenshot-main.png
    .venv/bin/python scripts/screenshots.py --size 1366x768 --theme dark --out /tmp/shots

Each shot runs in its own process on Qt's offscreen platform with a virtual screen of that size (a
config file), so the window sizes itself and picks its layout as on a real screen of that size. The
ledger is a fresh home with the demo data and two budgets; nothing touches the user's data.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = ("1920x1080", "1366x768")
THEMES = ("light", "dark")
MAIN = ("1920x1080", "light")  # the shot README shows as docs/screenshot-main.png


def _screen_config(width: int, height: int) -> str:
    cfg = {"screens": [{"name": "shot", "x": 0, "y": 0, "width": width, "height": height,
                        "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}
    f = tempfile.NamedTemporaryFile("w", suffix=".json", prefix="aicost-screen-", delete=False)
    json.dump(cfg, f)
    f.close()
    return f.name


def shoot(size: str, theme: str, out: Path, timeout_s: float = 60.0) -> Path:
    """In this process (whose Qt platform is already set): build the first-start window and grab it."""
    from decimal import Decimal

    from PySide6.QtCore import QElapsedTimer
    from PySide6.QtWidgets import QApplication

    sys.path.insert(0, str(ROOT / "src"))
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.budgets.model import BudgetSpec, add_budget
    from aicost_desktop.demo import load_demo
    from aicost_desktop.secrets import MemorySecretStore
    from aicost_desktop.ui.main_window import MainWindow
    from aicost_desktop.ui.theme import apply_theme

    app = QApplication.instance() or QApplication([])
    home = Path(tempfile.mkdtemp(prefix="aicost-shot-"))
    ctx = AppContext(home=home, tz="UTC", secrets=MemorySecretStore())
    ctx.settings.set("theme", theme)
    load_demo(ctx, days=90, seed=1)
    add_budget(ctx.db, BudgetSpec.build(name="Monthly total", amount=Decimal("1500")))
    add_budget(ctx.db, BudgetSpec.build(name="OpenAI", amount=Decimal("600"), scope="provider:openai"))
    apply_theme(app, theme)
    window = MainWindow(ctx)
    window.refresh_status()
    window.show()
    timer = QElapsedTimer()
    timer.start()
    # Wait for every dock's first load (they run in workers), then a little longer for the repaint.
    while not _loaded(window) and timer.elapsed() < timeout_s * 1000:
        app.processEvents()
    # ...and until no load has run for 1.5 s (the first start's own writes fold into one more load), so the shot
    # shows settled figures and no "Updating…".
    settle = QElapsedTimer()
    settle.start()
    while settle.elapsed() < 1500 and timer.elapsed() < timeout_s * 1000:
        app.processEvents()
        if not _loaded(window):
            settle.restart()
    path = out / f"screenshot-{size.split('x')[0]}-{theme}.png"
    if not window.grab().save(str(path)):
        raise SystemExit(f"could not write {path}")
    window.shutdown()
    ctx.close()
    return path


def _loaded(window) -> bool:  # type: ignore[no-untyped-def]
    """True once the tracker, analytics and budgets docks show their figures."""
    def content(name: str):  # type: ignore[no-untyped-def]
        dock = window.docks[name]
        return getattr(dock, "content", None) or dock.widget()

    tracker, analytics, budgets = content("costTrackerDock"), content("analyticsDock"), content("budgetsDock")
    # ...and no load still running (the first start's writes fold into one more load after the first).
    idle = "Updating" not in analytics.status.text()
    return (tracker.model.rowCount() > 0 and getattr(analytics, "data", None) is not None
            and budgets.model.rowCount() > 0 and idle)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", action="append", help="WIDTHxHEIGHT of the virtual screen (default: 1920x1080 and 1366x768)")
    p.add_argument("--theme", action="append", choices=THEMES, help="default: both")
    p.add_argument("--out", type=Path, default=ROOT / "docs")
    p.add_argument("--one", nargs=2, metavar=("SIZE", "THEME"), help=argparse.SUPPRESS)  # the child process
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.one:
        print(shoot(args.one[0], args.one[1], args.out))
        return 0
    for size in args.size or SIZES:
        w, h = (int(x) for x in size.split("x"))
        env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={_screen_config(w, h)}",
               "PYTHONPATH": str(ROOT / "src")}
        env.pop("AICOST_HOME", None)
        for theme in args.theme or THEMES:
            subprocess.run([sys.executable, __file__, "--out", str(args.out), "--one", size, theme],
                           env=env, check=True)
            if (size, theme) == MAIN and args.out == ROOT / "docs":
                (args.out / "screenshot-main.png").write_bytes((args.out / f"screenshot-{w}-{theme}.png").read_bytes())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
