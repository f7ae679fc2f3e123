"""A deterministic synthetic ledger of N usage rows over a year (per-request instants, several providers)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Iterator

from aicost_desktop.domain import DataSource, UsageRecord
from aicost_desktop.domain.usage import TokenUsage

MODELS = [("openai", "gpt-5", DataSource.API), ("openai", "gpt-4o-mini", DataSource.API),
          ("openai", "gpt-4.1", DataSource.IMPORT), ("anthropic", "claude-sonnet-4-5", DataSource.LOG),
          ("anthropic", "claude-haiku-4-5", DataSource.LOG), ("anthropic", "claude-opus-4-1", DataSource.LOG),
          ("openrouter", "deepseek/deepseek-chat", DataSource.API), ("openrouter", "google/gemini-2.5-flash", DataSource.API),
          ("google", "gemini-2.5-pro", DataSource.IMPORT), ("deepseek", "deepseek-chat", DataSource.API)]


def records(n: int, end: datetime, days: int = 365, seed: int = 1,
            accounts: tuple[int | None, ...] = (None,)) -> Iterator[UsageRecord]:
    rng = random.Random(seed)
    start = end - timedelta(days=days)
    span = days * 86400
    step = span / n
    for i in range(n):
        at = start + timedelta(seconds=int(i * step + rng.random() * step))
        provider, model, source = MODELS[rng.randrange(len(MODELS))]
        tin, tout = rng.randrange(100, 20000), rng.randrange(10, 3000)
        cost = Decimal(tin * 3 + tout * 15).scaleb(-6)
        yield UsageRecord(source, f"bench-{i}", provider, at, at, model=model,
                          account_id=accounts[i % len(accounts)],
                          usage=TokenUsage(input_tokens=tin, output_tokens=tout, cache_read_tokens=tin // 4,
                                           requests=1),
                          computed_cost=cost if provider != "openrouter" else None,
                          reported_cost=cost if provider == "openrouter" else None,
                          note="=cmd|' /C calc'!A0" if i % 100_000 == 7 else None)
