"""Anomalous days per series (provider, model, account): robust weekday-aware median/MAD baseline.

For each day the baseline is the previous 28 days (at least 14 since the series started): a median
level with weekday factors, and a MAD scale. A day is anomalous when it is more than `threshold`
robust deviations from expected AND the dollar difference is at least `min_dollars` (a $0.40 -> $3
jump is not worth a notification). Spikes and drops are both reported; the explanation names the
(model, account) pairs that contributed most to the difference, the way CloudZero reports cost impact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Sequence
from zoneinfo import ZoneInfo

import numpy as np

from aicost_desktop.analytics.query import NONE_LABEL, CellCache, daily_cells
from aicost_desktop.domain.money import format_money
from aicost_desktop.notify.alerts import raise_anomaly
from aicost_desktop.storage.query import LedgerFilter, day_range
from aicost_desktop.storage.db import Database

WARMUP = 14
WINDOW = 28
THRESHOLD = 5.0
MIN_DOLLARS = 5.0
SERIES_DIMENSIONS = ("provider", "model", "account")
# Manual entries and subscriptions are planned purchases the user typed in, not surprises.
USAGE_SOURCES = ("api", "import", "log", "proxy")


@dataclass(frozen=True)
class Flag:
    """One flagged index of a numeric series."""

    index: int
    actual: float
    expected: float
    score: float

    @property
    def kind(self) -> str:
        return "spike" if self.actual > self.expected else "drop"


def baseline(history: np.ndarray, history_wd: np.ndarray, weekday: int,
             seasonal: bool = True) -> tuple[float, float]:
    """Expected value and robust scale for a day with `weekday`, from the preceding days (oldest first).

    Weekday factors come from up to 8 weeks (so each is a median of several weeks, not an overfit of
    two); the level and spread come from the last 4 weeks, measured after removing those factors.
    """
    recent, recent_wd = history[-WINDOW:], history_wd[-WINDOW:]
    f = np.ones(7)
    med_all = float(np.median(history)) if len(history) else 0.0
    if seasonal and len(history) >= 14 and med_all > 0:
        for w in range(7):
            same = history[history_wd == w]
            if len(same):
                f[w] = float(np.clip(np.median(same) / med_all, 0.02, 7.0))
        f = f * 7 / f.sum()
    d = recent / f[recent_wd]
    level = float(np.median(d))
    mad = 1.4826 * float(np.median(np.abs(d - level)))
    # Floors: a perfectly flat history has MAD 0, and day-to-day noise is at least ~15% of the level.
    scale = max(mad * 1.2, 0.15 * level, 0.01)
    # Intermittent series (mostly zero days, e.g. a weekly batch job): a typical non-zero day is normal.
    nonzero = recent[recent > 0]
    if len(nonzero) and len(nonzero) < 0.5 * len(recent):
        scale = max(scale, float(np.median(nonzero)))
    return level * f[weekday], scale * f[weekday]


def _row_median(a: np.ndarray) -> np.ndarray:
    """Median of each row's non-NaN values (NaN for an empty row), like np.median on the row's values."""
    k = np.count_nonzero(~np.isnan(a), axis=1)
    s = np.sort(a, axis=1)  # NaNs sort last
    r = np.arange(len(a))
    lo, hi = np.maximum((k - 1) // 2, 0), np.maximum(k // 2, 0)
    median: np.ndarray = (s[r, lo] + s[r, hi]) / 2  # numpy types fancy-indexed sums as Any
    return median


def baselines(y: np.ndarray, wd: np.ndarray, first: int, idx: np.ndarray,
              window: int = WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """`baseline` for every day in `idx` at once (history y[max(first, i - 2*window):i]); a year of days
    takes a few array operations instead of thousands of small medians."""
    width = 2 * window
    cols = idx[:, None] + np.arange(-width, 0)[None, :]
    valid = cols >= first
    safe = np.where(valid, cols, 0)
    hist = np.where(valid, y[safe], np.nan)
    hwd = wd[safe]
    n_hist = valid.sum(axis=1)
    med_all = np.nan_to_num(_row_median(hist))
    rows = np.arange(len(idx))
    f = np.ones((len(idx), 7))
    seasonal = (n_hist >= 14) & (med_all > 0)
    if seasonal.any():
        for w in range(7):
            mw = _row_median(np.where(hwd == w, hist, np.nan))
            ok = seasonal & ~np.isnan(mw)
            f[ok, w] = np.clip(mw[ok] / np.where(ok, med_all, 1.0)[ok], 0.02, 7.0)
        f[seasonal] = f[seasonal] * 7 / f[seasonal].sum(axis=1, keepdims=True)
    recent = hist[:, -WINDOW:]  # as `baseline`: level and spread from the last WINDOW days
    d = recent / f[rows[:, None], hwd[:, -WINDOW:]]
    level = _row_median(d)
    mad = 1.4826 * _row_median(np.abs(d - level[:, None]))
    scale = np.maximum(np.maximum(mad * 1.2, 0.15 * level), 0.01)
    n_recent = np.count_nonzero(~np.isnan(recent), axis=1)
    positive = np.where(recent > 0, recent, np.nan)
    n_pos = np.count_nonzero(~np.isnan(positive), axis=1)
    sparse = (n_pos > 0) & (n_pos < 0.5 * n_recent)
    if sparse.any():
        scale = np.where(sparse, np.maximum(scale, np.nan_to_num(_row_median(positive))), scale)
    fd = f[rows, wd[idx]]
    return level * fd, scale * fd


def _score(value: float, expected: float, scale: float) -> float:
    """Robust deviations from expected. Spend noise is multiplicative, so a spike is measured on the upper
    side of a log-normal band (expected * e^(k*s), s = scale/expected): a 2x day on a noisy series is
    not a 4-sigma event."""
    diff = value - expected
    if diff > 0 and expected > 0:
        return float(np.log(value / expected) / np.log1p(scale / expected))
    return diff / scale


def detect(values: Sequence[float] | np.ndarray, first_weekday: int = 0, threshold: float = THRESHOLD,
           min_dollars: float = MIN_DOLLARS, warmup: int = WARMUP, window: int = WINDOW,
           start_index: int = 0) -> list[Flag]:
    """Flag days of a daily series (oldest first). Only indexes >= start_index are reported.

    The warm-up counts from the series' first non-zero day: a model used for the first time
    is new, not anomalous.
    """
    y = np.asarray(values, dtype=float)
    nz = np.flatnonzero(y != 0)
    if not len(nz):
        return []
    first = int(nz[0])
    wd = (first_weekday + np.arange(len(y))) % 7
    out: list[Flag] = []
    idx = np.arange(max(first + warmup, start_index), len(y))
    if not len(idx):
        return []
    exps, scales = baselines(y, wd, first, idx, window)
    # Only days passing the cheap dollar test get the exact (log-scale) score.
    big = np.abs(y[idx] - exps) >= min_dollars
    for i, exp, scale in zip(idx[big].tolist(), exps[big].tolist(), scales[big].tolist()):
        lo = max(first, i - 2 * window)
        score = _score(float(y[i]), exp, scale)
        if abs(score) < threshold:
            continue
        # Under 5 weeks each weekday factor rests on 2-4 samples, and one odd day can skew it: then the
        # day must also be unusual against the plain (non-seasonal) baseline.
        if i - lo < 35:
            exp2, scale2 = baseline(y[lo:i], wd[lo:i], int(wd[i]), seasonal=False)
            s2 = _score(float(y[i]), exp2, scale2)
            if abs(s2) < threshold or abs(y[i] - exp2) < min_dollars or (s2 > 0) != (score > 0):
                continue
        out.append(Flag(i, float(y[i]), exp, score))
    return out


@dataclass
class Contributor:
    model: str
    account: str
    delta: float
    share: float


@dataclass
class Anomaly:
    """An unusual day of one series, with expected value and the largest contributors."""

    day: date
    dimension: str
    key: str
    actual: Decimal
    expected: Decimal
    score: float
    contributors: list[Contributor] = field(default_factory=list)
    currency: str = "USD"  # of actual and expected

    @property
    def kind(self) -> str:
        return "spike" if self.actual > self.expected else "drop"

    @property
    def delta(self) -> Decimal:
        return self.actual - self.expected

    @property
    def series_day(self) -> str:
        """Names the series and day: one alert each (notify.alerts.raise_anomaly)."""
        return f"{self.dimension}:{self.key}:{self.day.isoformat()}"

    @property
    def explanation(self) -> str:
        sign = "+" if self.delta >= 0 else "-"
        cur = self.currency
        text = (f"{self.dimension} {self.key} on {self.day.isoformat()}: {sign}{format_money(abs(self.delta), cur)} "
                f"vs expected {format_money(self.expected, cur)} (actual {format_money(self.actual, cur)})")
        parts = []
        for c in self.contributors[:2]:
            if round(100 * c.share) < 1:  # "0% from ..." explains nothing
                continue
            model = c.model if self.dimension != "model" and c.model != NONE_LABEL else ""
            account = f"account {c.account}" if self.dimension != "account" and c.account != NONE_LABEL else ""
            where = f"{model} on {account}" if model and account else model or account
            if where:
                parts.append(f"{round(100 * c.share)}% from {where}")
        return text + (", " + ", ".join(parts) if parts else "")

    def as_json(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "dimension": self.dimension, "key": self.key, "kind": self.kind,
                "actual": f"{self.actual:f}", "expected": f"{self.expected:f}", "delta": f"{self.delta:f}",
                "score": round(self.score, 2), "explanation": self.explanation,
                "contributors": [{"model": c.model, "account": c.account, "delta": round(c.delta, 2),
                                  "share": round(c.share, 3)} for c in self.contributors]}


def _cents(x: float) -> Decimal:
    return Decimal(repr(round(float(x), 2))).quantize(Decimal("0.01"))


def history_start(start: date) -> date:
    """The first local day find_anomalies reads for days from `start`: two baseline windows before it."""
    return start - timedelta(days=2 * WINDOW)


def find_anomalies(db: Database, tz: ZoneInfo, start: date, end: date,
                   dimensions: Sequence[str] = SERIES_DIMENSIONS, filters: LedgerFilter | None = None,
                   sources: Sequence[str] | None = USAGE_SOURCES, threshold: float = THRESHOLD,
                   min_dollars: float = MIN_DOLLARS, fx: dict[str, Decimal] | None = None,
                   currency: str = "USD", today: date | None = None,
                   cache: CellCache | None = None) -> list[Anomaly]:
    """Anomalous local days in [start, end] for every series of each dimension, newest first.

    A day not over yet (`today`, the zone's current date by default) is never a drop: at 00:20 every series
    is "down" on a full day's expectation. It can already be a spike: what it spent is over what a day
    usually spends."""
    today = today or datetime.now(tz).date()
    hist_start = history_start(start)
    cells = daily_cells(db, tz, hist_start, end, ("provider", "model", "account"), filters, sources,
                        fx=fx, currency=currency, cache=cache)
    days = day_range(hist_start, end)
    index = {d: i for i, d in enumerate(days)}
    n = len(days)
    start_i = index[start]
    # Per (provider, model, account) leaf series; every dimension's series is a sum of leaves.
    leaves: dict[tuple[str, str, str], np.ndarray] = {}
    for c in cells:
        provider, model, account = c.keys  # the three dimensions asked for above
        arr = leaves.setdefault((provider, model, account), np.zeros(n))
        arr[index[c.day]] += float(c.cost)
    found: list[Anomaly] = []
    for dim in dimensions:
        pos = SERIES_DIMENSIONS.index(dim)
        groups: dict[str, list[tuple[str, str, str]]] = {}
        for leaf in leaves:
            groups.setdefault(leaf[pos], []).append(leaf)
        wd = (hist_start.weekday() + np.arange(n)) % 7
        for key, members in groups.items():
            y = np.sum([leaves[m] for m in members], axis=0)
            flags = [f for f in detect(y, hist_start.weekday(), threshold, min_dollars, start_index=start_i)
                     if f.kind == "spike" or days[f.index] < today]
            if not flags:
                continue
            why = _contributors(leaves, members, np.array([f.index for f in flags]), wd)
            for f, contributors in zip(flags, why):
                found.append(Anomaly(days[f.index], dim, key, _cents(f.actual), _cents(f.expected), f.score,
                                     contributors, currency))
    return sorted(found, key=lambda a: (a.day, abs(a.delta)), reverse=True)


def _contributors(leaves: dict[tuple[str, str, str], np.ndarray], members: list[tuple[str, str, str]],
                  idx: np.ndarray, wd: np.ndarray) -> list[list[Contributor]]:
    """For each flagged day in `idx`: (model, account) pairs ranked by their share of the day's difference
    from expected (each leaf's own baseline, all flagged days of a leaf computed at once)."""
    deltas: list[dict[tuple[str, str], float]] = [{} for _ in idx]
    for p, m, a in members:
        y = leaves[(p, m, a)]
        exps = np.where(idx > 0, np.nan_to_num(baselines(y, wd, 0, idx)[0]), 0.0)
        for k, i in enumerate(idx.tolist()):
            deltas[k][(m, a)] = deltas[k].get((m, a), 0.0) + float(y[i]) - float(exps[k])
    out: list[list[Contributor]] = []
    for day in deltas:
        total = sum(day.values())
        if not total:
            out.append([])
            continue
        ranked = sorted(day.items(), key=lambda kv: -kv[1] * np.sign(total))
        out.append([Contributor(m, a, d, d / total) for (m, a), d in ranked[:3] if d * total > 0])
    return out


def raise_alerts(db: Database, anomalies: Sequence[Anomaly]) -> int:
    """Turn anomalies into `anomaly` alerts (one per series and day, with outbox rows). Returns how many were new."""
    return sum(1 for a in anomalies
               if raise_anomaly(db, a.series_day, a.explanation, current_usage=a.actual, expected=a.expected)
               is not None)
