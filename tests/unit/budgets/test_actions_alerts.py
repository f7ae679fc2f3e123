"""pause_key on exceed (logged, once per period, reversible) and the alert entry points for other subsystems."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from aicost_desktop.budgets.actions import list_actions, set_key_paused
from aicost_desktop.budgets.engine import evaluate
from aicost_desktop.budgets.model import BudgetSpec, add_budget, find_budget
from aicost_desktop.domain.errors import OperationError
from aicost_desktop.notify.alerts import (acknowledge, clear_sync_failure, list_alerts, pending_acknowledgement,
                                          raise_anomaly, raise_sync_failure, raise_unpriced_models)
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import Account
from tests.unit.budgets.helpers import spend_on

UTC = ZoneInfo("UTC")
NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)


class FakeKeys:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[int, str, bool]] = []
        self.fail = fail

    def set_disabled(self, account_id: int, key_hash: str, disabled: bool) -> str:
        self.calls.append((account_id, key_hash, disabled))
        if self.fail:
            raise ConnectionError("openrouter down")
        return f"key {key_hash} {'disabled' if disabled else 'enabled'}"


def openrouter_account(db: Database) -> int:
    with db.write_session() as s:
        acc = Account(name="or", provider="openrouter", workspace_id=db.default_workspace_id())
        s.add(acc)
        s.flush()
        return acc.id


def pause_budget(db: Database) -> int:
    acc = openrouter_account(db)
    return add_budget(db, BudgetSpec.build(name="OR", amount="10", on_exceed="pause_key", pause_account_id=acc,
                                           pause_key_hash="abc123"))


def test_pause_key_once_per_period_and_resume_is_respected(sqlite_db: Database) -> None:
    bid = pause_budget(sqlite_db)
    keys = FakeKeys()
    spend_on(sqlite_db, date(2026, 11, 3), "5", "a")
    evaluate(sqlite_db, UTC, now=NOW, keys=keys)
    assert keys.calls == []
    spend_on(sqlite_db, date(2026, 11, 4), "6", "b")
    r = evaluate(sqlite_db, UTC, now=NOW, keys=keys)
    assert keys.calls == [(find_budget(sqlite_db, bid).pause_account_id, "abc123", True)]
    assert r.statuses[0].key_paused and find_budget(sqlite_db, bid).key_paused_at == NOW
    evaluate(sqlite_db, UTC, now=NOW, keys=keys)
    assert len(keys.calls) == 1
    set_key_paused(sqlite_db, bid, False, keys, now=NOW + timedelta(hours=1))  # the user resumes it
    assert find_budget(sqlite_db, bid).key_paused_at is None
    evaluate(sqlite_db, UTC, now=NOW + timedelta(hours=2), keys=keys)
    assert len(keys.calls) == 2  # not paused again this period
    assert [(a.action, a.ok) for a in list_actions(sqlite_db, bid)] == [("resume_key", True), ("pause_key", True)]


def test_failed_pause_is_logged_and_retried_hourly(sqlite_db: Database) -> None:
    bid = pause_budget(sqlite_db)
    keys = FakeKeys(fail=True)
    spend_on(sqlite_db, date(2026, 11, 3), "11", "a")
    r = evaluate(sqlite_db, UTC, now=NOW, keys=keys)
    assert "failed" in r.actions[0]
    evaluate(sqlite_db, UTC, now=NOW + timedelta(minutes=30), keys=keys)
    assert len(keys.calls) == 1
    evaluate(sqlite_db, UTC, now=NOW + timedelta(minutes=61), keys=keys)
    assert len(keys.calls) == 2
    assert all(not a.ok and "openrouter down" in (a.detail or "") for a in list_actions(sqlite_db, bid))
    with pytest.raises(OperationError):
        set_key_paused(sqlite_db, bid, True, keys)


def test_require_ack_state_until_acknowledged(sqlite_db: Database) -> None:
    add_budget(sqlite_db, BudgetSpec.build(name="B", amount="10", on_exceed="require_ack"))
    spend_on(sqlite_db, date(2026, 11, 3), "9", "a")
    evaluate(sqlite_db, UTC, now=NOW)
    assert pending_acknowledgement(sqlite_db) == []
    spend_on(sqlite_db, date(2026, 11, 3), "10", "a")
    evaluate(sqlite_db, UTC, now=NOW)
    [p] = pending_acknowledgement(sqlite_db)
    acknowledge(sqlite_db, p.id)
    assert pending_acknowledgement(sqlite_db) == []


def test_sync_failure_once_per_episode(sqlite_db: Database) -> None:
    acc = openrouter_account(sqlite_db)
    assert raise_sync_failure(sqlite_db, acc, "401 unauthorized", now=NOW) is not None
    assert raise_sync_failure(sqlite_db, acc, "401 unauthorized", now=NOW) is None
    with sqlite_db.write_session() as s:
        s.get(Account, acc).last_success_at = NOW + timedelta(minutes=5)
    again = raise_sync_failure(sqlite_db, acc, "Sync of or failed: timeout", now=NOW + timedelta(minutes=10))
    assert again is not None and again.message == "Sync of or failed: timeout"
    assert clear_sync_failure(sqlite_db, acc) and not clear_sync_failure(sqlite_db, acc)
    assert [a.type for a in list_alerts(sqlite_db)] == ["sync_failure", "sync_failure"]


def test_unpriced_models_and_anomaly(sqlite_db: Database) -> None:
    out = raise_unpriced_models(sqlite_db, ["mystery-1", "mystery-1", "odd-2"], rows={"odd-2": 3})
    assert len(out) == 2 and "3 ledger rows" in out[1].message
    assert raise_unpriced_models(sqlite_db, ["mystery-1"]) == []
    a = raise_anomaly(sqlite_db, "openai:2026-11-20", "OpenAI spend 5x the usual", current_usage=50, expected=10)
    assert a is not None and a.type == "anomaly"
    assert raise_anomaly(sqlite_db, "openai:2026-11-20", "again") is None
    j = list_alerts(sqlite_db, type_="anomaly")[0].as_json()
    assert j["current_usage"] == "50" and j["budget"] is None and j["threshold"] is None
