"""Raising alerts once per dedup key (with their outbox rows), listing and acknowledging them.

The one home of alerts: the sync runner calls `raise_sync_failure`, imports and syncs `raise_unpriced_written`,
the anomaly detector `raise_anomaly`; the budget engine calls `raise_in` inside its own transaction. An alert and its deliveries are
written in one transaction, so a crash either loses both or keeps both (and the outbox delivers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable, Sequence

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.redact import redact
from aicost_desktop.storage.db import Database, affected_rows
from aicost_desktop.storage.tables import (UNPRICED_ROWS, Account, Budget, CostAlert, OutboxMessage, UsageRow,
                                          utcnow)

ALERT_TYPES = ("threshold", "forecast", "sync_failure", "unpriced_model", "anomaly")
TRAY = "tray"
EMAIL = "email"


@dataclass(frozen=True)
class AlertView:
    """An alert as the CLI, dock and notifier show it (budget resolved to its name)."""

    id: int
    type: str
    budget: str | None
    budget_id: int | None
    threshold: Decimal | None
    message: str
    current_usage: Decimal | None
    budget_limit: Decimal | None
    currency: str
    period_start: datetime | None
    sent_at: datetime
    acknowledged: bool
    account_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        def s(d: Decimal | None) -> str | None:
            return None if d is None else f"{d.normalize():f}"

        return {"id": self.id, "type": self.type, "budget": self.budget, "threshold": s(self.threshold),
                "message": self.message, "current_usage": s(self.current_usage),
                "budget_limit": s(self.budget_limit), "currency": self.currency,
                "period_start": self.period_start.isoformat() if self.period_start else None,
                "sent_at": self.sent_at.isoformat(), "acknowledged": self.acknowledged}


def default_channels(emails: Iterable[str] = ()) -> list[tuple[str, str]]:
    """One tray delivery plus one email delivery per address (duplicates dropped)."""
    out = [(TRAY, "")]
    for e in emails:
        if e and (EMAIL, e) not in out:
            out.append((EMAIL, e))
    return out


def raise_in(s: Session, type_: str, dedup_key: str, message: str, *,
             channels: Sequence[tuple[str, str]] | None = None, now: datetime | None = None,
             **fields: Any) -> CostAlert | None:
    """Insert the alert and its outbox rows in session `s`; None when `dedup_key` was already raised."""
    if type_ not in ALERT_TYPES:
        raise InputError("type", type_, f"use one of {', '.join(ALERT_TYPES)}")
    if s.scalar(select(CostAlert.id).where(CostAlert.dedup_key == dedup_key)) is not None:
        return None
    now = now or utcnow()
    # Messages quote provider errors (a sync failure's): no secret they echo is stored.
    alert = CostAlert(type=type_, dedup_key=dedup_key, message=redact(message), sent_at=now, **fields)
    try:
        with s.begin_nested():
            s.add(alert)
            s.flush()
    except IntegrityError:  # raised concurrently by another process
        return None
    for channel, target in (default_channels() if channels is None else channels):
        s.add(OutboxMessage(alert_id=alert.id, channel=channel, target=target, status="pending",
                            next_attempt_at=now, created_at=now))
    s.flush()
    return alert


def raise_alert(db: Database, type: str, dedup_key: str, message: str, *,
                channels: Sequence[tuple[str, str]] | None = None, now: datetime | None = None,
                **fields: Any) -> CostAlert | None:
    """Raise an alert once: returns the new CostAlert, or None when `dedup_key` was already raised.

    `fields` are CostAlert columns (budget_id, account_id, workspace_id, threshold, period_start,
    current_usage, budget_limit, currency). `channels` defaults to one tray delivery.
    """
    with db.write_session() as s:
        return raise_in(s, type, dedup_key, message, channels=channels, now=now, **fields)


def raise_sync_failure(db: Database, account_id: int, message: str, *, now: datetime | None = None) -> CostAlert | None:
    """One alert per account and failure episode: a sync failing every 15 minutes alerts once, and
    after a successful sync (account.last_success_at newer than the alert) the next failure alerts again."""
    key = f"sync_failure:{account_id}:open"
    with db.write_session() as s:
        acc = s.get(Account, account_id)
        old = s.scalar(select(CostAlert).where(CostAlert.dedup_key == key))
        if old is not None and acc is not None and acc.last_success_at is not None \
                and acc.last_success_at > old.sent_at:
            old.dedup_key = f"sync_failure:{account_id}:closed:{old.id}"
            s.flush()
        name = acc.name if acc else f"account {account_id}"
        text = message if message.lower().startswith("sync of") else f"Sync of {name} failed: {message}"
        return raise_in(s, "sync_failure", key, text, account_id=account_id if acc else None,
                        workspace_id=acc.workspace_id if acc else None, now=now)


def clear_sync_failure(db: Database, account_id: int) -> bool:
    """Close the open sync-failure alert of an account (after a successful sync); True if one was open."""
    with db.write_session() as s:
        a = s.scalar(select(CostAlert).where(CostAlert.dedup_key == f"sync_failure:{account_id}:open"))
        if a is None:
            return False
        a.dedup_key = f"sync_failure:{account_id}:closed:{a.id}"
        return True


def _unpriced_key(model: str) -> str:
    """The dedup key of a model's open unpriced alert (closed ones are renamed when the model gets priced)."""
    return f"unpriced_model:{model}"


def unpriced_message(model: str, rows: int | None) -> str:
    """'N ledger rows of model X have no price — set one': the alert log and tray text."""
    head = f"{rows} ledger row{'s' if rows != 1 else ''} of model {model}" if rows else f"Rows of model {model}"
    verb = "has" if rows == 1 else "have"
    return (f"{head} {verb} no price — set one (aicost prices set, or 'Set price' in the Analytics dock); "
            f"until then their usage counts as $0 in spend and budgets.")


def raise_unpriced_models(db: Database, models: Iterable[str], *, account_id: int | None = None,
                          rows: dict[str, int] | None = None, now: datetime | None = None) -> list[CostAlert]:
    """One alert per model that has no price: a model alerts once until it gets priced
    (`resolve_unpriced_models` closes its alert), however many imports and syncs write its rows meanwhile."""
    out: list[CostAlert] = []
    with db.write_session() as s:
        for model in sorted(set(m for m in models if m)):
            msg = unpriced_message(model, (rows or {}).get(model))
            a = raise_in(s, "unpriced_model", _unpriced_key(model), msg, account_id=account_id, now=now)
            if a is not None:
                out.append(a)
    return out


def raise_unpriced_written(db: Database, since: datetime, *, account_id: int | None = None,
                           now: datetime | None = None) -> list[CostAlert]:
    """After an import or a sync: alert for each model that has rows written at or after `since` without
    a price (of `account_id` when given). The count in the message is the model's unpriced rows."""
    # UNPRICED_ROWS is the partial index's own condition, so only unpriced rows are read.
    q = (select(UsageRow.model, func.count(), func.sum(case((UsageRow.updated_at >= since, 1), else_=0)))
         .where(UNPRICED_ROWS).group_by(UsageRow.model))
    if account_id is not None:  # a sync's own rows (other accounts may sync at the same time)
        q = q.where(UsageRow.account_id == account_id)
    with db.session() as s:
        counts = {m: int(n) for m, n, fresh in s.execute(q) if m and fresh}
    return raise_unpriced_models(db, counts, account_id=account_id, rows=counts, now=now) if counts else []


def resolve_unpriced_models(db: Database, models: Iterable[str], *, now: datetime | None = None) -> int:
    """Close the open unpriced alerts of models that got a price (acknowledged, key renamed so a later
    unpriced episode alerts again). Returns how many were closed."""
    closed = 0
    with db.write_session() as s:
        for model in sorted(set(m for m in models if m)):
            a = s.scalar(select(CostAlert).where(CostAlert.dedup_key == _unpriced_key(model)))
            if a is None:
                continue
            a.dedup_key = f"{_unpriced_key(model)}:closed:{a.id}"
            if not a.acknowledged:
                a.acknowledged, a.acknowledged_at = True, now or utcnow()
            closed += 1
    return closed


def raise_anomaly(db: Database, series_day: str, message: str, *, current_usage: Decimal | None = None,
                  expected: Decimal | None = None, currency: str = "USD", now: datetime | None = None,
                  **fields: Any) -> CostAlert | None:
    """One `anomaly` alert per series and day (`series_day`, e.g. 'provider:openai:2026-11-20'); None when it
    was already raised. `expected` is kept in budget_limit (the figure the actual is compared with); the
    alert belongs to the default workspace unless `workspace_id` is given."""
    fields.setdefault("workspace_id", db.default_workspace_id())
    return raise_alert(db, "anomaly", f"anomaly:{series_day}", message, current_usage=current_usage,
                       budget_limit=expected, currency=currency, now=now, **fields)


def _view(a: CostAlert, budget: str | None) -> AlertView:
    return AlertView(a.id, a.type, budget, a.budget_id, a.threshold, a.message, a.current_usage, a.budget_limit,
                     a.currency, a.period_start, a.sent_at, a.acknowledged, a.account_id)


def list_alerts(db: Database, *, unacknowledged: bool = False, type_: str | None = None,
                budget_id: int | None = None, limit: int | None = None) -> list[AlertView]:
    """Alerts newest first (ties by id), optionally only unacknowledged / of one type / budget."""
    q = select(CostAlert, Budget.name).outerjoin(Budget, Budget.id == CostAlert.budget_id)
    if unacknowledged:
        q = q.where(CostAlert.acknowledged.is_(False))
    if type_:
        q = q.where(CostAlert.type == type_)
    if budget_id is not None:
        q = q.where(CostAlert.budget_id == budget_id)
    q = q.order_by(CostAlert.sent_at.desc(), CostAlert.id.desc())
    if limit:
        q = q.limit(limit)
    with db.session() as s:
        return [_view(a, name) for a, name in s.execute(q)]


def get_alert(db: Database, alert_id: int) -> AlertView | None:
    with db.session() as s:
        row = s.execute(select(CostAlert, Budget.name).outerjoin(Budget, Budget.id == CostAlert.budget_id)
                        .where(CostAlert.id == alert_id)).first()
        return _view(row[0], row[1]) if row else None


def acknowledge(db: Database, alert_id: int, *, now: datetime | None = None) -> bool:
    """Mark an alert acknowledged; False if it already was. InputError for an unknown id."""
    with db.write_session() as s:
        a = s.get(CostAlert, alert_id)
        if a is None:
            raise InputError("id", alert_id, "no such alert")
        if a.acknowledged:
            return False
        a.acknowledged = True
        a.acknowledged_at = now or utcnow()
        return True


def acknowledge_all(db: Database, ids: Iterable[int]) -> int:
    ids = list(ids)
    if not ids:
        return 0
    with db.write_session() as s:
        r = s.execute(update(CostAlert).where(CostAlert.id.in_(ids), CostAlert.acknowledged.is_(False))
                      .values(acknowledged=True, acknowledged_at=utcnow()))
        return affected_rows(r)


def pending_acknowledgement(db: Database) -> list[AlertView]:
    """Unacknowledged 'budget reached' alerts of budgets set to require acknowledgement (tray stays red)."""
    q = (select(CostAlert, Budget.name).join(Budget, Budget.id == CostAlert.budget_id)
         .where(CostAlert.acknowledged.is_(False), Budget.on_exceed == "require_ack",
                CostAlert.type == "threshold", CostAlert.threshold >= Decimal(100))
         .order_by(CostAlert.id))
    with db.session() as s:
        return [_view(a, n) for a, n in s.execute(q)]
