"""Chart colours and pens that read on both the light and the dark palette."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette

# Okabe-Ito-like qualitative colours: distinct for colour-blind users, mid lightness for both themes.
SERIES = ["#4C8BF5", "#F28E2B", "#59A14F", "#B07AA1", "#E15759", "#76B7B2", "#EDC948", "#9C755F",
          "#FF9DA7", "#BAB0AC"]
ANOMALY = "#E0245E"
FORECAST = "#8E7CC3"
BUDGET = "#D64545"
MANUAL = "#D4A017"


def color(i: int) -> QColor:
    return QColor(SERIES[i % len(SERIES)])


def with_alpha(c: QColor | str, alpha: int) -> QColor:
    q = QColor(c)
    q.setAlpha(alpha)
    return q


def apply_theme(plot: pg.PlotWidget) -> None:
    """Background, axes and text from the widget's palette (called on palette changes too)."""
    pal = plot.palette()
    bg = pal.color(QPalette.ColorRole.Base)
    fg = pal.color(QPalette.ColorRole.Text)
    plot.setBackground(bg)
    for name in ("left", "bottom"):
        ax = plot.getPlotItem().getAxis(name)
        ax.setPen(pg.mkPen(with_alpha(fg, 140)))
        ax.setTextPen(pg.mkPen(fg))
    legend = plot.getPlotItem().legend
    if legend is not None:
        legend.setLabelTextColor(fg)
        legend.setBrush(pg.mkBrush(with_alpha(bg, 200)))


def ts(d: date) -> float:
    """x coordinate of a calendar date: its UTC midnight (the date axis is drawn with utcOffset=0)."""
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp()


def money_axis_label(v: float) -> str:
    return f"${v:,.0f}" if abs(v) >= 10 else f"${v:,.2f}"


class MoneyAxis(pg.AxisItem):
    """Left axis printing dollar amounts."""

    def tickStrings(self, values, scale, spacing):  # type: ignore[no-untyped-def]
        return [money_axis_label(v * scale) for v in values]
