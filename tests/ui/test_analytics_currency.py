"""The Analytics dock in the display currency: status line, tables, crosshair, budget label and axes (offscreen)."""

from __future__ import annotations

import os
from datetime import date, timedelta
from decimal import Decimal

import pytest

from aicost_desktop.domain.money import format_money

TODAY = date(2026, 3, 20)


@pytest.fixture
def demo_ctx(ctx):  # type: ignore[no-untyped-def]
    from aicost_desktop.budgets.model import BudgetSpec, add_budget
    from aicost_desktop.demo import load_demo

    load_demo(ctx, days=90, seed=1, today=TODAY)
    add_budget(ctx.db, BudgetSpec.build(name="Team", amount="1080"))
    return ctx


def _cells(table, column: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [table.item(i, column).text() for i in range(table.rowCount())]


def test_eur_display_currency_reaches_every_figure_of_the_dock(qtbot, demo_ctx, services, tmp_path) -> None:
    from aicost_desktop.ui.charts import style
    from aicost_desktop.ui.docks.analytics import AnalyticsWidget

    w = AnalyticsWidget(demo_ctx, services)
    w.today_override = TODAY
    qtbot.addWidget(w)
    w.resize(1100, 760)
    w.show()
    with qtbot.waitSignal(w.refreshed, timeout=20_000) as sig:
        w.refresh()
    usd = sig.args[0]
    assert usd.currency == "USD" and format_money(usd.series.total) in w.status.text()
    # The user picks EUR in Settings: the window announces a ledger change and the dock reloads in EUR.
    demo_ctx.settings.set("display_currency", "EUR")
    with qtbot.waitSignal(w.refreshed, timeout=20_000) as sig:
        services.bus.notify_ledger_changed()
    eur = sig.args[0]
    rate = demo_ctx.settings.fx_rates()["EUR"]
    assert eur.currency == "EUR" and rate == Decimal("1.08")
    assert abs(eur.series.total * rate - usd.series.total) < Decimal("0.01") * len(eur.series.buckets)

    status = w.status.text()
    assert f"<b>{format_money(eur.series.total, 'EUR')}</b>" in status and " EUR" in status
    assert format_money(eur.mom.this_to_date, "EUR") in status
    assert format_money(eur.month_forecast.month_projection, "EUR") in status and "$" not in status

    # Breakdown table: format_money's EUR form, the USD cost divided by the rate.
    m = w.breakdown_proxy
    costs = {m.index(i, 0).data(): m.index(i, 2).data() for i in range(m.rowCount())}
    usd_costs = {r.key: r.cost for r in usd.breakdown}
    assert costs and all(c.endswith(" EUR") and "$" not in c for c in costs.values())
    top = max(eur.breakdown, key=lambda r: r.cost)
    assert costs[top.key] == format_money(top.cost, "EUR")
    assert abs(top.cost * rate - usd_costs[top.key]) < Decimal("0.01")
    assert "EUR exact" in m.index(0, 2).data(0x03)  # the tooltip (ToolTipRole) says which currency too

    # Anomalies and reconciliation tables.
    assert w.anomaly_table.rowCount() >= 1 and w.recon_table.rowCount() >= 1
    for table, cols in ((w.anomaly_table, (2, 3)), (w.recon_table, (2, 3))):
        for c in cols:
            assert all(t.endswith(" EUR") for t in _cells(table, c)), _cells(table, c)
    assert all("$" not in t for t in _cells(w.anomaly_table, 4))

    # Crosshair labels: a bucket (with the demo's spike) and a forecast day.
    text = w.chart.show_crosshair_at(style.ts(TODAY - timedelta(days=12)))
    assert "total <b>" in text and " EUR</b>" in text and "⚠" in text and "$" not in text
    text = w.chart.show_crosshair_at(style.ts(TODAY + timedelta(days=3)))
    assert "forecast" in text and " EUR" in text and "$" not in text

    # Month over month: the budget line's label and both money axes.
    assert eur.budget is not None and eur.budget[1] < Decimal("1080")
    label = w.mom._budget.label.format
    assert label == f"budget {eur.budget[0]} {format_money(eur.budget[1], 'EUR')}" and "$" not in label
    for axis in (w.chart.money_axis, w.mom.money_axis):
        assert axis.currency == "EUR"
        assert axis.tickStrings([1200.0, 5.5], 1.0, 100.0) == ["1,200 EUR", "5.50 EUR"]

    # Look at it: the axes widen to their EUR ticks on the layout pass after the first paint.
    from PySide6.QtGui import QFontMetrics

    wide = QFontMetrics(w.chart.font()).horizontalAdvance("100 EUR")
    qtbot.waitUntil(lambda: min(w.chart.money_axis.width(), w.mom.money_axis.width()) > wide, timeout=5_000)
    out = os.environ.get("ANALYTICS_EUR_PNG") or str(tmp_path / "analytics_eur.png")
    assert w.grab().save(out) and os.path.getsize(out) > 1000
