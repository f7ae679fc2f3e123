"""Synthetic daily spend series with injected anomalies, and the detector's precision/recall on them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aicost_desktop.analytics.anomalies import WARMUP, detect


def clean_series(rng: np.random.Generator, days: int) -> np.ndarray:
    """A plausible usage series: random level ($3-$150/day), mild trend, weekday pattern, log-normal noise."""
    level = float(np.exp(rng.uniform(np.log(3), np.log(150))))
    trend = rng.uniform(-0.003, 0.006)
    weekend = rng.uniform(0.3, 1.0)
    noise = rng.uniform(0.08, 0.25)
    t = np.arange(days)
    wd = t % 7
    pattern = np.where(wd >= 5, weekend, 1.0)
    return level * (1 + trend * t) * pattern * rng.lognormal(0, noise, days)


@dataclass
class DetectorScore:
    series: int
    injected: int
    true_positives: int
    false_positives: int
    clean_series: int
    clean_series_flagged: int
    clean_days: int
    clean_days_flagged: int

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.injected if self.injected else 1.0

    @property
    def clean_series_fp_rate(self) -> float:
        """Share of clean series with at least one flagged day."""
        return self.clean_series_flagged / self.clean_series if self.clean_series else 0.0

    @property
    def clean_day_fp_rate(self) -> float:
        return self.clean_days_flagged / self.clean_days if self.clean_days else 0.0


def evaluate(n_series: int = 200, days: int = 120, per_series: int = 2, seed: int = 7,
             min_dollars: float = 5.0) -> DetectorScore:
    """Half the series get `per_series` injected spikes (x2.5-x6) or drops (to 0-15%) that also differ
    from expected by at least twice the dollar floor; the other half stay clean."""
    rng = np.random.default_rng(seed)
    injected = tp = fp = clean_flagged = clean_days = clean_days_flagged = 0
    n_clean = 0
    for k in range(n_series):
        y = clean_series(rng, days)
        truth: set[int] = set()
        if k % 2 == 0:
            candidates = rng.choice(np.arange(WARMUP + 14, days), size=per_series, replace=False)
            for i in candidates:
                i = int(i)
                if rng.random() < 0.6:
                    new = y[i] * rng.uniform(2.5, 6)
                else:
                    new = y[i] * rng.uniform(0.0, 0.15)
                if abs(new - y[i]) >= 2 * min_dollars:
                    y[i] = new
                    truth.add(i)
        flags = {f.index for f in detect(y, 0, min_dollars=min_dollars)}
        # A day right after an injected one may legitimately be judged against it; count only exact days.
        injected += len(truth)
        tp += len(flags & truth)
        fp += len(flags - truth)
        if k % 2 == 1:
            n_clean += 1
            clean_flagged += bool(flags)
            clean_days += days - WARMUP
            clean_days_flagged += len(flags)
    return DetectorScore(n_series, injected, tp, fp, n_clean, clean_flagged, clean_days, clean_days_flagged)
