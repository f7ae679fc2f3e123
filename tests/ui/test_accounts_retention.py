"""Accounts dock: an OpenRouter account whose backfill outran the 30-day activity window says so on its row."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from PySide6.QtCore import Qt

from aicost_desktop.accounts import add_account
from aicost_desktop.account_sync import sync_account
from aicost_desktop.ui.docks.accounts import AccountsPanel
from aicost_desktop.ui.models.accounts_model import COL
from tests.fakes.openrouter_fake import MANAGEMENT_KEY
from tests.unit.runtime.sync_fixtures import FAST, NOW

NOTE = "OpenRouter keeps 30 days of activity: data before 2025-08-02 cannot be synced"


def test_the_row_and_its_tooltip_name_the_hole_after_later_syncs_too(qtbot, ctx, services, openrouter):
    fake = openrouter
    long = add_account(ctx.db, ctx.secrets, "openrouter", "router", MANAGEMENT_KEY, fake.api_base)
    short = add_account(ctx.db, ctx.secrets, "openrouter", "recent", MANAGEMENT_KEY, fake.api_base)
    assert NOTE in sync_account(ctx, long, policy=FAST, now=NOW).message  # 90-day backfill
    assert "30 days" not in sync_account(ctx, long, policy=FAST, now=NOW + timedelta(hours=1)).message
    assert sync_account(ctx, short, since=datetime(2025, 8, 25, tzinfo=timezone.utc), policy=FAST, now=NOW).ok
    panel = AccountsPanel(ctx, services)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.refreshed, timeout=5000):
        panel.refresh()
    model = panel.model
    row = model.row_of(long)
    status = model.index(row, COL["status"])
    assert model.data(status) == "OK · partial history"
    assert NOTE in model.data(status, Qt.ItemDataRole.ToolTipRole)
    assert NOTE in model.data(model.index(row, COL["name"]), Qt.ItemDataRole.ToolTipRole)
    other = model.index(model.row_of(short), COL["status"])
    assert model.data(other) == "OK" and "30 days" not in model.data(other, Qt.ItemDataRole.ToolTipRole)
    assert panel.select(long)
    qtbot.waitUntil(lambda: NOTE in panel.detail.text(), timeout=2000)
