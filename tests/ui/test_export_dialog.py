"""Export dialog: runs in a worker with progress, finishes, and cancels leaving no file."""

from __future__ import annotations

import csv
import os
from datetime import date
from decimal import Decimal

import pytest

TODAY = date(2026, 3, 20)


@pytest.fixture
def demo_ctx(ctx):
    from aicost_desktop.demo import load_demo

    load_demo(ctx, days=60, seed=2, today=TODAY)
    return ctx


def test_export_runs_and_reports(qtbot, demo_ctx, services, tmp_path) -> None:
    from aicost_desktop.ui.dialogs.export_dialog import ExportDialog

    dlg = ExportDialog(demo_ctx, services)
    qtbot.addWidget(dlg)
    dlg.path.setText(str(tmp_path / "out.csv"))
    # The pickers fill from a worker with what the ledger has (delivered through the event loop, so never
    # before this wait starts).
    with qtbot.waitSignal(dlg.choices_loaded, timeout=20_000):
        pass
    assert dlg.filters["provider"].itemText(0) == "(any)" and "openai" in [
        dlg.filters["provider"].itemText(i) for i in range(dlg.filters["provider"].count())]
    dlg.filters["provider"].setCurrentText("openai")
    dlg.bom.setChecked(True)
    with qtbot.waitSignal(dlg.exported, timeout=20_000) as sig:
        dlg.export_btn.click()
    res = sig.args[0]
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == res.rows > 0 and {r["provider"] for r in rows} == {"openai"}
    assert sum(Decimal(r["cost"]) for r in rows) == res.total_cost
    assert dlg.progress.value() == res.rows and "Exported" in dlg.message.text()
    dlg.fmt.setCurrentIndex(2)
    assert dlg.path.text().endswith(".ndjson") and not dlg.bom.isEnabled()


def test_cancel_leaves_no_file(qtbot, demo_ctx, services, tmp_path, monkeypatch) -> None:
    from aicost_desktop.runtime import export as export_job
    from aicost_desktop.ui.dialogs import export_dialog

    dlg = export_dialog.ExportDialog(demo_ctx, services)
    qtbot.addWidget(dlg)
    target = tmp_path / "out" / "x.json"
    target.parent.mkdir()
    dlg.path.setText(str(target))
    dlg.fmt.setCurrentIndex(1)
    real = export_job.export

    def slow_export(db, tz, spec, progress=None, cancelled=None):  # type: ignore[no-untyped-def]
        spec.batch_size = 5

        def prog(done, total):  # type: ignore[no-untyped-def]
            progress(done, total)
            if done >= 10:
                dlg.worker.cancel()  # as if the user pressed Cancel mid-export
        return real(db, tz, spec, progress=prog, cancelled=cancelled)

    monkeypatch.setattr(export_job, "export", slow_export)  # the runtime's export job runs it
    dlg.path.setText(str(target.with_suffix(".json")))
    dlg.export_btn.click()
    qtbot.waitUntil(lambda: "cancelled" in dlg.message.text(), timeout=20_000)
    assert os.listdir(target.parent) == [] and dlg.export_btn.isEnabled()


def test_bad_target_is_a_clear_message(qtbot, demo_ctx, services, tmp_path) -> None:
    from aicost_desktop.ui.dialogs.export_dialog import ExportDialog

    dlg = ExportDialog(demo_ctx, services)
    qtbot.addWidget(dlg)
    dlg.path.setText(str(tmp_path / "missing" / "x.csv"))
    dlg.export_btn.click()
    qtbot.waitUntil(lambda: "failed" in dlg.message.text(), timeout=20_000)
    assert "does not exist" in dlg.message.text() and not (tmp_path / "missing").exists()
