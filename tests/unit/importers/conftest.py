"""Shared fixtures for importer tests: a fake pricer, a real SQLite ledger, fixture folders."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import func, select

from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.usage import TokenUsage

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
MICRO = Decimal("0.000001")


def fake_pricer(model: str | None, usage: TokenUsage, tier: ServiceTier, at: date) -> Decimal | None:
    """$1 per million tokens of any kind; models ending in -fast or unknown are unpriced."""
    if model is None or model.endswith("-fast") or model.startswith("unknown"):
        return None
    return Decimal(usage.total_tokens) * MICRO


@pytest.fixture
def pricer():
    return fake_pricer


@pytest.fixture
def claude_home() -> Path:
    return FIXTURES / "claude" / "home"


@pytest.fixture
def codex_home() -> Path:
    return FIXTURES / "codex" / "home"


@pytest.fixture
def csv_dir() -> Path:
    return FIXTURES / "csv"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[object]:
    from aicost_desktop.storage.db import Database

    database = Database.open(f"sqlite:///{tmp_path}/l.db")
    yield database
    database.dispose()


def ledger_totals(db: object, source: str | None = None) -> dict[str, object]:
    """Row count and sums of the ledger (optionally one source), for exact assertions."""
    from aicost_desktop.storage.tables import UsageRow

    cols = [func.count(UsageRow.id), func.sum(UsageRow.input_tokens), func.sum(UsageRow.output_tokens),
            func.sum(UsageRow.cache_read_tokens), func.sum(UsageRow.cache_write_5m_tokens),
            func.sum(UsageRow.cache_write_1h_tokens), func.sum(UsageRow.cost)]
    q = select(*cols)
    if source:
        q = q.where(UsageRow.source == source)
    with db.session() as s:  # type: ignore[attr-defined]
        n, i, o, cr, w5, w1, cost = s.execute(q).one()
    return {"rows": n, "input": i or 0, "output": o or 0, "cache_read": cr or 0, "w5": w5 or 0,
            "w1": w1 or 0, "cost": cost}
