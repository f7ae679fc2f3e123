"""Spend over time: stacked bars or areas per group, forecast band, anomaly and manual-entry markers,
and a crosshair whose label shows the exact values of the bucket under the mouse."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt

from aicost_desktop.analytics.series import bucket_of
from aicost_desktop.domain.money import format_money
from aicost_desktop.ui.charts import style

DAY_S = 86400.0
WIDTH = {"day": 0.8, "week": 7 * 0.8, "month": 28 * 0.8}


@dataclass
class SpendChartData:
    """Everything the chart draws; plain Python so a worker thread can build it."""

    granularity: str
    buckets: list[date]
    series: dict[str, list[Decimal]]                 # key -> value per bucket, drawn in this order
    forecast_days: list[date] = field(default_factory=list)
    forecast_mean: list[Decimal] = field(default_factory=list)
    forecast_lower: list[Decimal] = field(default_factory=list)
    forecast_upper: list[Decimal] = field(default_factory=list)
    anomalies: dict[date, str] = field(default_factory=dict)     # day -> explanation
    manual_days: dict[date, str] = field(default_factory=dict)   # day -> note(s)
    currency: str = "USD"                                        # of every amount above


class SpendChart(pg.PlotWidget):
    """A stacked spend chart whose items are created once per group key and then only setData'd."""

    def __init__(self, parent=None) -> None:  # type: ignore[no-untyped-def]
        axis = style.MonthDateAxis(orientation="bottom", utcOffset=0)
        money_axis = style.MoneyAxis("left")
        super().__init__(parent, axisItems={"bottom": axis, "left": money_axis})
        self.money_axis = money_axis
        self.setObjectName("spendChart")
        self.setMinimumHeight(140)
        pi = self.getPlotItem()
        pi.showGrid(x=False, y=True, alpha=0.2)
        pi.setMenuEnabled(False)
        pi.hideButtons()
        self.setMouseEnabled(x=True, y=False)
        self.legend = pi.addLegend(offset=(8, 2), colCount=6)
        self.mode = "bars"
        self._bars: dict[str, pg.BarGraphItem] = {}
        self._areas: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem, pg.FillBetweenItem]] = {}
        self._order: list[str] = []
        self._data: SpendChartData | None = None
        # Forecast: mean line and a band between lower/upper (created once).
        self._fc_lower = pg.PlotCurveItem(pen=pg.mkPen(style.with_alpha(style.FORECAST, 90), width=1))
        self._fc_upper = pg.PlotCurveItem(pen=pg.mkPen(style.with_alpha(style.FORECAST, 90), width=1))
        self._fc_band = pg.FillBetweenItem(self._fc_lower, self._fc_upper, brush=style.with_alpha(style.FORECAST, 70))
        self._fc_mean = pg.PlotDataItem(pen=pg.mkPen(style.FORECAST, width=2, style=Qt.PenStyle.DashLine),
                                        name="forecast (80% band)")
        for it in (self._fc_lower, self._fc_upper, self._fc_band, self._fc_mean):
            pi.addItem(it)
        self._anom = pg.ScatterPlotItem(symbol="t1", size=14, brush=pg.mkBrush(style.ANOMALY),
                                        pen=pg.mkPen("w", width=1), name="anomaly")
        self._manual = pg.ScatterPlotItem(symbol="s", size=9, brush=pg.mkBrush(style.MANUAL),
                                          pen=pg.mkPen("w", width=1), name="manual entry")
        # Named items join the legend as they are added to the plot (pyqtgraph): adding them to it again wrote
        # "anomaly" and "manual entry" twice on a chart with no groups (an empty ledger: no _sync_legend rebuild).
        pi.addItem(self._anom)
        pi.addItem(self._manual)
        self._anom.setZValue(20)
        self._manual.setZValue(20)
        # Crosshair + label with exact values.
        self._vline = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen((128, 128, 128, 160), width=1))
        self._label = pg.TextItem(anchor=(0, 0), fill=pg.mkBrush(30, 30, 30, 225), color=(240, 240, 240))
        self._label.setTextWidth(340)
        self._vline.setZValue(30)
        self._label.setZValue(31)
        pi.addItem(self._vline, ignoreBounds=True)
        pi.addItem(self._label, ignoreBounds=True)
        self._vline.hide()
        self._label.hide()
        self._proxy = pg.SignalProxy(self.scene().sigMouseMoved, rateLimit=40, slot=self._mouse_moved)
        style.apply_theme(self)

    # -- public ---------------------------------------------------------------------------

    def set_mode(self, mode: str) -> None:
        """'bars' or 'areas'; redraws from the last data."""
        if mode != self.mode:
            self.mode = mode
            if self._data is not None:
                self.set_data(self._data)

    def set_data(self, data: SpendChartData) -> None:
        self._data = data
        self.money_axis.set_currency(data.currency)
        x = np.array([style.ts(b) for b in data.buckets], dtype=float)
        width = WIDTH.get(data.granularity, 0.8) * DAY_S
        keys = list(data.series)
        base = np.zeros(len(x))
        self._sync_legend(keys)
        for i, key in enumerate(keys):
            vals = np.array([float(v) for v in data.series[key]], dtype=float)
            top = base + vals
            c = style.color_for(key)
            if self.mode == "bars":
                bar = self._bar(key)
                bar.setOpts(x=x + width / 2, height=vals, y0=base, width=width,
                            brush=pg.mkBrush(c), pen=pg.mkPen(style.with_alpha(c, 255).darker(115), width=0.5))
                bar.show()
            else:
                lo, hi, fill = self._area(key)
                lo.setData(x + DAY_S / 2, base)
                hi.setData(x + DAY_S / 2, top, pen=pg.mkPen(c, width=1.5))
                fill.setBrush(pg.mkBrush(style.with_alpha(c, 150)))
                for it in (lo, hi, fill):
                    it.show()
            base = top
        for key, bar in self._bars.items():
            if self.mode != "bars" or key not in data.series:
                bar.hide()
        for key, items in self._areas.items():
            if self.mode != "areas" or key not in data.series:
                for it in items:
                    it.hide()
        totals = base
        # Forecast beyond the last bucket (daily charts only).
        if data.forecast_days and data.granularity == "day":
            fx = np.array([style.ts(d) for d in data.forecast_days]) + DAY_S / 2
            self._fc_mean.setData(fx, [float(v) for v in data.forecast_mean])
            self._fc_lower.setData(fx, [float(v) for v in data.forecast_lower])
            self._fc_upper.setData(fx, [float(v) for v in data.forecast_upper])
        else:
            for it in (self._fc_mean, self._fc_lower, self._fc_upper):
                it.setData([], [])
        index = {b: i for i, b in enumerate(data.buckets)}
        ax, ay = [], []
        for d in data.anomalies:
            b = self._bucket_of(d, data)
            if b in index:
                ax.append(style.ts(b) + (width / 2 if self.mode == "bars" else DAY_S / 2))
                ay.append(totals[index[b]])
        top_y = float(totals.max()) if len(totals) else 1.0
        self._anom.setData(ax, [y + 0.04 * top_y for y in ay])
        mx = [style.ts(self._bucket_of(d, data)) + (width / 2 if self.mode == "bars" else DAY_S / 2)
              for d in data.manual_days if self._bucket_of(d, data) in index]
        self._manual.setData(mx, [0.0] * len(mx))
        ymax = max(top_y, max((float(v) for v in data.forecast_upper), default=0.0))
        # Headroom above the tallest bar keeps the legend (two rows) off the data.
        self.getPlotItem().setYRange(0, ymax * 1.3 if ymax > 0 else 1, padding=0)
        last = (max(data.forecast_days) if data.forecast_days and data.granularity == "day"
                else (data.buckets[-1] if data.buckets else date.today()))
        if data.buckets:
            self.getPlotItem().setXRange(x[0] - DAY_S / 2, style.ts(last) + width + DAY_S / 2, padding=0.01)

    def label_for(self, i: int) -> str:
        """Exact values of bucket i (also used by tests and the crosshair)."""
        assert self._data is not None
        d = self._data
        b = d.buckets[i]
        rows = [(k, vals[i]) for k, vals in d.series.items() if vals[i]]
        total = sum((v for _, v in rows), Decimal(0))
        head = {"day": b.strftime("%a %Y-%m-%d"), "week": f"week of {b.isoformat()}", "month": b.strftime("%B %Y")}
        lines = [f"<b>{head.get(d.granularity, b.isoformat())}</b>  total <b>{format_money(total, d.currency)}</b>"]
        for k, v in sorted(rows, key=lambda kv: -kv[1])[:8]:
            lines.append(f"{k}: {format_money(v, d.currency)}")
        for day, text in d.anomalies.items():
            if self._bucket_of(day, d) == b:
                lines.append(f"<span style='color:{style.ANOMALY}'>⚠ {text}</span>")
        for day, text in d.manual_days.items():
            if self._bucket_of(day, d) == b:
                lines.append(f"<span style='color:{style.MANUAL}'>✎ {text}</span>")
        return "<br>".join(lines)

    def forecast_label(self, j: int) -> str:
        assert self._data is not None
        d = self._data
        c = d.currency
        return (f"<b>{d.forecast_days[j].strftime('%a %Y-%m-%d')}</b> forecast "
                f"<b>{format_money(d.forecast_mean[j], c)}</b><br>80% band {format_money(d.forecast_lower[j], c)}"
                f" .. {format_money(d.forecast_upper[j], c)}")

    # -- internals ------------------------------------------------------------------------

    @staticmethod
    def _bucket_of(d: date, data: SpendChartData) -> date:
        return bucket_of(d, data.granularity)

    def _bar(self, key: str) -> pg.BarGraphItem:
        bar = self._bars.get(key)
        if bar is None:
            bar = self._bars[key] = pg.BarGraphItem(x=[], height=[], width=1)
            self.getPlotItem().addItem(bar)
        return bar

    def _area(self, key: str) -> tuple[pg.PlotDataItem, pg.PlotDataItem, pg.FillBetweenItem]:
        items = self._areas.get(key)
        if items is None:
            lo, hi = pg.PlotCurveItem(pen=pg.mkPen(None)), pg.PlotCurveItem()
            fill = pg.FillBetweenItem(lo, hi)
            for it in (lo, hi, fill):
                self.getPlotItem().addItem(it)
            items = self._areas[key] = (lo, hi, fill)
        return items

    def _sync_legend(self, keys: Sequence[str]) -> None:
        """Legend rows follow the groups (rebuilt only when the set of keys changes)."""
        if keys == self._order:
            return
        self._order = list(keys)
        self.legend.clear()
        for k in keys:
            sample = pg.BarGraphItem(x=[0], height=[1], width=1, brush=pg.mkBrush(style.color_for(k)))
            self.legend.addItem(sample, k)
        self.legend.addItem(self._fc_mean, "forecast (80% band)")
        self.legend.addItem(self._anom, "anomaly")
        self.legend.addItem(self._manual, "manual entry")
        style.apply_theme(self)

    def _mouse_moved(self, evt) -> None:  # type: ignore[no-untyped-def]
        pos = evt[0]
        pi = self.getPlotItem()
        if self._data is None or not self._data.buckets or not pi.sceneBoundingRect().contains(pos):
            self._vline.hide()
            self._label.hide()
            return
        p = pi.vb.mapSceneToView(pos)
        self.show_crosshair_at(p.x(), p.y())

    def show_crosshair_at(self, x: float, y: float | None = None) -> str:
        """Move the crosshair to x (seconds) and return the label text shown."""
        assert self._data is not None
        d = self._data
        xs = np.array([style.ts(b) for b in d.buckets])
        width = WIDTH.get(d.granularity, 0.8) * DAY_S
        text: str
        if d.forecast_days and d.granularity == "day" and x >= style.ts(d.forecast_days[0]):
            j = int(np.clip(np.searchsorted([style.ts(f) for f in d.forecast_days], x, side="right") - 1,
                            0, len(d.forecast_days) - 1))
            text, cx = self.forecast_label(j), style.ts(d.forecast_days[j]) + DAY_S / 2
        else:
            i = int(np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(xs) - 1))
            text, cx = self.label_for(i), xs[i] + width / 2
        self._vline.setPos(cx)
        self._label.setHtml(f"<div style='font-size:9pt'>{text}</div>")
        vr = self.getPlotItem().vb.viewRange()
        # Keep the label inside the view: flip it to the left of the line in the right half.
        right_half = cx > (vr[0][0] + vr[0][1]) / 2
        self._label.setAnchor((1, 0) if right_half else (0, 0))
        # Below the legend rows, near the mouse when it is lower.
        top = vr[1][0] + 0.74 * (vr[1][1] - vr[1][0])
        self._label.setPos(QPointF(cx, min(y, top) if y is not None else top))
        self._vline.show()
        self._label.show()
        return text
