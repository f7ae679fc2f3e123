"""Chart colours and pens that read on both the light and the dark palette."""

from __future__ import annotations

import zlib
from datetime import date, datetime, timezone

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFontMetricsF, QPalette

# Okabe-Ito-like qualitative colours: distinct for colour-blind users, mid lightness for both themes.
SERIES = ["#4C8BF5", "#F28E2B", "#59A14F", "#B07AA1", "#E15759", "#76B7B2", "#EDC948", "#9C755F",
          "#FF9DA7", "#BAB0AC"]
ANOMALY = "#E0245E"
FORECAST = "#8E7CC3"
BUDGET = "#D64545"
MANUAL = "#D4A017"


# Each known provider keeps its colour across reloads, periods and groupings (OpenAI is always blue, ...): the
# API providers, and the services the demo and a typical ledger hold (subscriptions, coding tools). With HASHED
# below, any two differ by a CIE76 distance of 18 or more (tests/ui/test_chart_colours.py): none look alike.
PROVIDER_COLORS = {"openai": SERIES[0], "anthropic": SERIES[1], "openrouter": SERIES[2], "deepseek": SERIES[3],
                   "moonshot": SERIES[5], "google": SERIES[6], "mistral": SERIES[7], "xai": SERIES[8],
                   "other": SERIES[9], "cursor": "#E7298A", "github": "#7570B3", "replicate": "#17BECF"}
# Any other name takes one of these by a stable hash: none is a known provider's colour, so an unknown
# service is never drawn like OpenRouter or GitHub (the hash put cursor on OpenRouter's green before).
HASHED = ["#1B9E77", "#B5451B", "#66A61E", "#A6761D", "#E15759", "#5D6D7E", "#8DA0CB"]


def color(i: int) -> QColor:
    return QColor(SERIES[i % len(SERIES)])


def color_for(key: str) -> QColor:
    """A series' colour from its name, never from its rank: the same key is drawn in the same colour whatever
    else is shown (known providers from PROVIDER_COLORS, any other name from a stable hash of it)."""
    fixed = PROVIDER_COLORS.get(key.lower())
    if fixed:
        return QColor(fixed)
    h = zlib.crc32(key.encode("utf-8"))
    return QColor(HASHED[h % len(HASHED)])


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


def money_axis_label(v: float, currency: str = "USD") -> str:
    text = f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.2f}"
    return f"${text}" if currency == "USD" else f"{text} {currency}"


class MoneyAxis(pg.AxisItem):
    """Left axis printing amounts in the display currency ('$1,200', '1,200 EUR')."""

    currency = "USD"

    def set_currency(self, currency: str) -> None:
        """Ticks in `currency` from the next paint on (the axis caches its drawn picture)."""
        if currency != self.currency:
            self.currency = currency
            self.picture = None
            self.update()

    def tickStrings(self, values, scale, spacing):  # type: ignore[no-untyped-def]
        return [money_axis_label(v * scale, self.currency) for v in values]


class MonthDateAxis(pg.DateAxisItem):
    """A date axis whose first drawn tick (and each 1st of a month) names the month: 'Nov 3', 4, 5 ... 'Dec 1'.

    pyqtgraph's day ticks print the day number only, which leaves a reader guessing the month. It also drops
    a label that would stick out past the axis's edge, so the month goes on the first tick whose month label
    fits inside the axis, not on a tick at the very edge whose label is never drawn; a tick before that one
    (narrow enough for its day number to be drawn) is left unlabelled, so the first label read names a month."""

    MONTH_LABEL = "May 30"  # about the widest 'Mon D' label
    EDGE_PX = 3.0           # pyqtgraph's own rounding at the edge, and a little air

    def _first_drawn(self, values: list[float]) -> int:
        """Index of the first value whose month label lies wholly inside the axis (0 before the first layout)."""
        lo, hi = self.range
        width = self.geometry().width()
        if hi <= lo or width <= 0:
            return 0
        half = QFontMetricsF(self.style.get("tickFont") or self.font()).horizontalAdvance(self.MONTH_LABEL) / 2
        for i, v in enumerate(values):
            x = (v - lo) / (hi - lo) * width
            if half + self.EDGE_PX <= x <= width - half - self.EDGE_PX:
                return i
        return 0

    def tickStrings(self, values, scale, spacing):  # type: ignore[no-untyped-def]
        if spacing >= 20 * 86400 or spacing < 86400:  # month/year ticks already name the month; hours: leave them
            return super().tickStrings(values, scale, spacing)
        first = self._first_drawn(list(values))
        out = []
        for i, v in enumerate(values):
            d = datetime.fromtimestamp(v, timezone.utc)
            out.append("" if i < first else f"{d:%b} {d.day}" if i == first or d.day == 1 else str(d.day))
        return out
