"""Rule deliveries through the outbox: route new alerts, send due ones with `IntegrationManager.run`, log them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, cast, func, or_, select, update
from sqlalchemy.orm import Session

from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.redact import redact
from aicost_desktop.integrations.errors import IntegrationError
from aicost_desktop.integrations.http import RetryPolicy
from aicost_desktop.integrations.manager import IntegrationManager
from aicost_desktop.integrations.messages import Message, action_params, alert_message, summary_message
from aicost_desktop.integrations.routing import (ROUTE_CHANNEL, Destination, RuleLimits, destination, route_alerts,
                                                 rule_limits)
from aicost_desktop.notify.alerts import AlertView, get_alert
from aicost_desktop.notify.message import title_of
from aicost_desktop.notify.outbox import (DEFAULT_LIMITS, Delivery, DispatchResult, Dispatcher,
                                          PermanentDeliveryError, RateLimit, RetryLater, next_due, quiet_until)
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import (AlertRoute, Budget, CostAlert, IntegrationConnection, OutboxMessage,
                                          ReportSchedule, RouteDestination, utcnow)

log = logging.getLogger("aicost.integrations.delivery")
# At most 30 posts per destination in 10 minutes: a burst of alerts must not get a bot banned from a channel.
ROUTE_LIMIT = RateLimit(30, timedelta(minutes=10))
HOUR = timedelta(hours=1)
FOLDED = "folded"  # alert_outbox.status of an alert delivered inside another row's summary message


def delivery_policy() -> RetryPolicy:
    """Short in-process retries only: a longer wait (a 429's retry_after) goes back to the outbox, which
    schedules the next attempt for then instead of holding a runtime thread."""
    return RetryPolicy(max_attempts=2, max_wait=5.0)


def as_failure(exc: Exception) -> Exception:
    """The outbox's view of a failed call: retry later (when the service said), or fail for good with the
    reason a user reads (already redacted by the integration errors)."""
    if isinstance(exc, IntegrationError):
        if exc.retryable:
            after = timedelta(seconds=exc.retry_after) if exc.retry_after is not None else None
            return RetryLater(str(exc), after)
        return PermanentDeliveryError(str(exc))
    if isinstance(exc, InputError):  # the rule's parameters no longer fit the action, the connection is gone
        return PermanentDeliveryError(redact(str(exc)))
    return exc


def send(manager: IntegrationManager, dest: Destination, msg: Message) -> Any:
    """One destination's action for one message; failures as the outbox understands them."""
    params = action_params(dest.kind, dest.action, msg, dest.params)
    try:
        return manager.run(dest.connection, dest.action, params)
    except (IntegrationError, InputError) as exc:
        raise as_failure(exc) from None


def _messages_since(s: Session, target: str, since: datetime, exclude: int) -> list[datetime]:
    """When the messages to a destination went out since `since` (one per sent row; folded rows rode along),
    oldest first; a row being sent counts from its claim."""
    when = func.coalesce(OutboxMessage.sent_at, OutboxMessage.claimed_at)
    return list(s.scalars(select(when).where(
        OutboxMessage.channel == ROUTE_CHANNEL, OutboxMessage.target == target, OutboxMessage.id != exclude,
        or_(and_(OutboxMessage.status == "sent", OutboxMessage.sent_at > since),
            and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at > since))).order_by(when)))


class RuleHold:
    """The outbox hold of rule deliveries: the rule's quiet hours (local time), then its hourly limit."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz

    def __call__(self, s: Session, msg: OutboxMessage, now: datetime) -> tuple[datetime, str] | None:
        rule = rule_limits(s, int(msg.target))
        if rule is None:
            return None
        until = quiet_until(now, rule.quiet_start, rule.quiet_end, self.tz)
        if until is not None:
            return until, (f"the rule's quiet hours ({rule.quiet_start}-{rule.quiet_end}) end at "
                           f"{until.astimezone(self.tz):%H:%M}")
        if rule.max_per_hour:
            sent = _messages_since(s, msg.target, now - HOUR, msg.id)
            if len(sent) >= rule.max_per_hour:
                free = sent[len(sent) - rule.max_per_hour] + HOUR
                return free, (f"the rule sends at most {rule.max_per_hour} an hour; at "
                              f"{free.astimezone(self.tz):%H:%M} the alerts waiting go out in one message")
        return None


class RouteChannel:
    """The outbox channel of rule deliveries: the target is a destination id. A rule with an hourly limit sends
    its last message of the hour as one summary of every alert then waiting for that destination, so nothing
    is dropped and the destination never gets more than the limit."""

    def __init__(self, db: Database, manager: IntegrationManager, clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.manager, self.clock = db, manager, clock

    def send(self, delivery: Delivery) -> None:
        dest = destination(self.db, int(delivery.target))
        if dest is None:
            raise PermanentDeliveryError("the rule's destination was removed (or its connection disconnected)")
        with self.db.session() as s:
            rule = rule_limits(s, dest.id)
        riders = self._claim_riders(delivery, rule) if rule is not None and rule.max_per_hour else []
        if not riders:
            send(self.manager, dest, alert_message(delivery.alert))
            return
        assert rule is not None and rule.max_per_hour
        alerts = [delivery.alert, *(a for _, a in riders)]
        try:
            send(self.manager, dest, summary_message(alerts, rule.rule, rule.max_per_hour))
        except BaseException:
            self._release([oid for oid, _ in riders])
            raise
        now = self.clock()
        with self.db.write_session() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id.in_([oid for oid, _ in riders]),
                                                  OutboxMessage.status == "sending")
                      .values(status=FOLDED, sent_at=now, claimed_at=None, last_error=None,
                              note=f"sent in one message with alert #{delivery.alert.id} (the rule's limit: "
                                   f"{rule.max_per_hour} an hour)"))
            s.execute(update(OutboxMessage).where(OutboxMessage.id == delivery.outbox_id)
                      .values(note=f"one message for {len(alerts)} alerts (the rule's limit: {rule.max_per_hour}"
                                   " an hour)"))

    def _claim_riders(self, delivery: Delivery, rule: RuleLimits) -> list[tuple[int, AlertView]]:
        """If this is the hour's last message the rule allows, take every other delivery due to the destination
        (those the limit held, and any due with them) to go along in it."""
        assert rule.max_per_hour
        now = self.clock()
        with self.db.write_session() as s:
            if len(_messages_since(s, delivery.target, now - HOUR, delivery.outbox_id)) + 1 < rule.max_per_hour:
                return []
            ids = list(s.scalars(select(OutboxMessage.id).where(
                OutboxMessage.channel == ROUTE_CHANNEL, OutboxMessage.target == delivery.target,
                OutboxMessage.id != delivery.outbox_id, OutboxMessage.status == "pending",
                OutboxMessage.next_attempt_at <= now).order_by(OutboxMessage.id)))
            taken: dict[int, int] = {}
            for oid in ids:  # compare-and-set each: another dispatcher may have claimed one meanwhile
                row = s.execute(update(OutboxMessage).where(OutboxMessage.id == oid, OutboxMessage.status == "pending")
                                .values(status="sending", claimed_at=now, note=None)
                                .returning(OutboxMessage.alert_id)).first()
                if row is not None:
                    taken[oid] = row[0]
        out = []
        for oid, aid in taken.items():
            view = get_alert(self.db, aid)
            if view is not None:
                out.append((oid, view))
        return out

    def _release(self, ids: list[int]) -> None:
        """A summary that failed: its riders wait again (the lead's retry takes them along next time)."""
        with self.db.write_session() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.status == "sending")
                      .values(status="pending", claimed_at=None))


class RouteDelivery:
    """One pass of the delivery loop: enqueue what the rules match, send what is due (retries with back-off,
    a service's retry_after honoured), and say when the next retry is due."""

    def __init__(self, db: Database, tz: ZoneInfo, manager: IntegrationManager, *,
                 clock: Callable[[], datetime] = utcnow, max_attempts: int = 8,
                 base_backoff: timedelta = timedelta(seconds=30)) -> None:
        self.db, self.manager, self.clock = db, manager, clock
        self.dispatcher = Dispatcher(db, {ROUTE_CHANNEL: RouteChannel(db, manager, clock)}, tz, clock=clock,
                                     max_attempts=max_attempts, base_backoff=base_backoff,
                                     limits={**DEFAULT_LIMITS, ROUTE_CHANNEL: ROUTE_LIMIT},
                                     holds={ROUTE_CHANNEL: RuleHold(tz)})

    def run_once(self) -> DispatchResult:
        route_alerts(self.db, self.clock())
        return self.dispatcher.run_once()

    def next_due(self) -> datetime | None:
        return next_due(self.db, [ROUTE_CHANNEL])


@dataclass(frozen=True)
class DeliveryView:
    """One line of the delivery log: which alert went where, and how it went."""

    id: int
    alert_id: int
    alert: str
    route: str | None
    destination: str
    status: str  # sent, retrying, waiting, pending (due now), sending, failed, skipped
    attempts: int
    reason: str | None
    next_attempt_at: datetime | None
    sent_at: datetime | None
    alert_title: str = ""
    note: str | None = None
    connection: str | None = None
    created_at: datetime | None = None

    def detail(self, tz: ZoneInfo) -> str:
        """The log's words for the status: when it went, why it waits or failed, when it is tried again."""
        def at(t: datetime | None) -> str:
            return t.astimezone(tz).strftime("%m-%d %H:%M") if t else "?"
        tries = f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}"
        if self.status == "sent":
            return f"sent {at(self.sent_at)}" + (f"; {self.note}" if self.note else "")
        if self.status == "retrying":
            return f"attempt {self.attempts} failed: {self.reason or 'no reason given'}; next try {at(self.next_attempt_at)}"
        if self.status == "waiting":
            failed = f" (attempt {self.attempts} failed: {self.reason})" if self.attempts and self.reason else ""
            return f"{self.note or 'waiting'}{failed}"
        if self.status == "failed":
            return f"{self.reason or 'failed'} (gave up after {tries})"
        if self.status == "skipped":
            return self.reason or "skipped"
        if self.status == "sending":
            return f"being sent (attempt {self.attempts})"
        return f"due {at(self.next_attempt_at)}"

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "alert_id": self.alert_id, "alert": self.alert, "alert_title": self.alert_title,
                "route": self.route, "destination": self.destination, "connection": self.connection,
                "status": self.status, "attempts": self.attempts, "reason": self.reason, "note": self.note,
                "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
                "sent_at": self.sent_at.isoformat() if self.sent_at else None,
                "created_at": self.created_at.isoformat() if self.created_at else None}


PROBLEMS = ("failed", "retrying", "waiting")


def _status(m: OutboxMessage) -> str:
    if m.status == "pending":
        return "waiting" if m.note else "retrying" if m.attempts else "pending"
    return "sent" if m.status == FOLDED else m.status


def delivery_log(db: Database, limit: int = 50, *, problems: bool = False) -> list[DeliveryView]:
    """Rule deliveries newest first (a removed rule's deliveries stay, named by their destination id);
    `problems`: only failed, retrying and waiting ones."""
    q = (select(OutboxMessage, CostAlert, Budget.name, AlertRoute.name, IntegrationConnection.name,
                RouteDestination.action)
         .join(CostAlert, CostAlert.id == OutboxMessage.alert_id)
         .outerjoin(Budget, Budget.id == CostAlert.budget_id)
         .outerjoin(RouteDestination, RouteDestination.id == cast(OutboxMessage.target, Integer))
         .outerjoin(AlertRoute, AlertRoute.id == RouteDestination.route_id)
         .outerjoin(IntegrationConnection, IntegrationConnection.id == RouteDestination.connection_id)
         .where(OutboxMessage.channel == ROUTE_CHANNEL))
    if problems:
        q = q.where(or_(OutboxMessage.status == "failed",
                        and_(OutboxMessage.status == "pending",
                             or_(OutboxMessage.attempts > 0, OutboxMessage.note.is_not(None)))))
    with db.session() as s:
        rows = s.execute(q.order_by(OutboxMessage.id.desc()).limit(limit)).all()
    out = []
    for m, a, budget, route, conn, action in rows:
        where = f"{conn}: {action}" if conn else f"destination {m.target} (removed)"
        view = AlertView(a.id, a.type, budget, a.budget_id, a.threshold, a.message, a.current_usage, a.budget_limit,
                         a.currency, a.period_start, a.sent_at, a.acknowledged, a.account_id)
        out.append(DeliveryView(m.id, m.alert_id, a.message, route, where, _status(m), m.attempts, m.last_error,
                                m.next_attempt_at if m.status == "pending" else None, m.sent_at, title_of(view),
                                m.note, conn, m.created_at))
    return out


@dataclass(frozen=True)
class FailureView:
    """A connection's last delivery failure not followed by a success: what its card shows."""

    connection: str
    what: str     # 'alert #12 (rule budget 80%)', 'report weekly'
    reason: str
    at: datetime | None


def delivery_failures(db: Database, scan: int = 500) -> dict[str, FailureView]:
    """Per connection, its newest failed rule delivery or report run, unless something was delivered to it
    since (a fixed channel or a renewed token clears the card by working again)."""
    q = (select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.last_error, OutboxMessage.alert_id,
                OutboxMessage.created_at, AlertRoute.name, IntegrationConnection.name)
         .join(RouteDestination, RouteDestination.id == cast(OutboxMessage.target, Integer))
         .join(AlertRoute, AlertRoute.id == RouteDestination.route_id)
         .join(IntegrationConnection, IntegrationConnection.id == RouteDestination.connection_id)
         .where(OutboxMessage.channel == ROUTE_CHANNEL, OutboxMessage.status.in_(("failed", "sent", FOLDED)))
         .order_by(OutboxMessage.id.desc()).limit(scan))
    out: dict[str, FailureView] = {}
    settled: set[str] = set()
    with db.session() as s:
        for _oid, status, error, alert_id, created, route, conn in s.execute(q):
            if conn in settled:
                continue
            settled.add(conn)  # the newest row decides: a success clears, a failure shows
            if status == "failed":
                out[conn] = FailureView(conn, f"alert #{alert_id} (rule {route})", error or "failed", created)
        for name, error, at, conn in s.execute(
                select(ReportSchedule.name, ReportSchedule.last_error, ReportSchedule.last_run_at,
                       IntegrationConnection.name)
                .join(IntegrationConnection, IntegrationConnection.id == ReportSchedule.connection_id)
                .where(ReportSchedule.last_status == "failed")):
            seen = out.get(conn)
            if seen is None or (at is not None and (seen.at is None or at > seen.at)):
                out[conn] = FailureView(conn, f"report {name}", error or "failed", at)
    return out
