"""The local gateway token: kept in the OS keychain, registered with the redactor, compared in constant time."""

from __future__ import annotations

import hmac
import secrets as _random

from aicost_desktop.domain import redact
from aicost_desktop.secrets import SecretStore

TOKEN_REF = "gateway:token"
PREFIX = "aicgw_"


def new_token() -> str:
    return PREFIX + _random.token_urlsafe(32)


def load_or_create(store: SecretStore) -> str:
    """The stored token, or a new one saved to the keychain (NoKeychainError when there is none)."""
    token = store.get(TOKEN_REF)
    if not token:
        token = new_token()
        store.set(TOKEN_REF, token)
    redact.register(token)
    return token


def rotate(store: SecretStore) -> str:
    """A new token replaces the old one; clients holding the old one get 401 from then on."""
    token = new_token()
    store.set(TOKEN_REF, token)
    redact.register(token)
    return token


def matches(presented: str | None, expected: str) -> bool:
    """Constant-time comparison, so response timing tells nothing about how much of a guess was right."""
    if not presented:
        return False
    return hmac.compare_digest(presented.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))
