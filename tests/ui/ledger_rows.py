"""Builders of ledger rows for GUI tests (written with the real `upsert_records`)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from aicost_desktop.domain.enums import CostRole, DataSource
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.storage.ledger import upsert_records


def rec(key: str, *, source: DataSource = DataSource.API, provider: str = "openai", model: str | None = "gpt-4.1",
        at: datetime | None = None, hours: int = 1, reported: str | None = None, computed: str | None = "1.00",
        tokens: tuple[int, int] = (1000, 200), role: CostRole = CostRole.SPEND, note: str | None = None,
        account_id: int | None = None) -> UsageRecord:
    start = at or datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    return UsageRecord(source, key, provider, start, start + timedelta(hours=hours),
                       usage=TokenUsage(input_tokens=tokens[0], output_tokens=tokens[1], requests=1), model=model,
                       reported_cost=Decimal(reported) if reported is not None else None,
                       computed_cost=Decimal(computed) if computed is not None else None, cost_role=role,
                       note=note, account_id=account_id)


def write(ctx, *records: UsageRecord) -> None:  # type: ignore[no-untyped-def]
    upsert_records(ctx.db, list(records))
