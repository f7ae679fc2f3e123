"""The tray menu reads like CodexBar's: this month and today, each budget with a bar, each account's last sync and
balance, then Open / Sync now / Pause / Quit; the icon follows the worst budget."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from PySide6.QtWidgets import QWidget

from aicost_desktop.accounts import add_account
from aicost_desktop.budgets.model import BudgetSpec, add_budget
from aicost_desktop.ui.actions import AppActions
from aicost_desktop.ui.theme import app_icon
from aicost_desktop.ui.tray import Tray, account_line, ago, progress_bar
from tests.unit.budgets.helpers import spend_on


def tray(qtbot, services) -> Tray:
    owner = QWidget()
    qtbot.addWidget(owner)
    t = Tray(services, AppActions(owner), app_icon())
    t.owner = owner  # type: ignore[attr-defined] - the window that owns the actions lives as long as the tray
    with qtbot.waitSignal(t.tooltip_changed, timeout=10_000):
        t.refresh()
    return t


def test_menu_shows_month_today_budgets_accounts_then_commands(qtbot, ctx, services) -> None:
    today = datetime.now(ctx.tz).date()
    spend_on(ctx.db, today, "4", "a")
    add_budget(ctx.db, BudgetSpec.build(name="Monthly", amount="10"))
    add_budget(ctx.db, BudgetSpec.build(name="Daily", amount="2", period="daily"))
    add_account(ctx.db, ctx.secrets, "openai", "work", "sk-admin-test-0000")
    t = tray(qtbot, services)
    lines = t.menu_lines()
    assert lines[:2] == ["This month: $4.00", "Today: $4.00"]
    budgets = [ln for ln in lines if "▰" in ln or "▱" in ln]
    assert budgets == ["⚠ Daily  ▰▰▰▰▰▰▰▰▰▰  over budget by $2.00 (200%) today",
                       "Monthly  ▰▰▰▰▱▱▱▱▱▱ 40%  $4.00 of $10.00 this month"]
    assert any(ln.startswith("work (OpenAI) — never synced") for ln in lines)
    assert [ln for ln in lines if ln != "—"][-4:] == ["&Open", "&Sync now", "&Pause syncing", "&Quit"]
    assert not any(a.isEnabled() for a in t.menu.actions() if a.objectName().startswith("tray"))
    assert t.state == "exceeded"  # the worst budget decides the icon


def test_icon_state_follows_the_worst_budget(qtbot, ctx, services) -> None:
    t = tray(qtbot, services)
    assert t.state == "ok" and t.menu_lines()[0] == "This month: $0.00"
    spend_on(ctx.db, datetime.now(ctx.tz).date(), "9", "a")
    add_budget(ctx.db, BudgetSpec.build(name="Monthly", amount="10"))
    with qtbot.waitSignal(t.tooltip_changed, timeout=10_000):
        t.refresh()
    assert t.state == "warning"
    t.set_pending_ack(1)
    assert t.state == "exceeded"


def test_lines() -> None:
    assert progress_bar(Decimal(0)) == "▱" * 10 and progress_bar(Decimal(232)) == "▰" * 10
    now = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    assert ago(now - timedelta(minutes=5), now) == "synced 5 min ago" and ago(None) == "never synced"

    class Acc:
        name, provider, status = "or", "openrouter", "ok"
        last_success_at = last_sync_at = now - timedelta(hours=3)

    class Bal:
        remaining, currency = Decimal("12.4"), "USD"

    assert account_line(Acc, Bal, now) == "or (OpenRouter) — synced 3 h ago · $12.40 left"
