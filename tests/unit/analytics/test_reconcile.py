"""Reconciliation of reported vs computed cost, and the unpriced-model list with set-price."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from aicost_desktop.analytics.reconcile import reconcile, set_price, unpriced_models
from aicost_desktop.domain import DataSource, UsageRecord
from aicost_desktop.domain.enums import CostRole
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.storage.ledger import upsert_records
from aicost_desktop.storage.tables import PriceOverride
from tests.unit.analytics.ledger_data import add_account


def test_drift_per_day_account_and_model(sqlite_db) -> None:
    acc = add_account(sqlite_db, "prod", "openai")
    other = add_account(sqlite_db, "solo", "openrouter")
    recs = []
    for i, (rep, comp) in enumerate([("10", "10.2"), ("10", "11"), ("0", "0")]):
        day = datetime(2026, 3, 1 + i, tzinfo=timezone.utc)
        nxt = day + timedelta(days=1)
        recs.append(UsageRecord(DataSource.API, f"c{i}", "openai", day, nxt, model="gpt-5", account_id=acc,
                                reported_cost=Decimal(rep)))
        recs.append(UsageRecord(DataSource.API, f"u{i}", "openai", day, nxt, model="gpt-5", account_id=acc,
                                computed_cost=Decimal(comp), cost_role=CostRole.DETAIL))
        recs.append(UsageRecord(DataSource.API, f"o{i}", "openrouter", day, nxt, model="x", account_id=other,
                                reported_cost=Decimal("3")))
    upsert_records(sqlite_db, recs)
    rec = reconcile(sqlite_db, ZoneInfo("Europe/Belgrade"), date(2026, 3, 1), date(2026, 3, 31))
    rows = {r.day.day: r for r in rec.accounts}
    assert set(rows) == {1, 2, 3} and {r.account for r in rec.accounts} == {"prod"}  # solo has no computed side
    assert round(rows[1].drift_pct, 6) == 2.0 and not rows[1].flagged
    assert round(rows[2].drift_pct, 6) == 10.0 and rows[2].flagged
    assert rows[3].drift_pct is None and not rows[3].flagged
    assert {(r.day.day, r.model) for r in rec.models} == {(1, "gpt-5"), (2, "gpt-5"), (3, "gpt-5")}
    data = rec.as_json()
    assert data["flagged"] == 2 and data["accounts"][0]["reported"] == "0E-10" or data["accounts"][0]["reported"]


def test_unpriced_models_and_set_price(sqlite_db) -> None:
    at = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
    upsert_records(sqlite_db, [
        UsageRecord(DataSource.LOG, "a", "anthropic", at, at, model="claude-new", usage=TokenUsage(input_tokens=100)),
        UsageRecord(DataSource.LOG, "b", "anthropic", at, at, model="claude-new", usage=TokenUsage(output_tokens=50)),
        UsageRecord(DataSource.LOG, "c", "anthropic", at, at, model="claude-old", computed_cost=Decimal("1")),
        UsageRecord(DataSource.MANUAL, "m", "midjourney", at, at, model="mj", reported_cost=Decimal("1")),
    ])
    un = unpriced_models(sqlite_db)
    assert [(u.model, u.rows, u.tokens) for u in un] == [("claude-new", 2, 150)]
    set_price(sqlite_db, "claude-new", Decimal("3"), Decimal("15"))
    with sqlite_db.session() as s:
        o = s.scalar(select(PriceOverride).where(PriceOverride.model_key == "claude-new"))
    assert o.input_per_mtok == Decimal("3") and o.output_per_mtok == Decimal("15")
