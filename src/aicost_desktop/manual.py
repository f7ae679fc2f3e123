"""Manual spend entries and recurring subscriptions: validation, ledger rows, materialization."""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from aicost_desktop.domain.days import utc_midnight
from aicost_desktop.domain.enums import DataSource, Period
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.limits import check_name, check_note, check_usage_day, parse_row_amount
from aicost_desktop.domain.money import validate_currency
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.ledger import delete_in, delete_where, notify_changed, upsert_in, upsert_records
from aicost_desktop.storage.tables import Subscription, UsageRow

MAX_NOTE = 2000


@dataclass
class ManualEntry:
    """What the user typed; `validated()` turns text into typed values or raises InputError."""

    service: str
    amount: str | Decimal
    entry_date: date
    currency: str = "USD"
    provider: str | None = None
    model: str | None = None
    note: str | None = None
    refund: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    workspace_id: int | None = None


def _clean_text(value: str | None, field: str, limit: int = 200) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if len(text) > limit:
        raise InputError(field, value, f"is longer than {limit} characters")
    # The ledger's rules for names and notes (domain/limits.py), named by the user's field.
    if limit > 200:
        check_note(field, text)
    else:
        check_name(field, text, limit)
    return text or None


def to_record(entry: ManualEntry, dedup_key: str, *, is_demo: bool = False) -> UsageRecord:
    """Validate an entry and build its ledger record (a dated bucket: it belongs to its date everywhere)."""
    service = _clean_text(entry.service, "service")
    if not service:
        raise InputError("service", entry.service, "must not be empty")
    amount = parse_row_amount(entry.amount, "amount")
    currency = validate_currency(entry.currency)
    for name in ("input_tokens", "output_tokens"):
        v = getattr(entry, name)
        if not isinstance(v, int) or v < 0:
            raise InputError(name, v, "must be a whole number >= 0")
    if not isinstance(entry.entry_date, date):
        raise InputError("date", entry.entry_date, "must be a date YYYY-MM-DD")
    check_usage_day("date", entry.entry_date)
    start = utc_midnight(entry.entry_date)
    return UsageRecord(
        source=DataSource.MANUAL, dedup_key=dedup_key,
        provider=(_clean_text(entry.provider, "provider") or service).lower(),
        bucket_start=start, bucket_end=start + timedelta(days=1),
        usage=TokenUsage(input_tokens=entry.input_tokens, output_tokens=entry.output_tokens),
        model=_clean_text(entry.model, "model"), project=service,
        line_item="refund" if entry.refund else "charge",
        # A refund is its own type: stored negative so it reduces spend, never typed as a negative amount.
        reported_cost=-amount if entry.refund else amount, currency=currency,
        note=_clean_text(entry.note, "note", MAX_NOTE), workspace_id=entry.workspace_id, is_demo=is_demo,
    )


def add_entry(db: Database, entry: ManualEntry, *, is_demo: bool = False) -> int:
    """Store a manual entry; returns its ledger id. Nothing is stored when validation fails."""
    key = f"manual:{uuid.uuid4().hex}"
    upsert_records(db, [to_record(entry, key, is_demo=is_demo)])
    with db.session() as s:
        return s.execute(select(UsageRow.id).where(UsageRow.source == "manual", UsageRow.dedup_key == key)).scalar_one()


def update_entry(db: Database, entry_id: int, entry: ManualEntry) -> None:
    """Replace a manual entry's values, keeping its identity."""
    with db.session() as s:
        row = s.get(UsageRow, entry_id)
        if row is None or row.source != DataSource.MANUAL.value:
            raise InputError("id", entry_id, "no manual entry with this id")
        key, demo = row.dedup_key, row.is_demo
    upsert_records(db, [to_record(entry, key, is_demo=demo)])


def delete_entry(db: Database, entry_id: int) -> None:
    n = delete_where(db, UsageRow.id == entry_id, UsageRow.source == DataSource.MANUAL.value)
    if not n:
        raise InputError("id", entry_id, "no manual entry with this id")


# ---- subscriptions ---------------------------------------------------------------------------

SUB_PERIODS = {Period.MONTHLY.value: 1, Period.YEARLY.value: 12, Period.QUARTERLY.value: 3}


def add_months(d: date, months: int) -> date:
    """Same day-of-month `months` later, clamped to the month's end (Jan 31 + 1 month = Feb 28/29)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def charge_dates(start: date, end: date | None, period: str, until: date) -> list[date]:
    """Every charge date from start (inclusive) to min(end, until) (inclusive)."""
    step = SUB_PERIODS[period]
    last = min(end, until) if end else until
    out, n = [], 0
    while (d := add_months(start, step * n)) <= last:
        out.append(d)
        n += 1
    return out


def _subscription_fields(service: str, amount: str | Decimal, period: str, start: date, end: date | None,
                         currency: str, provider: str | None, note: str | None) -> dict[str, object]:
    """A subscription's columns from what the user typed, or InputError naming the field."""
    service_clean = _clean_text(service, "service")
    if not service_clean:
        raise InputError("service", service, "must not be empty")
    value = parse_row_amount(amount, "amount")
    if period not in SUB_PERIODS:
        raise InputError("period", period, f"use one of {', '.join(SUB_PERIODS)}")
    cur = validate_currency(currency)
    check_usage_day("start", start)
    if end is not None and end < start:
        raise InputError("end", end.isoformat(), f"is before start={start.isoformat()}")
    return dict(service=service_clean, provider=_clean_text(provider, "provider"), amount=value, currency=cur,
                period=period, start_date=start, end_date=end, note=_clean_text(note, "note", MAX_NOTE))


def add_subscription(db: Database, service: str, amount: str | Decimal, period: str, start: date,
                     end: date | None = None, currency: str = "USD", provider: str | None = None,
                     note: str | None = None, *, today: date | None = None, is_demo: bool = False) -> int:
    """Validate and store a subscription with its charges up to today, in one transaction."""
    fields = _subscription_fields(service, amount, period, start, end, currency, provider, note)
    ws = db.default_workspace_id()
    with db.write_session() as s:
        sub = Subscription(**fields, workspace_id=ws, is_demo=is_demo)
        s.add(sub)
        s.flush()
        sub_id = sub.id
        hours = upsert_in(s, db.dialect, _charges(sub, today or date.today()), ws).hours
    notify_changed(hours)
    return sub_id


def update_subscription(db: Database, sub_id: int, service: str, amount: str | Decimal, period: str, start: date,
                        end: date | None = None, currency: str = "USD", provider: str | None = None,
                        note: str | None = None, *, today: date | None = None) -> None:
    """Replace a subscription's values (same id) and its charges to match them, in one transaction (a crash
    leaves the old subscription with its old charges, never one without charges)."""
    fields = _subscription_fields(service, amount, period, start, end, currency, provider, note)
    ws = db.default_workspace_id()
    with db.write_session() as s:
        sub = s.get(Subscription, sub_id)
        if sub is None:
            raise InputError("id", sub_id, "no subscription with this id")
        for name, value in fields.items():
            setattr(sub, name, value)
        s.flush()
        # The old charges may fall on other dates or carry the old amount: drop them, write the new schedule.
        _, hours = delete_in(s, UsageRow.subscription_id == sub_id)
        hours |= upsert_in(s, db.dialect, _charges(sub, today or date.today()), ws).hours
    notify_changed(hours)


def get_subscription(db: Database, sub_id: int) -> Subscription:
    """One subscription (detached, its columns loaded), or InputError."""
    with db.session() as s:
        sub = s.get(Subscription, sub_id)
        if sub is None:
            raise InputError("id", sub_id, "no subscription with this id")
        s.expunge(sub)
        return sub


def materialize(db: Database, today: date | None = None, only: int | None = None,
                added: list[str] | None = None) -> int:
    """Write the ledger row of every subscription period that has started and has none yet; idempotent.
    Returns rows written. Called whenever spend is about to be read (the CLI's reading commands, the runtime's
    hourly tick), since a charge falls due on its day whether or not anything ran then: with nothing due it only
    reads, and takes no write lock. `added` gets the dedup keys of the rows written when this call wrote every
    one it meant to (none written meanwhile by another process), for `unmaterialize`."""
    today = today or date.today()
    with db.session() as s:
        q = select(Subscription)
        keys = select(UsageRow.dedup_key).where(UsageRow.source == DataSource.SUBSCRIPTION.value)
        if only is not None:
            q = q.where(Subscription.id == only)
            keys = keys.where(UsageRow.subscription_id == only)
        subs = list(s.scalars(q))
        have = set(s.scalars(keys))
    records = [r for sub in subs for r in _charges(sub, today) if r.dedup_key not in have]
    if not records:
        return 0
    written = upsert_records(db, records).added
    if added is not None and written == len(records):
        added.extend(r.dedup_key for r in records)
    return written


def unmaterialize(db: Database, keys: list[str]) -> None:
    """Remove the charge rows one `materialize` call wrote (its `added` keys), in one transaction: a CLI
    command that failed leaves the ledger as it found it (the charges are written again by the next
    command that shows spend)."""
    if not keys:
        return
    with db.write_session() as s:
        _, hours = delete_in(s, (UsageRow.source == DataSource.SUBSCRIPTION.value) & UsageRow.dedup_key.in_(keys))
    notify_changed(hours)


def _charges(sub: Subscription, today: date) -> list[UsageRecord]:
    """The ledger rows of a subscription's charges up to `today`."""
    records = []
    for d in charge_dates(sub.start_date, sub.end_date, sub.period, today):
        start = utc_midnight(d)
        records.append(UsageRecord(
            source=DataSource.SUBSCRIPTION, dedup_key=f"subscription:{sub.id}:{d.isoformat()}",
            provider=(sub.provider or sub.service).lower(), bucket_start=start,
            bucket_end=start + timedelta(days=1), project=sub.service, line_item=f"subscription {sub.period}",
            reported_cost=sub.amount, currency=sub.currency, note=sub.note, workspace_id=sub.workspace_id,
            is_demo=sub.is_demo, subscription_id=sub.id))
    return records


def remove_subscription(db: Database, sub_id: int) -> None:
    """Delete a subscription and the charges it materialized, in one transaction."""
    with db.write_session() as s:
        sub = s.get(Subscription, sub_id)
        if sub is None:
            raise InputError("id", sub_id, "no subscription with this id")
        _, hours = delete_in(s, UsageRow.subscription_id == sub_id)
        s.delete(sub)
    notify_changed(hours)


def list_subscriptions(db: Database) -> list[Subscription]:
    with db.session() as s:
        return list(s.scalars(select(Subscription).order_by(Subscription.id)))
