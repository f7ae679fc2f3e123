"""The delivery outbox: claim due rows, deliver through channels, retry with backoff, rate-limit.

Every alert has one `alert_outbox` row per channel and target, written in the alert's own
transaction. A dispatcher claims a row (pending -> sending, `claimed_at`), delivers it outside any
transaction, then marks it sent. A crash after the claim leaves a `sending` row whose claim goes
stale and is retried; a crash before the claim leaves a `pending` row. Rows are claimed by a
compare-and-set UPDATE, so two dispatchers never deliver the same row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Callable, Iterable, Mapping, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aicost_desktop.domain.redact import redact
from aicost_desktop.notify.alerts import AlertView, get_alert
from aicost_desktop.storage.db import Database, affected_rows
from aicost_desktop.storage.tables import Budget, CostAlert, OutboxMessage, utcnow

log = logging.getLogger("aicost.notify")


class DeliveryFailure(Exception):
    """A failed delivery whose message is already the reason a user reads in the delivery log."""


class PermanentDeliveryError(DeliveryFailure):
    """A delivery that cannot succeed by retrying (bad address, channel not configured)."""


class RetryLater(DeliveryFailure):
    """A delivery to try again, not before `after` when the service said so (a 429's retry_after)."""

    def __init__(self, reason: str, after: timedelta | None = None) -> None:
        super().__init__(reason)
        self.after = after


@dataclass(frozen=True)
class Delivery:
    """One claimed outbox row with its alert."""

    outbox_id: int
    channel: str
    target: str
    attempts: int
    alert: AlertView


# A channel's own reason to hold a due row (a rule's quiet hours or rate limit): (until when, why), or None.
# Called inside the claim's write transaction with the row.
Hold = Callable[[Session, OutboxMessage, datetime], "tuple[datetime, str] | None"]


class Channel(Protocol):
    """A way to deliver an alert; `send` raises on failure (PermanentDeliveryError: don't retry)."""

    def send(self, delivery: Delivery) -> None: ...


class CallbackChannel:
    """A channel that hands deliveries to a function (the GUI's tray notifier, tests)."""

    def __init__(self, fn: Callable[[Delivery], None]) -> None:
        self.fn = fn

    def send(self, delivery: Delivery) -> None:
        self.fn(delivery)


@dataclass(frozen=True)
class RateLimit:
    """At most `count` deliveries per `per` on one channel and target."""

    count: int
    per: timedelta


DEFAULT_LIMITS = {"tray": RateLimit(6, timedelta(minutes=10)), "email": RateLimit(10, timedelta(hours=1))}
# A tray popup about something a day old is noise: such rows are skipped, still in the alert log.
DEFAULT_MAX_AGE = {"tray": timedelta(days=1)}


@dataclass
class DispatchResult:
    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


def _hm(text: str | None) -> time | None:
    if not text:
        return None
    h, m = text.split(":")
    return time(int(h), int(m))


def quiet_until(now: datetime, start: str | None, end: str | None, tz: ZoneInfo) -> datetime | None:
    """If `now` falls in the local quiet window [start, end) (may wrap midnight), the UTC instant it ends."""
    s, e = _hm(start), _hm(end)
    if s is None or e is None or s == e:
        return None
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    inside = (s <= t < e) if s < e else (t >= s or t < e)
    if not inside:
        return None
    end_day = local.date() if t < e else local.date() + timedelta(days=1)
    return datetime.combine(end_day, e, tzinfo=tz).astimezone(now.tzinfo)


def _minutes(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60} hour{'s' if minutes != 60 else ''}" if minutes % 60 == 0 else f"{minutes} minutes"


class Dispatcher:
    """Delivers due outbox rows for the channels it was given; call `run_once` on a timer."""

    def __init__(self, db: Database, channels: Mapping[str, Channel], tz: ZoneInfo, *,
                 clock: Callable[[], datetime] = utcnow, stale_after: timedelta = timedelta(minutes=5),
                 max_attempts: int = 8, base_backoff: timedelta = timedelta(seconds=30),
                 max_backoff: timedelta = timedelta(hours=1), limits: Mapping[str, RateLimit] | None = None,
                 max_age: Mapping[str, timedelta] | None = None, holds: Mapping[str, Hold] | None = None) -> None:
        self.db, self.channels, self.tz, self.clock = db, dict(channels), tz, clock
        self.stale_after, self.max_attempts = stale_after, max_attempts
        self.base_backoff, self.max_backoff = base_backoff, max_backoff
        self.limits = dict(DEFAULT_LIMITS if limits is None else limits)
        self.max_age = dict(DEFAULT_MAX_AGE if max_age is None else max_age)
        self.holds = dict(holds or {})

    def backoff(self, attempts: int) -> timedelta:
        """30 s, 1 min, 2 min, 4 min ... capped at an hour (attempts counts the failed try)."""
        factor: int = 2 ** max(0, attempts - 1)  # int ** int is typed int | float: the exponent is not negative
        return min(self.max_backoff, self.base_backoff * factor)

    def _due(self, now: datetime) -> Any:
        stale = now - self.stale_after
        return and_(OutboxMessage.channel.in_(list(self.channels)),
                    or_(and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
                        and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at < stale)))

    def run_once(self, limit: int = 100) -> DispatchResult:
        result = DispatchResult()
        if not self.channels:
            return result
        now = self.clock()
        with self.db.session() as s:
            ids = list(s.scalars(select(OutboxMessage.id).where(self._due(now))
                                 .order_by(OutboxMessage.id).limit(limit)))
        for oid in ids:
            delivery = self._claim(oid, result)
            if delivery is not None:
                self._deliver(delivery, result)
        return result

    def _claim(self, oid: int, result: DispatchResult) -> Delivery | None:
        now = self.clock()
        with self.db.write_session() as s:
            row = s.execute(select(OutboxMessage, CostAlert, Budget)
                            .join(CostAlert, CostAlert.id == OutboxMessage.alert_id)
                            .outerjoin(Budget, Budget.id == CostAlert.budget_id)
                            .where(OutboxMessage.id == oid, self._due(now))).first()
            if row is None:
                return None  # another dispatcher took it
            msg, alert, budget = row
            max_age = self.max_age.get(msg.channel)
            if max_age is not None and alert.sent_at < now - max_age:
                msg.status, msg.last_error = "skipped", "expired before it could be shown"
                result.skipped.append(oid)
                return None
            if budget is not None and budget.snoozed_until is not None and budget.snoozed_until > now:
                msg.status, msg.last_error = "skipped", f"budget snoozed until {budget.snoozed_until.isoformat()}"
                result.skipped.append(oid)
                return None
            held = self._held(s, msg, budget, now)
            if held is not None:
                msg.status, msg.next_attempt_at, msg.claimed_at = "pending", held[0], None
                msg.note = held[1][:500]
                result.deferred.append(oid)
                return None
            # Compare-and-set: only one claimer's UPDATE matches the still-due row.
            n = affected_rows(s.execute(update(OutboxMessage).where(OutboxMessage.id == oid, self._due(now))
                                        .values(status="sending", claimed_at=now, attempts=OutboxMessage.attempts + 1,
                                                note=None)
                                        .execution_options(synchronize_session=False)))
            if n != 1:
                return None
            attempts = msg.attempts + 1
            channel, target = msg.channel, msg.target
        view = get_alert(self.db, alert.id)
        assert view is not None
        return Delivery(oid, channel, target, attempts, view)

    def _held(self, s: Session, msg: OutboxMessage, budget: Budget | None, now: datetime) -> tuple[datetime, str] | None:
        """Why a due row waits, and until when: the budget's quiet hours, the channel's own hold, its rate limit."""
        until = quiet_until(now, budget.quiet_start, budget.quiet_end, self.tz) if budget is not None else None
        if until is not None:
            return until, f"the budget's quiet hours end at {until.astimezone(self.tz):%H:%M}"
        hold = self.holds.get(msg.channel)
        held = hold(s, msg, now) if hold is not None else None
        if held is not None:
            return held
        until = self._rate_limited_until(s, msg, now)
        if until is not None:
            lim = self.limits[msg.channel]
            return until, (f"at most {lim.count} per {_minutes(lim.per)} to one destination; "
                           f"next at {until.astimezone(self.tz):%H:%M}")
        return None

    def _rate_limited_until(self, s: Session, msg: OutboxMessage, now: datetime) -> datetime | None:
        lim = self.limits.get(msg.channel)
        if lim is None:
            return None
        since = now - lim.per
        recent: list[datetime] = list(s.scalars(
            select(func.coalesce(OutboxMessage.sent_at, OutboxMessage.claimed_at))
            .where(OutboxMessage.channel == msg.channel, OutboxMessage.target == msg.target,
                   OutboxMessage.id != msg.id,
                   or_(and_(OutboxMessage.status == "sent", OutboxMessage.sent_at > since),
                       and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at > since)))
            .order_by(func.coalesce(OutboxMessage.sent_at, OutboxMessage.claimed_at))))
        if len(recent) < lim.count:
            return None
        return recent[len(recent) - lim.count] + lim.per

    def _deliver(self, d: Delivery, result: DispatchResult) -> None:
        try:
            self.channels[d.channel].send(d)
        except Exception as exc:  # noqa: BLE001 - every channel failure is recorded and retried
            permanent = isinstance(exc, PermanentDeliveryError) or d.attempts >= self.max_attempts
            now = self.clock()
            reason = str(exc) if isinstance(exc, DeliveryFailure) else f"{type(exc).__name__}: {exc}"
            values: dict[str, object] = {"last_error": redact(reason)[:2000], "claimed_at": None}
            if permanent:
                values["status"] = "failed"
                result.failed.append(d.outbox_id)
                log.warning("delivery %s via %s failed for good: %s", d.outbox_id, d.channel, exc)
            else:
                wait = self.backoff(d.attempts)
                if isinstance(exc, RetryLater) and exc.after is not None:
                    wait = max(exc.after, timedelta(0))  # the service's own "retry after", not our guess
                values.update(status="pending", next_attempt_at=now + wait)
                result.retried.append(d.outbox_id)
                log.info("delivery %s via %s failed (attempt %d), retrying: %s", d.outbox_id, d.channel,
                         d.attempts, exc)
            with self.db.write_session() as s:
                s.execute(update(OutboxMessage).where(OutboxMessage.id == d.outbox_id, OutboxMessage.status == "sending")
                          .values(**values))
            return
        with self.db.write_session() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id == d.outbox_id)
                      .values(status="sent", sent_at=self.clock(), last_error=None))
        result.sent.append(d.outbox_id)


def outbox_rows(db: Database, alert_id: int | None = None) -> list[OutboxMessage]:
    q = select(OutboxMessage).order_by(OutboxMessage.id)
    if alert_id is not None:
        q = q.where(OutboxMessage.alert_id == alert_id)
    with db.session() as s:
        return list(s.scalars(q))


def enqueue(s: Any, alert_id: int, channel: str, target: str, now: datetime) -> bool:
    """Add one pending delivery in session `s` unless the alert already has it (one per alert, channel and
    target, whoever asks and however often); True when added."""
    exists = s.scalar(select(OutboxMessage.id).where(OutboxMessage.alert_id == alert_id,
                                                      OutboxMessage.channel == channel, OutboxMessage.target == target))
    if exists is not None:
        return False
    try:
        with s.begin_nested():
            s.add(OutboxMessage(alert_id=alert_id, channel=channel, target=target, status="pending",
                                next_attempt_at=now, created_at=now))
    except IntegrityError:  # enqueued concurrently by another process
        return False
    return True


def next_due(db: Database, channels: Iterable[str]) -> datetime | None:
    """When the earliest pending delivery on `channels` is due (a retry's wake-up), None if none waits."""
    with db.session() as s:
        due: datetime | None = s.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.channel.in_(list(channels)), OutboxMessage.status == "pending"))
    return due
