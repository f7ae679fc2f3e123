"""The Cost tracker's ledger table as a user meets it: one row per thing paid for (parts expand), chips that combine,
a date range, the filter's total, the user's own rows edited by double-click and deleted with Delete and Undo."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from PySide6.QtCore import QPoint, Qt

from aicost_desktop.domain.enums import CostRole, DataSource
from aicost_desktop.manual import ManualEntry, add_entry, add_subscription
from aicost_desktop.storage.queries import list_records
from aicost_desktop.storage.tables import Account
from aicost_desktop.ui.docks.cost_tracker import cost_tracker_dock
from aicost_desktop.ui.models.ledger_model import COL, ROW_ROLE
from tests.ui.ledger_rows import rec, write

TODAY = datetime.now(timezone.utc).date()
DAY = datetime.combine(TODAY - timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)


@pytest.fixture
def dock(qtbot, services):
    d = cost_tracker_dock(services.ctx, services)
    qtbot.addWidget(d)
    d.resize(1100, 600)
    d.show()
    qtbot.waitExposed(d)
    return d


def _refresh(qtbot, dock):
    with qtbot.waitSignal(dock.tracker.refreshed, timeout=10_000):
        dock.refresh()


def _account(ctx, name="OpenAI prod"):  # type: ignore[no-untyped-def]
    with ctx.db.write_session() as s:
        acc = Account(name=name, provider="openai", workspace_id=ctx.db.default_workspace_id())
        s.add(acc)
        s.flush()
        return acc.id


def _model_day(ctx, acc, day=DAY, model="gpt-4.1"):  # type: ignore[no-untyped-def]
    """The usage report's row (tokens, detail) and the cost report's row (money, spend) of one model-day."""
    write(ctx, rec(f"usage:{day.date()}:{model}", at=day, hours=24, model=model, role=CostRole.DETAIL,
                   computed="0.30", tokens=(12_000, 3_000), account_id=acc),
          rec(f"cost:{day.date()}:{model}", at=day, hours=24, model=model, reported="0.33", computed=None,
              tokens=(0, 0), account_id=acc))


def _double_click(qtbot, table, pos):  # type: ignore[no-untyped-def]
    """Press, release, then the double-click, as a mouse sends them (the view acts on a pressed index)."""
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def _shown(t):  # type: ignore[no-untyped-def]
    return [t.proxy.index(r, 0).data(ROW_ROLE) for r in range(t.proxy.rowCount())]


def _cell(t, row, key):  # type: ignore[no-untyped-def]
    return t.proxy.index(row, COL[key]).data()


def _row_of(t, pred):  # type: ignore[no-untyped-def]
    return next(i for i, r in enumerate(_shown(t)) if pred(r))


def test_an_api_model_day_is_one_row_with_its_tokens_and_cost_and_expands_to_its_parts(qtbot, dock, ctx):
    _model_day(ctx, _account(ctx))
    _refresh(qtbot, dock)
    t = dock.tracker
    assert t.proxy.rowCount() == 1  # not a tokens row with "—" plus a cost row
    assert (_cell(t, 0, "model"), _cell(t, 0, "input"), _cell(t, 0, "output")) == ("gpt-4.1", "12,000", "3,000")
    assert _cell(t, 0, "cost") == "$0.33" and _cell(t, 0, "account") == "OpenAI prod"
    assert _cell(t, 0, "reported") == "$0.33" and _cell(t, 0, "computed") == "$0.30"
    # A click on the arrow shows the two parts beneath it; Left folds them again.
    table = t.table
    rect = table.visualRect(t.proxy.index(0, COL["when"]))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(rect.left() + 8, rect.center().y()))
    assert t.proxy.rowCount() == 3
    parts = [(_cell(t, r, "model"), _cell(t, r, "cost"), _cell(t, r, "input")) for r in (1, 2)]
    assert sorted(parts) == [("↳ billed", "$0.33", ""), ("↳ tokens", "—", "12,000")]
    table.setFocus()
    table.setCurrentIndex(t.proxy.index(0, 0))
    qtbot.keyClick(table, Qt.Key.Key_Left)
    assert t.proxy.rowCount() == 1
    qtbot.keyClick(table, Qt.Key.Key_Right)
    assert t.proxy.rowCount() == 3
    _refresh(qtbot, dock)  # a reload keeps it open
    assert t.proxy.rowCount() == 3


def test_source_chips_combine_and_all_clears_them(qtbot, dock, ctx):
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    _model_day(ctx, _account(ctx))
    write(ctx, rec("log", at=now, source=DataSource.LOG, provider="anthropic", model="claude-sonnet-4-5"),
          rec("imp", at=now, source=DataSource.IMPORT, provider="google", model="gemini-2.5-pro"))
    add_entry(ctx.db, ManualEntry(service="Midjourney", amount="30", entry_date=TODAY))
    _refresh(qtbot, dock)
    t = dock.tracker
    chip = {c.property("source"): c for c in t.chips}
    with qtbot.waitSignal(t.refreshed, timeout=10_000):
        chip["api"].click()
    with qtbot.waitSignal(t.refreshed, timeout=10_000):
        chip["log"].click()
    assert sorted(r.source for r in _shown(t)) == ["api", "log"] and not chip[""].isChecked()
    with qtbot.waitSignal(t.refreshed, timeout=10_000):
        chip[""].click()
    assert sorted(r.source for r in _shown(t)) == ["api", "import", "log", "manual"]
    assert not chip["api"].isChecked() and chip[""].isChecked()


def test_a_date_range_filters_and_the_footer_totals_what_is_shown(qtbot, dock, ctx):
    acc = _account(ctx)
    for back in range(1, 6):
        _model_day(ctx, acc, DAY - timedelta(days=back - 1))
    add_entry(ctx.db, ManualEntry(service="Midjourney", amount="30", entry_date=TODAY - timedelta(days=40)))
    _refresh(qtbot, dock)
    t = dock.tracker

    def total_of_rows() -> Decimal:
        return sum((r.cost for r in _shown(t)), Decimal(0))

    assert t.proxy.rowCount() == 6
    assert t.total == total_of_rows() == Decimal("31.65")
    assert t.footer.text() == "Total $31.65 · 6 rows"
    with qtbot.waitSignal(t.refreshed, timeout=10_000):
        t.set_range("custom", DAY.date() - timedelta(days=2), DAY.date())
    assert sorted(r.local_date for r in _shown(t)) == [DAY.date() - timedelta(days=d) for d in (2, 1, 0)]
    assert t.total == total_of_rows() == Decimal("0.99")
    assert t.footer.text() == "Total $0.99 · 3 rows"
    with qtbot.waitSignal(t.refreshed, timeout=10_000):
        t.set_range("last_month" if (TODAY - timedelta(days=40)).month != TODAY.month else "all")
    assert t.total == total_of_rows()
    with qtbot.waitSignal(t.refreshed, timeout=10_000):
        t.set_range("all")
    assert t.proxy.rowCount() == 6


def test_a_subscription_row_shows_its_service_name_and_does_not_top_the_by_model_line(qtbot, dock, ctx):
    from aicost_desktop.ui.widgets.cost_widget import by_model_text

    add_subscription(ctx.db, "ChatGPT Plus", "20", "monthly", TODAY.replace(day=1), provider="openai", today=TODAY)
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    write(ctx, rec("small", at=now, model="gpt-4.1", computed="1.25"))
    _refresh(qtbot, dock)
    t = dock.tracker
    row = _row_of(t, lambda r: r.source == "subscription")
    assert _cell(t, row, "model") == "ChatGPT Plus" and _cell(t, row, "cost") == "$20.00"
    qtbot.waitUntil(lambda: t.card.data is not None and t.card.data.cost == Decimal("21.25"), timeout=10_000)
    assert t.card.models.text() == "gpt-4.1: $1.25  ·  other: $20.00"
    assert "(no model)" not in by_model_text({"(no model)": Decimal(20), "gpt-5": Decimal(1)}, "USD")


def test_double_click_edits_a_manual_entrys_amount(qtbot, dock, ctx):
    entry_id = add_entry(ctx.db, ManualEntry(service="Midjourney", amount="30", entry_date=TODAY, note="launch"))
    _refresh(qtbot, dock)
    t = dock.tracker
    rect = t.table.visualRect(t.proxy.index(0, COL["model"]))
    with qtbot.waitSignal(t.edits.dialog_opened, timeout=5000) as opened:
        _double_click(qtbot, t.table, rect.center())
    dialog = opened.args[0]
    assert dialog.windowTitle() == "Edit manual entry" and dialog.amount.text() == "30.00"
    assert dialog.service.text() == "Midjourney" and dialog.note.toPlainText() == "launch"
    dialog.amount.setText("35")
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.save()
    qtbot.waitUntil(lambda: t.footer.text() == "Total $35.00 · 1 row", timeout=10_000)
    assert _cell(t, 0, "cost") == "$35.00"
    (row,) = list_records(ctx.db, ctx.tz)
    assert row.id == entry_id and row.note == "launch" and row.project == "Midjourney"


def test_delete_key_deletes_a_manual_entry_and_undo_creates_it_again(qtbot, dock, ctx):
    add_entry(ctx.db, ManualEntry(service="Midjourney", amount="30", entry_date=TODAY, note="launch"))
    add_entry(ctx.db, ManualEntry(service="ElevenLabs", amount="22", entry_date=TODAY - timedelta(days=1)))
    _refresh(qtbot, dock)
    t, table = dock.tracker, dock.tracker.table
    row = _row_of(t, lambda r: r.project == "Midjourney")
    table.activateWindow()
    table.setFocus()
    table.selectRow(row)
    qtbot.waitUntil(table.hasFocus)
    # A load already in flight may report first: wait for what the user sees, not for the next signal.
    with qtbot.waitSignal(t.edits.changed, timeout=10_000):
        qtbot.keyClick(table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: [r.project for r in _shown(t)] == ["ElevenLabs"], timeout=10_000)
    assert t.banner.isVisible() and t.banner.text.text() == "Deleted manual entry Midjourney ($30.00)"
    with qtbot.waitSignal(t.edits.changed, timeout=10_000):
        t.banner.undo.click()
    qtbot.waitUntil(lambda: t.footer.text() == "Total $52.00 · 2 rows", timeout=10_000)
    back = next(r for r in _shown(t) if r.project == "Midjourney")
    assert back.cost == 30 and back.note == "launch" and back.local_date == TODAY


def test_a_subscription_is_edited_and_deleted_from_its_row(qtbot, dock, ctx):
    add_subscription(ctx.db, "Claude Pro", "20", "monthly", TODAY - timedelta(days=40), provider="anthropic",
                     today=TODAY)
    _refresh(qtbot, dock)
    t = dock.tracker
    assert [r.label for r in _shown(t)] == ["Claude Pro", "Claude Pro"]
    rect = t.table.visualRect(t.proxy.index(0, COL["model"]))
    with qtbot.waitSignal(t.edits.dialog_opened, timeout=5000) as opened:
        _double_click(qtbot, t.table, rect.center())
    dialog = opened.args[0]
    assert dialog.windowTitle() == "Edit subscription" and dialog.amount.text() == "20.00"
    dialog.amount.setText("18")
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.save()
    # The edit writes the subscription, then its charges: a reload may start in between, the last one shows both.
    qtbot.waitUntil(lambda: [_cell(t, r, "cost") for r in range(t.proxy.rowCount())] == ["$18.00", "$18.00"],
                    timeout=10_000)
    t.table.selectRow(0)
    with qtbot.waitSignal(t.edits.changed, timeout=10_000), qtbot.waitSignal(t.refreshed, timeout=10_000):
        assert t.delete_selected()
    assert t.proxy.rowCount() == 0 and "Deleted subscription Claude Pro" in t.banner.text.text()
    with qtbot.waitSignal(t.edits.changed, timeout=10_000):
        t.banner.undo.click()
    qtbot.waitUntil(lambda: [_cell(t, r, "cost") for r in range(t.proxy.rowCount())] == ["$18.00", "$18.00"],
                    timeout=10_000)


def test_rows_from_a_provider_are_not_editable_and_the_menu_says_why(qtbot, dock, ctx):
    _model_day(ctx, _account(ctx))
    add_entry(ctx.db, ManualEntry(service="Midjourney", amount="30", entry_date=TODAY - timedelta(days=5)))
    _refresh(qtbot, dock)
    t = dock.tracker
    api = _row_of(t, lambda r: r.source == "api")
    menu = t.context_menu_for(api)
    names = {a.text(): a for a in menu.actions() if a.text()}
    assert not names["Edit…"].isEnabled() and not names["Delete"].isEnabled()
    why = next(a for a in menu.actions() if a.objectName() == "ledgerNotEditable")
    assert why.text().startswith("From the OpenAI API") and "not editable" in why.text() and "Show the 2 parts" in names
    t.table.selectRow(api)
    assert not t.delete_selected() and t.proxy.rowCount() == 2  # Delete on a provider row does nothing
    manual = _row_of(t, lambda r: r.source == "manual")
    names = {a.text(): a for a in t.context_menu_for(manual).actions() if a.text()}
    assert names["Edit entry…"].isEnabled() and names["Delete entry"].isEnabled()
