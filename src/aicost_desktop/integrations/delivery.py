"""Rule deliveries through the outbox: route new alerts, send due ones with `IntegrationManager.run`, log them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, cast, select

from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.redact import redact
from aicost_desktop.integrations.errors import IntegrationError
from aicost_desktop.integrations.http import RetryPolicy
from aicost_desktop.integrations.manager import IntegrationManager
from aicost_desktop.integrations.routing import (ROUTE_CHANNEL, Destination, Message, action_params, alert_message,
                                                 destination, route_alerts)
from aicost_desktop.notify.outbox import (DEFAULT_LIMITS, Delivery, DispatchResult, Dispatcher,
                                          PermanentDeliveryError, RateLimit, RetryLater, next_due)
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import (AlertRoute, CostAlert, IntegrationConnection, OutboxMessage,
                                          RouteDestination, utcnow)

log = logging.getLogger("aicost.integrations.delivery")
# At most 30 posts per destination in 10 minutes: a burst of alerts must not get a bot banned from a channel.
ROUTE_LIMIT = RateLimit(30, timedelta(minutes=10))


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


class RouteChannel:
    """The outbox channel of rule deliveries: the target is a destination id."""

    def __init__(self, db: Database, manager: IntegrationManager) -> None:
        self.db, self.manager = db, manager

    def send(self, delivery: Delivery) -> None:
        dest = destination(self.db, int(delivery.target))
        if dest is None:
            raise PermanentDeliveryError("the rule's destination was removed (or its connection disconnected)")
        send(self.manager, dest, alert_message(delivery.alert))


class RouteDelivery:
    """One pass of the delivery loop: enqueue what the rules match, send what is due (retries with back-off,
    a service's retry_after honoured), and say when the next retry is due."""

    def __init__(self, db: Database, tz: ZoneInfo, manager: IntegrationManager, *,
                 clock: Callable[[], datetime] = utcnow, max_attempts: int = 8,
                 base_backoff: timedelta = timedelta(seconds=30)) -> None:
        self.db, self.manager, self.clock = db, manager, clock
        self.dispatcher = Dispatcher(db, {ROUTE_CHANNEL: RouteChannel(db, manager)}, tz, clock=clock,
                                     max_attempts=max_attempts, base_backoff=base_backoff,
                                     limits={**DEFAULT_LIMITS, ROUTE_CHANNEL: ROUTE_LIMIT})

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
    status: str  # pending (retrying when attempts > 0), sending, sent, failed, skipped
    attempts: int
    reason: str | None
    next_attempt_at: datetime | None
    sent_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "alert_id": self.alert_id, "alert": self.alert, "route": self.route,
                "destination": self.destination, "status": self.status, "attempts": self.attempts,
                "reason": self.reason,
                "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
                "sent_at": self.sent_at.isoformat() if self.sent_at else None}


def delivery_log(db: Database, limit: int = 50) -> list[DeliveryView]:
    """Rule deliveries newest first (a removed rule's deliveries stay, named by their destination id)."""
    with db.session() as s:
        rows = s.execute(
            select(OutboxMessage, CostAlert.message, AlertRoute.name, IntegrationConnection.name,
                   RouteDestination.action)
            .join(CostAlert, CostAlert.id == OutboxMessage.alert_id)
            .outerjoin(RouteDestination, RouteDestination.id == cast(OutboxMessage.target, Integer))
            .outerjoin(AlertRoute, AlertRoute.id == RouteDestination.route_id)
            .outerjoin(IntegrationConnection, IntegrationConnection.id == RouteDestination.connection_id)
            .where(OutboxMessage.channel == ROUTE_CHANNEL)
            .order_by(OutboxMessage.id.desc()).limit(limit)).all()
    out = []
    for m, text, route, conn, action in rows:
        where = f"{conn}: {action}" if conn else f"destination {m.target} (removed)"
        status = "retrying" if m.status == "pending" and m.attempts else m.status
        out.append(DeliveryView(m.id, m.alert_id, text, route, where, status, m.attempts, m.last_error,
                                m.next_attempt_at if m.status == "pending" else None, m.sent_at))
    return out

