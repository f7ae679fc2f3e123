"""Budgets dock, dialog validation, models and notifier with pytest-qt (offscreen)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from aicost_desktop.budgets.model import BudgetSpec, add_budget, list_budgets
from aicost_desktop.notify.alerts import list_alerts, raise_alert
from aicost_desktop.ui.dialogs.budget_dialog import BudgetDialog
from aicost_desktop.ui.docks.budgets import BudgetsWidget
from aicost_desktop.ui.models.alert_model import AlertFilterProxy, AlertTableModel
from aicost_desktop.ui.models.budget_model import COL, BudgetTableModel
from aicost_desktop.ui.notifier import Notifier
from tests.unit.budgets.helpers import spend_on


def notifier(qtbot, services) -> Notifier:
    """The adapter the shell builds over the runtime's alert service (not started: no timer)."""
    return services.alerts


def today(ctx):
    return datetime.now(ctx.tz).date()


def make(qtbot, ctx, services) -> BudgetsWidget:
    w = BudgetsWidget(ctx, services)
    qtbot.addWidget(w)
    with qtbot.waitSignal(services.bus.alerts_changed, timeout=100, raising=False):
        pass
    return w


def loaded(qtbot, w: BudgetsWidget) -> None:
    w.refresh()
    qtbot.waitUntil(lambda: not w._loads.loading, timeout=10_000)


def test_dock_lists_budgets_with_state_forecast_and_alert_log(qtbot, ctx, services) -> None:
    add_budget(ctx.db, BudgetSpec.build(name="OpenAI", amount="10", scope="provider:openai"))
    add_budget(ctx.db, BudgetSpec.build(name="All", amount="100"))
    spend_on(ctx.db, today(ctx), "9", "a")
    raise_alert(ctx.db, "threshold", "k", "OpenAI: 80% of budget reached", threshold=80)
    raise_alert(ctx.db, "sync_failure", "s", "Sync of x failed")
    # The spend wakes the runtime's evaluation (as in the app); let it settle: evaluations are idempotent.
    with qtbot.waitSignal(services.alerts.evaluated, timeout=10_000):
        services.alerts.evaluate_now()
    w = make(qtbot, ctx, services)
    loaded(qtbot, w)
    n_alerts = len(list_alerts(ctx.db))
    assert n_alerts >= 3  # the two above and the evaluation's OpenAI 80 % threshold alert
    assert w.model.rowCount() == 2 and w.table.isVisibleTo(w) and not w.empty.isVisibleTo(w)
    by = {w.model.rows[r].name: r for r in range(2)}
    idx = w.model.index(by["OpenAI"], COL["progress"])
    assert idx.data() == "90%" and w.model.index(by["OpenAI"], COL["state"]).data() == "Warning"
    assert w.model.index(by["All"], COL["state"]).data() in ("On track", "Projected over")
    # the projection and its 80% band, as the Analytics dock shows the month-end figure
    money = r"\$[\d,]+\.\d{2,}"  # the one money format, as Analytics writes the month-end figure
    assert re.fullmatch(rf"{money} by [A-Z][a-z]{{2}} \d+(\n\({money}–{money}\))?",
                        w.model.index(by["OpenAI"], COL["forecast"]).data())
    assert w.alert_proxy.rowCount() == n_alerts
    w.type_filter.setCurrentIndex(w.type_filter.findData("sync_failure"))
    assert w.alert_proxy.rowCount() == 1
    w.type_filter.setCurrentIndex(0)
    w.alerts.selectRow(0)
    with qtbot.waitSignal(services.bus.alerts_changed, timeout=5000):
        w.acknowledge_selected()
    loaded(qtbot, w)
    w.unack.setChecked(True)
    assert w.alert_proxy.rowCount() == n_alerts - 1
    assert sum(a.acknowledged for a in list_alerts(ctx.db)) == 1


def test_history_table_and_chart(qtbot, ctx, services) -> None:
    add_budget(ctx.db, BudgetSpec.build(name="Daily", amount="5", period="daily"))
    spend_on(ctx.db, today(ctx), "7", "a")
    spend_on(ctx.db, today(ctx) - timedelta(days=3), "2", "b")
    w = make(qtbot, ctx, services)
    loaded(qtbot, w)
    # From the first period with spend (3 days ago), not twelve periods of which eight are empty.
    qtbot.waitUntil(lambda: w.history_table.rowCount() == 4, timeout=10_000)
    assert w.history_table.item(0, 1).text() == "$7.00" and w.history_table.item(0, 3).text() == "140%"
    assert w.history_table.item(3, 1).text() == "$2.00"
    w.tabs.setCurrentWidget(w.history_tab)
    assert w.chart is not None
    xs, hs = w.chart.bars.opts["x"], w.chart.bars.opts["height"]
    assert len(xs) == 4 and hs[-1] == 7.0 and hs[0] == 2.0
    assert list(w.chart.limit.getData()[1][:2]) == [5.0, 5.0]


def test_empty_state(qtbot, ctx, services) -> None:
    w = make(qtbot, ctx, services)
    loaded(qtbot, w)
    assert w.empty.isVisibleTo(w) and not w.table.isVisibleTo(w)
    assert not w.edit_btn.isEnabled() and not w.key_btn.isEnabled()


def test_add_through_dialog_and_remove(qtbot, ctx, services) -> None:
    w = make(qtbot, ctx, services)
    loaded(qtbot, w)
    d = w.open_dialog()
    d.name.setText("Team")
    d.amount.setText("250")
    d.thresholds.setText("75,100")
    with qtbot.waitSignal(services.bus.ledger_changed, timeout=5000):
        d.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    [b] = list_budgets(ctx.db)
    assert (b.name, b.amount, b.thresholds) == ("Team", Decimal(250), "75,100")
    loaded(qtbot, w)
    w.table.selectRow(0)
    w.confirm = lambda *a: True
    w.remove_selected()
    qtbot.waitUntil(lambda: list_budgets(ctx.db) == [], timeout=5000)


@pytest.mark.parametrize("field, text, message", [
    ("amount", "0", "Amount: must be greater than zero"),
    ("amount", "abc", "Amount: must be a decimal number"),
    ("thresholds", "80,50", "Alert at: must be sorted"),
    ("thresholds", "0,50", "outside 1..1000"),
    ("thresholds", "50,1500", "outside 1..1000"),
    ("emails", "me@example.com, nope", "Email: not a valid email"),
    ("name", "", "Name: must be 1..120"),
])
def test_dialog_validation(qtbot, field, text, message) -> None:
    d = BudgetDialog()
    qtbot.addWidget(d)
    d.name.setText("B")
    d.amount.setText("10")
    assert d.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
    getattr(d, field).setText(text)
    assert not d.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
    assert message in d.error.text()


def test_dialog_scope_and_pause_key_needs_confirmation(qtbot) -> None:
    asked: list[str] = []
    answer = [False]

    def confirm(_parent, text):
        asked.append(text)
        return answer[0]

    d = BudgetDialog(openrouter_accounts=[(7, "or-main")], confirm=confirm)
    qtbot.addWidget(d)
    d.name.setText("OR")
    d.amount.setText("20")
    d.scope_kind.setCurrentIndex(d.scope_kind.findData("provider"))
    assert "Provider: " in d.error.text() or "Scope" in d.error.text()
    d.scope_value.setText("openrouter")
    d.on_exceed.setCurrentIndex(d.on_exceed.findData("pause_key"))
    assert not d.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
    d.pause_key.setText("abc123")
    d.accept()
    assert asked and "disable the OpenRouter key abc123" in asked[0] and d.spec is None
    answer[0] = True
    d.accept()
    assert d.spec is not None and d.spec.pause_account_id == 7 and str(d.spec.scope) == "provider:openrouter"


def test_dialog_edit_round_trip(qtbot) -> None:
    spec = BudgetSpec.build(name="X", amount="12.5", period="weekly", scope="model:gpt-4o", thresholds="25,50,100",
                            emails=["a@example.com"], forecast_alert=True, quiet_start="22:00", quiet_end="07:00")
    d = BudgetDialog(spec=spec)
    qtbot.addWidget(d)
    d.accept()
    assert d.spec == spec


def test_models_with_qtmodeltester(qtmodeltester, ctx) -> None:
    from aicost_desktop.budgets.service import context_statuses

    add_budget(ctx.db, BudgetSpec.build(name="A", amount="10"))
    m = BudgetTableModel()
    m.set_rows(context_statuses(ctx))
    qtmodeltester.check(m)
    raise_alert(ctx.db, "anomaly", "k", "m")
    am = AlertTableModel()
    am.set_rows(list_alerts(ctx.db))
    qtmodeltester.check(am)
    p = AlertFilterProxy()
    p.setSourceModel(am)
    p.set_unacknowledged_only(True)
    assert p.rowCount() == 1
    assert am.index(0, 0).data(Qt.ItemDataRole.UserRole + 1) == list_alerts(ctx.db)[0].sent_at


def test_notifier_evaluates_and_pops_tray_once(qtbot, ctx, services) -> None:
    shown: list[tuple] = []
    services.shell.notify = lambda title, text, on_click=None: shown.append((title, text, on_click))
    opened: list[str] = []
    services.shell.show_dock = opened.append
    add_budget(ctx.db, BudgetSpec.build(name="OpenAI", amount="10"))
    n = notifier(qtbot, services)
    spend_on(ctx.db, today(ctx), "8.5", "a")
    with qtbot.waitSignal(n.evaluated, timeout=10_000):
        n.evaluate_now()
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=5000)
    title, text, click = shown[0]
    assert title == "OpenAI: 80% of budget" and "$8.50 of $10.00 (85%)" in text
    click()
    assert opened == ["budgetsDock"]  # clicking the notification opens the Budgets dock
    with qtbot.waitSignal(n.evaluated, timeout=10_000):
        n.evaluate_now()
    # A delivery is posted before its evaluation reports (same queue): nothing new arrived.
    assert len(shown) == 1


def test_require_ack_pending_count(qtbot, ctx, services) -> None:
    services.shell.notify = lambda *a, **k: None
    add_budget(ctx.db, BudgetSpec.build(name="Hard", amount="10", on_exceed="require_ack"))
    spend_on(ctx.db, today(ctx), "12", "a")
    n = notifier(qtbot, services)
    with qtbot.waitSignal(n.ack_pending, timeout=10_000) as blocker:
        n.evaluate_now()
    assert blocker.args == [1] and n.pending_ack == 1


def test_an_edit_budget_request_opens_the_dialog_without_knowing_the_cost_tracker(qtbot, ctx, services) -> None:
    """The Cost tracker's card asks through services.requests; the Budgets dock serves it (no findChild)."""
    opened: list[str] = []
    services.shell.show_dock = opened.append
    b = add_budget(ctx.db, BudgetSpec.build(name="Team", amount="25"))
    w = make(qtbot, ctx, services)
    services.requests.edit_budget.emit(b)
    assert opened == ["budgetsDock"] and w.dialog is not None and w.dialog.isVisible()
    assert w.dialog.name.text() == "Team"
    w.dialog.reject()
    services.requests.edit_budget.emit(None)
    assert w.dialog.name.text() == ""
    w.dialog.reject()
