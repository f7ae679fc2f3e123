"""Export dialog: runs in a worker with progress, finishes, and cancels leaving no file; columns in words (field names
in the file's header); the cost it reports is one figure per currency, converted only at the rates it names."""

from __future__ import annotations

import csv
import os
import time
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
    assert {r["currency"] for r in rows} == {"USD"} and sum(Decimal(r["cost"]) for r in rows) == res.totals["USD"]
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
                # The job can report before the GUI thread has stored its handle (run_in_pool returns after
                # the job started): wait for it, as a user's Cancel click (on the GUI thread) always finds it.
                deadline = time.monotonic() + 10
                while dlg.worker is None and time.monotonic() < deadline:
                    time.sleep(0.005)
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


def _checked(dlg) -> list[str]:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    return [dlg.columns.item(i).text() for i in range(dlg.columns.count())
            if dlg.columns.item(i).checkState() == Qt.CheckState.Checked]


def test_the_column_picker_speaks_words_and_the_file_keeps_field_names(qtbot, ctx, services, tmp_path) -> None:
    from PySide6.QtCore import Qt

    from aicost_desktop.manual import ManualEntry, add_entry
    from aicost_desktop.ui.dialogs.export_dialog import ExportDialog

    add_entry(ctx.db, ManualEntry(service="Art", amount="54", entry_date=TODAY, currency="EUR"))
    dlg = ExportDialog(ctx, services)
    qtbot.addWidget(dlg)
    texts = [dlg.columns.item(i).text() for i in range(dlg.columns.count())]
    assert "Computed cost" in texts and "Line item" in texts and "Input tokens" in texts
    assert not any("_" in t for t in texts)  # no cost_usd_computed, line_item, ...
    item = dlg.columns.findItems("Computed cost", Qt.MatchFlag.MatchExactly)[0]
    assert "computed_cost" in item.toolTip() and "price catalog" in item.toolTip()
    # Currency goes with an amount: it cannot be unchecked while one is checked, and can once none is.
    currency = dlg.columns.findItems("Currency", Qt.MatchFlag.MatchExactly)[0]
    assert not currency.flags() & Qt.ItemFlag.ItemIsUserCheckable
    for words in ("Row id", "Local day", "Provider", "Account", "Model / service", "Source", "Input tokens",
                  "Output tokens", "Cache read tokens", "Cache write tokens", "Reported cost", "Note"):
        dlg.columns.findItems(words, Qt.MatchFlag.MatchExactly)[0].setCheckState(Qt.CheckState.Unchecked)
    dlg.columns.findItems("Line item", Qt.MatchFlag.MatchExactly)[0].setCheckState(Qt.CheckState.Checked)
    assert _checked(dlg) == ["Start (UTC)", "Computed cost", "Cost", "Currency", "Line item"]
    assert currency.checkState() == Qt.CheckState.Checked and not currency.flags() & Qt.ItemFlag.ItemIsUserCheckable
    dlg.path.setText(str(tmp_path / "cols.csv"))
    with qtbot.waitSignal(dlg.exported, timeout=20_000):
        dlg.export_btn.click()
    with open(tmp_path / "cols.csv", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames == ["start_utc", "computed_cost", "cost", "currency", "line_item"]
    assert [(r["cost"], r["currency"]) for r in rows] == [("54.00", "EUR")]
    for words in ("Computed cost", "Cost"):
        dlg.columns.findItems(words, Qt.MatchFlag.MatchExactly)[0].setCheckState(Qt.CheckState.Unchecked)
    assert currency.flags() & Qt.ItemFlag.ItemIsUserCheckable  # no amount left: the user may drop it
    currency.setCheckState(Qt.CheckState.Unchecked)
    dlg.columns.findItems("Cost", Qt.MatchFlag.MatchExactly)[0].setCheckState(Qt.CheckState.Checked)
    assert currency.checkState() == Qt.CheckState.Checked  # an amount came back, and its currency with it


def test_the_reported_cost_is_per_currency_and_converted_at_the_named_rates(qtbot, ctx, services, tmp_path) -> None:
    from aicost_desktop.manual import ManualEntry, add_entry
    from aicost_desktop.ui.dialogs.export_dialog import ExportDialog

    ctx.settings.set("display_currency", "EUR")
    for service, amount, cur in (("Art", "54", "EUR"), ("Ops", "10", "USD"), ("Docs", "20", "GBP")):
        add_entry(ctx.db, ManualEntry(service=service, amount=amount, entry_date=TODAY, currency=cur))
    dlg = ExportDialog(ctx, services)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    dlg.resize(dlg.minimumSizeHint())  # as small as the user can make it (its size on some platforms' first show)
    dlg.path.setText(str(tmp_path / "mixed.csv"))
    with qtbot.waitSignal(dlg.exported, timeout=20_000):
        dlg.export_btn.click()
    text = dlg.message.text()
    # The two-line message made room for itself: nothing squeezed over the column list or under the buttons.
    dlg.layout().activate()  # lay out now, as the next paint would
    assert dlg.currency_note.geometry().top() >= dlg.columns.geometry().bottom()
    assert dlg.message.geometry().bottom() < dlg.export_btn.geometry().top()
    assert dlg.columns.verticalScrollBar().maximum() == 0  # every column in view, three across
    # Never "$84.00" (10 + 54 + 20 as if one currency): each as recorded, then the total in EUR at the rates used.
    assert "$84" not in text and "84.00" not in text
    assert "Cost: 86.78 EUR at your rates (1 EUR = 1.08 USD, 1 GBP = 1.27 USD)" in text
    assert "in the file, each row in its own currency: 54.00 EUR + 20.00 GBP + $10.00." in text
    assert "display currency (EUR)" in dlg.currency_note.text()
