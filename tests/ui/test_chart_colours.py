"""Charts: a provider keeps its colour across reloads and filters, the view is remembered, the first date tick
names its month, month to date is drawn over the projection, budget history starts at the first spend."""

from __future__ import annotations

import itertools
import math
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from PySide6.QtWidgets import QApplication

from aicost_desktop.ui.charts import style
from aicost_desktop.ui.charts.mom_chart import MomChart, MomChartData
from aicost_desktop.ui.charts.spend_chart import SpendChart, SpendChartData

TODAY = date(2026, 3, 20)


def bar_color(chart: SpendChart, key: str) -> str:
    return chart._bars[key].opts["brush"].color().name()


def data(series: dict[str, list[str]]) -> SpendChartData:
    days = [date(2026, 3, 1), date(2026, 3, 2)]
    return SpendChartData("day", days, {k: [Decimal(v) for v in vals] for k, vals in series.items()})


def test_a_provider_keeps_its_colour_whatever_else_is_shown(qtbot) -> None:
    chart = SpendChart()
    qtbot.addWidget(chart)
    chart.set_data(data({"openai": ["5", "6"], "anthropic": ["3", "1"]}))
    first = {k: bar_color(chart, k) for k in ("openai", "anthropic")}
    # Anthropic now tops the ranking and OpenAI's rows are filtered out: colours follow names, not ranks.
    chart.set_data(data({"anthropic": ["30", "10"], "openrouter": ["1", "1"]}))
    assert bar_color(chart, "anthropic") == first["anthropic"]
    chart.set_data(data({"openai": ["1", "1"], "anthropic": ["2", "2"]}))
    assert {k: bar_color(chart, k) for k in ("openai", "anthropic")} == first
    assert first["openai"] != first["anthropic"]
    assert style.color_for("gpt-4o") == style.color_for("gpt-4o")  # any other name: a stable hash, not a rank


def test_colours_survive_a_reload_of_the_dock_and_the_view_is_remembered(qtbot, ctx, services) -> None:
    from aicost_desktop.demo import load_demo
    from aicost_desktop.ui.docks.analytics import AnalyticsWidget

    load_demo(ctx, days=60, seed=1, today=TODAY)

    def dock() -> AnalyticsWidget:
        w = AnalyticsWidget(ctx, services)
        w.today_override = TODAY
        qtbot.addWidget(w)
        with qtbot.waitSignal(w.refreshed, timeout=20_000):
            w.refresh()
        return w

    w = dock()
    colours = {k: bar_color(w.chart, k) for k in w.chart._data.series}
    assert {k: style.color_for(k).name() for k in colours} == colours
    with qtbot.waitSignal(w.refreshed, timeout=20_000):
        w.period.setCurrentIndex(w.period.findData("90d"))
        w.group_by.setCurrentIndex(w.group_by.findData("model"))
    again = dock()  # a restart of the window: the same period and grouping, the same colours per key
    assert again.period.currentData() == "90d" and again.group_by.currentData() == "model"
    assert all(bar_color(again.chart, k) == style.color_for(k).name() for k in again.chart._data.series)


def test_first_date_tick_names_its_month() -> None:
    axis = style.MonthDateAxis(orientation="bottom", utcOffset=0)
    ticks = [datetime(2026, 3, d, tzinfo=timezone.utc).timestamp() for d in (29, 30, 31)] + \
        [datetime(2026, 4, 1, tzinfo=timezone.utc).timestamp()]
    assert axis.tickStrings(ticks, 1, 86400) == ["Mar 29", "30", "31", "Apr 1"]


@pytest.mark.parametrize("width", [560, 700, 1100])
def test_the_first_date_label_drawn_names_its_month(qtbot, width: int) -> None:
    """pyqtgraph drops a label that sticks out past the axis: the month goes on the first label drawn."""
    import pyqtgraph as pg
    from PySide6.QtGui import QImage, QPainter

    axis = style.MonthDateAxis(orientation="bottom", utcOffset=0)
    plot = pg.PlotWidget(axisItems={"bottom": axis})
    qtbot.addWidget(plot)
    plot.resize(width, 300)
    plot.show()
    qtbot.waitExposed(plot)
    day = 86400.0
    # A range that starts on a tick (a chart's first day at midnight), just before or after one, or far enough
    # before one that its day number fits at the edge but a month label does not.
    for first in (datetime(2026, 11, 8, tzinfo=timezone.utc), datetime(2026, 11, 7, 22, tzinfo=timezone.utc),
                  datetime(2026, 11, 8, 2, tzinfo=timezone.utc), datetime(2026, 11, 9, 12, tzinfo=timezone.utc),
                  datetime(2026, 11, 7, 13, tzinfo=timezone.utc), datetime(2026, 11, 7, 9, tzinfo=timezone.utc)):
        lo = first.timestamp()
        plot.setXRange(lo, lo + 30 * day, padding=0)
        qtbot.wait(20)
        image = QImage(width, 40, QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        try:
            drawn = sorted(axis.generateDrawSpecs(painter)[2], key=lambda t: t[0].x())  # both levels, left to right
        finally:
            painter.end()
        texts = [t[2] for t in drawn if t[2]]
        assert texts and not texts[0].isdigit(), (width, first, texts)  # 'Nov 13', not '13' or '8, Nov 13'
        assert sum(1 for t in texts if not t.isdigit()) <= 3, texts  # that, 'Dec' and at most 'Dec 1'


def test_month_to_date_is_drawn_above_the_projection(qtbot) -> None:
    from aicost_desktop.ui.charts.mom_chart import MomChart

    chart = MomChart()
    qtbot.addWidget(chart)
    assert chart._this.zValue() > max(chart._proj.zValue(), chart._band.zValue())


def test_budget_history_starts_at_the_first_spend_with_money_on_its_axis(qtbot, ctx) -> None:
    from aicost_desktop.budgets.engine import PeriodSpend
    from aicost_desktop.budgets.periods import period_containing
    from aicost_desktop.ui.docks.budgets import HistoryChart, from_first_spend

    tz = ctx.tz
    periods = [period_containing("monthly", date(2026, m, 1), tz) for m in range(1, 6)]
    rows = [PeriodSpend(p, Decimal(v), Decimal(10)) for p, v in zip(periods, ["0", "0", "4", "0", "12"])]
    assert [r.period.first.month for r in from_first_spend(rows)] == [3, 4, 5]
    assert len(from_first_spend(rows[:2])) == 1  # nothing spent yet: the current period alone
    chart = HistoryChart()
    qtbot.addWidget(chart)
    chart.set_history(from_first_spend(rows))
    assert chart.money_axis.tickStrings([0, 10], 1, 5) == ["$0.00", "$10"]
    chart.set_history(rows, "EUR")
    assert chart.money_axis.tickStrings([20], 1, 5) == ["20 EUR"]


def _lab(hex_colour: str) -> tuple[float, float, float]:
    """sRGB -> CIE L*a*b* (D65)."""
    def linear(c: float) -> float:
        return ((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92

    r, g, b = (linear(int(hex_colour[i:i + 2], 16) / 255) for i in (1, 3, 5))
    x = (r * 0.4124 + g * 0.3576 + b * 0.1805) / 0.95047
    y = r * 0.2126 + g * 0.7152 + b * 0.0722
    z = (r * 0.0193 + g * 0.1192 + b * 0.9505) / 1.08883

    def f(v: float) -> float:
        return v ** (1 / 3) if v > 0.008856 else 7.787 * v + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def test_no_two_series_colours_look_alike() -> None:
    # The demo's legend drew cursor in OpenRouter's green and replicate in GitHub's brown (a hash onto the
    # known providers' colours). Known providers and the hashed palette are now one set of distinct colours.
    colours = {**style.PROVIDER_COLORS, **{f"hashed {i}": c for i, c in enumerate(style.HASHED)}}
    for (a, ca), (b, cb) in itertools.combinations(colours.items(), 2):
        assert math.dist(_lab(ca), _lab(cb)) >= 18, (a, ca, b, cb)
    for name in ("cursor", "replicate", "github", "groq", "together", "perplexity", "azure", "bedrock", "gpt-4o"):
        c = style.color_for(name).name().upper()
        assert c in {v.upper() for v in colours.values()}
        if name not in style.PROVIDER_COLORS:
            assert c not in {v.upper() for v in style.PROVIDER_COLORS.values()}, name
    assert style.color_for("cursor") != style.color_for("openrouter")
    assert style.color_for("replicate") != style.color_for("github")


def test_the_budget_label_of_the_month_chart_is_not_behind_its_legend(qtbot) -> None:
    chart = MomChart()
    qtbot.addWidget(chart)
    chart.resize(520, 220)  # the chart's size at 1920x1080
    this = [Decimal(50 * d) for d in range(1, 8)]
    chart.set_data(MomChartData(this_label="December", last_label="November", this_cumulative=this,
                                last_cumulative=[Decimal(55 * d) for d in range(1, 31)], days_in_month=31,
                                projection=Decimal(2000), projection_lower=Decimal(1900),
                                projection_upper=Decimal(2100), budget=Decimal(1500), budget_name="Monthly total"))
    chart.show()
    qtbot.waitExposed(chart)
    label = chart._budget.label
    view = chart.getPlotItem().vb
    # The label is placed when the view box has its size (laid out from the event loop after the show).
    qtbot.waitUntil(lambda: view.sceneBoundingRect().width() > 300 and "Monthly total" in label.toPlainText(),
                    timeout=3_000)
    QApplication.processEvents()
    assert label.isVisible()
    assert not label.sceneBoundingRect().intersects(chart.legend.sceneBoundingRect())


def legend_labels(chart: SpendChart) -> list[str]:
    return [label.text for _sample, label in chart.legend.items]


@pytest.mark.parametrize("series", [{}, {"openai": ["5", "6"]}], ids=["empty ledger", "one provider"])
def test_the_legend_names_each_series_once(qtbot, series: dict[str, list[str]]) -> None:
    chart = SpendChart()
    qtbot.addWidget(chart)
    chart.set_data(data(series))
    assert legend_labels(chart) == [*series, "forecast (80% band)", "anomaly", "manual entry"]
