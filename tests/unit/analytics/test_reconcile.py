"""Reconciliation of reported vs computed cost per day and model, reported-only money and unpriced models."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from aicost_desktop.analytics.reconcile import model_family, reconcile, unpriced_models
from aicost_desktop.domain import DataSource, UsageRecord
from aicost_desktop.domain.enums import CostRole
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.pricing.catalog import PriceCatalog
from aicost_desktop.storage.ledger import upsert_records
from tests.unit.analytics.ledger_data import add_account

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def _day(i: int) -> tuple[datetime, datetime]:
    day = datetime(2026, 3, 1 + i, tzinfo=timezone.utc)
    return day, day + timedelta(days=1)


def test_drift_per_day_account_and_model(sqlite_db) -> None:
    acc = add_account(sqlite_db, "prod", "openai")
    other = add_account(sqlite_db, "solo", "openrouter")
    recs = []
    for i, (rep, comp) in enumerate([("10", "10.2"), ("10", "11"), ("0", "0"), ("10", "10.201")]):
        day, nxt = _day(i)
        recs.append(UsageRecord(DataSource.API, f"c{i}", "openai", day, nxt, model="gpt-5", account_id=acc,
                                reported_cost=Decimal(rep)))
        recs.append(UsageRecord(DataSource.API, f"u{i}", "openai", day, nxt, model="gpt-5", account_id=acc,
                                computed_cost=Decimal(comp), cost_role=CostRole.DETAIL))
        recs.append(UsageRecord(DataSource.API, f"o{i}", "openrouter", day, nxt, model="x", account_id=other,
                                reported_cost=Decimal("3")))
    # A cost line with no token detail (no model) is reported-only, never drift of the account.
    day, nxt = _day(0)
    recs.append(UsageRecord(DataSource.API, "tool", "openai", day, nxt, account_id=acc, line_item="web search",
                            reported_cost=Decimal("4")))
    upsert_records(sqlite_db, recs)
    rec = reconcile(sqlite_db, ZoneInfo("Europe/Belgrade"), *MARCH)
    rows = {r.day.day: r for r in rec.models}
    assert set(rows) == {1, 2, 3, 4} and {r.model for r in rec.models} == {"gpt-5"}
    assert {r.account for r in rec.models} == {"prod"}  # solo has no computed side
    # Exactly 2% is not "over 2%"; 2.01% is (compared in Decimal, so no float rounding at the limit).
    assert round(rows[1].drift_pct, 6) == 2.0 and not rows[1].flagged
    assert round(rows[4].drift_pct, 6) == 2.01 and rows[4].flagged
    assert round(rows[2].drift_pct, 6) == 10.0 and rows[2].flagged
    assert rows[3].drift_pct is None and not rows[3].flagged
    # The account line sums the compared models only: the $4 tool line does not show up as -28% drift.
    day1 = next(r for r in rec.accounts if r.day.day == 1)
    assert (day1.reported, day1.computed) == (Decimal("10"), Decimal("10.2"))
    assert [(o.account, o.model, o.reported, o.days) for o in rec.reported_only] == [
        ("solo", "x", Decimal("12"), 4), ("prod", "(none)", Decimal("4"), 1)]
    data = rec.as_json()
    assert data["flagged"] == 2 and data["drift_limit_pct"] == 2.0
    by_day = {m["day"]: m for m in data["models"]}
    assert by_day["2026-03-02"] == {"day": "2026-03-02", "account": "prod", "provider": "openai", "model": "gpt-5",
                                    "reported": "10.0000000000", "computed": "11.0000000000", "drift_pct": 10.0,
                                    "flagged": True}
    assert by_day["2026-03-03"]["reported"] == "0.0000000000" and by_day["2026-03-03"]["drift_pct"] is None
    assert data["reported_only"][0] == {"account": "solo", "provider": "openrouter", "model": "x",
                                        "reported": "12.0000000000", "days": 4}


def test_spellings_of_one_model_compare_through_the_catalog(sqlite_db) -> None:
    """Cost rows say `claude-sonnet-4-5`, usage rows the dated id: one model to the catalog, one comparison."""
    acc = add_account(sqlite_db, "ant", "anthropic")
    day, nxt = _day(4)
    upsert_records(sqlite_db, [
        UsageRecord(DataSource.API, "cost", "anthropic", day, nxt, model="claude-sonnet-4-5", account_id=acc,
                    reported_cost=Decimal("5")),
        UsageRecord(DataSource.API, "usage", "anthropic", day, nxt, model="claude-sonnet-4-5-20250929",
                    account_id=acc, computed_cost=Decimal("4"), cost_role=CostRole.DETAIL),
        UsageRecord(DataSource.API, "routed", "anthropic", day, nxt, model="anthropic/claude-sonnet-4.5",
                    account_id=acc, computed_cost=Decimal("0.5"), cost_role=CostRole.DETAIL),
    ])
    tz = ZoneInfo("UTC")
    plain = reconcile(sqlite_db, tz, *MARCH)
    assert plain.models == [] and [o.model for o in plain.reported_only] == ["claude-sonnet-4-5"]
    merged = reconcile(sqlite_db, tz, *MARCH, resolve=model_family(PriceCatalog.load()))
    (row,) = merged.models
    assert (row.model, row.reported, row.computed, row.flagged) == ("claude-sonnet-4-5", Decimal(5),
                                                                    Decimal("4.5"), True)
    assert round(row.drift_pct, 6) == -10.0 and merged.reported_only == []


@pytest.mark.parametrize("tz", ["UTC", "Asia/Kolkata"])  # the roll-up and the raw-ledger path agree
def test_same_answer_from_rollup_and_raw_ledger(sqlite_db, tz: str) -> None:
    acc = add_account(sqlite_db, "prod", "openai")
    recs = []
    for i in range(3):
        day, nxt = _day(i)
        recs.append(UsageRecord(DataSource.API, f"c{i}", "openai", day, nxt, model="gpt-4.1", account_id=acc,
                                reported_cost=Decimal("2.00")))
        recs.append(UsageRecord(DataSource.API, f"u{i}", "openai", day, nxt, model="gpt-4.1", account_id=acc,
                                computed_cost=Decimal("2.10"), cost_role=CostRole.DETAIL))
    upsert_records(sqlite_db, recs)
    rec = reconcile(sqlite_db, ZoneInfo(tz), *MARCH)
    assert [(r.day.day, r.reported, r.computed, r.flagged) for r in rec.models] == [
        (3, Decimal("2"), Decimal("2.1"), True), (2, Decimal("2"), Decimal("2.1"), True),
        (1, Decimal("2"), Decimal("2.1"), True)]


def test_unpriced_models(sqlite_db) -> None:
    at = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
    upsert_records(sqlite_db, [
        UsageRecord(DataSource.LOG, "a", "anthropic", at, at, model="claude-new", usage=TokenUsage(input_tokens=100)),
        UsageRecord(DataSource.LOG, "b", "anthropic", at, at, model="claude-new", usage=TokenUsage(output_tokens=50)),
        UsageRecord(DataSource.LOG, "c", "anthropic", at, at, model="claude-old", computed_cost=Decimal("1")),
        UsageRecord(DataSource.MANUAL, "m", "midjourney", at, at, model="mj", reported_cost=Decimal("1")),
    ])
    un = unpriced_models(sqlite_db)
    assert [(u.model, u.rows, u.tokens, u.first_day) for u in un] == [("claude-new", 2, 150, date(2026, 3, 2))]
