"""The ledger writer: idempotent, page-at-a-time upserts of UsageRecords keyed by (source, dedup_key)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from itertools import islice
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from aicost_desktop.domain.days import is_dated_bucket
from aicost_desktop.domain.usage import UsageRecord
from aicost_desktop.storage import rollup
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import UsageRow

log = logging.getLogger("aicost.ledger")

# Columns compared to decide whether an existing row changed (updated_at and id excluded).
VALUE_COLUMNS = (
    "workspace_id", "account_id", "provider", "model", "model_vendor", "project", "api_key_id", "line_item",
    "service_tier", "bucket_start", "bucket_end", "dated", "input_tokens", "output_tokens",
    "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "reasoning_tokens",
    "reasoning_included", "requests", "reported_cost", "computed_cost", "cost", "cost_role", "currency",
    "note", "is_demo", "subscription_id",
)
# Listeners called after each committed page with the UTC hours it touched (budgets, GUI refresh).
_listeners: list[Callable[[set[datetime]], None]] = []


@dataclass
class UpsertResult:
    """Counts of one upsert run: rows inserted, changed, or already identical."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    hours: set[datetime] = field(default_factory=set, repr=False)

    def __iadd__(self, other: "UpsertResult") -> "UpsertResult":
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.hours |= other.hours
        return self


def add_listener(fn: Callable[[set[datetime]], None]) -> None:
    _listeners.append(fn)


def remove_listener(fn: Callable[[set[datetime]], None]) -> None:
    if fn in _listeners:
        _listeners.remove(fn)


def record_to_row(rec: UsageRecord, default_workspace: int) -> dict[str, Any]:
    u = rec.usage
    return {
        "source": rec.source.value,
        "dedup_key": rec.dedup_key,
        "workspace_id": rec.workspace_id or default_workspace,
        "account_id": rec.account_id,
        "provider": rec.provider,
        "model": rec.model,
        "model_vendor": rec.model_vendor,
        "project": rec.project,
        "api_key_id": rec.api_key_id,
        "line_item": rec.line_item,
        "service_tier": rec.service_tier.value,
        "bucket_start": rec.bucket_start,
        "bucket_end": rec.bucket_end,
        "dated": is_dated_bucket(rec.bucket_start, rec.bucket_end),
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "cache_read_tokens": u.cache_read_tokens,
        "cache_write_5m_tokens": u.cache_write_5m_tokens,
        "cache_write_1h_tokens": u.cache_write_1h_tokens,
        "reasoning_tokens": u.reasoning_tokens,
        "reasoning_included": u.reasoning_included,
        "requests": u.requests,
        "reported_cost": rec.reported_cost,
        "computed_cost": rec.computed_cost,
        "cost": rec.spend_cost,
        "cost_role": rec.cost_role.value,
        "currency": rec.currency,
        "note": rec.note,
        "is_demo": rec.is_demo,
        "subscription_id": rec.subscription_id,
    }


def _same(existing: Any, row: dict[str, Any]) -> bool:
    for col in VALUE_COLUMNS:
        a, b = getattr(existing, col), row[col]
        if isinstance(a, Decimal) and isinstance(b, Decimal):
            if a.compare_total(b.quantize(a)) != 0:
                return False
        elif a != b:
            return False
    return True


def _pages(records: Iterable[UsageRecord], size: int) -> Iterator[list[UsageRecord]]:
    it = iter(records)
    while page := list(islice(it, size)):
        yield page


def upsert_records(db: Database, records: Iterable[UsageRecord], page_size: int = 1000) -> UpsertResult:
    """Write records idempotently, one transaction per page: re-running with the same data changes nothing,
    and a crash leaves the previous state plus whole pages."""
    total = UpsertResult()
    ws = db.default_workspace_id()
    for page in _pages(records, page_size):
        total += _upsert_page(db, page, ws)
    return total


def _upsert_page(db: Database, page: list[UsageRecord], ws: int) -> UpsertResult:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for rec in page:
        rows[(rec.source.value, rec.dedup_key)] = record_to_row(rec, ws)  # last one in a page wins
    result = UpsertResult()
    now = datetime.now(timezone.utc)
    with db.write_session() as s:
        by_source: dict[str, list[str]] = {}
        for src, key in rows:
            by_source.setdefault(src, []).append(key)
        existing: dict[tuple[str, str], Any] = {}
        for src, keys in by_source.items():
            q = select(UsageRow.id, UsageRow.source, UsageRow.dedup_key,
                       *[getattr(UsageRow, c) for c in VALUE_COLUMNS]).where(
                UsageRow.source == src, UsageRow.dedup_key.in_(keys))
            for r in s.execute(q):
                existing[(r.source, r.dedup_key)] = r
        inserts, updates = [], []
        for k in sorted(rows):  # a stable order keeps concurrent writers' row locks deadlock-free
            row = rows[k]
            old = existing.get(k)
            if old is None:
                inserts.append({**row, "updated_at": now})
                result.hours.add(rollup.floor_hour(row["bucket_start"]))
            elif _same(old, row):
                result.unchanged += 1
            else:
                updates.append({**row, "id": old.id, "updated_at": now})
                result.hours.add(rollup.floor_hour(row["bucket_start"]))
                result.hours.add(rollup.floor_hour(old.bucket_start))
        if inserts:
            # Core table, not the ORM entity: the ORM's bulk path splits a page into one statement per
            # pattern of None values (thousands of tiny statements); Core sends one executemany per page.
            ins = (sqlite_insert if db.dialect == "sqlite" else pg_insert)(UsageRow.__table__)
            # ON CONFLICT covers a row another process inserted after our read: it is updated, never duplicated.
            stmt = ins.on_conflict_do_update(
                index_elements=["source", "dedup_key"],
                set_={c: ins.excluded[c] for c in (*VALUE_COLUMNS, "updated_at")})
            s.connection().execute(stmt, inserts)
            result.added += len(inserts)
        if updates:
            s.execute(update(UsageRow), updates)
            result.updated += len(updates)
        if result.hours:
            rollup.refresh_hours(s, result.hours)
    if result.hours:
        for fn in list(_listeners):
            try:
                fn(result.hours)
            except Exception:  # a listener must never make a committed write look failed
                log.exception("ledger listener failed")
    return result


def delete_where(db: Database, *conditions: Any) -> int:
    """Delete ledger rows matching conditions and refresh the affected roll-up hours."""
    with db.write_session() as s:
        hours = {rollup.floor_hour(h) for (h,) in s.execute(select(UsageRow.bucket_start).where(*conditions))}
        n = s.execute(delete(UsageRow).where(*conditions)).rowcount or 0
        rollup.refresh_hours(s, hours)
    if hours:
        for fn in list(_listeners):
            fn(hours)
    return n
