"""The budget engine: spend and forecast per budget and period, workspace_usage upkeep, threshold and
forecast alerts raised once per (budget, period, threshold), re-armed when the amount is raised."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from aicost_desktop.analytics.forecast import PeriodForecast, period_forecast
from aicost_desktop.budgets.actions import KeyController, set_key_paused, should_pause
from aicost_desktop.budgets.model import parse_thresholds
from aicost_desktop.budgets.periods import BudgetPeriod, current_period, recent_periods
from aicost_desktop.budgets.spend import Scope, ScopeSpend, scope_filter, scope_spend
from aicost_desktop.domain.errors import InputError, OperationError
from aicost_desktop.budgets.wording import period_words, scope_words
from aicost_desktop.domain.spend_words import over_text, percent_text
from aicost_desktop.domain.money import ZERO, format_money
from aicost_desktop.notify.alerts import default_channels, raise_in
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import Budget, CostAlert, WorkspaceUsage, utcnow

log = logging.getLogger("aicost.budgets")
# Forecast alerts wait until this share of the period has passed: one busy morning is not a trend.
FORECAST_MIN_ELAPSED = Decimal("0.1")
STATES = ("ok", "warning", "at_risk", "exceeded")


@dataclass
class BudgetStatus:
    """Where one budget stands in its current period."""

    budget_id: int
    name: str
    scope: Scope
    period: BudgetPeriod
    amount: Decimal
    currency: str
    spent: Decimal
    tokens: int
    thresholds: tuple[Decimal, ...]
    forecast: PeriodForecast
    days_left: int
    on_exceed: str
    by_model: dict[str, Decimal] = field(default_factory=dict)
    unpriced_rows: int = 0
    key_paused: bool = False
    snoozed_until: datetime | None = None

    @property
    def percent(self) -> Decimal:
        return (self.spent / self.amount * 100) if self.amount else ZERO

    @property
    def state(self) -> str:
        """exceeded (>= 100%), warning (past the first threshold), at_risk (forecast over), ok."""
        if self.spent >= self.amount:
            return "exceeded"
        if self.thresholds and self.percent >= self.thresholds[0]:
            return "warning"
        if self.forecast.amount > self.amount:
            return "at_risk"
        return "ok"

    def forecast_band(self) -> str:
        """'$1,698.40–$1,877.03', the projection's 80% band ('' when it has no width)."""
        f, c = self.forecast, self.currency
        return f"{format_money(f.lower, c)}–{format_money(f.upper, c)}" if f.upper > f.lower else ""

    def period_end(self) -> str:
        """'Nov 30', the last day of the period the forecast runs to."""
        return f"{self.period.last:%b} {self.period.last.day}"

    def forecast_text(self) -> str:
        """'projected $1,740.12 ($1,698.40–$1,877.03) by Nov 30': the projection and its 80% band, written
        exactly as Analytics writes them (the one money format)."""
        band = self.forecast_band()
        return (f"projected {format_money(self.forecast.amount, self.currency)}{f' ({band})' if band else ''} "
                f"by {self.period_end()}")

    def as_json(self) -> dict[str, Any]:
        q = Decimal("0.01")
        return {"id": self.budget_id, "name": self.name, "scope": str(self.scope), "period": self.period.kind,
                "period_start": self.period.first.isoformat(), "period_end": self.period.last.isoformat(),
                "currency": self.currency, "limit": f"{self.amount.quantize(q):f}",
                "spent": f"{self.spent.quantize(q):f}", "spent_exact": f"{self.spent:f}",
                "percent": f"{self.percent.quantize(Decimal('0.1')):f}",
                "forecast": f"{self.forecast.amount.quantize(q):f}",
                "forecast_lower": f"{self.forecast.lower.quantize(q):f}",
                "forecast_upper": f"{self.forecast.upper.quantize(q):f}",
                "forecast_breach_date": self.forecast.breach_date.isoformat() if self.forecast.breach_date else None,
                "state": self.state, "days_left": self.days_left, "tokens": self.tokens,
                "thresholds": [f"{t.normalize():f}" for t in self.thresholds], "on_exceed": self.on_exceed,
                "unpriced_rows": self.unpriced_rows, "key_paused": self.key_paused}


@dataclass
class EvaluationResult:
    statuses: list[BudgetStatus] = field(default_factory=list)
    new_alerts: list[int] = field(default_factory=list)
    rearmed: list[int] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)


def _scope_of(b: Budget) -> Scope:
    return Scope(b.scope_kind or "all", b.scope_value)


def period_spend(db: Database, b: Budget, period: BudgetPeriod, tz: ZoneInfo, fx: dict[str, Decimal],
                 *, by_day: bool = False) -> ScopeSpend:
    return scope_spend(db, tz, period.first, period.last, _scope_of(b), b.currency, fx, by_day=by_day)


def budget_status(db: Database, b: Budget, tz: ZoneInfo, now: datetime, *, week_start: int = 0,
                  fx: dict[str, Decimal] | None = None) -> BudgetStatus:
    """Spend, forecast and state of budget `b` in the period containing `now` (read-only)."""
    fx = fx or {"USD": Decimal(1)}
    period = current_period(b.period, now, tz, week_start)
    spend = period_spend(db, b, period, tz, fx)
    today = now.astimezone(tz).date()
    try:
        fc = period_forecast(db, tz, period.first, period.last, today, scope_filter(_scope_of(b)), fx=fx,
                             currency=b.currency, limit=b.amount)
    except InputError:  # nothing has the scope's name (scope_spend counted nothing either)
        fc = PeriodForecast.flat(period.first, period.last, today, spend.cost)
    return BudgetStatus(b.id, b.name, _scope_of(b), period, b.amount, b.currency, spend.cost, spend.tokens,
                        parse_thresholds(b.thresholds), fc, period.days_left(today), b.on_exceed,
                        dict(sorted(spend.by_model.items(), key=lambda kv: -kv[1])), spend.unpriced_rows,
                        b.key_paused_at is not None, b.snoozed_until)


def threshold_key(b: Budget, period: BudgetPeriod, t: Decimal) -> str:
    # The local first date (not the UTC instant) names the period, so a time-zone change does not re-fire.
    return f"threshold:{b.id}:{period.kind}:{period.first.isoformat()}:{t.normalize():f}"


def elapsed_share(period: BudgetPeriod, now: datetime) -> Decimal:
    """How much of the period has passed (0..1)."""
    total = (period.end_utc - period.start_utc).total_seconds()
    done = (min(max(now, period.start_utc), period.end_utc) - period.start_utc).total_seconds()
    return Decimal(round(done)) / Decimal(round(total)) if total else Decimal(1)


def forecast_key(b: Budget, period: BudgetPeriod) -> str:
    return f"forecast:{b.id}:{period.kind}:{period.first.isoformat()}"


def _threshold_message(st: BudgetStatus, t: Decimal) -> str:
    """'OpenAI monthly: 80% of budget reached - spent $8.00 of $10.00 (80%) this month on OpenAI.'"""
    spent, limit, c = st.spent, st.amount, st.currency
    over = over_text(spent, limit, c)
    if over:
        head = f"{over} - spent {format_money(spent, c)} of {format_money(limit, c)}"
    else:
        what = "budget reached" if t >= 100 else f"{t.normalize():f}% of budget reached"
        head = f"{what} - spent {format_money(spent, c)} of {format_money(limit, c)} ({percent_text(spent, limit)})"
    on = "" if st.scope.kind == "all" else f" on {scope_words(st.scope)}"
    return f"{st.name}: {head} {period_words(st.period.kind)}{on}."


def _forecast_message(st: BudgetStatus) -> str:
    when = f", reaching the limit around {st.forecast.breach_date:%b} {st.forecast.breach_date.day}" \
        if st.forecast.breach_date else ""
    on = "" if st.scope.kind == "all" else f" on {scope_words(st.scope)}"
    return (f"{st.name}: projected to exceed - {st.forecast_text()} against a limit of "
            f"{format_money(st.amount, st.currency)}{when} (spent {format_money(st.spent, st.currency)} "
            f"{period_words(st.period.kind)}{on}).")


def due_threshold(s: Session, b: Budget, st: BudgetStatus) -> Decimal | None:
    """The one threshold to alert for now: the highest one spend has crossed, unless an alert of this period
    already told the user as much (one at that threshold or above, whose spend was past it of today's limit).

    A budget born at 232% of its limit alerts once, for 100%, not for 50, 80 and 100; a later, higher
    threshold still alerts; lower ones are implied by a higher alert and never follow it.
    """
    crossed = [t for t in st.thresholds if st.spent * 100 >= b.amount * t]
    if not crossed:
        return None
    top = crossed[-1]
    told = s.scalars(select(CostAlert).where(CostAlert.budget_id == b.id, CostAlert.type == "threshold",
                                             CostAlert.period_start == st.period.start_utc,
                                             CostAlert.threshold >= top))
    for a in told:
        if a.dedup_key == threshold_key(b, st.period, top):
            return None
        if a.current_usage is not None and a.current_usage * 100 >= b.amount * top:
            return None
    return top


def _rearm(s: Session, b: Budget, st: BudgetStatus, result: EvaluationResult) -> None:
    """Alerts of this period raised under a different amount whose condition no longer holds get their
    dedup key retired, so the threshold can fire again under the new amount (history is kept)."""
    rows = s.scalars(select(CostAlert).where(CostAlert.budget_id == b.id, CostAlert.period_start == st.period.start_utc,
                                             CostAlert.type.in_(("threshold", "forecast"))))
    for a in rows:
        if a.budget_limit is None or a.budget_limit == b.amount or ":rearmed:" in a.dedup_key:
            continue
        if a.type == "threshold":
            still = a.threshold is not None and st.spent * 100 >= b.amount * a.threshold
        else:
            still = st.forecast.amount > b.amount
        if not still:
            a.dedup_key = f"{a.dedup_key}:rearmed:{a.id}"
            result.rearmed.append(a.id)
    s.flush()


def _upsert_usage(s: Session, b: Budget, st: BudgetStatus, now: datetime) -> None:
    row = s.scalar(select(WorkspaceUsage).where(WorkspaceUsage.workspace_id == b.workspace_id,
                                                WorkspaceUsage.budget_id == b.id,
                                                WorkspaceUsage.period_start == st.period.start_utc))
    if row is None:
        row = WorkspaceUsage(workspace_id=b.workspace_id, budget_id=b.id, period_start=st.period.start_utc)
        s.add(row)
    pending = [t for t in st.thresholds if st.spent * 100 < b.amount * t]
    next_t = pending[0] if pending else st.thresholds[-1]
    values = {"period_end": st.period.end_utc, "tokens": st.tokens, "cost": st.spent, "budget_limit": b.amount,
              "alert_threshold": b.amount * next_t / 100, "forecast": st.forecast.amount}
    # Written only when a figure moved: an evaluation that changes nothing commits nothing. Every commit is a
    # ledger change to the app's watcher (PRAGMA data_version sees the process's other connections too), and a
    # change makes the app evaluate again: rewriting updated_at each time kept an idle window reloading every
    # second.
    if row.id is None or any(getattr(row, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(row, k, v)
        row.updated_at = now


def evaluate(db: Database, tz: ZoneInfo, *, now: datetime | None = None, week_start: int = 0,
             fx: dict[str, Decimal] | None = None, keys: KeyController | None = None) -> EvaluationResult:
    """Evaluate every enabled budget now: usage rows, re-arming, alerts (with outbox rows), key pauses.

    Idempotent: running it again with the same ledger raises nothing new.
    """
    now = now or utcnow()
    result = EvaluationResult()
    with db.session() as s:
        budgets = list(s.scalars(select(Budget).where(Budget.enabled.is_(True)).order_by(Budget.id)))
    for b in budgets:
        st = budget_status(db, b, tz, now, week_start=week_start, fx=fx)
        result.statuses.append(st)
        emails = [e for e in (b.emails or "").split(",") if e]
        with db.write_session() as s:
            _upsert_usage(s, b, st, now)
            _rearm(s, b, st, result)
            raised = []
            common = dict(budget_id=b.id, workspace_id=b.workspace_id, period_start=st.period.start_utc,
                          current_usage=st.spent, budget_limit=b.amount, currency=b.currency)
            t = due_threshold(s, b, st)
            if t is not None:
                a = raise_in(s, "threshold", threshold_key(b, st.period, t), _threshold_message(st, t),
                             channels=default_channels(emails), now=now, threshold=t, **common)
                if a is not None:
                    raised.append(a.id)
            if (b.forecast_alert and st.spent < b.amount and st.forecast.amount > b.amount
                    and elapsed_share(st.period, now) >= FORECAST_MIN_ELAPSED):
                a = raise_in(s, "forecast", forecast_key(b, st.period), _forecast_message(st),
                             channels=default_channels(emails), now=now, **common)
                if a is not None:
                    raised.append(a.id)
            result.new_alerts.extend(sorted(raised))
        if st.spent >= b.amount and keys is not None and should_pause(db, b, st.period.start_utc, now):
            try:
                act = set_key_paused(db, b.id, True, keys, now=now)
                result.actions.append(f"{b.name}: {act.detail}")
                st.key_paused = True
            except OperationError as exc:
                result.actions.append(str(exc))
    return result


def statuses(db: Database, tz: ZoneInfo, *, now: datetime | None = None, week_start: int = 0,
             fx: dict[str, Decimal] | None = None) -> list[BudgetStatus]:
    """Read-only status of every budget (the dock and `aicost budgets status`)."""
    now = now or utcnow()
    with db.session() as s:
        budgets = list(s.scalars(select(Budget).order_by(Budget.name)))
    return [budget_status(db, b, tz, now, week_start=week_start, fx=fx) for b in budgets]


@dataclass(frozen=True)
class PeriodSpend:
    period: BudgetPeriod
    spent: Decimal
    limit: Decimal


def history(db: Database, b: Budget, tz: ZoneInfo, *, now: datetime | None = None, count: int = 12,
            week_start: int = 0, fx: dict[str, Decimal] | None = None) -> list[PeriodSpend]:
    """Spend vs limit for the current and `count - 1` previous periods, oldest first (from the ledger)."""
    now = now or utcnow()
    fx = fx or {"USD": Decimal(1)}
    out = [PeriodSpend(p, period_spend(db, b, p, tz, fx).cost, b.amount)
           for p in recent_periods(b.period, now, tz, count, week_start)]
    return list(reversed(out))
