"""A resolved connection (credentials, base URLs, HTTP) that a service client works over; OAuth tokens kept fresh."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations import oauth
from aicost_desktop.integrations.errors import CredentialMissing
from aicost_desktop.integrations.http import Dialect, RetryPolicy, ServiceHttp
from aicost_desktop.integrations.spec import AuthKind, AuthMethod, IntegrationSpec
from aicost_desktop.integrations.store import ConnectionRecord, ConnectionStore

# URL keys an OAuth method may override besides the spec's base URLs.
OAUTH_URL_KEYS = ("authorize", "token", "device_code")


@dataclass
class Connection:
    """Everything a client needs for one call: values of the credential fields, URLs, the HTTP client."""

    spec: IntegrationSpec
    name: str
    auth: AuthKind
    values: Mapping[str, str]
    urls: Mapping[str, str]
    client: httpx.Client
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    token_source: Callable[[], str] | None = None  # OAuth: a fresh access token on each call

    def url(self, key: str = "api") -> str:
        return self.urls[key].rstrip("/")

    def value(self, key: str) -> str | None:
        return self.values.get(key) or None

    def require(self, key: str) -> str:
        value = self.values.get(key)
        if not value:
            raise CredentialMissing(self.spec.name, f"connection {self.name!r} has no {self.spec.field(key).label}")
        return value

    def token(self, key: str = "token") -> str:
        """The bearer credential: an OAuth access token (refreshed when due) or the pasted token."""
        if self.token_source is not None:
            return self.token_source()
        return self.require(key)

    def http(self, dialect: Dialect) -> ServiceHttp:
        return ServiceHttp(self.client, dialect, self.policy)


def check_url(key: str, url: str) -> str:
    """An http(s) URL without credentials, query or fragment (a base URL override)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InputError(f"url.{key}", url, "must be an http(s) URL such as https://api.example.com")
    if parts.username or parts.password:
        raise InputError(f"url.{key}", "<redacted>", "must not contain credentials")
    return url.strip().rstrip("/")


def resolve_urls(spec: IntegrationSpec, overrides: Mapping[str, str] | None) -> dict[str, str]:
    urls = dict(spec.base_urls)
    allowed = set(urls) | (set(OAUTH_URL_KEYS) if any(m.oauth for m in spec.auth_methods) else set())
    for key, url in (overrides or {}).items():
        if key not in allowed:
            raise InputError("url", key, f"{spec.name} has URLs {', '.join(sorted(allowed))}")
        urls[key] = check_url(key, url)
    return urls


def endpoints(method: AuthMethod, urls: Mapping[str, str], scopes: tuple[str, ...] | None = None) -> oauth.Endpoints:
    o = method.oauth
    assert o is not None, method
    return oauth.Endpoints(authorize_url=urls.get("authorize", o.authorize_url), token_url=urls.get("token", o.token_url),
                           device_code_url=urls.get("device_code", o.device_code_url),
                           scopes=o.scopes if scopes is None else scopes, scope_separator=o.scope_separator,
                           scope_param=o.scope_param,
                           extra_authorize=o.extra_authorize, client_auth=o.client_auth,
                           redirect_path=o.redirect_path)


class TokenKeeper:
    """The access token of a stored OAuth connection, refreshed (and re-stored) before it expires."""

    def __init__(self, store: ConnectionStore, rec: ConnectionRecord, ep: oauth.Endpoints, client: httpx.Client,
                 clock: Callable[[], float] = time.time) -> None:
        self.store, self.rec, self.ep, self.client, self.clock = store, rec, ep, client, clock
        self._lock = threading.Lock()

    def current(self) -> oauth.TokenSet:
        access = self.store.secret(self.rec, "access_token")
        if not access:
            raise CredentialMissing(self.rec.kind, f"connection {self.rec.name!r} has no access token in the keychain")
        return oauth.TokenSet(access, self.store.secret(self.rec, "refresh_token"), self.rec.extra.get("expires_at"),
                              self.rec.extra.get("scope"))

    def __call__(self) -> str:
        with self._lock:  # two deliveries at once must not both spend a rotating refresh token
            tokens = self.current()
            if not tokens.due(self.clock()):
                return tokens.access_token
            client_id = self.rec.plain.get("client_id", "")
            secret = self.store.secret(self.rec, "client_secret") if "client_secret" in self.rec.secret_keys else None
            fresh = oauth.refresh(self.ep, tokens, client_id, client=self.client, client_secret=secret, clock=self.clock)
            save_tokens(self.store, self.rec, fresh)
            self.rec = self.store.get(self.rec.name)
            return fresh.access_token


def save_tokens(store: ConnectionStore, rec: ConnectionRecord, tokens: oauth.TokenSet) -> None:
    store.set_secret(rec, "access_token", tokens.access_token)
    if tokens.refresh_token:
        store.set_secret(store.get(rec.name), "refresh_token", tokens.refresh_token)
    store.update(rec.name, extra={"expires_at": tokens.expires_at, "scope": tokens.scope})


def token_secrets(tokens: oauth.TokenSet) -> dict[str, str]:
    out = {"access_token": tokens.access_token}
    if tokens.refresh_token:
        out["refresh_token"] = tokens.refresh_token
    return out
