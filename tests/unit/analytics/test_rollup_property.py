"""The hourly roll-up always equals a direct aggregation of the raw ledger (inserts, updates, deletes)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from aicost_desktop.domain import DataSource, UsageRecord
from aicost_desktop.domain.enums import CostRole
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.ledger import delete_where, upsert_records
from aicost_desktop.storage.rollup import floor_hour
from aicost_desktop.storage.tables import UsageHourly, UsageRow

T0 = datetime(2026, 3, 28, tzinfo=timezone.utc)

record = st.builds(
    lambda key, minutes, dated, provider, model, cost, role, tin: UsageRecord(
        DataSource.API if dated else DataSource.LOG, f"k{key}", provider,
        T0 + timedelta(days=minutes // 1440) if dated else T0 + timedelta(minutes=minutes),
        T0 + timedelta(days=minutes // 1440 + 1) if dated else T0 + timedelta(minutes=minutes),
        model=model, computed_cost=None if cost is None else Decimal(cost).scaleb(-4), cost_role=role,
        usage=TokenUsage(input_tokens=tin)),
    st.integers(0, 25), st.integers(0, 4 * 1440), st.booleans(), st.sampled_from(["openai", "anthropic"]),
    st.sampled_from(["a", "b", None]), st.one_of(st.none(), st.integers(0, 10**6)),
    st.sampled_from([CostRole.SPEND, CostRole.DETAIL]), st.integers(0, 1000))


def _direct(db: Database) -> dict:
    out: dict = defaultdict(lambda: [0, Decimal(0), 0])
    with db.session() as s:
        for r in s.scalars(select(UsageRow)):
            k = (floor_hour(r.bucket_start), r.dated, r.provider, r.model, r.source, r.cost_role)
            out[k][0] += 1
            out[k][1] += r.cost
            out[k][2] += r.input_tokens
    return dict(out)


def _rollup(db: Database) -> dict:
    out: dict = defaultdict(lambda: [0, Decimal(0), 0])
    with db.session() as s:
        for h in s.scalars(select(UsageHourly)):
            k = (h.hour_start, h.dated, h.provider, h.model, h.source, h.cost_role)
            out[k][0] += h.rows
            out[k][1] += h.cost
            out[k][2] += h.input_tokens
    return dict(out)


# Not traced for coverage (pytest-cov's no_cover): it runs code the other tests cover, many times over, and
# under the tracer took twice as long.
@pytest.mark.no_cover
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.lists(record, max_size=30), second=st.lists(record, max_size=30),
       delete_keys=st.sets(st.integers(0, 25), max_size=6))
def test_rollup_equals_direct_aggregation(tmp_path_factory, first, second, delete_keys) -> None:
    db = Database.open(f"sqlite:///{tmp_path_factory.mktemp('r') / 'l.sqlite3'}")
    try:
        upsert_records(db, first)
        upsert_records(db, second, page_size=7)  # updates move rows between hours and change values
        assert _rollup(db) == _direct(db)
        delete_where(db, UsageRow.dedup_key.in_([f"k{k}" for k in delete_keys]))
        assert _rollup(db) == _direct(db)
    finally:
        db.dispose()
