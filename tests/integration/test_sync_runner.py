"""Syncing accounts end to end: keychain reference -> provider fake -> ledger -> report, and failures."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from aicost_desktop.accounts import add_account, get_account, list_accounts, remove_account
from aicost_desktop.analytics.report import spend_report
from aicost_desktop.storage.query import LedgerFilter
from aicost_desktop.storage.tables import BalanceReading
from aicost_desktop.sync.http import HttpPolicy
from aicost_desktop.account_sync import due_accounts, sync_account
from tests.fakes.openrouter_fake import (EXPECTED_TOTAL, INFERENCE_KEY, MANAGEMENT_KEY, TODAY, OpenRouterFake)

NOW = datetime.combine(TODAY, datetime.min.time(), tzinfo=timezone.utc).replace(hour=12)
FAST = HttpPolicy(sleep=lambda s: None)


@pytest.fixture
def fake():
    with OpenRouterFake() as server:
        yield server


def total(ctx, account: str) -> Decimal:
    return spend_report(ctx.db, ZoneInfo("UTC"), date(2025, 6, 1), date(2025, 9, 30),
                        filters=LedgerFilter.of(account=account)).total


def test_openrouter_account_sync_matches_fake_and_resync_changes_nothing(ctx, fake) -> None:
    acc_id = add_account(ctx.db, ctx.secrets, "openrouter", "router", MANAGEMENT_KEY, fake.api_base)
    with httpx.Client() as client:
        first = sync_account(ctx, acc_id, client=client, policy=FAST, now=NOW)
        assert first.ok, first.message
        assert total(ctx, "router") == EXPECTED_TOTAL
        second = sync_account(ctx, acc_id, client=client, policy=FAST, now=NOW)
    assert second.ok and second.written.added == second.written.updated == 0
    assert total(ctx, "router") == EXPECTED_TOTAL
    view = get_account(ctx.db, "router")
    assert view.status == "ok" and view.last_success_at is not None
    with ctx.db.session() as s:
        assert s.scalar(select(BalanceReading.remaining).where(BalanceReading.account_id == acc_id)) is not None
    # The key lives in the secret store under a reference; the database never sees it.
    with ctx.db.engine.connect() as conn:
        dump = "\n".join(str(r) for r in conn.exec_driver_sql("SELECT * FROM accounts"))
    assert MANAGEMENT_KEY not in dump


def test_inference_key_syncs_balance_with_a_warning(ctx, fake) -> None:
    acc_id = add_account(ctx.db, ctx.secrets, "openrouter", "inf", INFERENCE_KEY, fake.api_base)
    out = sync_account(ctx, acc_id, policy=FAST, now=NOW)
    assert out.ok and "management key" in out.message.lower()
    assert total(ctx, "inf") == 0


def test_bad_key_marks_account_needing_attention(ctx, fake) -> None:
    acc_id = add_account(ctx.db, ctx.secrets, "openrouter", "bad", "sk-or-v1-wrong", fake.api_base)
    out = sync_account(ctx, acc_id, policy=FAST, now=NOW)
    assert not out.ok
    view = get_account(ctx.db, "bad")
    assert view.status == "needs_attention" and "sk-or-v1-wrong" not in (view.status_message or "")


def test_unreachable_server_is_an_error_not_a_crash(ctx) -> None:
    acc_id = add_account(ctx.db, ctx.secrets, "openrouter", "down", MANAGEMENT_KEY, "http://127.0.0.1:9")
    out = sync_account(ctx, acc_id, policy=HttpPolicy(max_attempts=2, sleep=lambda s: None), now=NOW)
    assert not out.ok and get_account(ctx.db, "down").status == "error"


def test_due_accounts_and_remove_keeps_history(ctx, fake) -> None:
    acc_id = add_account(ctx.db, ctx.secrets, "openrouter", "sched", MANAGEMENT_KEY, fake.api_base,
                         sync_interval_minutes=30)
    assert acc_id in due_accounts(ctx, now=NOW)
    sync_account(ctx, acc_id, policy=FAST, now=NOW)
    assert acc_id not in due_accounts(ctx, now=NOW)
    remove_account(ctx.db, ctx.secrets, acc_id)
    assert list_accounts(ctx.db) == []
    # History outlives the account.
    assert spend_report(ctx.db, ZoneInfo("UTC"), date(2025, 6, 1), date(2025, 9, 30)).total == EXPECTED_TOTAL
