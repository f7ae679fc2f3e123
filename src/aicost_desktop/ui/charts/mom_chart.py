"""Month over month: cumulative spend of this month vs last month by day of month, the month-end
projection with its band, and the monthly budget line."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from aicost_desktop.domain.money import format_money
from aicost_desktop.ui.charts import style


@dataclass
class MomChartData:
    this_label: str
    last_label: str
    this_cumulative: list[Decimal]
    last_cumulative: list[Decimal]
    days_in_month: int
    projection: Decimal | None = None        # month-end mean
    projection_lower: Decimal | None = None
    projection_upper: Decimal | None = None
    budget: Decimal | None = None
    budget_name: str = ""
    currency: str = "USD"                    # of every amount above


class MomChart(pg.PlotWidget):
    """Two cumulative curves plus projection and budget; items are made once and updated with setData."""

    def __init__(self, parent=None) -> None:  # type: ignore[no-untyped-def]
        money_axis = style.MoneyAxis("left")
        super().__init__(parent, axisItems={"left": money_axis})
        self.money_axis = money_axis
        self.setObjectName("momChart")
        self.setMinimumHeight(110)
        pi = self.getPlotItem()
        pi.setMenuEnabled(False)
        pi.hideButtons()
        pi.showGrid(x=True, y=True, alpha=0.15)
        pi.setLabel("bottom", "day of month")
        self.setMouseEnabled(x=False, y=False)
        self.legend = pi.addLegend(offset=(8, 4))
        self._last = pi.plot(pen=pg.mkPen(style.with_alpha("#999999", 230), width=2), name="last month")
        self._this = pi.plot(pen=pg.mkPen(style.SERIES[0], width=3), name="this month")
        self._proj_lo = pg.PlotCurveItem(pen=pg.mkPen(None))
        self._proj_hi = pg.PlotCurveItem(pen=pg.mkPen(None))
        self._band = pg.FillBetweenItem(self._proj_lo, self._proj_hi, brush=style.with_alpha(style.FORECAST, 60))
        self._proj = pg.PlotCurveItem(pen=pg.mkPen(style.FORECAST, width=2, style=Qt.PenStyle.DashLine))
        for it in (self._proj_lo, self._proj_hi, self._band, self._proj):
            pi.addItem(it)
            it.setZValue(1)
        # Month to date is the fact, the projection a guess: the fact is drawn on top of the band.
        self._this.setZValue(10)
        self._last.setZValue(5)
        self.legend.addItem(self._proj, "projection")
        self._budget = pg.InfiniteLine(angle=0, movable=False,
                                       pen=pg.mkPen(style.BUDGET, width=2, style=Qt.PenStyle.DotLine),
                                       # Above the line, right of the legend (top left, where the label was
                                       # hidden behind it) and left of month end, where the curves meet a limit.
                                       label="", labelOpts={"position": 0.55, "color": style.BUDGET,
                                                            "anchors": [(0.5, 1), (0.5, 1)]})
        pi.addItem(self._budget)
        self._budget.hide()
        self._data: MomChartData | None = None
        style.apply_theme(self)

    def set_data(self, data: MomChartData) -> None:
        self._data = data
        self.money_axis.set_currency(data.currency)
        last = np.array([float(v) for v in data.last_cumulative])
        this = np.array([float(v) for v in data.this_cumulative])
        self._last.setData(np.arange(1, len(last) + 1), last)
        self._this.setData(np.arange(1, len(this) + 1), this)
        if data.projection is not None and len(this):
            xs = np.array([len(this), data.days_in_month], dtype=float)
            start = this[-1]
            self._proj.setData(xs, [start, float(data.projection)])
            self._proj_lo.setData(xs, [start, float(data.projection_lower or data.projection)])
            self._proj_hi.setData(xs, [start, float(data.projection_upper or data.projection)])
        else:
            for it in (self._proj, self._proj_lo, self._proj_hi):
                it.setData([], [])
        top = max([*last, *this, float(data.projection_upper or 0), 0.0]) if len(last) or len(this) else 1.0
        if data.budget is not None:
            # Shown first: pyqtgraph only renders a hidden line's label text when the line next moves.
            self._budget.show()
            self._budget.setPos(float(data.budget))
            self._budget.label.setFormat(f"budget {data.budget_name} {format_money(data.budget, data.currency)}")
            top = max(top, float(data.budget))
        else:
            self._budget.hide()
        self.getPlotItem().setYRange(0, top * 1.1 if top > 0 else 1, padding=0)
        self.getPlotItem().setXRange(1, max(data.days_in_month, len(last), 28), padding=0.02)
