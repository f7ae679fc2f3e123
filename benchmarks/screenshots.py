"""Screenshots of the Analytics dock and the Export dialog mid-export, with demo data.

    Xvfb :97 -screen 0 1400x900x24 &  DISPLAY=:97 .venv/bin/python benchmarks/screenshots.py [--theme dark]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import date
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--theme", default="light", choices=("light", "dark"))
    ap.add_argument("--out", default="docs")
    args = ap.parse_args()
    from PySide6.QtCore import QEventLoop, QThreadPool, QTimer
    from PySide6.QtWidgets import QApplication

    from aicost_desktop.app_context import AppContext
    from aicost_desktop.demo import load_demo
    from aicost_desktop.ui import theme
    from aicost_desktop.ui.bus import LedgerBus
    from aicost_desktop.ui.docks.analytics import AnalyticsWidget
    from aicost_desktop.runtime import Runtime
    from aicost_desktop.ui.services import build_services

    app = QApplication(sys.argv)
    app.setStyle("Fusion")
    app.setPalette(theme.palette(args.theme))
    home = Path(tempfile.mkdtemp(prefix="aicost-shots-"))
    ctx = AppContext(home=home, tz="Europe/Belgrade")
    today = date.today()
    load_demo(ctx, days=90, seed=1, today=today)
    runtime = Runtime(ctx)
    services = build_services(ctx, runtime, pool=QThreadPool.globalInstance(), bus=LedgerBus())
    out = Path(args.out)
    out.mkdir(exist_ok=True)
    suffix = "" if args.theme == "light" else "-dark"

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    w = AnalyticsWidget(ctx, services)
    w.setWindowTitle("Analytics — AI Cost Tracker")
    w.resize(1280, 820)
    w.period.setCurrentIndex(2)  # 90 days
    w.show()
    loop = QEventLoop()
    w.refreshed.connect(lambda _d: loop.quit())
    w.refresh()
    loop.exec()
    wait(300)
    # Put the crosshair on the anomaly so the tooltip is in the picture.
    from aicost_desktop.ui.charts import style

    if w.data and w.data.anomalies:
        w.chart.show_crosshair_at(style.ts(max(a.day for a in w.data.anomalies)))
    wait(200)
    w.grab().save(str(out / f"screenshot-analytics{suffix}.png"))

    from aicost_desktop.export import writer
    from aicost_desktop.runtime import export as export_job
    from aicost_desktop.ui.dialogs import export_dialog

    real = writer.export

    def slow(db, tz, spec, progress=None, cancelled=None):  # type: ignore[no-untyped-def]
        import time

        spec.batch_size = 200

        def prog(done, total):  # type: ignore[no-untyped-def]
            progress(done, total)
            time.sleep(0.15)
        return real(db, tz, spec, progress=prog, cancelled=cancelled)

    export_job.export = slow  # the runtime's export job runs it
    dlg = export_dialog.ExportDialog(ctx, services)
    dlg.path.setText(str(home / "exports" / "aicost-90-days.csv"))
    dlg.show()
    wait(100)
    dlg.start()
    wait(900)
    dlg.grab().save(str(out / f"screenshot-export{suffix}.png"))
    dlg.cancel()
    wait(600)
    runtime.stop()
    services.pool.waitForDone(5000)
    dlg.deleteLater()
    w.deleteLater()
    wait(100)
    services.bus.close()
    ctx.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
