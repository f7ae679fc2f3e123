"""Synthetic ledgers for analytics/export tests: several providers, accounts, sources and roles."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np

from aicost_desktop.domain import DataSource, UsageRecord
from aicost_desktop.domain.enums import CostRole
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.ledger import upsert_records
from aicost_desktop.storage.tables import Account


def add_account(db: Database, name: str, provider: str) -> int:
    with db.write_session() as s:
        a = Account(name=name, provider=provider, workspace_id=db.default_workspace_id())
        s.add(a)
        s.flush()
        return a.id


def money(x: float) -> Decimal:
    return Decimal(repr(round(x, 6)))


def build_ledger(db: Database, end: date, days: int = 60, seed: int = 1) -> dict[str, int]:
    """OpenAI costs (dated SPEND, reported) + usage (dated DETAIL, computed), Anthropic log instants
    (computed), OpenRouter api instants (reported), manual entries. Weekday pattern, no anomalies."""
    rng = np.random.default_rng(seed)
    prod = add_account(db, "prod", "openai")
    dev = add_account(db, "dev", "anthropic")
    orr = add_account(db, "router", "openrouter")
    recs: list[UsageRecord] = []
    start = end - timedelta(days=days - 1)
    for i in range(days):
        d = start + timedelta(days=i)
        wk = 0.5 if d.weekday() >= 5 else 1.0
        day0 = datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
        for model, base in (("gpt-5", 20.0), ("gpt-4o-mini", 3.0)):
            amt = base * wk * rng.lognormal(0, 0.1)
            recs.append(UsageRecord(DataSource.API, f"oa-cost-{d}-{model}", "openai", day0, day0 + timedelta(days=1),
                                    model=model, account_id=prod, reported_cost=money(amt)))
            recs.append(UsageRecord(DataSource.API, f"oa-use-{d}-{model}", "openai", day0, day0 + timedelta(days=1),
                                    model=model, account_id=prod, computed_cost=money(amt * 1.01),
                                    cost_role=CostRole.DETAIL,
                                    usage=TokenUsage(input_tokens=int(amt * 1e5), output_tokens=int(amt * 2e4))))
        for h in range(0, 24, 3):
            at = day0 + timedelta(hours=h, minutes=17)
            amt = 1.2 * wk * rng.lognormal(0, 0.2)
            recs.append(UsageRecord(DataSource.LOG, f"cc-{at.isoformat()}", "anthropic", at, at,
                                    model="claude-sonnet-4-5", account_id=dev, computed_cost=money(amt),
                                    usage=TokenUsage(input_tokens=1000 + h, output_tokens=300, cache_read_tokens=50)))
            recs.append(UsageRecord(DataSource.API, f"or-{at.isoformat()}", "openrouter", at, at + timedelta(hours=1),
                                    model="deepseek/deepseek-chat", account_id=orr, reported_cost=money(0.4 * wk)))
        if i % 10 == 3:
            recs.append(UsageRecord(DataSource.MANUAL, f"manual-{d}", "midjourney", day0, day0 + timedelta(days=1),
                                    reported_cost=Decimal("10.00"), note="Midjourney top-up"))
    upsert_records(db, recs)
    return {"prod": prod, "dev": dev, "router": orr}
