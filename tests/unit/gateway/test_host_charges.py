"""A running gateway writes the subscription charges that fall due while it runs: a renewal counts in the
budgets it enforces from its day, not from the gateway's next start."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Callable

from sqlalchemy import select

from aicost_desktop.budgets.model import BudgetSpec, add_budget
from aicost_desktop.domain.enums import DataSource
from aicost_desktop.gateway.host import GatewayHost
from aicost_desktop.manual import add_subscription
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import UsageRow


def _charges(db: Database) -> list[str]:
    with db.session() as s:
        return sorted(s.scalars(select(UsageRow.dedup_key).where(UsageRow.source == DataSource.SUBSCRIPTION.value)))


def test_a_renewal_during_the_run_is_written_and_blocks(make_gateway: Callable[..., GatewayHost],
                                                        ledger: Database) -> None:
    add_subscription(ledger, "ChatGPT Plus", "20", "monthly", date(2026, 2, 20), provider="openai",
                     today=date(2026, 3, 19))
    add_budget(ledger, BudgetSpec.build(name="cap", amount="15", on_exceed="block"))
    now = [datetime(2026, 3, 19, 23, 30, tzinfo=timezone.utc)]
    host = make_gateway(clock=lambda: now[0], budget_refresh_seconds=3600)  # re-reads only when asked below
    sub_id = 1
    assert _charges(ledger) == [f"subscription:{sub_id}:2026-02-20"]
    assert host.blocking() == []  # March has no charge yet
    now[0] = datetime(2026, 3, 20, 0, 30, tzinfo=timezone.utc)  # the renewal day began
    host.reload_budgets(wait=10)
    assert _charges(ledger) == [f"subscription:{sub_id}:2026-02-20", f"subscription:{sub_id}:2026-03-20"]
    assert host.blocking() == ["cap"]  # $20 of March spend against $15
    host.reload_budgets(wait=10)  # the same day again: nothing more written
    assert len(_charges(ledger)) == 2


def test_charges_that_fell_due_before_the_start_are_written_when_it_starts(make_gateway: Callable[..., GatewayHost],
                                                                           ledger: Database) -> None:
    """`aicost gateway` and the app's gateway alike: nothing else needs to run first."""
    add_subscription(ledger, "ChatGPT Plus", "20", "monthly", date(2026, 2, 20), provider="openai",
                     today=date(2026, 3, 19))
    make_gateway(clock=lambda: datetime(2026, 3, 21, 9, 0, tzinfo=timezone.utc), budget_refresh_seconds=3600)
    assert _charges(ledger) == ["subscription:1:2026-02-20", "subscription:1:2026-03-20"]
