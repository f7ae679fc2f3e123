"""The budget card, the Budgets table and the Analytics dock show one month-end forecast on the demo ledger."""

from __future__ import annotations

from datetime import datetime

from aicost_desktop.domain.money import format_money


def test_card_budgets_table_and_analytics_show_the_same_month_end_figure(qtbot, ctx, services) -> None:
    from aicost_desktop.budgets.model import BudgetSpec, add_budget
    from aicost_desktop.demo import load_demo
    from aicost_desktop.ui.docks.analytics import AnalyticsWidget
    from aicost_desktop.ui.docks.budgets import BudgetsWidget
    from aicost_desktop.ui.models.budget_model import COL
    from aicost_desktop.ui.widgets.cost_widget import CostWidget

    # The card and the Budgets dock read the clock: the demo ends today, so every view looks at one month.
    load_demo(ctx, days=90, seed=1, today=datetime.now(ctx.tz).date())
    add_budget(ctx.db, BudgetSpec.build(name="Everything", amount="2500"))
    services.bus.flush_now()

    card = CostWidget(services)
    qtbot.addWidget(card)
    with qtbot.waitSignal(card.loaded, timeout=20_000):
        card.refresh()
    analytics = AnalyticsWidget(ctx, services)
    qtbot.addWidget(analytics)
    with qtbot.waitSignal(analytics.refreshed, timeout=20_000):
        analytics.refresh()
    budgets = BudgetsWidget(ctx, services)
    qtbot.addWidget(budgets)
    budgets.refresh()
    qtbot.waitUntil(lambda: budgets.model.rowCount() == 1, timeout=20_000)

    st, month = card.data.status, analytics.data.month_forecast
    assert st is not None and st.name == "Everything"
    assert (st.forecast.amount, st.forecast.lower, st.forecast.upper) == \
        (month.month_projection, month.month_lower, month.month_upper)
    assert st.forecast.amount > st.spent > 0 and st.forecast.lower < st.forecast.amount < st.forecast.upper
    # What a user reads: the same dollars and band on the card, in the table and in Analytics.
    amount, lower, upper = (format_money(v, "USD") for v in (month.month_projection, month.month_lower, month.month_upper))
    assert f"projected {amount} ({lower}–{upper})" in card.bar.format()
    assert budgets.model.index(0, COL["forecast"]).data().startswith(f"{amount} by ")
    assert budgets.model.index(0, COL["forecast"]).data().endswith(f"\n({lower}–{upper})")
    assert f"month-end projection {amount} ({lower}–{upper})" in analytics.status.text()
