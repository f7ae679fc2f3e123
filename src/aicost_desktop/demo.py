"""Deterministic sample data: 90 days of realistic spend across providers, logs, manual entries, subscriptions."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Callable, TypedDict

from sqlalchemy import delete, func, select

from aicost_desktop.domain.days import utc_midnight
from aicost_desktop.domain.enums import CostRole, DataSource, ServiceTier
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import money
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.manual import ManualEntry, add_entry, add_subscription, materialize
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.ledger import delete_where, upsert_records
from aicost_desktop.storage.tables import Account, Subscription, UsageRow

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext

Pricer = Callable[[str | None, TokenUsage, ServiceTier, date], Decimal | None]

# (account, provider, model, maker, mean daily input Mtok, output ratio, cache-read ratio)
MODELS = [
    ("OpenAI (demo)", "openai", "gpt-4o-mini", "openai", 6.0, 0.25, 0.3),
    ("OpenAI (demo)", "openai", "gpt-4.1", "openai", 1.2, 0.2, 0.4),
    ("OpenAI (demo)", "openai", "gpt-5", "openai", 0.8, 0.5, 0.5),
    ("Anthropic (demo)", "anthropic", "claude-sonnet-4-5", "anthropic", 1.5, 0.15, 2.5),
    ("Anthropic (demo)", "anthropic", "claude-haiku-4-5", "anthropic", 3.0, 0.2, 1.0),
    ("OpenRouter (demo)", "openrouter", "openai/gpt-4.1-mini", "openai", 2.0, 0.3, 0.0),
    ("OpenRouter (demo)", "openrouter", "google/gemini-2.5-flash", "google", 4.0, 0.2, 0.0),
    ("OpenRouter (demo)", "openrouter", "acme/experimental-7b", "acme", 1.0, 0.3, 0.0),
    ("Google AI (demo)", "google", "gemini-2.5-pro", "google", 0.9, 0.25, 0.0),
]
ACCOUNTS = {"OpenAI (demo)": "openai", "Anthropic (demo)": "anthropic", "OpenRouter (demo)": "openrouter",
            "Google AI (demo)": "google"}
SUBSCRIPTIONS = [("ChatGPT Plus", "openai", "20"), ("Claude Pro", "anthropic", "20"),
                 ("GitHub Copilot", "github", "10"), ("Cursor Pro", "cursor", "20")]
MANUAL = [(-75, "Midjourney", "midjourney", "30", "Image generation for the launch"),
          (-40, "ElevenLabs", "elevenlabs", "22", "Voice-over credits"),
          (-9, "Replicate", "replicate", "14.60", "Fine-tuning experiment")]
SPIKE_DAY = 12  # days before today: an injected anomaly the analytics dock should mark


class _Common(TypedDict):
    """The UsageRecord fields every row of one demo model and day shares."""

    bucket_start: datetime
    bucket_end: datetime
    model: str
    model_vendor: str
    account_id: int
    is_demo: bool


def _demo_accounts(db: Database) -> dict[str, int]:
    ids: dict[str, int] = {}
    with db.write_session() as s:
        for name, provider in ACCOUNTS.items():
            acc = s.scalar(select(Account).where(Account.name == name))
            if acc is None:
                acc = Account(name=name, provider=provider, workspace_id=db.default_workspace_id(), enabled=False,
                              status="demo", status_message="Sample data: no key, never synced")
                s.add(acc)
                s.flush()
            ids[name] = acc.id
    return ids


def generate(days: int, seed: int, today: date, pricer: Pricer, account_ids: dict[str, int],
             tz: tzinfo = timezone.utc, now: datetime | None = None) -> list[UsageRecord]:
    """Build the sample rows (pure: same inputs, same rows). Claude Code sessions are at working hours in `tz`,
    and none starts after `now` (the demo loaded in the morning shows no afternoon yet)."""
    rng = random.Random(seed)
    out: list[UsageRecord] = []
    for back in range(days, -1, -1):
        d = today - timedelta(days=back)
        start = utc_midnight(d)
        trend = 1.0 + 0.6 * (days - back) / max(days, 1)
        weekday = 0.45 if d.weekday() >= 5 else 1.0 + 0.1 * math.sin(d.weekday())
        partial = 0.55 if back == 0 else 1.0  # today is not over yet
        for acct, provider, model, maker, mtok, out_ratio, cache_ratio in MODELS:
            factor = trend * weekday * partial * rng.lognormvariate(0, 0.18)
            if back == SPIKE_DAY and model == "gpt-5":
                factor *= 9  # a runaway agent loop
            tin = int(mtok * 1_000_000 * factor)
            usage = TokenUsage(input_tokens=tin, output_tokens=int(tin * out_ratio * rng.uniform(0.8, 1.2)),
                               cache_read_tokens=int(tin * cache_ratio), requests=max(1, tin // 3000))
            computed = pricer(model, usage, ServiceTier.STANDARD, d)
            acc_id = account_ids[acct]
            key = f"demo:{provider}:{d.isoformat()}:{model}"
            common = _Common(bucket_start=start, bucket_end=start + timedelta(days=1), model=model, model_vendor=maker,
                             account_id=acc_id, is_demo=True)
            if provider in ("openai", "anthropic"):
                # As the admin APIs report it: money rows (spend) plus token rows (detail, priced by us).
                drift = Decimal("1.07") if model == "claude-haiku-4-5" and back < 20 else Decimal(1)
                reported = money((computed or Decimal(0)) * drift)
                out.append(UsageRecord(DataSource.API, key + ":cost", provider, line_item=f"{model}, input and output",
                                       reported_cost=reported, **common))
                out.append(UsageRecord(DataSource.API, key + ":usage", provider, usage=usage, computed_cost=computed,
                                       cost_role=CostRole.DETAIL, **common))
            elif provider == "openrouter":
                reported = money(computed if computed is not None else Decimal(tin) * Decimal("0.0000004"))
                out.append(UsageRecord(DataSource.API, key, provider, usage=usage, reported_cost=reported,
                                       computed_cost=computed, **common))
            else:  # Gemini has no usage API: a console CSV import
                out.append(UsageRecord(DataSource.IMPORT, key, provider, usage=usage, computed_cost=computed, **common))
        # Claude Code sessions on weekdays, as log rows at local working hours.
        if d.weekday() < 5:
            for n in range(rng.randint(2, 5)):
                at = datetime.combine(d, time(8 + rng.randint(0, 9), rng.randint(0, 59)), tzinfo=tz)
                at = at.astimezone(timezone.utc)
                u = TokenUsage(input_tokens=rng.randint(2_000, 30_000), output_tokens=rng.randint(5_000, 60_000),
                               cache_read_tokens=rng.randint(200_000, 2_000_000),
                               cache_write_5m_tokens=rng.randint(10_000, 80_000), requests=rng.randint(20, 120))
                model = "claude-opus-4-1" if n == 0 else "claude-sonnet-4-5"
                minutes = rng.randint(5, 90)
                if now is not None and at > now:
                    continue  # later today: drawn all the same (the other sessions stay as they are), not written
                out.append(UsageRecord(DataSource.LOG, f"demo:claude-code:{d.isoformat()}:{n}", "anthropic",
                                       at, at + timedelta(minutes=minutes), usage=u, model=model,
                                       model_vendor="anthropic", project="~/code/webapp",
                                       computed_cost=pricer(model, u, ServiceTier.STANDARD, d), is_demo=True))
    return out


def load_demo(ctx: "AppContext", days: int = 90, seed: int = 1, today: date | None = None,
              progress: Callable[[int, int], None] | None = None) -> int:
    """Fill the ledger with sample data marked as demo; returns rows written. Idempotent."""
    if not 1 <= days <= 3660:
        raise InputError("days", days, "must be between 1 and 3660")
    now = datetime.now(timezone.utc)
    today = today or now.astimezone(ctx.tz).date()
    db = ctx.db
    ids = _demo_accounts(db)
    records = generate(days, seed, today, ctx.catalog.cost_of, ids, ctx.tz, now)
    total = len(records)
    written = 0
    for i in range(0, total, 1000):
        written += upsert_records(db, records[i:i + 1000]).added
        if progress:
            progress(min(i + 1000, total), total)
    # Each sample subscription and entry is checked on its own, so a run killed half-way through them
    # is completed by the next one instead of being taken as done.
    with db.session() as s:
        have_subs = set(s.scalars(select(Subscription.service).where(Subscription.is_demo.is_(True))))
        have_manual = set(s.scalars(select(UsageRow.project).where(UsageRow.is_demo.is_(True),
                                                                   UsageRow.source == "manual")))
    if have_subs:
        materialize(db, today=today)  # charges the existing ones are due since (or missed when killed)
    for service, provider, amount in SUBSCRIPTIONS:
        if service not in have_subs:
            add_subscription(db, service, amount, "monthly", today - timedelta(days=days - 3), provider=provider,
                             today=today, is_demo=True)
    for offset, service, provider, amount, note in MANUAL:
        if -offset <= days and service not in have_manual:
            add_entry(db, ManualEntry(service=service, amount=amount, entry_date=today + timedelta(days=offset),
                                      provider=provider, note=note), is_demo=True)
    return written


def clear_demo(db: Database) -> int:
    """Remove every demo row, demo subscription and demo account; real data is untouched."""
    n = delete_where(db, UsageRow.is_demo.is_(True))
    with db.write_session() as s:
        s.execute(delete(Subscription).where(Subscription.is_demo.is_(True)))
        s.execute(delete(Account).where(Account.name.in_(list(ACCOUNTS)), Account.status == "demo"))
    return n


def demo_counts(db: Database) -> tuple[int, int]:
    """(the user's own ledger rows and subscriptions, sample rows): whether sample data would mix in, or is there."""
    with db.session() as s:
        real = s.scalar(select(func.count()).select_from(UsageRow).where(UsageRow.is_demo.is_(False))) or 0
        real += s.scalar(select(func.count()).select_from(Subscription).where(Subscription.is_demo.is_(False))) or 0
        demo = s.scalar(select(func.count()).select_from(UsageRow).where(UsageRow.is_demo.is_(True))) or 0
    return int(real), int(demo)
