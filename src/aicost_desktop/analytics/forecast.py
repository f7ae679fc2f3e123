"""Daily spend forecast: robust (Theil-Sen) damped trend x weekday factors, with an uncertainty band.

Why this method: spend series are short, spiky and weekly (weekday work, quiet weekends). Medians and
Theil-Sen slopes ignore the odd spike that would drag a least-squares or Holt-Winters fit, and the model
degrades step by step with less history: < 3 days -> last value, < 14 days -> median level with no
seasonality, >= 14 days -> weekday factors, >= 21 days -> trend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Sequence

import numpy as np

Z80 = 1.2816  # two-sided 80% band
PHI = 0.98    # trend damping per day: a 30-day forecast never extrapolates a short burst for ever
FIT_WINDOW = 56


@dataclass
class ForecastResult:
    """Point forecast and band per future day (floats in currency units), plus the method used."""

    method: str
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    total_mean: float
    total_lower: float
    total_upper: float


def _weekday_factors(y: np.ndarray, weekdays: np.ndarray) -> np.ndarray:
    """Median of each weekday's value relative to a centred 7-day mean, normalized to average 1."""
    n = len(y)
    level = np.convolve(y, np.ones(7) / 7, mode="same")
    # The edges of a 'same' convolution are biased; use the trailing/leading full weeks there.
    for i in range(min(3, n)):
        level[i] = y[: min(7, n)].mean()
        level[n - 1 - i] = y[max(0, n - 7):].mean()
    ratios = np.where(level > 1e-9, y / np.maximum(level, 1e-9), 1.0)
    f = np.ones(7)
    for w in range(7):
        sel = ratios[weekdays == w]
        if len(sel):
            f[w] = float(np.median(sel))
    f = np.clip(f, 0.05, 5.0)
    return f * 7 / f.sum()


def _theil_sen(y: np.ndarray) -> float:
    n = len(y)
    i, j = np.triu_indices(n, k=1)
    return float(np.median((y[j] - y[i]) / (j - i)))


def forecast_daily(history: Sequence[float], horizon: int, first_weekday: int = 0,
                   z: float = Z80) -> ForecastResult:
    """Forecast `horizon` days after `history` (daily spend, oldest first; history[0] has weekday
    `first_weekday`, Monday = 0). The band is +- z * robust residual scale, widening with the horizon."""
    y = np.asarray(history, dtype=float)
    # Leading zero days are "before the user started", not a quiet period.
    nz = np.flatnonzero(y > 0)
    if len(nz):
        first_weekday = (first_weekday + int(nz[0])) % 7
        y = y[nz[0]:]
    else:
        y = y[:0]
    n = len(y)
    steps = np.arange(1, horizon + 1)
    future_wd = (first_weekday + n - 1 + steps) % 7
    if n == 0:
        z0 = np.zeros(horizon)
        return ForecastResult("none", z0, z0, z0, 0.0, 0.0, 0.0)
    if n < 3:
        level = float(y[-1])
        mean = np.full(horizon, level)
        sigma = 0.5 * level
        method = "last-value"
        resid_scale = np.full(horizon, sigma)
    else:
        y = y[-FIT_WINDOW:] if n > FIT_WINDOW else y
        n_fit = len(y)
        wd = (first_weekday + (n - n_fit) + np.arange(n_fit)) % 7
        if n_fit >= 14:
            f = _weekday_factors(y, wd)
            method = "weekday-median"
        else:
            f = np.ones(7)
            method = "median"
        d = y / f[wd]
        t = np.arange(n_fit, dtype=float)
        if n_fit >= 21:
            slope = _theil_sen(d)
            method = "trend+weekday"
        else:
            slope = 0.0
        # Level at the last observed day: median of the detrended last two weeks, re-trended.
        recent = min(14, n_fit)
        level = float(np.median(d[-recent:] - slope * (t[-recent:] - t[-1])))
        damp = np.cumsum(PHI ** steps)
        mean = np.maximum((level + slope * damp) * f[future_wd], 0.0)
        fit = (level + slope * (t - t[-1])) * f[wd]
        resid = y - fit
        mad = float(np.median(np.abs(resid - np.median(resid)))) * 1.4826
        sigma = max(mad, 0.05 * max(level, 0.0), 1e-9)
        # In-sample residuals understate out-of-sample error (the fit saw them): inflate by 1.3,
        # which brings the 80% band's backtest coverage of totals close to 80%.
        resid_scale = 1.3 * sigma * f[future_wd] * np.sqrt(1 + steps / max(n_fit, 1))
    lower = np.maximum(mean - z * resid_scale, 0.0)
    upper = mean + z * resid_scale
    total = float(mean.sum())
    # Day errors share the error of the estimated level (median of ~14 days): var = sum(s^2) + (sum(s))^2/14.
    spread = z * float(np.sqrt((resid_scale ** 2).sum() + resid_scale.sum() ** 2 / 14))
    return ForecastResult(method, mean, lower, upper, total, max(total - spread, 0.0), total + spread)


def backtest_mape(series: Sequence[float], horizon: int = 7, min_history: int = 28, step: int = 7,
                  first_weekday: int = 0) -> dict[str, float]:
    """Rolling-origin backtest: forecast `horizon` days from each origin and compare with what happened.

    Returns MAPE of daily values (days with actual > 0) and of the horizon's total, and how often the
    total's 80% band held the actual total, in percent.
    """
    y = np.asarray(series, dtype=float)
    daily_err: list[float] = []
    total_err: list[float] = []
    inside = 0
    for origin in range(min_history, len(y) - horizon + 1, step):
        r = forecast_daily(y[:origin], horizon, first_weekday)
        actual = y[origin:origin + horizon]
        ok = actual > 0
        daily_err.extend(np.abs(r.mean[ok] - actual[ok]) / actual[ok])
        if actual.sum() > 0:
            total_err.append(abs(r.total_mean - actual.sum()) / actual.sum())
            inside += int(r.total_lower <= actual.sum() <= r.total_upper)
    return {"daily_mape": 100 * float(np.mean(daily_err)) if daily_err else float("nan"),
            "total_mape": 100 * float(np.mean(total_err)) if total_err else float("nan"),
            "band_coverage": 100 * inside / len(total_err) if total_err else float("nan"),
            "origins": float(len(total_err))}


def synthetic_trend_series(days: int = 180, base: float = 20.0, slope: float = 0.15, weekly: float = 0.35,
                           noise: float = 0.12, seed: int = 0, first_weekday: int = 0) -> np.ndarray:
    """A known series: linear trend, weekday pattern (quiet weekends), multiplicative log-normal noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    wd = (first_weekday + t) % 7
    pattern = np.where(wd >= 5, 1 - weekly, 1 + weekly * 2 / 5)
    return (base + slope * t) * pattern * rng.lognormal(0, noise, days)


def _money(x: float) -> Decimal:
    return Decimal(repr(round(float(x), 2))).quantize(Decimal("0.01"))


@dataclass
class SpendForecast:
    """A dated forecast of daily spend and the projected totals of the horizon and of this month."""

    today: date
    horizon: int
    method: str
    history_days: int
    days: list[date]
    mean: list[Decimal]
    lower: list[Decimal]
    upper: list[Decimal]
    total: Decimal
    total_lower: Decimal
    total_upper: Decimal
    month_to_date: Decimal
    month_projection: Decimal
    month_lower: Decimal
    month_upper: Decimal
    currency: str = "USD"

    def as_json(self) -> dict[str, Any]:
        s = lambda d: f"{d:f}"  # noqa: E731
        return {"today": self.today.isoformat(), "days": self.horizon, "method": self.method,
                "history_days": self.history_days, "currency": self.currency,
                "daily": [{"day": d.isoformat(), "mean": s(m), "lower": s(lo), "upper": s(hi)}
                          for d, m, lo, hi in zip(self.days, self.mean, self.lower, self.upper)],
                "total": {"mean": s(self.total), "lower": s(self.total_lower), "upper": s(self.total_upper)},
                "month": {"to_date": s(self.month_to_date), "projection": s(self.month_projection),
                          "lower": s(self.month_lower), "upper": s(self.month_upper)}}


def spend_forecast(db: Any, tz: Any, today: date, days: int = 30, history: int = 120,
                   filters: Any = None, sources: Sequence[str] | None = None,
                   fx: dict[str, Decimal] | None = None, currency: str = "USD") -> SpendForecast:
    """Forecast daily spend from `today` (inclusive, today is partial) for `days` days, from complete days
    before today, and project this month's total (actual through yesterday + forecast to month end)."""
    from aicost_desktop.analytics.series import spend_series

    start = today - timedelta(days=history)
    s = spend_series(db, tz, start, today, "day", None, filters, sources, fx=fx, currency=currency)
    totals = [float(v) for v in s.totals]
    hist, today_actual = totals[:-1], totals[-1]
    month_start = today.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    to_month_end = (next_month - today).days
    h = max(days, to_month_end)
    r = forecast_daily(hist, h, start.weekday())
    # Today is partial: it will end at least at what is already spent.
    mean, lower, upper = r.mean.copy(), r.lower.copy(), r.upper.copy()
    mean[0], lower[0], upper[0] = max(mean[0], today_actual), max(lower[0], today_actual), max(upper[0], today_actual)
    mtd_before_today = sum((v for b, v in zip(s.buckets, s.totals) if month_start <= b < today), Decimal(0))
    rest = slice(0, to_month_end)
    band = (r.total_upper - r.total_mean) * np.sqrt(to_month_end / h) if h else 0.0
    m_mean = float(mean[rest].sum())
    sel = slice(0, days)
    tband = (r.total_upper - r.total_mean) * np.sqrt(days / h) if h else 0.0
    t_mean = float(mean[sel].sum())
    return SpendForecast(
        today=today, horizon=days, method=r.method, history_days=int((np.asarray(hist) > 0).sum()),
        days=[today + timedelta(days=i) for i in range(days)],
        mean=[_money(v) for v in mean[sel]], lower=[_money(v) for v in lower[sel]],
        upper=[_money(v) for v in upper[sel]],
        total=_money(t_mean), total_lower=_money(max(t_mean - tband, float(today_actual))),
        total_upper=_money(t_mean + tband),
        month_to_date=(mtd_before_today + s.totals[-1]).quantize(Decimal("0.01")),
        month_projection=_money(float(mtd_before_today) + m_mean),
        month_lower=_money(float(mtd_before_today) + max(m_mean - band, today_actual)),
        month_upper=_money(float(mtd_before_today) + m_mean + band), currency=currency)
