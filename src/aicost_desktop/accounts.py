"""Provider accounts: add, edit, enable, remove and test; keys go to the keychain, never the database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlparse

import httpx
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from aicost_desktop import __version__
from aicost_desktop.domain.errors import InputError, OperationError
from aicost_desktop.domain.limits import check_name
from aicost_desktop.secrets import SecretStore
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import Account, BalanceReading, SyncState, Workspace
from aicost_desktop.sync.registry import PROVIDERS
from aicost_desktop.sync.tls import client_tls

MAX_NAME = 120
MAX_WORKSPACE = 100
MAX_ID = 2**63 - 1  # row ids are 64-bit: a larger number can only be a name


@dataclass(frozen=True)
class AccountView:
    """What lists and panels show about an account (no secret)."""

    id: int
    name: str
    provider: str
    base_url: str
    workspace_id: int
    enabled: bool
    status: str
    status_message: str | None
    last_sync_at: datetime | None
    last_success_at: datetime | None
    sync_interval_minutes: int | None
    has_key: bool

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "provider": self.provider, "base_url": self.base_url,
                "workspace_id": self.workspace_id, "enabled": self.enabled, "status": self.status,
                "status_message": self.status_message,
                "last_sync_at": self.last_sync_at.isoformat() if self.last_sync_at else None,
                "last_success_at": self.last_success_at.isoformat() if self.last_success_at else None,
                "sync_interval_minutes": self.sync_interval_minutes}


def validate_base_url(url: str | None, provider: str) -> str:
    """An http(s) URL without query or fragment; defaults to the provider's SDK base URL."""
    if not url:
        return PROVIDERS[provider].base_url
    reason = "must be an http(s) URL such as https://api.openai.com/v1"
    try:
        parsed = urlparse(url.strip())
        parsed.port  # noqa: B018 - raises ValueError on a port that is not a number or out of range
    except ValueError:  # 'http://[::1' (an unclosed IPv6 bracket), a port of 99999
        raise InputError("base-url", url, reason) from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.query or parsed.fragment:
        raise InputError("base-url", url, reason)
    if parsed.username or parsed.password:
        raise InputError("base-url", "<redacted>", "must not contain credentials")
    return url.strip().rstrip("/")


def _view(acc: Account) -> AccountView:
    return AccountView(acc.id, acc.name, acc.provider, acc.base_url or PROVIDERS.get(acc.provider, PROVIDERS["openai"]).base_url,
                       acc.workspace_id, acc.enabled, acc.status, acc.status_message, acc.last_sync_at,
                       acc.last_success_at, acc.sync_interval_minutes, bool(acc.key_ref))


def add_account(db: Database, secrets: SecretStore, provider: str, name: str, key: str, base_url: str | None = None,
                workspace: str | None = None, sync_interval_minutes: int | None = None) -> int:
    """Validate, store the key in the keychain, then the account row. Nothing is half-written on failure."""
    if provider not in PROVIDERS:
        raise InputError("provider", provider, f"use one of {', '.join(PROVIDERS)}")
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise InputError("name", name, f"must be 1..{MAX_NAME} characters")
    check_name("name", name, MAX_NAME)  # no control or bidi characters: a name is shown in every report
    if not key or not key.strip():
        raise InputError("key", "<empty>", "no API key given")
    if any(c.isspace() for c in key.strip()):
        raise InputError("key", "<redacted>", "contains whitespace")
    url = validate_base_url(base_url, provider)
    if sync_interval_minutes is not None and sync_interval_minutes < 1:
        raise InputError("sync-interval", sync_interval_minutes, "must be at least 1 minute")
    ws_name = (workspace or "").strip() or None  # empty: the default workspace
    if ws_name is not None and len(ws_name) > MAX_WORKSPACE:
        raise InputError("workspace", workspace, f"must be 1..{MAX_WORKSPACE} characters")
    check_name("workspace", ws_name, MAX_WORKSPACE)
    # Every check comes before any write: a rejected account leaves no workspace or key behind.
    with db.session() as s:
        if s.scalar(select(Account.id).where(Account.name == name)) is not None:
            raise InputError("name", name, "an account with this name exists")
    default_ws = db.default_workspace_id()
    ref = f"account:{uuid.uuid4().hex}"
    secrets.set(ref, key.strip())  # raises NoKeychainError: then nothing is stored at all
    try:
        # One writer's transaction for the workspace and the account: both or neither.
        with db.write_session() as s:
            if s.scalar(select(Account.id).where(Account.name == name)) is not None:
                raise IntegrityError("account name taken", None, ValueError(name))
            ws_id = default_ws
            if ws_name is not None:
                ws = s.scalar(select(Workspace).where(Workspace.name == ws_name))
                if ws is None:
                    ws = Workspace(name=ws_name)
                    s.add(ws)
                    s.flush()
                ws_id = ws.id
            acc = Account(name=name, provider=provider, workspace_id=ws_id, base_url=url, key_ref=ref,
                          sync_interval_minutes=sync_interval_minutes)
            s.add(acc)
            s.flush()
            return acc.id
    except IntegrityError:
        # Another process added the same name between our check and insert (shared PostgreSQL ledger).
        secrets.delete(ref)
        raise InputError("name", name, "an account with this name exists") from None
    except BaseException:
        secrets.delete(ref)
        raise


def list_accounts(db: Database, include_demo: bool = True) -> list[AccountView]:
    with db.session() as s:
        rows = list(s.scalars(select(Account).order_by(Account.name)))
    return [_view(a) for a in rows if include_demo or a.status != "demo"]


def get_account(db: Database, name_or_id: str | int) -> AccountView:
    with db.session() as s:
        q = select(Account)
        text = str(name_or_id)
        acc = None
        if text.isascii() and text.isdigit() and len(text) <= 19 and 0 < int(text) <= MAX_ID:
            acc = s.get(Account, int(text))
        acc = acc or s.scalar(q.where(Account.name == text))
        if acc is None:
            raise InputError("account", name_or_id, "no such account")
        return _view(acc)


def update_account(db: Database, account_id: int, *, name: str | None = None, base_url: str | None = None,
                   enabled: bool | None = None, sync_interval_minutes: int | None = None) -> None:
    with db.write_session() as s:
        acc = s.get(Account, account_id)
        if acc is None:
            raise InputError("account", account_id, "no such account")
        if name is not None:
            name = name.strip()
            if not name or len(name) > MAX_NAME:
                raise InputError("name", name, f"must be 1..{MAX_NAME} characters")
            check_name("name", name, MAX_NAME)
            if s.scalar(select(Account.id).where(Account.name == name, Account.id != account_id)) is not None:
                raise InputError("name", name, "an account with this name exists")
            acc.name = name
        if base_url is not None:
            acc.base_url = validate_base_url(base_url, acc.provider)
        if enabled is not None:
            acc.enabled = enabled
        if sync_interval_minutes is not None:
            if sync_interval_minutes < 1:
                raise InputError("sync-interval", sync_interval_minutes, "must be at least 1 minute")
            acc.sync_interval_minutes = sync_interval_minutes


def replace_key(db: Database, secrets: SecretStore, account_id: int, key: str) -> None:
    if not key or not key.strip():
        raise InputError("key", "<empty>", "no API key given")
    with db.write_session() as s:
        acc = s.get(Account, account_id)
        if acc is None:
            raise InputError("account", account_id, "no such account")
        acc.key_ref = acc.key_ref or f"account:{uuid.uuid4().hex}"
        secrets.set(acc.key_ref, key.strip())
        acc.status, acc.status_message = "new", None


def remove_account(db: Database, secrets: SecretStore, account_id: int) -> None:
    """Forget the account and its key. Its ledger rows stay (history outlives accounts)."""
    with db.write_session() as s:
        acc = s.get(Account, account_id)
        if acc is None:
            raise InputError("account", account_id, "no such account")
        ref = acc.key_ref
        for model in (SyncState, BalanceReading):
            s.execute(delete(model).where(model.account_id == account_id))
        s.execute(delete(Account).where(Account.id == account_id))
    if ref:
        secrets.delete(ref)


def account_key(db: Database, secrets: SecretStore, account_id: int) -> str:
    with db.session() as s:
        acc = s.get(Account, account_id)
        ref = acc.key_ref if acc else None
    key = secrets.get(ref) if ref else None
    if not key:
        raise OperationError(f"account {account_id}: no API key in the keychain; add it again")
    return key


def make_client(timeout: float = 30.0) -> httpx.Client:
    """The shared HTTP client for provider calls (tests pass their own)."""
    return httpx.Client(timeout=timeout, headers={"User-Agent": f"aicost-desktop/{__version__}"},
                        follow_redirects=False, verify=client_tls())
