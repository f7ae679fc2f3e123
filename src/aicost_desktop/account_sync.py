"""Syncing one account end to end: window from sync state, provider pages into the ledger, status and alerts.

A feature over the providers (`sync/`): it reads the account and its key (accounts), drives the provider
sync, writes the ledger and raises alerts (notify); the runtime schedules it, the CLI and tests call it.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Callable

import httpx
from sqlalchemy import select

from aicost_desktop.accounts import account_key, make_client
from aicost_desktop.domain.days import utc_midnight
from aicost_desktop.domain.redact import redact
from aicost_desktop.domain.usage import UsageRecord
from aicost_desktop.notify.alerts import raise_sync_failure, raise_unpriced_written
from aicost_desktop.storage.ledger import UpsertResult, upsert_records
from aicost_desktop.storage.own_writes import will_announce
from aicost_desktop.storage.tables import Account, BalanceReading, SyncState
from aicost_desktop.sync.base import AccountInfo, AuthError, ProviderError, SyncReport
from aicost_desktop.sync.http import Cancelled, HttpPolicy
from aicost_desktop.sync.openrouter import retention_note
from aicost_desktop.sync.registry import PROVIDERS, make_sync

if TYPE_CHECKING:
    from aicost_desktop.app_context import AppContext
    from aicost_desktop.storage.db import Database

log = logging.getLogger("aicost.sync")
STREAM = "main"
OUTCOME_LOGGED = "aicost_sync_outcome"  # log-record attribute of a failure the returned outcome also reports
REREAD_DAYS = 3  # today and the last few days are partial at the providers: re-read and upsert
# Per account: synced_through = the earliest instant a sync wanted but the provider no longer kept
# (a standing hole in that account's history, shown on the account until it is removed).
RETENTION_STREAM = "retention"
RETENTION_NOTES: dict[str, Callable[[date], str]] = {"openrouter": retention_note}


@dataclass
class SyncOutcome:
    """The result of syncing one account, for the CLI, the status bar and the Accounts panel."""

    account_id: int
    account: str
    ok: bool
    message: str
    written: UpsertResult = field(default_factory=UpsertResult)
    report: SyncReport | None = None


def sync_window(state: SyncState | None, now: datetime, backfill_days: int,
                since: datetime | None = None) -> tuple[datetime, datetime]:
    """First sync backfills `backfill_days`; later syncs re-read the last REREAD_DAYS days."""
    if since is not None:
        return since, now
    if state is None or state.synced_through is None:
        return now - timedelta(days=backfill_days), now
    return min(state.synced_through, now - timedelta(days=REREAD_DAYS)), now


def sync_account(ctx: "AppContext", account_id: int, *, since: datetime | None = None,
                 client: httpx.Client | None = None, policy: HttpPolicy | None = None,
                 progress: Callable[[int, int], None] | None = None, cancel: threading.Event | None = None,
                 now: datetime | None = None) -> SyncOutcome:
    """Sync one account into the ledger. Never raises for provider trouble: the outcome says what went wrong
    and the account is marked (needs attention for 401/403, error otherwise). At most one sync per account runs
    at a time: the runtime's SyncService holds that lock (runtime/sync.py); the CLI syncs one after another."""
    started = datetime.now(timezone.utc)  # wall clock, as the ledger stamps updated_at (`now` may be fixed)
    outcome = _sync_locked(ctx, account_id, since, client, policy, progress, cancel, now)
    if outcome.written.added or outcome.written.updated:
        _raise_unpriced_alerts(ctx, account_id, started)
    return outcome


def _sync_locked(ctx: "AppContext", account_id: int, since: datetime | None, client: httpx.Client | None,
                 policy: HttpPolicy | None, progress: Callable[[int, int], None] | None,
                 cancel: threading.Event | None, now: datetime | None) -> SyncOutcome:
    db = ctx.db
    fixed_now = now
    now = now or datetime.now(timezone.utc)
    with db.session() as s:
        acc = s.get(Account, account_id)
        if acc is None:
            return SyncOutcome(account_id, str(account_id), False, "no such account")
        name, provider, base_url, ws = acc.name, acc.provider, acc.base_url, acc.workspace_id
        backfill = acc.backfill_days or ctx.settings.get("backfill_days")
        state = s.scalar(select(SyncState).where(SyncState.account_id == account_id, SyncState.stream == STREAM))
        start, end = sync_window(state, now, backfill, since)
    if provider not in PROVIDERS:
        return SyncOutcome(account_id, name, False, f"provider {provider!r} has no sync")
    try:
        key = account_key(db, ctx.secrets, account_id)
    except Exception as exc:
        return _finish(ctx, account_id, name, False, str(exc), "needs_attention", now)
    info = AccountInfo(account_id, name, provider, base_url or PROVIDERS[provider].base_url, ws, key)
    written = UpsertResult()

    def sink(records: list[UsageRecord]) -> None:
        nonlocal written
        for r in records:
            r.account_id, r.workspace_id = account_id, r.workspace_id or ws
        written += upsert_records(db, records)

    own_client = client is None
    http = client or make_client()
    try:
        clock = (lambda: fixed_now) if fixed_now is not None else None
        report = make_sync(provider, policy, clock).run(http, info, start, end, sink, ctx.catalog.cost_of,
                                                 progress, cancel)
    except AuthError as exc:
        return _finish(ctx, account_id, name, False, str(exc), "needs_attention", now, written)
    except (ProviderError, httpx.HTTPError, Cancelled, ValueError) as exc:
        msg = f"{exc.__class__.__name__}: {exc}" if not str(exc).startswith(name) else str(exc)
        return _finish(ctx, account_id, name, False, msg, "error", now, written)
    finally:
        if own_client:
            http.close()
    cancelled = "cancelled" in report.warnings
    if report.unavailable_before is not None and not cancelled:
        _record_retention(ctx, account_id, report.unavailable_before, now)
    if report.balance is not None:
        b = report.balance
        with db.write_session() as s:
            will_announce(s)  # the sync's finished event (the window's sync_state_changed) tells the views
            s.add(BalanceReading(account_id=account_id, taken_at=now, currency=b.currency, total=b.total,
                                 remaining=b.remaining, used=b.used, limit=b.limit,
                                 detail=json.dumps(b.detail) if b.detail else None))
    summary = (f"{report.records} records in {report.pages} pages: {written.added} added, "
               f"{written.updated} updated, {written.unchanged} unchanged")
    if report.warnings:
        summary += "; " + "; ".join(report.warnings)
    return _finish(ctx, account_id, name, not cancelled, summary, "ok" if not cancelled else "error", now, written,
                   report, synced_through=None if cancelled else end)


def _finish(ctx: "AppContext", account_id: int, name: str, ok: bool, message: str, status: str, now: datetime,
            written: UpsertResult | None = None, report: SyncReport | None = None,
            synced_through: datetime | None = None) -> SyncOutcome:
    # The message quotes the provider's error, which may echo the request's credentials: redacted once
    # here, it is safe in the account's status, the sync state, the alert, the log and the outcome.
    message = redact(message)
    with ctx.db.write_session() as s:
        will_announce(s)  # the sync's finished or failed event (the window's sync_state_changed) tells the views
        acc = s.get(Account, account_id)
        if acc is not None:
            acc.status, acc.status_message, acc.last_sync_at = status, message, now
            if ok:
                acc.last_success_at = now
        state = s.scalar(select(SyncState).where(SyncState.account_id == account_id, SyncState.stream == STREAM))
        if state is None:
            state = SyncState(account_id=account_id, stream=STREAM)
            s.add(state)
        state.last_run_at = now
        state.last_error = None if ok else message
        if synced_through is not None:
            state.synced_through = synced_through
    if not ok:
        # Marked: a command that prints the outcome itself keeps this line off its stderr (said once).
        log.warning("sync of %s failed: %s", name, message, extra={OUTCOME_LOGGED: True})
        _raise_failure_alert(ctx, account_id, name, message)
    return SyncOutcome(account_id, name, ok, message, written or UpsertResult(), report)


def _record_retention(ctx: "AppContext", account_id: int, floor: date, now: datetime) -> None:
    # Keep the earliest floor: history before it was never synced; later floors were covered before.
    at = utc_midnight(floor)
    with ctx.db.write_session() as s:
        will_announce(s)  # as the sync's outcome (_finish) is
        state = s.scalar(select(SyncState).where(SyncState.account_id == account_id,
                                                 SyncState.stream == RETENTION_STREAM))
        if state is None:
            state = SyncState(account_id=account_id, stream=RETENTION_STREAM)
            s.add(state)
        if state.synced_through is None or at < state.synced_through:
            state.synced_through = at
        state.last_run_at = now


def retention_notes(db: "Database") -> dict[int, str]:
    """Account id -> the standing note about history its provider no longer keeps (CLI list, Accounts dock)."""
    with db.session() as s:
        rows = s.execute(select(SyncState.account_id, SyncState.synced_through, Account.provider)
                         .join(Account, Account.id == SyncState.account_id)
                         .where(SyncState.stream == RETENTION_STREAM)).all()
    out = {}
    for account_id, at, provider in rows:
        note = RETENTION_NOTES.get(provider)
        if note is not None and at is not None:
            out[account_id] = note(at.astimezone(timezone.utc).date())
    return out


def _raise_failure_alert(ctx: "AppContext", account_id: int, name: str, message: str) -> None:
    try:
        raise_sync_failure(ctx.db, account_id, f"Sync of {name} failed: {message}")
    except Exception:  # alerting must not hide the sync outcome
        log.exception("could not record sync-failure alert")


def _raise_unpriced_alerts(ctx: "AppContext", account_id: int, since: datetime) -> None:
    try:
        raise_unpriced_written(ctx.db, since, account_id=account_id)
    except Exception:  # the rows are committed: alerting must not hide the sync outcome
        log.exception("could not record unpriced-model alerts")


def due_accounts(ctx: "AppContext", now: datetime | None = None) -> list[int]:
    """Enabled accounts whose interval has elapsed since their last sync (the scheduler's question)."""
    now = now or datetime.now(timezone.utc)
    default = ctx.settings.get("sync_interval_minutes")
    out = []
    with ctx.db.session() as s:
        for acc in s.scalars(select(Account).where(Account.enabled.is_(True))):
            if acc.status == "demo" or acc.provider not in PROVIDERS:
                continue
            interval = timedelta(minutes=acc.sync_interval_minutes or default)
            if acc.last_sync_at is None or now - acc.last_sync_at >= interval:
                out.append(acc.id)
    return out
