"""The Qt-free API the Integrations dock and the CLI adapt: list with status, connect, test, disconnect, run."""

from __future__ import annotations

import logging
import threading
import time
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from aicost_desktop.domain import redact
from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations import oauth, registry
from aicost_desktop.integrations.connection import (Connection, TokenKeeper, endpoints, resolve_urls, save_tokens,
                                                    token_secrets)
from aicost_desktop.integrations.errors import AuthFailed, CredentialMissing, IntegrationError, PermissionDenied
from aicost_desktop.integrations.http import RetryPolicy, make_client
from aicost_desktop.integrations.spec import AuthKind, IntegrationSpec
from aicost_desktop.integrations.store import ConnectionRecord, ConnectionStore
from aicost_desktop.secrets import SecretStore
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import utcnow

log = logging.getLogger("aicost.integrations")
OAUTH_KINDS = (AuthKind.OAUTH_PKCE, AuthKind.OAUTH_DEVICE)


@dataclass(frozen=True)
class IntegrationStatus:
    """A marketplace card: the spec and its connections. `status`: connected, error or not_connected."""

    spec: IntegrationSpec
    connections: tuple[ConnectionRecord, ...]

    @property
    def status(self) -> str:
        if not self.connections:
            return "not_connected"
        return "error" if any(c.status == "error" for c in self.connections) else "connected"

    def as_json(self) -> dict[str, Any]:
        return {**self.spec.as_json(), "status": self.status, "connections": [c.as_json() for c in self.connections]}


@dataclass(frozen=True)
class TestResult:
    ok: bool
    detail: str


class IntegrationManager:
    """Connections of every integration over one ledger and keychain. Blocking calls: run them off the GUI thread."""

    def __init__(self, db: Database, secrets: SecretStore, *, client: httpx.Client | None = None,
                 policy: RetryPolicy | None = None, browser: Callable[[str], Any] = webbrowser.open,
                 clock: Callable[[], float] = time.time, login_timeout: float = oauth.LOGIN_TIMEOUT) -> None:
        self.store = ConnectionStore(db, secrets)
        self.client = client or make_client()
        self.policy = policy or RetryPolicy()
        self.browser, self.clock, self.login_timeout = browser, clock, login_timeout

    # ---- listing ---------------------------------------------------------------------------
    def catalog(self, search: str = "", category: str | None = None) -> list[IntegrationStatus]:
        """Every integration with its connections, filtered by a search text and a category id."""
        by_kind: dict[str, list[ConnectionRecord]] = {}
        for rec in self.store.list():
            by_kind.setdefault(rec.kind, []).append(rec)
        words = search.lower().split()
        out = []
        for spec in registry.specs():
            hay = f"{spec.id} {spec.name} {spec.description} {spec.category.label}".lower()
            if category and spec.category.value != category:
                continue
            if all(w in hay for w in words):
                out.append(IntegrationStatus(spec, tuple(by_kind.get(spec.id, ()))))
        return out

    def connections(self) -> list[ConnectionRecord]:
        return self.store.list()

    # ---- connect ---------------------------------------------------------------------------
    def connect(self, kind: str, values: Mapping[str, str], *, name: str | None = None, auth: str | None = None,
                urls: Mapping[str, str] | None = None, verify: bool = True) -> ConnectionRecord:
        """Check the form, prove the credential with the spec's connection test (unless `verify=False`), then
        store it: secrets in the keychain, the rest in the ledger. A refused credential is not stored."""
        spec = registry.get(kind)
        method = spec.auth(auth)
        if method.kind in OAUTH_KINDS:
            raise InputError("auth", method.kind.value, "sign in with connect_oauth (the browser or device flow)")
        for key in spec.secret_keys:
            redact.register(values.get(key))  # before any check can put it in a message
        unknown = sorted(set(values) - set(method.fields))
        if unknown:
            raise InputError("field", unknown[0], f"{spec.name} ({method.label}) takes {', '.join(method.fields)}")
        checked: dict[str, str] = {}
        for key in method.fields:
            value = spec.field(key).check(values.get(key))
            if value:
                checked[key] = value
        resolved = resolve_urls(spec, urls)
        detail = ""
        if verify:
            conn = Connection(spec, name or spec.id, method.kind, checked, resolved, self.client, self.policy)
            detail = self._probe(spec, conn)
        rec = self.store.add(name or spec.id, spec.id, method.key,
                             {k: v for k, v in checked.items() if k not in spec.secret_keys},
                             {k: v for k, v in checked.items() if k in spec.secret_keys}, urls=dict(urls or {}))
        if verify:
            self.store.update(rec.name, status="ok", message=detail, tested_at=utcnow())
        return self.store.get(rec.name)

    def connect_oauth(self, kind: str, *, client_id: str, client_secret: str | None = None, name: str | None = None,
                      auth: str | None = None, urls: Mapping[str, str] | None = None,
                      scopes: tuple[str, ...] | None = None, show_code: Callable[[oauth.DeviceCode], Any] | None = None,
                      cancel: threading.Event | None = None, sleep: Callable[[float], None] = time.sleep,
                      values: Mapping[str, str] | None = None) -> ConnectionRecord:
        """Sign in through the browser (PKCE on a loopback redirect) or the device flow, test, store the tokens.
        `values`: the method's other non-secret fields (a Google Sheets connection's spreadsheet id)."""
        spec = registry.get(kind)
        method = spec.auth(auth or next((m.kind for m in spec.auth_methods if m.kind in OAUTH_KINDS), None))
        if method.kind not in OAUTH_KINDS:
            raise InputError("auth", method.kind.value, f"{spec.name} has no OAuth sign-in")
        if not client_id or not client_id.strip():
            raise InputError("client_id", "<empty>", "the OAuth app's client id is required")
        redact.register(client_secret)
        others = [k for k in method.fields if k != "client_id" and k not in spec.secret_keys]
        unknown = sorted(set(values or {}) - set(others))
        if unknown:
            raise InputError("field", unknown[0],
                             f"{spec.name} ({method.label}) takes {', '.join(others) or 'no fields'}")
        plain = {"client_id": client_id.strip()}
        for key in others:  # checked before the browser opens: a sign-in is not wasted on a bad field
            value = spec.field(key).check((values or {}).get(key))
            if value:
                plain[key] = value
        resolved = resolve_urls(spec, urls)
        ep = endpoints(method, resolved, scopes)
        if method.kind is AuthKind.OAUTH_DEVICE:
            tokens = oauth.device_flow(ep, client_id.strip(), client=self.client, show=show_code or (lambda c: None),
                                       sleep=sleep, clock=self.clock, cancel=cancel)
        else:
            tokens = oauth.authorize(ep, client_id.strip(), client=self.client, client_secret=client_secret,
                                     browser=self.browser, timeout=self.login_timeout, cancel=cancel, clock=self.clock)
        conn = Connection(spec, name or spec.id, method.kind, plain, resolved, self.client,
                          self.policy, token_source=lambda: tokens.access_token)
        detail = self._probe(spec, conn)
        secrets = token_secrets(tokens)
        if client_secret:
            secrets["client_secret"] = client_secret
        rec = self.store.add(name or spec.id, spec.id, method.key, plain, secrets,
                             urls=dict(urls or {}), extra={"expires_at": tokens.expires_at, "scope": tokens.scope})
        self.store.update(rec.name, status="ok", message=detail, tested_at=utcnow())
        return self.store.get(rec.name)

    @staticmethod
    def _probe(spec: IntegrationSpec, conn: Connection) -> str:
        return str(spec.client(conn).test() or "connected")

    # ---- use -------------------------------------------------------------------------------
    def open(self, name: str) -> Any:
        """The service client of a stored connection (secrets read from the keychain now)."""
        rec = self.store.get(name)
        spec = registry.get(rec.kind)
        method = spec.auth(rec.auth_method)
        values = dict(rec.plain)
        for key in rec.secret_keys:
            if key in spec.secret_keys:
                value = self.store.secret(rec, key)
                if value:
                    values[key] = value
        urls = resolve_urls(spec, rec.urls)
        source = None
        if method.kind in OAUTH_KINDS:
            source = TokenKeeper(self.store, rec, endpoints(method, urls), self.client, self.clock)
        return spec.client(Connection(spec, rec.name, method.kind, values, urls, self.client, self.policy, source))

    def test(self, name: str) -> TestResult:
        """Run the connection test and record the outcome on the card (status ok / error)."""
        try:
            detail = str(self.open(name).test() or "connected")
        except IntegrationError as exc:
            self.store.update(name, status="error", message=str(exc), tested_at=utcnow())
            return TestResult(False, redact.redact(str(exc)))
        self.store.update(name, status="ok", message=detail, tested_at=utcnow())
        return TestResult(True, detail)

    def run(self, name: str, action: str, params: Mapping[str, Any] | None = None) -> Any:
        """Run one of the connection's actions with its typed parameters; errors are IntegrationErrors."""
        rec = self.store.get(name)
        act = registry.get(rec.kind).action(action)
        checked = act.validate(params or {})
        try:
            return act.run(self.open(name), checked)
        except IntegrationError as exc:
            if isinstance(exc, (AuthFailed, CredentialMissing, PermissionDenied)):
                self.store.update(name, status="error", message=str(exc))
            raise

    def disconnect(self, name: str) -> ConnectionRecord:
        """Forget the connection and every keychain entry it had."""
        return self.store.remove(name)

    def close(self) -> None:
        self.client.close()
