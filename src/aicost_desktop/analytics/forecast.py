"""The one spend forecast: a period's projected total and 80% band (budgets, Analytics, the CLI) and the daily
forecast behind it (Theil-Sen damped trend x weekday factors, bands calibrated by backtesting the series).

What is projected: metered usage (api, import, log, proxy rows) is learnt day by day and forecast; a manual
entry is a one-off and a subscription charge recurs on its own calendar, so neither is extrapolated as if it
happened every day. A period's projection is

    spent through today (every source; today's usage lifted to its forecast if that is higher)
  + forecast usage for the rest of the period
  + charges already known for the rest of it (future-dated ledger rows, subscription renewals falling due)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, Sequence
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select

from aicost_desktop.analytics.query import CellCache, daily_cells
from aicost_desktop.domain.days import utc_midnight
from aicost_desktop.domain.errors import InputError
from aicost_desktop.manual import charge_dates
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.query import LedgerFilter, where_clauses
from aicost_desktop.storage.tables import Subscription, UsageRow

# Why this point model: spend series are short, spiky and weekly. Medians and Theil-Sen slopes ignore the odd
# spike that would drag a least-squares or Holt-Winters fit, and the model degrades step by step with less
# history: < 3 days -> last value, < 14 days -> median level, >= 14 days -> weekday factors, >= 21 days -> trend.
#
# Why this band: in-sample residuals of such a fit say little about out-of-sample error, and a period total is
# not a sum of independent days (every day shares the error of the estimated level and slope, and spikes the
# median-based forecast leaves out are real spend). So the model is backtested on the series' own history
# (forecasts from each of its last MAX_ORIGINS days, compared with what followed) and:
#   - each day's band is the conformal 10%/90% quantiles of those daily log errors at about the same lead;
#   - a running total's band is centred on the mean (spikes add mean - median of the errors each day) and has a
#     variance model (independent daily errors + shared level error + slope error growing with the lead) whose
#     scale is set per lead by the conformal 80% quantile of the backtest's standardized total errors.
# With too little history to backtest (< 30 days), the variance model alone, with normal quantiles.

Z80 = 1.2816         # two-sided 80% band of a normal
PHI = 0.98           # trend damping per day: a 30-day forecast never extrapolates a short burst for ever
FIT_WINDOW = 56
MIN_ORIGIN = 21      # first backtest origin: where the full model (trend + weekdays) is available
MAX_ORIGINS = 60     # backtest only the most recent days: bounds the cost (60 small fits), follows recent habits
MIN_SAMPLES = 9      # fewest errors for a finite 80% conformal quantile: ceil((m + 1) * 0.9) <= m
LEADS = 31           # backtest a month of leads whatever the horizon, so the band through day k never depends on it
MAX_DRIFT = 0.01     # sd of an unfitted trend, relative to the level per day, at most
SD_FLOOR = 0.05      # no day is predictable to better than ~5%: a perfectly regular history still gets a band


@dataclass
class ForecastResult:
    """Point forecast and band per future day (floats in currency units), plus the method used.

    cum_lower/cum_upper: the 80% band of the running total through each day (the last is the total's band)."""

    method: str
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    total_mean: float
    total_lower: float
    total_upper: float
    cum_lower: np.ndarray
    cum_upper: np.ndarray


@dataclass
class _Fit:
    method: str
    mean: np.ndarray
    sd: float        # robust sd of the daily noise, on a log scale
    sd_level: float  # sd of the estimated level, relative
    sd_slope: float  # sd of the estimated slope, relative to the level, per day
    lag: float       # days a slope acts on at lead 0: a median level lags a trend it did not remove


def _weekday_factors(y: np.ndarray, weekdays: np.ndarray) -> np.ndarray:
    """Median of each weekday's value relative to a centred 7-day mean, normalized to average 1 (len(y) >= 14)."""
    n = len(y)
    level = np.convolve(y, np.ones(7) / 7, mode="same")
    # The edges of a 'same' convolution are biased; use the trailing/leading full weeks there.
    level[:3] = y[:7].mean()
    level[n - 3:] = y[n - 7:].mean()
    ratios = np.where(level > 1e-9, y / np.maximum(level, 1e-9), 1.0)
    # All seven medians at once (the backtest fits this ~60 times per forecast): the days are consecutive, so
    # a (weeks x 7) grid padded with NaN, which sorts last, holds one weekday per column.
    grid = np.full(-(-n // 7) * 7, np.nan)
    grid[:n] = ratios
    grid = np.sort(grid.reshape(-1, 7), axis=0)
    count, cols = (n - np.arange(7) + 6) // 7, np.arange(7)
    f = np.ones(7)
    f[weekdays[:7]] = (grid[(count - 1) // 2, cols] + grid[count // 2, cols]) / 2
    f = np.clip(f, 0.05, 5.0)
    factors: np.ndarray = f * 7 / f.sum()  # numpy types the scaled array as Any
    return factors


def _median(a: np.ndarray) -> float:
    """np.median of a non-empty 1-D array, the same value (NaN if any is NaN) at a fraction of the cost:
    a forecast fits ~50 backtest origins, and np.median's generality was a third of each fit."""
    s = np.sort(a)  # NaN sorts last
    n = len(s)
    if s[-1] != s[-1]:
        return math.nan
    return float((s[(n - 1) // 2] + s[n // 2]) / 2)


@lru_cache(maxsize=FIT_WINDOW + 1)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs i < j of n points and their distances (n <= FIT_WINDOW: every fit has one of few sizes)."""
    i, j = np.triu_indices(n, k=1)
    arrays = i, j, (j - i).astype(float)
    for a in arrays:
        a.flags.writeable = False  # shared by every caller
    return arrays


def _theil_sen(y: np.ndarray) -> float:
    i, j, dist = _pairs(len(y))
    return _median((y[j] - y[i]) / dist)


def _damp(horizon: int) -> np.ndarray:
    return np.cumsum(PHI ** np.arange(1, horizon + 1))


def _fit(y: np.ndarray, horizon: int, first_weekday: int) -> _Fit:
    """Point forecast of `horizon` days after `y` (no leading zeros, len >= 1) and the scales of its errors."""
    n = len(y)
    if n < 3:
        # A day or two says little: ~30% noise a day, and the level itself is that uncertain.
        return _Fit("last-value", np.full(horizon, float(y[-1])), 0.3, 0.3, 0.0, 0.0)
    y = y[-FIT_WINDOW:] if n > FIT_WINDOW else y
    n_fit = len(y)
    wd = (first_weekday + (n - n_fit) + np.arange(n_fit)) % 7
    future_wd = (first_weekday + n + np.arange(horizon)) % 7
    if n_fit >= 14:
        f = _weekday_factors(y, wd)
        method = "weekday-median"
    else:
        f = np.ones(7)
        method = "median"
    d = y / f[wd]
    t = np.arange(n_fit, dtype=float)
    trend = _theil_sen(d)
    slope = trend if n_fit >= 21 else 0.0
    if n_fit >= 21:
        method = "trend+weekday"
    # Level at the last observed day: median of the detrended last two weeks, re-trended.
    recent = min(14, n_fit)
    level = _median(d[-recent:] - slope * (t[-recent:] - t[-1]))
    mean = np.maximum((level + slope * _damp(horizon)) * f[future_wd], 0.0)
    # Noise on a log scale: it is multiplicative (a busy day varies more in dollars than a quiet one). With
    # weekday factors, from same-weekday differences a week apart: residuals of the fit understate it (seven
    # weekday medians of two or three values absorb much of it); without, the residuals are the model's error.
    c = _offset(y)
    if n_fit >= 14:
        r = np.log(y[7:] + c) - np.log(y[:-7] + c)
        spread = _median(np.abs(r - _median(r))) / math.sqrt(2)
    else:
        r = np.log((y + c) / (level * f[wd] + c))
        spread = _median(np.abs(r - _median(r)))
    # MAD -> sd, with its small-sample correction (Croux & Rousseeuw: ~ n / (n - 0.8)).
    sd = max(1.4826 * len(r) / (len(r) - 0.8) * spread, SD_FLOOR)
    # Standard errors of the level (a median of `recent` values, divided by weekday factors that are medians
    # of n_fit / 7 values each) and of a Theil-Sen slope (~OLS / 0.95 efficiency).
    sd_level = 1.2533 * sd * float(np.sqrt(1 / recent + (1 / n_fit if n_fit >= 14 else 0)))
    sd_slope = 1.05 * sd * float(np.sqrt(12 / (n_fit ** 3 - n_fit)))
    lag = 0.0
    if n_fit < 21:
        # Too short to trust a trend is not evidence of none: the unfitted slope still widens the band, up to
        # a drift of 1% a day (a few days cannot tell a trend from the week's pattern), and acts from the
        # middle of the days the level is the median of.
        sd_slope = min(float(np.hypot(sd_slope, trend / max(level, c))), MAX_DRIFT)
        lag = (recent - 1) / 2
    return _Fit(method, mean, sd, sd_level, sd_slope, lag)


def _offset(y: np.ndarray) -> float:
    """Added to actuals and forecasts before taking ratios, so that a zero day has a finite relative error."""
    return 0.02 * float(np.mean(y[-FIT_WINDOW:])) + 1e-9


def _conformal(errors: np.ndarray, q: float) -> float | None:
    """Split-conformal q-quantile of `errors` (NaN ignored): the ceil((m + 1) q)-th smallest, None if too few."""
    e = np.sort(errors[np.isfinite(errors)])
    m = len(e)
    if m < MIN_SAMPLES:
        return None
    return float(e[min(max(int(np.ceil((m + 1) * q)), 1), m) - 1])


def _total_sd(f: np.ndarray, sd_day: float, sd_level: float, sd_slope: float, damp: np.ndarray) -> np.ndarray:
    """Sd of the running total's error through each day (along the last axis) for forecasts `f` (offset added):
    independent daily errors add in variance, the level's and slope's errors add linearly (every day shares them)."""
    return np.sqrt(sd_day ** 2 * np.cumsum(f ** 2, -1) + (sd_level * np.cumsum(f, -1)) ** 2
                   + (sd_slope * np.cumsum(f * damp, -1)) ** 2)


def forecast_daily(history: Sequence[float] | np.ndarray, horizon: int, first_weekday: int = 0,
                   z: float = Z80) -> ForecastResult:
    """Forecast `horizon` days after `history` (daily spend, oldest first; history[0] has weekday
    `first_weekday`, Monday = 0), with bands per day and for the running total (see the notes above) that
    should hold the outcome with the probability of +-z of a normal (80% for Z80)."""
    y = np.asarray(history, dtype=float)
    horizon = max(int(horizon), 0)
    # Leading zero days are "before the user started", not a quiet period.
    nz = np.flatnonzero(y > 0)
    z0 = np.zeros(horizon)
    if len(nz) == 0:
        return ForecastResult("none", z0, z0, z0, 0.0, 0.0, 0.0, z0, z0)
    first_weekday = (first_weekday + int(nz[0])) % 7
    y = y[nz[0]:]
    n = len(y)
    fit = _fit(y, horizon, first_weekday)
    if horizon == 0:
        return ForecastResult(fit.method, z0, z0, z0, 0.0, 0.0, 0.0, z0, z0)
    c = _offset(y)
    f = fit.mean + c
    damp = _damp(horizon) + fit.lag
    # Without a backtest: the variance model with the fit's own error scales, normal quantiles.
    sd_day, sd_level, sd_slope, shift = fit.sd, fit.sd_level, fit.sd_slope, 0.0
    day_sd = np.sqrt(sd_day ** 2 + sd_level ** 2 + (sd_slope * damp) ** 2)
    day_q = np.stack([-z * day_sd, z * day_sd], axis=1)
    scale = np.full(horizon, z)
    p = math.erf(z / math.sqrt(2))  # the band's probability
    origins = range(max(MIN_ORIGIN, n - MAX_ORIGINS), n)
    if len(origins) >= MIN_SAMPLES:
        leads = max(horizon, LEADS)
        fc = np.full((len(origins), leads), np.nan)
        act = fc.copy()
        for i, o in enumerate(origins):
            k = min(leads, n - o)
            fc[i, :k] = _fit(y[:o], k, first_weekday).mean + c
            act[i, :k] = y[o:o + k] + c
        log_err = np.log(act / fc)
        for k in range(horizon):  # daily band: the errors at leads k-3..k+3 (every weekday once)
            lo, hi = (_conformal(log_err[:, max(0, k - 3):k + 4].ravel(), q) for q in ((1 - p) / 2, (1 + p) / 2))
            if lo is not None and hi is not None:
                day_q[k] = lo, hi
            elif k:
                day_q[k] = day_q[k - 1]  # too few errors this far ahead: keep the last lead's
        ratio = act / fc - 1
        # Daily spread of the errors as they add up in a total: plain sd, spikes included. The band is centred on
        # the mean rather than the median-based forecast: spikes the forecast leaves out still get spent.
        sd_day, sd_level, sd_slope = float(np.nanstd(ratio)), fit.sd_level, fit.sd_slope
        shift = float(np.nanmean(ratio) - np.nanmedian(ratio))
        bt_damp = _damp(leads) + fit.lag
        score = np.abs(np.cumsum(act - fc * (1 + shift), 1)) / _total_sd(fc, sd_day, sd_level, sd_slope, bt_damp)
        for k in range(horizon):  # total band: scale from the standardized errors at leads k/2..2k
            s = _conformal(score[:, k // 2:2 * k + 2].ravel(), p)
            scale[k] = s if s is not None else scale[k - 1] if k else z
    # Bands always contain the point forecast; a spend never goes below 0.
    day_q = np.clip(day_q, [-np.inf, z * SD_FLOOR], [-z * SD_FLOOR, np.inf])
    lower = np.maximum(f * np.exp(day_q[:, 0]) - c, 0.0)
    upper = f * np.exp(day_q[:, 1]) - c
    cum = np.cumsum(fit.mean)
    centre = cum + shift * np.cumsum(f)
    half = np.maximum(scale * _total_sd(f, sd_day, sd_level, sd_slope, damp),
                      z * SD_FLOOR * np.sqrt(np.cumsum(f ** 2)))
    # A running total never shrinks: neither do its bounds.
    cum_lower = np.maximum.accumulate(np.clip(centre - half, 0.0, cum))
    cum_upper = np.maximum.accumulate(np.maximum(centre + half, cum))
    return ForecastResult(fit.method, fit.mean, lower, upper, float(cum[-1]), float(cum_lower[-1]),
                          float(cum_upper[-1]), cum_lower, cum_upper)


def remembered_forecast(history: np.ndarray, horizon: int, first_weekday: int = 0) -> ForecastResult:
    """forecast_daily, remembered for the last few histories (the result's arrays are read-only: shared).

    A view's refresh after a sync that wrote today asks for the forecast of the same complete days again,
    and so do the budgets of one scope and the dashboard; the backtest behind a forecast (a fit per origin,
    ~60 fits) is most of its cost."""
    h = np.ascontiguousarray(history, dtype=float)
    return _remembered(h.tobytes(), int(horizon), int(first_weekday))


@lru_cache(maxsize=32)
def _remembered(history: bytes, horizon: int, first_weekday: int) -> ForecastResult:
    r = forecast_daily(np.frombuffer(history, dtype=float), horizon, first_weekday)
    for a in (r.mean, r.lower, r.upper, r.cum_lower, r.cum_upper):
        a.flags.writeable = False
    return r


def backtest_mape(series: Sequence[float], horizon: int = 7, min_history: int = 28, step: int = 7,
                  first_weekday: int = 0) -> dict[str, float]:
    """Rolling-origin backtest: forecast `horizon` days from each origin and compare with what happened.

    Returns, in percent: MAPE of daily values (days with actual > 0) and of the horizon's total (totals > 0);
    band_coverage, how often the total's 80% band (the one shown with a forecast total) held the actual total,
    and daily_band_coverage, how often a day's band (the one charted) held that day, over every origin;
    band_width and daily_band_width, the mean width of those bands relative to the forecast. And `origins`.
    """
    y = np.asarray(series, dtype=float)
    daily_err: list[float] = []
    total_err: list[float] = []
    in_total: list[bool] = []
    in_day: list[bool] = []
    width: list[float] = []
    day_width: list[float] = []
    for origin in range(min_history, len(y) - horizon + 1, step):
        r = forecast_daily(y[:origin], horizon, first_weekday)
        actual = y[origin:origin + horizon]
        total = float(actual.sum())
        ok = actual > 0
        daily_err.extend(np.abs(r.mean[ok] - actual[ok]) / actual[ok])
        if total > 0:
            total_err.append(abs(r.total_mean - total) / total)
        in_total.append(r.total_lower <= total <= r.total_upper)
        in_day.extend((r.lower <= actual) & (actual <= r.upper))
        if r.total_mean > 0:
            width.append((r.total_upper - r.total_lower) / r.total_mean)
            day_width.append(float(np.mean(r.upper - r.lower) / np.mean(r.mean)))

    def pct(xs: Sequence[float]) -> float:
        return 100 * float(np.mean(xs)) if len(xs) else float("nan")

    return {"daily_mape": pct(daily_err), "total_mape": pct(total_err), "band_coverage": pct(in_total),
            "daily_band_coverage": pct(in_day), "band_width": pct(width), "daily_band_width": pct(day_width),
            "origins": float(len(in_total))}


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


# Metered usage: what the daily model learns from and projects. Manual entries (one-offs) and subscription
# charges (their own calendar) are counted where they are dated, never extrapolated.
USAGE_SOURCES = ("api", "import", "log", "proxy")
HISTORY_DAYS = 120


@dataclass(frozen=True)
class Outlook:
    """Spend from `today` on, one entry per day (days[0] is today): the forecast of metered usage (today's
    lifted to at least what is already spent), its bands, and the charges already known for each day."""

    today: date
    method: str
    history_days: int
    days: list[date]
    usage: np.ndarray        # forecast usage per day
    lower: np.ndarray        # its 80% band per day
    upper: np.ndarray
    cum_lower: np.ndarray    # 80% band of the running usage total through each day
    cum_upper: np.ndarray
    known: np.ndarray        # future-dated ledger rows and subscription renewals per day (0 today: spent already)
    spent: dict[date, Decimal]  # spend per local day through today, every source
    usage_today: Decimal        # metered usage already spent today (replaced by usage[0] in a projection)
    currency: str


@dataclass(frozen=True)
class PeriodForecast:
    """Projected spend of local days [first, last] at `last`, with its 80% band, as of `today`."""

    first: date
    last: date
    today: date
    spent: Decimal           # through today, every source
    amount: Decimal          # projected total at `last`
    lower: Decimal
    upper: Decimal
    known: Decimal           # charges already known after today (included in amount and band)
    method: str
    history_days: int
    breach_date: date | None = None  # the day the running total is projected to reach the limit asked about

    @classmethod
    def flat(cls, first: date, last: date, today: date, spent: Decimal) -> "PeriodForecast":
        """Nothing to project (a scope no row matches): the total stays where it is."""
        v = spent.quantize(Decimal("0.01"))
        return cls(first, last, today, spent, v, v, v, Decimal(0), "none", 0)

    def as_json(self) -> dict[str, Any]:
        return {"to_date": f"{self.spent.quantize(Decimal('0.01')):f}", "projection": f"{self.amount:f}",
                "lower": f"{self.lower:f}", "upper": f"{self.upper:f}", "known": f"{self.known:f}",
                "method": self.method}


def _subscription_charges(db: Database, tz: ZoneInfo, flt: LedgerFilter, first: date, last: date,
                          fx: dict[str, Decimal], currency: str) -> dict[date, Decimal]:
    """Renewals of the subscriptions `flt` counts that fall due in [first, last] and are not in the ledger yet."""
    if flt.sources is not None and "subscription" not in flt.sources:
        return {}
    scope = LedgerFilter(flt.providers, flt.models, flt.accounts, flt.workspaces, flt.projects, mode=flt.mode)
    with db.session() as s:
        if scope.is_empty:
            subs = list(s.scalars(select(Subscription)))
        else:  # a subscription belongs to a scope through the charges it has written
            cond = where_clauses(db, scope, tz, UsageRow)
            ids = select(UsageRow.subscription_id).where(UsageRow.source == "subscription", *cond).distinct()
            subs = list(s.scalars(select(Subscription).where(Subscription.id.in_(ids))))
        written = set(s.scalars(select(UsageRow.dedup_key).where(
            UsageRow.source == "subscription", UsageRow.bucket_start >= utc_midnight(first))))
    out: dict[date, Decimal] = {}
    for sub in subs:
        rate = Decimal(1) if sub.currency == currency else fx.get(sub.currency)
        if rate is None:
            raise InputError("currency", sub.currency, "no exchange rate configured (setting fx_rates)")
        if sub.currency != currency:
            rate = rate / fx.get(currency, Decimal(1))
        for d in charge_dates(sub.start_date, sub.end_date, sub.period, last):
            if d >= first and f"subscription:{sub.id}:{d.isoformat()}" not in written:
                out[d] = out.get(d, Decimal(0)) + sub.amount * rate
    return out


def outlook_span(today: date, horizon: int, history: int = HISTORY_DAYS) -> tuple[date, date]:
    """The local days an outlook of `horizon` days reads: its history, today, and the days it forecasts (known
    charges ahead count)."""
    return today - timedelta(days=history), today + timedelta(days=max(int(horizon), LEADS) - 1)


def outlook(db: Database, tz: ZoneInfo, today: date, horizon: int, filters: LedgerFilter | None = None,
            sources: Sequence[str] | None = None, fx: dict[str, Decimal] | None = None,
            currency: str = "USD", history: int = HISTORY_DAYS, cache: CellCache | None = None) -> Outlook:
    """Forecast `horizon` days from `today` (inclusive; today is partial) from the complete days before it."""
    fx = fx or {"USD": Decimal(1)}
    flt = (filters or LedgerFilter()).narrowed(sources=list(sources) if sources else None)
    # At least a month is always forecast: the band through day k then never depends on how far ahead was
    # asked (forecast_daily backtests max(horizon, LEADS) leads), so every caller gets the same month-end figure.
    start, end = outlook_span(today, horizon, history)
    h = (end - today).days + 1
    usage_hist = np.zeros(history)
    spent: dict[date, Decimal] = {}
    known = np.zeros(h)
    usage_today = Decimal(0)
    for c in daily_cells(db, tz, start, end, ("source",), flt, None, fx=fx, currency=currency, cache=cache):
        if c.day > today:
            known[(c.day - today).days] += float(c.cost)
            continue
        spent[c.day] = spent.get(c.day, Decimal(0)) + c.cost
        if c.keys[0] in USAGE_SOURCES:
            if c.day == today:
                usage_today += c.cost
            else:
                usage_hist[(c.day - start).days] += float(c.cost)
    for d, v in _subscription_charges(db, tz, flt, today, end, fx, currency).items():
        known[(d - today).days] += float(v)
    r = remembered_forecast(usage_hist, h, start.weekday())
    # Today is partial: its usage ends at least at what is already spent, and so does every running total.
    u0 = float(usage_today)
    lift = max(u0 - float(r.mean[0]), 0.0)
    usage, lower, upper = r.mean.copy(), r.lower.copy(), r.upper.copy()
    usage[0], lower[0], upper[0] = usage[0] + lift, max(lower[0], u0), max(upper[0], u0)
    cum_lower = np.maximum(r.cum_lower + lift, u0)
    cum_upper = r.cum_upper + lift
    return Outlook(today, r.method, int((usage_hist > 0).sum()), [today + timedelta(days=i) for i in range(h)],
                   usage, lower, upper, cum_lower, cum_upper, known, spent, usage_today, currency)


def project(o: Outlook, first: date, last: date, limit: Decimal | None = None) -> PeriodForecast:
    """The projected total of local days [first, last] (first <= o.today) from an outlook that reaches `last`."""
    spent = sum((v for d, v in o.spent.items() if first <= d <= o.today), Decimal(0))
    k = (last - o.today).days + 1 if last >= o.today else 0
    if k > len(o.days):
        raise ValueError(f"the outlook ends {o.days[-1]}, before {last}")
    base = float(spent - (o.usage_today if first <= o.today <= last else 0))
    known = float(o.known[:k].sum())
    if k:
        mean, lo, hi = float(o.usage[:k].sum()), float(o.cum_lower[k - 1]), float(o.cum_upper[k - 1])
    else:
        mean = lo = hi = float(o.usage_today)  # a period already over: what was spent
    breach: date | None = None
    if limit is not None:
        if spent >= limit:
            breach = min(o.today, last)
        elif k:
            running = base + np.cumsum(o.usage[:k] + o.known[:k])
            hit = np.flatnonzero(running >= float(limit))
            breach = o.days[int(hit[0])] if len(hit) else None
    return PeriodForecast(first, last, o.today, spent, _money(base + mean + known), _money(base + lo + known),
                          _money(base + hi + known), _money(known), o.method, o.history_days, breach)


def period_forecast(db: Database, tz: ZoneInfo, first: date, last: date, today: date,
                    filters: LedgerFilter | None = None, sources: Sequence[str] | None = None,
                    fx: dict[str, Decimal] | None = None, currency: str = "USD",
                    limit: Decimal | None = None) -> PeriodForecast:
    """Projected spend of [first, last] as of `today`, with its band (and the breach date of `limit`): what
    the budget card, the Budgets table, `aicost budgets status` and the Analytics month-end figure show."""
    o = outlook(db, tz, today, (last - today).days + 1, filters, sources, fx, currency)
    return project(o, first, last, limit)


def month_bounds(today: date) -> tuple[date, date]:
    """The first and last local day of the month holding `today`."""
    first = today.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


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
    month: PeriodForecast
    currency: str = "USD"

    @property
    def month_to_date(self) -> Decimal:
        return self.month.spent.quantize(Decimal("0.01"))

    @property
    def month_projection(self) -> Decimal:
        return self.month.amount

    @property
    def month_lower(self) -> Decimal:
        return self.month.lower

    @property
    def month_upper(self) -> Decimal:
        return self.month.upper

    def as_json(self) -> dict[str, Any]:
        def s(d: Decimal) -> str:
            return f"{d:f}"

        return {"today": self.today.isoformat(), "days": self.horizon, "method": self.method,
                "history_days": self.history_days, "currency": self.currency,
                "daily": [{"day": d.isoformat(), "mean": s(m), "lower": s(lo), "upper": s(hi)}
                          for d, m, lo, hi in zip(self.days, self.mean, self.lower, self.upper)],
                "total": {"mean": s(self.total), "lower": s(self.total_lower), "upper": s(self.total_upper)},
                "month": {"to_date": s(self.month_to_date), "projection": s(self.month_projection),
                          "lower": s(self.month_lower), "upper": s(self.month_upper)}}


def forecast_horizon(today: date, days: int) -> int:
    """The days spend_forecast forecasts for `days` asked: at least through the month's end."""
    return max(days, (month_bounds(today)[1] - today).days + 1)


def spend_forecast(db: Database, tz: ZoneInfo, today: date, days: int = 30, history: int = HISTORY_DAYS,
                   filters: LedgerFilter | None = None, sources: Sequence[str] | None = None,
                   fx: dict[str, Decimal] | None = None, currency: str = "USD",
                   cache: CellCache | None = None) -> SpendForecast:
    """Daily spend for `days` days from `today` (inclusive, today is partial) with bands, the next `days` days'
    total, and this month's projection (the same figure as `period_forecast` of the month)."""
    first, last = month_bounds(today)
    o = outlook(db, tz, today, forecast_horizon(today, days), filters, sources, fx, currency, history, cache)
    nxt = project(o, today, today + timedelta(days=days - 1))
    sel = slice(0, days)
    known = o.known[sel]
    return SpendForecast(
        today=today, horizon=days, method=o.method, history_days=o.history_days, days=o.days[sel],
        mean=[_money(v) for v in o.usage[sel] + known], lower=[_money(v) for v in o.lower[sel] + known],
        upper=[_money(v) for v in o.upper[sel] + known],
        total=nxt.amount, total_lower=nxt.lower, total_upper=nxt.upper,
        month=project(o, first, last), currency=currency)
