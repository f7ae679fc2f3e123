"""Connections on disk: config in the ledger's integration_connections table, one keychain entry per secret."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from aicost_desktop.domain import redact
from aicost_desktop.domain.errors import InputError
from aicost_desktop.secrets import SecretStore
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import IntegrationConnection, utcnow

# Windows Credential Manager holds 2,560 bytes of UTF-16 (~1,280 characters) per entry; longer values
# (some OAuth tokens) are split over numbered entries so no backend refuses them.
CHUNK = 1200
_CHUNKED = "aicost-chunked:"
MAX_NAME = 120


@dataclass(frozen=True)
class ConnectionRecord:
    """A stored connection without its secrets."""

    id: int
    name: str
    kind: str
    auth_method: str
    secret_ref: str
    plain: dict[str, str] = field(default_factory=dict)       # non-secret credential fields
    urls: dict[str, str] = field(default_factory=dict)        # base URL overrides by key
    secret_keys: tuple[str, ...] = ()                          # names of the keychain entries
    extra: dict[str, Any] = field(default_factory=dict)        # token expiry, scopes, account label
    status: str = "new"
    status_message: str | None = None
    last_tested_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "auth_method": self.auth_method, "fields": self.plain,
                "urls": self.urls, "secrets": list(self.secret_keys), "status": self.status,
                "status_message": self.status_message,
                "last_tested_at": self.last_tested_at.isoformat() if self.last_tested_at else None}


def _record(row: IntegrationConnection) -> ConnectionRecord:
    cfg = json.loads(row.config or "{}")
    return ConnectionRecord(row.id, row.name, row.kind, row.auth_method, row.secret_ref,
                            dict(cfg.get("fields", {})), dict(cfg.get("urls", {})), tuple(cfg.get("secrets", ())),
                            dict(cfg.get("extra", {})), row.status, row.status_message, row.last_tested_at)


class ConnectionStore:
    """Adds, reads and forgets connections; a failed add leaves neither a row nor a keychain entry."""

    def __init__(self, db: Database, secrets: SecretStore) -> None:
        self.db, self.secrets = db, secrets

    # ---- rows ----------------------------------------------------------------------------
    def list(self) -> list[ConnectionRecord]:
        with self.db.session() as s:
            return [_record(r) for r in s.scalars(select(IntegrationConnection).order_by(IntegrationConnection.name))]

    def find(self, name: str) -> ConnectionRecord | None:
        with self.db.session() as s:
            row = s.scalar(select(IntegrationConnection).where(IntegrationConnection.name == name))
            return _record(row) if row else None

    def get(self, name: str) -> ConnectionRecord:
        rec = self.find(name)
        if rec is None:
            known = ", ".join(r.name for r in self.list()) or "none yet"
            raise InputError("integration", name, f"no such connection (connected: {known})")
        return rec

    def add(self, name: str, kind: str, auth_method: str, plain: Mapping[str, str], secrets: Mapping[str, str],
            urls: Mapping[str, str] | None = None, extra: Mapping[str, Any] | None = None) -> ConnectionRecord:
        name = (name or "").strip()
        if not name or len(name) > MAX_NAME or any(not c.isprintable() for c in name):
            raise InputError("name", name, f"must be 1..{MAX_NAME} printable characters")
        if self.find(name) is not None:
            raise InputError("name", name, "a connection with this name exists (disconnect it first)")
        ref = f"integration:{uuid.uuid4().hex}"
        stored: list[str] = []
        try:
            for key, value in secrets.items():
                self._write_secret(ref, key, value)
                stored.append(key)
            cfg = {"fields": dict(plain), "urls": dict(urls or {}), "secrets": stored, "extra": dict(extra or {})}
            with self.db.write_session() as s:
                s.add(IntegrationConnection(name=name, kind=kind, auth_method=auth_method, config=json.dumps(cfg),
                                            secret_ref=ref, status="new"))
        except IntegrityError:
            self._forget(ref, stored)
            raise InputError("name", name, "a connection with this name exists (disconnect it first)") from None
        except BaseException:
            self._forget(ref, stored)
            raise
        return self.get(name)

    def update(self, name: str, *, status: str | None = None, message: str | None = None,
               tested_at: datetime | None = None, extra: Mapping[str, Any] | None = None) -> None:
        with self.db.write_session() as s:
            row = s.scalar(select(IntegrationConnection).where(IntegrationConnection.name == name))
            if row is None:
                raise InputError("integration", name, "no such connection")
            if status is not None:
                row.status, row.status_message = status, redact.redact(message)[:2000] if message else None
            if tested_at is not None:
                row.last_tested_at = tested_at
            if extra is not None:
                cfg = json.loads(row.config or "{}")
                cfg.setdefault("extra", {}).update(extra)
                row.config = json.dumps(cfg)
            row.updated_at = utcnow()

    def remove(self, name: str) -> ConnectionRecord:
        rec = self.get(name)
        with self.db.write_session() as s:
            row = s.get(IntegrationConnection, rec.id)
            if row is not None:
                s.delete(row)
        self._forget(rec.secret_ref, rec.secret_keys)
        return rec

    # ---- secrets -------------------------------------------------------------------------
    def secret(self, rec: ConnectionRecord, key: str) -> str | None:
        value = self.secrets.get(f"{rec.secret_ref}:{key}")
        if value is not None and value.startswith(_CHUNKED):
            parts = [self.secrets.get(f"{rec.secret_ref}:{key}:part{i}") for i in range(int(value[len(_CHUNKED):]))]
            found = [p for p in parts if p is not None]
            if len(found) != len(parts):
                return None
            value = "".join(found)
            redact.register(value)
        return value

    def set_secret(self, rec: ConnectionRecord, key: str, value: str) -> None:
        """Write (or replace) one secret of a stored connection, e.g. a refreshed OAuth token."""
        self._write_secret(rec.secret_ref, key, value)
        if key not in rec.secret_keys:
            with self.db.write_session() as s:
                row = s.get(IntegrationConnection, rec.id)
                if row is not None:
                    cfg = json.loads(row.config or "{}")
                    cfg["secrets"] = sorted(set(cfg.get("secrets", [])) | {key})
                    row.config = json.dumps(cfg)

    def _write_secret(self, ref: str, key: str, value: str) -> None:
        redact.register(value)
        if len(value) <= CHUNK:
            self.secrets.set(f"{ref}:{key}", value)
            return
        parts = [value[i:i + CHUNK] for i in range(0, len(value), CHUNK)]
        for i, part in enumerate(parts):
            self.secrets.set(f"{ref}:{key}:part{i}", part)
        self.secrets.set(f"{ref}:{key}", f"{_CHUNKED}{len(parts)}")

    def _forget(self, ref: str, keys: Any) -> None:
        for key in keys:
            head = self.secrets.get(f"{ref}:{key}")
            if head and head.startswith(_CHUNKED):
                for i in range(int(head[len(_CHUNKED):])):
                    self.secrets.delete(f"{ref}:{key}:part{i}")
            self.secrets.delete(f"{ref}:{key}")
