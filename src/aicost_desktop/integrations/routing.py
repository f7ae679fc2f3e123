"""Routing rules (an alert trigger -> integration destinations), matching, enqueueing, and per-destination messages."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations import registry
# Re-exported: the messages lived here first (callers and tests import them from routing).
from aicost_desktop.integrations.messages import Message as Message, action_params as action_params
from aicost_desktop.integrations.messages import alert_message as alert_message
from aicost_desktop.notify.alerts import AlertView, list_alerts
from aicost_desktop.notify.outbox import enqueue
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import (AlertRoute, Budget, IntegrationConnection, OutboxMessage, ReportSchedule,
                                          RouteDestination, utcnow)

ROUTE_CHANNEL = "route"  # alert_outbox.channel of rule deliveries; the target is the destination's id
# Trigger id -> (alert type, what the rule says in words).
TRIGGERS: dict[str, tuple[str, str]] = {
    "threshold": ("threshold", "a budget crosses a threshold"),
    "exceeded": ("threshold", "a budget is exceeded"),
    "forecast": ("forecast", "a budget is projected to exceed"),
    "sync_failure": ("sync_failure", "a sync keeps failing"),
    "anomaly": ("anomaly", "spend is unusual"),
    "unpriced": ("unpriced_model", "a model has no price"),
}
BUDGET_TRIGGERS = ("threshold", "exceeded", "forecast")
# Only alerts raised in the last week are routed: a rule is about what happens next, and an app closed for
# a while does not flood a channel with old news when it starts.
LOOKBACK = timedelta(days=7)
MAX_NAME = 120
MAX_ALERTS = 2000
MAX_PER_HOUR = 1000  # above it the outbox's own cap (30 per destination per 10 minutes) decides anyway
OFF = ("off", "none", "no")  # what clears a rule's quiet hours, rate limit or percentage on the command line


@dataclass(frozen=True)
class DestinationSpec:
    """What a user names: a connection, one of its actions, and the parameters they set."""

    connection: str
    action: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Destination:
    id: int
    connection: str
    kind: str
    action: str
    params: dict[str, Any]
    created_at: datetime

    def describe(self) -> str:
        shown = " ".join(f"{k}={_short(v)}" for k, v in sorted(self.params.items()))
        return f"{self.connection}: {self.action}{' ' + shown if shown else ''}"

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "connection": self.connection, "kind": self.kind, "action": self.action,
                "params": self.params}


@dataclass(frozen=True)
class Route:
    id: int
    name: str
    trigger: str
    budget: str | None
    budget_id: int | None
    min_percent: Decimal | None
    enabled: bool
    created_at: datetime
    destinations: tuple[Destination, ...]
    quiet_start: str | None = None
    quiet_end: str | None = None
    max_per_hour: int | None = None
    edited_at: datetime | None = None

    @property
    def quiet_hours(self) -> str | None:
        """'22:00-07:00' (local time), or None."""
        return f"{self.quiet_start}-{self.quiet_end}" if self.quiet_start and self.quiet_end else None

    def limits(self) -> str:
        """'quiet 22:00-07:00, at most 3 an hour', or '' for a rule that sends at once."""
        parts = [f"quiet {self.quiet_hours}"] if self.quiet_hours else []
        if self.max_per_hour:
            parts.append(f"at most {self.max_per_hour} an hour")
        return ", ".join(parts)

    def describe(self) -> str:
        """'any budget reaches 80%', 'budget Team is exceeded', 'a sync keeps failing'."""
        who = f"budget {self.budget}" if self.budget else "any budget"
        if self.trigger == "threshold":
            pct = f"{self.min_percent.normalize():f}%" if self.min_percent is not None else "a threshold"
            return f"{who} reaches {pct}"
        if self.trigger == "exceeded":
            return f"{who} is exceeded"
        if self.trigger == "forecast":
            return f"{who} is projected to exceed"
        return TRIGGERS[self.trigger][1]

    def matches(self, a: AlertView) -> bool:
        since = max(self.created_at, self.edited_at or self.created_at)
        if not self.enabled or a.type != TRIGGERS[self.trigger][0] or a.sent_at < since:
            return False
        if self.budget_id is not None and a.budget_id != self.budget_id:
            return False
        if self.trigger == "threshold" and self.min_percent is not None:
            return reached(a) >= self.min_percent
        if self.trigger == "exceeded":
            return reached(a) >= 100
        return True

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "trigger": self.trigger, "when": self.describe(),
                "budget": self.budget,
                "min_percent": None if self.min_percent is None else f"{self.min_percent.normalize():f}",
                "enabled": self.enabled, "created_at": self.created_at.isoformat(),
                "quiet_hours": self.quiet_hours, "max_per_hour": self.max_per_hour,
                "destinations": [d.as_json() for d in self.destinations]}


def reached(a: AlertView) -> Decimal:
    """How far a budget alert got: the threshold it crossed, or the spend's share of the limit if higher
    (a budget with thresholds 50 and 100 that jumps to 85% alerts for 50 and matches an 80% rule)."""
    pct = a.threshold or Decimal(0)
    if a.current_usage is not None and a.budget_limit:
        pct = max(pct, a.current_usage / a.budget_limit * 100)
    return pct


def _short(v: Any) -> str:
    text = v if isinstance(v, str) else json.dumps(v)
    return text if len(text) <= 40 else text[:39] + "…"


# ---- rules on disk ---------------------------------------------------------------------------------------
def check_destination(s: Session, d: DestinationSpec) -> tuple[IntegrationConnection, dict[str, Any]]:
    """The connection row and the user's parameters, checked against the action (typed, nothing unknown, and
    a sample message must make a complete call); InputError naming the field and value otherwise."""
    conn = s.scalar(select(IntegrationConnection).where(IntegrationConnection.name == d.connection))
    if conn is None:
        raise InputError("integration", d.connection, "no such connection (see aicost integrations list)")
    spec = registry.get(conn.kind)
    act = spec.action(d.action)
    if not act.destination:
        raise InputError("action", d.action, f"reads from {spec.name} and sends nothing; use one of "
                         f"{', '.join(a.id for a in spec.actions if a.destination)}")
    given = {k: v for k, v in d.params.items() if v is not None and v != ""}
    known = {p.key: p for p in act.params}
    for key in given:
        if key not in known:
            raise InputError("param", key, f"{act.id} takes {', '.join(sorted(known)) or 'no parameters'}")
    checked = {k: known[k].coerce(v) for k, v in given.items()}
    sample = alert_message(sample_alert())
    act.validate(action_params(conn.kind, d.action, sample, checked))  # e.g. a GitHub issue needs its repo
    return conn, checked


def sample_alert(now: datetime | None = None) -> AlertView:
    """The alert a test delivery sends (and that checks a destination's parameters)."""
    return AlertView(0, "threshold", "Example budget", None, Decimal(80),
                     "Test from AI Cost Tracker: Example budget reached 80% - spent $80.00 of $100.00 this month.",
                     Decimal(80), Decimal(100), "USD", None, now or utcnow(), False)


def _budget_id(s: Session, name: str | None, trigger: str) -> int | None:
    if name is None:
        return None
    if trigger not in BUDGET_TRIGGERS:
        raise InputError("budget", name, f"only {', '.join(BUDGET_TRIGGERS)} rules name a budget")
    bid = s.scalar(select(Budget.id).where(Budget.name == name))
    if bid is None:
        raise InputError("budget", name, "no such budget (see aicost budgets list)")
    return bid


def _percent(value: str | Decimal | int | None, trigger: str) -> Decimal | None:
    if value is None or value == "" or (isinstance(value, str) and value.strip().lower() in OFF):
        return None
    if trigger != "threshold":
        raise InputError("at", value, "only threshold rules take a percentage")
    try:
        pct = Decimal(str(value).strip().rstrip("%"))
    except InvalidOperation:
        raise InputError("at", value, "must be a percentage such as 80") from None
    if not pct.is_finite() or pct <= 0 or pct > 10000:
        raise InputError("at", value, "must be a percentage above 0 and at most 10000")
    return pct


_HHMM = re.compile(r"([01]?[0-9]|2[0-3])(?::([0-5][0-9]))?")


def parse_quiet_hours(value: str | tuple[str, str] | None) -> tuple[str, str] | None:
    """'22:00-07:00' (or '22-7', a pair of 'HH:MM') -> ('22:00', '07:00'); None, '' or 'off' -> None."""
    if value is None:
        return None
    if isinstance(value, tuple):
        value = "-".join(value)
    text = value.strip()
    if not text or text.lower() in OFF:
        return None
    parts = re.split(r"\s*[-–]\s*", text)
    matched = [_HHMM.fullmatch(p) for p in parts] if len(parts) == 2 else []
    if len(matched) != 2 or not all(matched):
        raise InputError("quiet-hours", value, "use START-END in 24-hour local time, e.g. 22:00-07:00 (or off)")
    start, end = (f"{int(m.group(1)):02d}:{m.group(2) or '00'}" for m in matched if m)
    if start == end:
        raise InputError("quiet-hours", value, "start and end are the same time; give a window such as 22:00-07:00")
    return start, end


def parse_max_per_hour(value: str | int | None) -> int | None:
    """A positive whole number of messages an hour per destination; None, '' or 'off' -> no limit."""
    if value is None or value == "" or (isinstance(value, str) and value.strip().lower() in OFF):
        return None
    try:
        n = int(str(value).strip()) if not isinstance(value, bool) else -1
    except ValueError:
        n = -1
    if not 1 <= n <= MAX_PER_HOUR:
        raise InputError("max-per-hour", value, f"must be a whole number 1..{MAX_PER_HOUR} (or off)")
    return n


def _name(name: str | None, trigger: str, destinations: Sequence[DestinationSpec]) -> str:
    name = (name or "").strip() or f"{trigger} -> {', '.join(d.connection for d in destinations)}"[:MAX_NAME]
    if len(name) > MAX_NAME:
        raise InputError("name", name, f"at most {MAX_NAME} characters")
    return name


def name_taken(s: Session, name: str, *, route_id: int | None = None, report_id: int | None = None) -> bool:
    """A rule or a scheduled report (other than the one being edited) has this name: one namespace, so
    `aicost routes edit NAME` finds either."""
    q = select(AlertRoute.id).where(AlertRoute.name == name, AlertRoute.id != (route_id or -1))
    r = select(ReportSchedule.id).where(ReportSchedule.name == name, ReportSchedule.id != (report_id or -1))
    return s.scalar(q) is not None or s.scalar(r) is not None


def destination_errors(db: Database, destinations: Sequence[DestinationSpec]) -> list[tuple[int, InputError]]:
    """Each destination checked on its own: (its position, what is wrong) for a form to mark the right one."""
    out = []
    with db.session() as s:
        for i, d in enumerate(destinations):
            try:
                check_destination(s, d)
            except InputError as exc:
                out.append((i, exc))
    return out


def add_route(db: Database, trigger: str, destinations: Sequence[DestinationSpec], *, name: str | None = None,
              budget: str | None = None, min_percent: str | Decimal | int | None = None,
              quiet_hours: str | tuple[str, str] | None = None, max_per_hour: str | int | None = None,
              now: datetime | None = None) -> Route:
    """Store a rule; it routes alerts raised from now on."""
    if trigger not in TRIGGERS:
        raise InputError("on", trigger, f"use one of {', '.join(TRIGGERS)}")
    if not destinations:
        raise InputError("integration", "<none>", "a rule needs at least one destination")
    name = _name(name, trigger, destinations)
    quiet, limit = parse_quiet_hours(quiet_hours), parse_max_per_hour(max_per_hour)
    now = now or utcnow()
    with db.write_session() as s:
        if name_taken(s, name):
            raise InputError("name", name, "a rule or report has this name already")
        row = AlertRoute(name=name, trigger=trigger, budget_id=_budget_id(s, budget, trigger),
                         min_percent=_percent(min_percent, trigger), enabled=True, created_at=now,
                         quiet_start=quiet[0] if quiet else None, quiet_end=quiet[1] if quiet else None,
                         max_per_hour=limit)
        checked = [check_destination(s, d) for d in destinations]
        try:
            with s.begin_nested():
                s.add(row)
                s.flush()
        except IntegrityError:
            raise InputError("name", name, "a rule has this name already") from None
        for (conn, params), d in zip(checked, destinations):
            s.add(RouteDestination(route_id=row.id, connection_id=conn.id, action=d.action,
                                   params=json.dumps(params, sort_keys=True), created_at=now))
        rid = row.id
    return get_route(db, str(rid))


def _load(s: Session, routes: Sequence[AlertRoute]) -> list[Route]:
    ids = [r.id for r in routes]
    dests: dict[int, list[Destination]] = {}
    if ids:
        q = (select(RouteDestination, IntegrationConnection.name, IntegrationConnection.kind)
             .join(IntegrationConnection, IntegrationConnection.id == RouteDestination.connection_id)
             .where(RouteDestination.route_id.in_(ids)).order_by(RouteDestination.id))
        for d, cname, kind in s.execute(q):
            dests.setdefault(d.route_id, []).append(
                Destination(d.id, cname, kind, d.action, json.loads(d.params or "{}"), d.created_at))
    budgets = {bid: bname for bid, bname in s.execute(select(Budget.id, Budget.name))} if ids else {}
    return [Route(r.id, r.name, r.trigger, budgets.get(r.budget_id) if r.budget_id else None, r.budget_id,
                  r.min_percent, r.enabled, r.created_at, tuple(dests.get(r.id, ())), r.quiet_start, r.quiet_end,
                  r.max_per_hour, r.edited_at) for r in routes]


def list_routes(db: Database) -> list[Route]:
    with db.session() as s:
        return _load(s, list(s.scalars(select(AlertRoute).order_by(AlertRoute.id))))


def _find(s: Session, ref: str) -> AlertRoute:
    row = s.scalar(select(AlertRoute).where(AlertRoute.name == ref))
    if row is None and ref.strip().isdigit() and len(ref.strip()) < 19:
        row = s.get(AlertRoute, int(ref))
    if row is None:
        raise InputError("route", ref, "no such rule (see aicost routes list)")
    return row


def get_route(db: Database, ref: str) -> Route:
    """A rule by name or id."""
    with db.session() as s:
        return _load(s, [_find(s, ref)])[0]


class _Keep:
    """An argument of `update_route` left out: that part of the rule stays as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


def update_route(db: Database, ref: str, *, name: str | None = KEEP, trigger: str = KEEP, budget: str | None = KEEP,
                 min_percent: str | Decimal | int | None = KEEP, quiet_hours: str | tuple[str, str] | None = KEEP,
                 max_per_hour: str | int | None = KEEP, enabled: bool = KEEP,
                 destinations: Sequence[DestinationSpec] = KEEP, now: datetime | None = None) -> Route:
    """Change what was given (KEEP leaves a part as it is). A new match (trigger, budget, percentage) routes
    alerts raised from now on; a destination given again unchanged keeps its id, so nothing it already got is
    sent again, and a removed one's waiting deliveries are skipped. A trigger that takes no budget or
    percentage drops the rule's."""
    old = get_route(db, ref)
    now = now or utcnow()
    new_trigger = old.trigger if trigger is KEEP else trigger
    if new_trigger not in TRIGGERS:
        raise InputError("on", new_trigger, f"use one of {', '.join(TRIGGERS)}")
    if budget is KEEP:
        budget = old.budget if new_trigger in BUDGET_TRIGGERS else None
    if min_percent is KEEP:
        min_percent = old.min_percent if new_trigger == "threshold" else None
    new_name = old.name if name is KEEP else _name(name, new_trigger, destinations if destinations is not KEEP
                                                   else [DestinationSpec(d.connection, d.action)
                                                         for d in old.destinations])
    quiet = (old.quiet_start, old.quiet_end) if quiet_hours is KEEP else parse_quiet_hours(quiet_hours)
    limit = old.max_per_hour if max_per_hour is KEEP else parse_max_per_hour(max_per_hour)
    if destinations is not KEEP and not destinations:
        raise InputError("integration", "<none>", "a rule needs at least one destination")
    with db.write_session() as s:
        row = s.get(AlertRoute, old.id)
        if row is None:
            raise InputError("route", ref, "no such rule (it was removed)")
        if new_name != old.name and name_taken(s, new_name, route_id=old.id):
            raise InputError("name", new_name, "a rule or report has this name already")
        budget_id = _budget_id(s, budget, new_trigger)
        pct = _percent(min_percent, new_trigger)
        if (new_trigger, budget_id, pct) != (old.trigger, old.budget_id, old.min_percent):
            row.edited_at = now
        row.name, row.trigger, row.budget_id, row.min_percent = new_name, new_trigger, budget_id, pct
        row.quiet_start, row.quiet_end = quiet if quiet and quiet[0] else (None, None)
        row.max_per_hour = limit
        if enabled is not KEEP:
            row.enabled = bool(enabled)
        if destinations is not KEEP:
            _replace_destinations(s, old, destinations, now)
    return get_route(db, str(old.id))


def _replace_destinations(s: Session, old: Route, destinations: Sequence[DestinationSpec], now: datetime) -> None:
    checked = [check_destination(s, d) for d in destinations]
    kept: set[int] = set()
    for (conn, params), d in zip(checked, destinations):
        same = next((o for o in old.destinations if o.id not in kept and o.connection == conn.name
                     and o.action == d.action and o.params == params), None)
        if same is not None:
            kept.add(same.id)
            continue
        s.add(RouteDestination(route_id=old.id, connection_id=conn.id, action=d.action,
                               params=json.dumps(params, sort_keys=True), created_at=now))
    gone = [o.id for o in old.destinations if o.id not in kept]
    if gone:
        _skip_waiting(s, [str(i) for i in gone], "the destination was removed from the rule")
        s.execute(delete(RouteDestination).where(RouteDestination.id.in_(gone)))


def _skip_waiting(s: Session, targets: Sequence[str], reason: str) -> None:
    s.execute(update(OutboxMessage).where(OutboxMessage.channel == ROUTE_CHANNEL, OutboxMessage.target.in_(targets),
                                          OutboxMessage.status == "pending")
              .values(status="skipped", last_error=reason))


def remove_route(db: Database, ref: str) -> Route:
    """Delete a rule and its destinations; their deliveries still waiting are skipped, the log stays."""
    route = get_route(db, ref)
    with db.write_session() as s:
        targets = [str(d.id) for d in route.destinations]
        if targets:
            _skip_waiting(s, targets, "the rule was removed")
        s.execute(delete(RouteDestination).where(RouteDestination.route_id == route.id))
        s.execute(delete(AlertRoute).where(AlertRoute.id == route.id))
    return route


@dataclass(frozen=True)
class RuleLimits:
    """What holds a destination's deliveries: its rule's quiet hours and hourly limit."""

    rule: str
    quiet_start: str | None
    quiet_end: str | None
    max_per_hour: int | None


def rule_limits(s: Session, destination_id: int) -> RuleLimits | None:
    row = s.execute(select(AlertRoute.name, AlertRoute.quiet_start, AlertRoute.quiet_end, AlertRoute.max_per_hour)
                    .join(RouteDestination, RouteDestination.route_id == AlertRoute.id)
                    .where(RouteDestination.id == destination_id)).first()
    return None if row is None else RuleLimits(*row)


def destination(db: Database, destination_id: int) -> Destination | None:
    with db.session() as s:
        row = s.execute(select(RouteDestination, IntegrationConnection.name, IntegrationConnection.kind)
                        .join(IntegrationConnection, IntegrationConnection.id == RouteDestination.connection_id)
                        .where(RouteDestination.id == destination_id)).first()
    if row is None:
        return None
    d, cname, kind = row
    return Destination(d.id, cname, kind, d.action, json.loads(d.params or "{}"), d.created_at)


# ---- routing alerts --------------------------------------------------------------------------------------
def route_alerts(db: Database, now: datetime | None = None) -> int:
    """Enqueue one outbox delivery per matching (alert, destination) not enqueued yet; how many were added.
    Idempotent (the outbox's unique delivery key), so any number of runs and processes enqueue each once."""
    now = now or utcnow()
    routes = [r for r in list_routes(db) if r.enabled and r.destinations]
    if not routes:
        return 0
    since = max(now - LOOKBACK, min(r.created_at for r in routes))
    # Newest first: a week of alerts is far below the cap (one per budget threshold, account episode, model).
    alerts = [a for a in list_alerts(db, limit=MAX_ALERTS) if a.sent_at >= since]
    wanted = {(a.id, str(d.id)) for a in alerts for r in routes if r.matches(a)
              for d in r.destinations if a.sent_at >= d.created_at}
    if not wanted:
        return 0
    with db.session() as s:
        have = {(aid, target) for aid, target in s.execute(
            select(OutboxMessage.alert_id, OutboxMessage.target).where(
                OutboxMessage.channel == ROUTE_CHANNEL, OutboxMessage.alert_id.in_(sorted({a for a, _ in wanted}))))}
    missing = sorted(wanted - have)
    if not missing:
        return 0
    added = 0
    with db.write_session() as s:
        for alert_id, target in missing:
            added += enqueue(s, alert_id, ROUTE_CHANNEL, target, now)
    return added
