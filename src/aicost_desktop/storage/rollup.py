"""Keeps `usage_hourly` equal to an aggregation of `usage_records`, refreshed per affected UTC hour."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterable

from sqlalchemy import and_, case, delete, func, insert, literal_column, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from aicost_desktop.storage.tables import UsageHourly, UsageRow

HOUR = timedelta(hours=1)


def floor_hour(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def _hour_expr(dialect: str) -> ColumnElement:
    if dialect == "sqlite":
        # Same text format SQLAlchemy's SQLite DateTime writes, so UTCDateTime reads it back.
        return func.strftime("%Y-%m-%d %H:00:00.000000", UsageRow.bucket_start)
    return func.date_trunc("hour", UsageRow.bucket_start)


def _ranges(hours: Iterable[datetime]) -> list[tuple[datetime, datetime]]:
    """Merge sorted hours into contiguous [start, end) ranges to keep the WHERE clause short."""
    out: list[tuple[datetime, datetime]] = []
    for h in sorted(set(hours)):
        if out and out[-1][1] == h:
            out[-1] = (out[-1][0], h + HOUR)
        else:
            out.append((h, h + HOUR))
    return out


def refresh_hours(session: Session, hours: Iterable[datetime]) -> None:
    """Recompute the roll-up cells of the given UTC hours from the raw ledger, inside the caller's
    transaction (so a crash leaves both tables at the previous state)."""
    ranges = _ranges(hours)
    if not ranges:
        return
    dialect = session.get_bind().dialect.name
    for chunk_start in range(0, len(ranges), 200):
        chunk = ranges[chunk_start:chunk_start + 200]
        hourly_cond = or_(*[and_(UsageHourly.hour_start >= a, UsageHourly.hour_start < b) for a, b in chunk])
        session.execute(delete(UsageHourly).where(hourly_cond))
        row_cond = or_(*[and_(UsageRow.bucket_start >= a, UsageRow.bucket_start < b) for a, b in chunk])
        hour = _hour_expr(dialect).label("hour_start")
        unpriced = case((and_(UsageRow.cost_role == "spend", UsageRow.reported_cost.is_(None),
                              UsageRow.computed_cost.is_(None)), 1), else_=0)
        dims = (UsageRow.dated, UsageRow.workspace_id, UsageRow.account_id, UsageRow.provider, UsageRow.model,
                UsageRow.source, UsageRow.project, UsageRow.currency, UsageRow.cost_role)
        sel = (
            select(hour, *dims, func.count().label("rows"),
                   func.sum(UsageRow.input_tokens), func.sum(UsageRow.output_tokens),
                   func.sum(UsageRow.cache_read_tokens),
                   func.sum(UsageRow.cache_write_5m_tokens + UsageRow.cache_write_1h_tokens),
                   func.sum(UsageRow.requests), func.sum(UsageRow.cost), func.sum(UsageRow.reported_cost),
                   func.sum(UsageRow.computed_cost), func.sum(unpriced))
            .where(row_cond)
            .group_by(literal_column("hour_start"), *dims)
        )
        cols = ["hour_start", "dated", "workspace_id", "account_id", "provider", "model", "source", "project",
                "currency", "cost_role", "rows", "input_tokens", "output_tokens", "cache_read_tokens",
                "cache_write_tokens", "requests", "cost", "reported_cost", "computed_cost", "unpriced_rows"]
        session.execute(insert(UsageHourly).from_select(cols, sel))


def rebuild(session: Session) -> None:
    """Recompute the whole roll-up (after a bulk delete or a repair)."""
    session.execute(delete(UsageHourly))
    hours = {floor_hour(h) for (h,) in session.execute(select(UsageRow.bucket_start).distinct())}
    refresh_hours(session, hours)
