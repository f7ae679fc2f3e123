"""Manual entry, subscription and import dialogs: errors under the field they name, saves through the core."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from aicost_desktop.storage.tables import UsageRow
from aicost_desktop.ui.dialogs.import_dialog import ImportDialog
from aicost_desktop.ui.dialogs.form_kit import to_qdate
from aicost_desktop.ui.dialogs.manual_entry_dialog import ManualEntryDialog
from aicost_desktop.ui.dialogs.subscription_dialog import SubscriptionDialog

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def rows(ctx, source: str) -> list[UsageRow]:
    with ctx.db.session() as s:
        return list(s.scalars(select(UsageRow).where(UsageRow.source == source)))


def test_manual_entry_errors_name_the_field(qtbot, ctx, services):
    dlg = ManualEntryDialog(services)
    qtbot.addWidget(dlg)
    dlg.service.setText("Cursor")
    for bad in ("-5", "abc", "0"):
        dlg.amount.setText(bad)
        dlg.save()
        assert dlg.errors.text("amount").startswith("Amount:"), bad
    dlg.amount.setText("12.50")
    dlg.service.setText("  ")
    dlg.save()
    assert dlg.errors.text("service").startswith("Service:") and dlg.errors.text("amount") == ""
    dlg.service.setText("Cursor")
    dlg.currency.setCurrentText("XYZ")
    dlg.save()
    assert dlg.errors.text("currency").startswith("Currency:")
    assert rows(ctx, "manual") == []


def test_manual_entry_saves_with_zero_tokens_and_refund(qtbot, ctx, services, bus):
    dlg = ManualEntryDialog(services)
    qtbot.addWidget(dlg)
    dlg.service.setText("OpenAI invoice")
    dlg.amount.setText("3.25")
    dlg.date.setDate(to_qdate(date(2025, 8, 3)))
    dlg.refund.setChecked(True)
    with qtbot.waitCallback(timeout=5000) as saved:
        dlg.saved.connect(saved)
        dlg.save()
    [row] = rows(ctx, "manual")
    assert row.id == saved.args[0] and row.reported_cost == Decimal("-3.25") and row.input_tokens == 0


def test_subscription_validation_and_materialization(qtbot, ctx, services):
    dlg = SubscriptionDialog(services)
    qtbot.addWidget(dlg)
    dlg.service.setText("ChatGPT Plus")
    dlg.amount.setText("20")
    dlg.start.setDate(to_qdate(date(2025, 1, 15)))
    dlg.has_end.setChecked(True)
    dlg.end.setDate(to_qdate(date(2024, 12, 1)))
    dlg.save()
    assert dlg.errors.text("end").startswith("End:")
    dlg.end.setDate(to_qdate(date(2025, 3, 20)))
    with qtbot.waitCallback(timeout=5000) as saved:
        dlg.saved.connect(saved)
        dlg.save()
    charges = rows(ctx, "subscription")
    assert len(charges) == 3 and all(r.reported_cost == Decimal("20") for r in charges)


def test_import_dialog_runs_claude_code_import_and_reports(qtbot, ctx, services):
    dlg = ImportDialog(services, "claude-code")
    qtbot.addWidget(dlg)
    assert dlg.path.text()  # a default location is prefilled
    dlg.path.setText(str(FIXTURES / "claude" / "home" / ".claude"))
    dlg.auto.setChecked(False)
    with qtbot.waitCallback(timeout=20_000) as done:
        dlg.imported.connect(done)
        dlg.start()
    report = done.args[0]
    assert report.added > 0 and "added" in dlg.result.text() and "rejected" in dlg.result.text()
    dlg.path.setText(str(FIXTURES / "nope"))
    with qtbot.waitCallback(timeout=10_000) as failed:
        dlg.import_failed.connect(failed)
        dlg.start()
    assert dlg.errors.text("path").startswith("Path:")


def test_import_dialog_csv_rows_are_shown_and_toggled(qtbot, services):
    dlg = ImportDialog(services, "csv")
    qtbot.addWidget(dlg)
    assert dlg.path.text() == ""
    dlg.path.setText(str(FIXTURES / "csv" / "openai_costs.csv"))
    dlg.format.setCurrentIndex(dlg.format.findData("openai-costs"))
    with qtbot.waitCallback(timeout=20_000) as done:
        dlg.imported.connect(done)
        dlg.start()
    assert done.args[0].added > 0
