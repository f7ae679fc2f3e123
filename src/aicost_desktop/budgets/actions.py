"""On-exceed actions on provider keys: pause (and resume) an OpenRouter key, every attempt logged.

Pausing is never implicit: the user picks `pause_key`, names the account and key, and confirms it
in the budget dialog; the engine then pauses once per period when the budget is reached, and the
Budgets dock (or `aicost budgets resume-key`) resumes it. Each attempt is a `budget_actions` row.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Callable, Protocol

import httpx
from sqlalchemy import select

from aicost_desktop.accounts import account_key, make_client
from aicost_desktop.domain.errors import InputError, OperationError
from aicost_desktop.secrets import SecretStore
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import Account, Budget, BudgetAction, utcnow
from aicost_desktop.sync.base import AccountInfo
from aicost_desktop.sync.openrouter import DEFAULT_BASE_URL, update_key

log = logging.getLogger("aicost.budgets")
RETRY_FAILED_AFTER = timedelta(hours=1)


class KeyController(Protocol):
    """Turns a provider key off or on; returns a short description, raises on failure."""

    def set_disabled(self, account_id: int, key_hash: str, disabled: bool) -> str: ...


class OpenRouterKeys:
    """KeyController over OpenRouter's management API (`PATCH /keys/{hash}` via sync.openrouter.update_key)."""

    def __init__(self, db: Database, secrets: SecretStore, client_factory: Callable[[], httpx.Client] | None = None) -> None:
        self.db, self.secrets, self.client_factory = db, secrets, client_factory

    def set_disabled(self, account_id: int, key_hash: str, disabled: bool) -> str:
        with self.db.session() as s:
            acc = s.get(Account, account_id)
            if acc is None or acc.provider != "openrouter":
                raise OperationError(f"account {account_id}: not an OpenRouter account")
            info = AccountInfo(acc.id, acc.name, acc.provider, acc.base_url or DEFAULT_BASE_URL, acc.workspace_id,
                               account_key(self.db, self.secrets, account_id))
        with (self.client_factory or make_client)() as client:
            key = update_key(client, info, key_hash, disabled=disabled)
        return f"key {key_hash[:12]} {'disabled' if key.disabled else 'enabled'} on {info.name}"


def _log(db: Database, budget: Budget, action: str, ok: bool, detail: str, now: datetime) -> BudgetAction:
    with db.write_session() as s:
        row = BudgetAction(budget_id=budget.id, action=action, account_id=budget.pause_account_id,
                           key_hash=budget.pause_key_hash, at=now, ok=ok, detail=detail[:2000])
        s.add(row)
        b = s.get(Budget, budget.id)
        if ok and b is not None:
            b.key_paused_at = now if action == "pause_key" else None
        s.flush()
        return row


def set_key_paused(db: Database, budget_id: int, paused: bool, controller: KeyController,
                   *, now: datetime | None = None) -> BudgetAction:
    """Pause or resume the budget's key now; logs the attempt; OperationError (after logging) on failure."""
    now = now or utcnow()
    with db.session() as s:
        b = s.get(Budget, budget_id)
    if b is None:
        raise InputError("budget", budget_id, "no such budget")
    if b.pause_account_id is None or not b.pause_key_hash:
        raise InputError("budget", b.name, "has no key to pause (set on-exceed pause_key with an account and key)")
    action = "pause_key" if paused else "resume_key"
    try:
        detail = controller.set_disabled(b.pause_account_id, b.pause_key_hash, paused)
    except Exception as exc:  # noqa: BLE001 - logged, then reported to the caller
        _log(db, b, action, False, f"{type(exc).__name__}: {exc}", now)
        log.warning("budget %s: %s failed: %s", b.name, action, exc)
        raise OperationError(f"{action} for budget {b.name} failed: {exc}") from exc
    log.info("budget %s: %s (%s)", b.name, action, detail)
    return _log(db, b, action, True, detail, now)


def should_pause(db: Database, budget: Budget, period_start: datetime, now: datetime) -> bool:
    """Exceeded budgets with pause_key pause once per period: not if paused already, not if the user
    resumed the key during this period, and failed attempts are retried at most hourly."""
    if budget.on_exceed != "pause_key" or budget.key_paused_at is not None or not budget.pause_key_hash:
        return False
    with db.session() as s:
        acts = list(s.scalars(select(BudgetAction).where(BudgetAction.budget_id == budget.id,
                                                         BudgetAction.at >= period_start)))
    if any(a.ok for a in acts):
        return False  # paused and resumed (by the user) in this period: respect that
    failed = [a.at for a in acts if not a.ok]
    return not failed or max(failed) < now - RETRY_FAILED_AFTER


def list_actions(db: Database, budget_id: int | None = None) -> list[BudgetAction]:
    q = select(BudgetAction).order_by(BudgetAction.at.desc(), BudgetAction.id.desc())
    if budget_id is not None:
        q = q.where(BudgetAction.budget_id == budget_id)
    with db.session() as s:
        return list(s.scalars(q))
