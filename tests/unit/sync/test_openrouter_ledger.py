"""Syncing OpenRouter twice into a real SQLite ledger leaves the rows and totals unchanged."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import func, select

from aicost_desktop.domain.usage import UsageRecord
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.ledger import UpsertResult, upsert_records
from aicost_desktop.storage.tables import Account, UsageRow
from aicost_desktop.sync.base import AccountInfo
from aicost_desktop.sync.http import HttpPolicy
from aicost_desktop.sync.openrouter import OpenRouterSync
from tests.fakes.openrouter_fake import EXPECTED_RECORDS, EXPECTED_TOTAL, MANAGEMENT_KEY, OpenRouterFake

SINCE = datetime(2025, 7, 1, tzinfo=timezone.utc)
UNTIL = datetime(2025, 9, 2, tzinfo=timezone.utc)
NOW = datetime(2025, 9, 1, 12, tzinfo=timezone.utc)  # the fake's TODAY


def totals(db: Database) -> tuple[int, Decimal, int]:
    with db.session() as s:
        n, cost, reqs = s.execute(select(func.count(), func.sum(UsageRow.cost), func.sum(UsageRow.requests))
                                  .where(UsageRow.provider == "openrouter")).one()
    return n, Decimal(cost), reqs


def test_sync_twice_into_sqlite_is_idempotent(tmp_path: Path) -> None:
    db = Database.open(f"sqlite:///{tmp_path / 'ledger.db'}", backup_dir=tmp_path / "backups")
    try:
        with db.session() as s:
            row = Account(name="OpenRouter", provider="openrouter", workspace_id=db.default_workspace_id())
            s.add(row)
            s.flush()
            account_id = row.id
        results: list[UpsertResult] = []

        def sink(page: list[UsageRecord]) -> None:
            results.append(upsert_records(db, page))

        with OpenRouterFake() as fake, httpx.Client() as client:
            acct = AccountInfo(id=account_id, name="OpenRouter", provider="openrouter", base_url=fake.api_base,
                               workspace_id=db.default_workspace_id(), api_key=MANAGEMENT_KEY)
            job = OpenRouterSync(HttpPolicy(sleep=lambda s: None), clock=lambda: NOW)
            job.run(client, acct, SINCE, UNTIL, sink, lambda *a: None)
            first = totals(db)
            assert sum(r.added for r in results) == EXPECTED_RECORDS
            results.clear()
            job.run(client, acct, SINCE, UNTIL, sink, lambda *a: None)
        assert first == (EXPECTED_RECORDS, EXPECTED_TOTAL, 40)
        assert totals(db) == first
        assert sum(r.added + r.updated for r in results) == 0
        assert sum(r.unchanged for r in results) == EXPECTED_RECORDS
    finally:
        db.dispose()
