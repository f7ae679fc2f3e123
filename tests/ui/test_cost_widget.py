"""The Cost tracker's budget card: progress vs budget, cost, tokens, cost by model, buttons, live updates."""

from __future__ import annotations

from datetime import datetime

from aicost_desktop.budgets.model import BudgetSpec, add_budget
from aicost_desktop.ui.widgets.cost_widget import CostWidget
from tests.unit.budgets.helpers import spend_on


def test_card_without_budget_then_with_budget_updates_live(qtbot, ctx, services) -> None:
    day = datetime.now(ctx.tz).date()
    spend_on(ctx.db, day, "3", "a", model="gpt-4o", tokens=1500)
    services.bus.flush_now()
    w = CostWidget(services)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.loaded, timeout=10_000):
        w.refresh()
    assert w.set_budget.text() == "Set budget" and w.bar.isHidden()
    assert w.cost.text() == "$3.00" and w.tokens.text() == "1,500 tokens"
    add_budget(ctx.db, BudgetSpec.build(name="Monthly", amount="10"))
    spend_on(ctx.db, day, "2", "b", model="claude-sonnet", tokens=500)  # the bus hears the ledger write
    qtbot.waitUntil(lambda: w.data is not None and w.data.status is not None and w.data.cost == 5, timeout=10_000)
    assert not w.bar.isHidden() and w.bar.value() == 500
    assert "$5.00 of $10.00 (50%)" in w.bar.format() and w.set_budget.text() == "Edit budget"
    assert w.models.text() == "gpt-4o: $3.00  ·  claude-sonnet: $2.00"
    assert w.tokens.text() == "2,000 tokens"
    with qtbot.waitSignal(w.details_requested, timeout=1000):
        w.details.click()
    with qtbot.waitSignal(w.set_budget_requested, timeout=1000):
        w.set_budget.click()
