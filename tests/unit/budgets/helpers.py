"""Ledger rows for budget tests: priced spend at an instant or on a date."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from aicost_desktop.domain.enums import DataSource
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.ledger import upsert_records


def spend_on(db: Database, day: date, amount: str, key: str, *, provider: str = "openai", model: str = "gpt-4o",
             project: str | None = None, source: DataSource = DataSource.MANUAL, currency: str = "USD",
             tokens: int = 1000) -> None:
    """A dated (whole UTC day) row: counts on `day` in every zone, like a manual entry."""
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    upsert_records(db, [UsageRecord(source, key, provider, start, start + timedelta(days=1),
                                    usage=TokenUsage(input_tokens=tokens), model=model, project=project,
                                    reported_cost=Decimal(amount), currency=currency)])


def spend_at(db: Database, at: datetime, amount: str | None, key: str, *, provider: str = "openai",
             model: str = "gpt-4o", source: DataSource = DataSource.API) -> None:
    """An hourly instant row (`amount` None: an unpriced row)."""
    upsert_records(db, [UsageRecord(source, key, provider, at, at + timedelta(hours=1), model=model,
                                    usage=TokenUsage(input_tokens=10, output_tokens=5),
                                    reported_cost=None if amount is None else Decimal(amount))])
