"""Forecast of a period's spend at its end: a blend of the period's run rate and the recent daily average.

The method, chosen so a user can check it by hand:

    elapsed    = days since the period started (real hours / 24; at least min(1, 10% of the period))
    run_rate   = spent / elapsed
    recent_avg = spend of the 7 full local days before today / 7
    w          = fraction of the period elapsed (0..1)
    rate       = w * run_rate + (1 - w) * recent_avg
    forecast   = spent + rate * remaining days

Early in a period the recent average dominates (one expensive hour on the 1st does not project a
fortune); late in the period the period's own run rate does. The breach date is when `spent`
reaches the limit at `rate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from aicost_desktop.budgets.periods import BudgetPeriod
from aicost_desktop.domain.money import ZERO

SECONDS_PER_DAY = Decimal(86400)
RECENT_DAYS = 7


@dataclass(frozen=True)
class Forecast:
    """Projected spend at the period end, with the inputs that produced it."""

    amount: Decimal
    rate: Decimal          # money per day used for the projection
    run_rate: Decimal
    recent_avg: Decimal
    weight: Decimal        # weight of run_rate (= elapsed fraction)
    breach_date: date | None  # local date the limit is projected to be reached (None: not before the end)


def _days(seconds: float) -> Decimal:
    return Decimal(round(seconds)) / SECONDS_PER_DAY


def forecast_spend(spent: Decimal, period: BudgetPeriod, now: datetime, recent_avg: Decimal,
                   limit: Decimal | None = None, tz: ZoneInfo | None = None) -> Forecast:
    """Project `spent` to the end of `period` (see the module docstring for the formula)."""
    total = _days((period.end_utc - period.start_utc).total_seconds())
    elapsed = _days((min(max(now, period.start_utc), period.end_utc) - period.start_utc).total_seconds())
    remaining = total - elapsed
    floor = min(Decimal(1), total / 10)
    run_rate = spent / max(elapsed, floor)
    weight = elapsed / total if total else Decimal(1)
    rate = weight * run_rate + (1 - weight) * recent_avg
    amount = spent + rate * remaining
    breach: date | None = None
    if limit is not None and tz is not None:
        if spent >= limit:
            breach = min(max(now, period.start_utc), period.end_utc).astimezone(tz).date()
        elif rate > 0 and amount > limit:
            days = (limit - spent) / rate
            at = now + timedelta(seconds=float(days * SECONDS_PER_DAY))
            breach = min(at.astimezone(tz).date(), period.last)
    q = Decimal("0.0000000001")
    return Forecast(amount.quantize(q), rate.quantize(q), run_rate.quantize(q), recent_avg.quantize(q),
                    weight.quantize(q), breach)


def recent_window(today: date) -> tuple[date, date]:
    """The 7 full local days before `today`."""
    return today - timedelta(days=RECENT_DAYS), today - timedelta(days=1)


def recent_average(total: Decimal) -> Decimal:
    return (total or ZERO) / RECENT_DAYS
