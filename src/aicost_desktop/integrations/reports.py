"""Scheduled spend reports: daily / weekly / monthly in the user's time zone, once per period, to a destination."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select

from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import format_money
from aicost_desktop.domain.redact import redact
from aicost_desktop.integrations.delivery import send
from aicost_desktop.integrations.manager import IntegrationManager
from aicost_desktop.integrations.messages import Message
from aicost_desktop.integrations.routing import (KEEP, MAX_NAME, Destination, DestinationSpec, check_destination,
                                                 name_taken)
from aicost_desktop.notify.outbox import DeliveryFailure, PermanentDeliveryError, RetryLater
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import IntegrationConnection, ReportSchedule, utcnow

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext

log = logging.getLogger("aicost.integrations.reports")
FREQUENCIES = ("daily", "weekly", "monthly")
REPORT_TRIGGERS = {f"report:{f}": f for f in FREQUENCIES}  # `aicost routes add --on report:weekly`
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
GROUPS = ("model", "provider", "account", "project", "source", "workspace", "day")
PERIOD_WORDS = {"daily": "yesterday", "weekly": "last week", "monthly": "last month"}
MAX_ATTEMPTS = 6
STALE_CLAIM = timedelta(minutes=10)  # a claim older than this was a run that crashed: run again


class SpendRow(Protocol):
    @property
    def keys(self) -> Mapping[str, str]: ...
    @property
    def cost(self) -> Decimal: ...


class SpendReport(Protocol):
    """What `analytics.report.spend_report` returns (a sibling layer: the runtime and CLI pass it in)."""

    @property
    def rows(self) -> Sequence[SpendRow]: ...
    @property
    def currency(self) -> str: ...
    @property
    def total(self) -> Decimal: ...
    def as_json(self) -> dict[str, Any]: ...


# (first local day, last local day, group field) -> the report of `aicost report --from --to --group-by`.
Spend = Callable[[date, date, str], SpendReport]


@dataclass(frozen=True)
class Period:
    """The local days a report covers and the local instant its report became due."""

    start: date
    end: date
    due_at: datetime

    @property
    def key(self) -> str:
        return self.start.isoformat()


def _at(d: date, hour: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, time(hour), tzinfo=tz)


def run_day(frequency: str, weekday: int | None, hour: int, now: datetime, tz: ZoneInfo) -> date:
    """The latest day at or before `now` (local) whose report hour has passed."""
    today = now.astimezone(tz).date()
    if frequency == "daily":
        day, before = today, today - timedelta(days=1)
    elif frequency == "weekly":
        day = today - timedelta(days=(today.weekday() - (weekday or 0)) % 7)
        before = day - timedelta(days=7)
    else:
        day = today.replace(day=1)
        before = (day - timedelta(days=1)).replace(day=1)
    return day if now >= _at(day, hour, tz) else before


def due_period(frequency: str, weekday: int | None, hour: int, now: datetime, tz: ZoneInfo) -> Period:
    """The last complete period whose report is due by `now`: yesterday, the 7 days before the run day, or
    the month before the 1st."""
    day = run_day(frequency, weekday, hour, now, tz)
    start = {"daily": day - timedelta(days=1), "weekly": day - timedelta(days=7),
             "monthly": (day - timedelta(days=1)).replace(day=1)}[frequency]
    return Period(start, day - timedelta(days=1), _at(day, hour, tz))


def next_run(frequency: str, day: date) -> date:
    if frequency == "daily":
        return day + timedelta(days=1)
    if frequency == "weekly":
        return day + timedelta(days=7)
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class Schedule:
    id: int
    name: str
    frequency: str
    weekday: int | None
    hour: int
    group_by: str
    destination: Destination
    enabled: bool
    last_period: str | None
    last_status: str | None
    last_error: str | None
    last_run_at: datetime | None
    next_attempt_at: datetime | None

    @property
    def trigger(self) -> str:
        return f"report:{self.frequency}"

    @property
    def destinations(self) -> tuple[Destination, ...]:
        return (self.destination,)

    def describe(self) -> str:
        """'every Monday at 09:00: last week's spend by model'."""
        when = {"daily": "every day", "weekly": f"every {WEEKDAYS[self.weekday or 0].title()}",
                "monthly": "on the 1st of every month"}[self.frequency]
        return f"{when} at {self.hour:02d}:00: {PERIOD_WORDS[self.frequency]}'s spend by {self.group_by}"

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "trigger": self.trigger, "frequency": self.frequency,
                "weekday": None if self.weekday is None else WEEKDAYS[self.weekday], "hour": self.hour,
                "group_by": self.group_by, "when": self.describe(), "destination": self.destination.as_json(),
                "enabled": self.enabled, "last_period": self.last_period, "last_status": self.last_status,
                "last_error": self.last_error,
                "last_run_at": self.last_run_at.isoformat() if self.last_run_at else None}


def _schedule(r: ReportSchedule, conn: str, kind: str) -> Schedule:
    dest = Destination(r.id, conn, kind, r.action, json.loads(r.params or "{}"), r.created_at)
    return Schedule(r.id, r.name, r.frequency, r.weekday, r.hour, r.group_by, dest, r.enabled, r.last_period,
                    r.last_status, r.last_error, r.last_run_at, r.next_attempt_at)


def parse_weekday(text: str | int | None, default: int) -> int:
    if text is None or text == "":
        return default
    if isinstance(text, int) and not isinstance(text, bool) and 0 <= text <= 6:
        return text  # a form's 0 = Monday .. 6 = Sunday
    t = str(text).strip().lower()
    for i, name in enumerate(WEEKDAYS):
        if len(t) >= 3 and name.startswith(t):
            return i
    raise InputError("day", text, "use a weekday name such as monday")


def _check(frequency: str, weekday: str | int | None, hour: int, group_by: str, week_start: int) -> int | None:
    """The schedule's parts checked; the weekday number of a weekly one."""
    if frequency not in FREQUENCIES:
        raise InputError("every", frequency, f"use one of {', '.join(FREQUENCIES)}")
    if weekday not in (None, "") and frequency != "weekly":
        raise InputError("day", weekday, "only weekly reports take a day")
    day = parse_weekday(weekday, week_start) if frequency == "weekly" else None
    if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
        raise InputError("at", hour, "must be an hour 0..23 (local time)")
    if group_by not in GROUPS:
        raise InputError("group-by", group_by, f"use one of {', '.join(GROUPS)}")
    return day


def add_report(db: Database, tz: ZoneInfo, frequency: str, dest: DestinationSpec, *, name: str | None = None,
               weekday: str | int | None = None, hour: int = 9, group_by: str = "model", week_start: int = 0,
               now: datetime | None = None) -> Schedule:
    """Store a schedule. Its first report is the next period's: the period already due when it is added is
    marked done (`run-now` sends it on request)."""
    day = _check(frequency, weekday, hour, group_by, week_start)
    name = (name or "").strip() or f"{frequency} spend by {group_by} -> {dest.connection}"[:MAX_NAME]
    if len(name) > MAX_NAME:
        raise InputError("name", name, f"at most {MAX_NAME} characters")
    now = now or utcnow()
    with db.write_session() as s:
        if name_taken(s, name):
            raise InputError("name", name, "a rule or report has this name already")
        conn, params = check_destination(s, dest)
        row = ReportSchedule(name=name, frequency=frequency, weekday=day, hour=hour, group_by=group_by,
                             connection_id=conn.id, action=dest.action, params=json.dumps(params, sort_keys=True),
                             enabled=True, created_at=now, attempts=0,
                             last_period=due_period(frequency, day, hour, now, tz).key)
        s.add(row)
        s.flush()
        rid = row.id
    return get_report(db, str(rid))


def _rows(db: Database, ref: str | None = None) -> list[Schedule]:
    q = (select(ReportSchedule, IntegrationConnection.name, IntegrationConnection.kind)
         .join(IntegrationConnection, IntegrationConnection.id == ReportSchedule.connection_id)
         .order_by(ReportSchedule.id))
    with db.session() as s:
        out = [_schedule(r, c, k) for r, c, k in s.execute(q)]
    if ref is None:
        return out
    found = [x for x in out if x.name == ref] or [x for x in out if ref.strip().isdigit() and str(x.id) == ref.strip()]
    if not found:
        raise InputError("report", ref, "no such report (see aicost reports list)")
    return found


def list_reports(db: Database) -> list[Schedule]:
    return _rows(db)


def get_report(db: Database, ref: str) -> Schedule:
    return _rows(db, ref)[0]


def update_report(db: Database, tz: ZoneInfo, ref: str, *, name: str | None = KEEP, frequency: str = KEEP,
                  weekday: str | int | None = KEEP, hour: int = KEEP, group_by: str = KEEP,
                  destination: DestinationSpec = KEEP, enabled: bool = KEEP, week_start: int = 0,
                  now: datetime | None = None) -> Schedule:
    """Change what was given (KEEP leaves a part as it is). A new timing starts with the next period, as a
    new schedule does: the period already due under it is not sent (use run-now)."""
    old = get_report(db, ref)
    now = now or utcnow()
    freq = old.frequency if frequency is KEEP else frequency
    if weekday is KEEP:
        weekday = old.weekday if freq == "weekly" else None
    hour = old.hour if hour is KEEP else hour
    group = old.group_by if group_by is KEEP else group_by
    day = _check(freq, weekday, hour, group, week_start)
    new_name = old.name if name is KEEP else (name or "").strip() or f"{freq} spend by {group} -> " \
        f"{(old.destination.connection if destination is KEEP else destination.connection)}"[:MAX_NAME]
    if len(new_name) > MAX_NAME:
        raise InputError("name", new_name, f"at most {MAX_NAME} characters")
    with db.write_session() as s:
        row = s.get(ReportSchedule, old.id)
        if row is None:
            raise InputError("report", ref, "no such report (it was removed)")
        if new_name != old.name and name_taken(s, new_name, report_id=old.id):
            raise InputError("name", new_name, "a rule or report has this name already")
        if destination is not KEEP:
            conn, params = check_destination(s, destination)
            row.connection_id, row.action, row.params = conn.id, destination.action, json.dumps(params, sort_keys=True)
        if (freq, day, hour) != (old.frequency, old.weekday, old.hour):
            row.last_period = due_period(freq, day, hour, now, tz).key
            row.attempts, row.next_attempt_at, row.claimed_at = 0, None, None
        row.name, row.frequency, row.weekday, row.hour, row.group_by = new_name, freq, day, hour, group
        if enabled is not KEEP:
            row.enabled = bool(enabled)
    return get_report(db, str(old.id))


def remove_report(db: Database, ref: str) -> Schedule:
    sched = get_report(db, ref)
    with db.write_session() as s:
        s.execute(delete(ReportSchedule).where(ReportSchedule.id == sched.id))
    return sched


def report_message(ctx: "AppContext", sched: Schedule, period: Period, spend: Spend) -> Message:
    """The period's spend by the schedule's dimension, from the same query (and settings) as `aicost report`."""
    rep = spend(period.start, period.end, sched.group_by)
    g = sched.group_by
    rows = sorted(rep.rows, key=lambda r: (-r.cost, r.keys[g]))
    span = period.start.isoformat() if period.start == period.end else f"{period.start} to {period.end}"
    title = f"AI spend by {g}, {PERIOD_WORDS[sched.frequency]} ({span})"
    text = f"Total {format_money(rep.total, rep.currency)} in {ctx.tz.key}."
    table: list[tuple[str, ...]] = [("from", "to", g, "cost")]
    table += [(period.start.isoformat(), period.end.isoformat(), r.keys[g] or f"(no {g})",
               format_money(r.cost, rep.currency)) for r in rows]
    data = {**rep.as_json(), "report": sched.name, "group_by": g}
    fields = (("Total", format_money(rep.total, rep.currency)),)
    return Message(f"report.{sched.frequency}", title, text, fields, tuple(table), data, ref=f"report {sched.name}")


def run_report_now(ctx: "AppContext", manager: IntegrationManager, ref: str, spend: Spend,
                   now: datetime | None = None) -> Message:
    """Send the last complete period's report now; the schedule (its last period) is left as it was."""
    sched = get_report(ctx.db, ref)
    period = due_period(sched.frequency, sched.weekday, sched.hour, now or utcnow(), ctx.tz)
    msg = report_message(ctx, sched, period, spend)
    send(manager, sched.destination, msg)
    return msg


def run_due_reports(ctx: "AppContext", manager: IntegrationManager, spend: Spend,
                    now: datetime | None = None) -> list[str]:
    """Send every schedule's due period once (claimed first, so two runtimes do not both send); a failure is
    retried with back-off (or the service's retry_after) up to MAX_ATTEMPTS, then recorded as failed."""
    now = now or utcnow()
    sent = []
    for sched in list_reports(ctx.db):
        if not sched.enabled:
            continue
        period = due_period(sched.frequency, sched.weekday, sched.hour, now, ctx.tz)
        attempts = _claim(ctx.db, sched.id, period, now)
        if attempts is None:
            continue
        try:
            send(manager, sched.destination, report_message(ctx, sched, period, spend))
        except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried or given up
            _failed(ctx.db, sched, period, exc, attempts, now)
            continue
        with ctx.db.write_session() as s:
            row = s.get(ReportSchedule, sched.id)
            if row is not None:
                row.last_period, row.attempts, row.claimed_at, row.next_attempt_at = period.key, 0, None, None
                row.last_status, row.last_error, row.last_run_at = "sent", None, now
        sent.append(sched.name)
    return sent


def _claim(db: Database, sid: int, period: Period, now: datetime) -> int | None:
    """Take the schedule's due period (the write lock makes check-and-set atomic); the attempt number, or None."""
    with db.write_session() as s:
        row = s.get(ReportSchedule, sid)
        if row is None or (row.last_period is not None and row.last_period >= period.key):
            return None
        if row.next_attempt_at is not None and row.next_attempt_at > now:
            return None
        if row.claimed_at is not None and row.claimed_at > now - STALE_CLAIM:
            return None
        row.claimed_at, row.attempts = now, row.attempts + 1
        return row.attempts


def _failed(db: Database, sched: Schedule, period: Period, exc: Exception, attempts: int, now: datetime) -> None:
    reason = redact(str(exc) if isinstance(exc, (DeliveryFailure, InputError)) else f"{type(exc).__name__}: {exc}")
    retry = attempts < MAX_ATTEMPTS and not isinstance(exc, (PermanentDeliveryError, InputError))
    with db.write_session() as s:
        row = s.get(ReportSchedule, sched.id)
        if row is None:
            return
        row.claimed_at, row.last_error, row.last_run_at = None, reason[:2000], now
        if retry:
            wait = exc.after if isinstance(exc, RetryLater) and exc.after is not None \
                else timedelta(seconds=30 * 2 ** (attempts - 1))
            row.last_status, row.next_attempt_at = "retrying", now + wait
        else:  # this period's report is given up; the next period's runs as usual
            row.last_status, row.last_period, row.attempts, row.next_attempt_at = "failed", period.key, 0, None
    log.warning("report %s for %s: %s%s", sched.name, period.key, reason, " (will retry)" if retry else "")


def reports_next_due(ctx: "AppContext", now: datetime | None = None) -> datetime | None:
    """The earliest instant a schedule has something to send (a retry, or its next period)."""
    now = now or utcnow()
    out: list[datetime] = []
    for sched in list_reports(ctx.db):
        if not sched.enabled:
            continue
        period = due_period(sched.frequency, sched.weekday, sched.hour, now, ctx.tz)
        if sched.last_period is None or sched.last_period < period.key:
            # Due but not sent: a retry at its time, else another runtime holds the claim until it goes stale.
            out.append(sched.next_attempt_at or now + STALE_CLAIM)
        else:
            day = run_day(sched.frequency, sched.weekday, sched.hour, now, ctx.tz)
            out.append(_at(next_run(sched.frequency, day), sched.hour, ctx.tz))
    return min(out) if out else None

