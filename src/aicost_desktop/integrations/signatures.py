"""Webhook signatures: verify Slack v0, GitHub X-Hub-Signature-256, Stripe-Signature; sign our own webhooks."""

from __future__ import annotations

import hashlib
import hmac
import time

TOLERANCE = 300  # seconds: a signed timestamp older (or newer) than this is a replay


class InvalidSignature(ValueError):
    """A request whose signature is missing, wrong or too old; the listener answers 401."""


def _hmac_hex(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()


def _fresh(timestamp: str, now: float | None, tolerance: int) -> int:
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        raise InvalidSignature("timestamp missing or not a number") from None
    if abs((time.time() if now is None else now) - ts) > tolerance:
        raise InvalidSignature(f"timestamp more than {tolerance} s away from now (replay?)")
    return ts


def verify_slack(signing_secret: str, timestamp: str | None, signature: str | None, body: bytes, *,
                 now: float | None = None, tolerance: int = TOLERANCE) -> None:
    """X-Slack-Signature = 'v0=' + HMAC-SHA256(secret, 'v0:{X-Slack-Request-Timestamp}:{raw body}')."""
    _fresh(timestamp or "", now, tolerance)
    expected = "v0=" + _hmac_hex(signing_secret, b"v0:" + (timestamp or "").encode() + b":" + body)
    if not signature or not hmac.compare_digest(expected, signature):
        raise InvalidSignature("X-Slack-Signature does not match")


def verify_github(secret: str, signature: str | None, body: bytes) -> None:
    """X-Hub-Signature-256 = 'sha256=' + hex HMAC-SHA256(secret, raw body) (GitHub signs no timestamp)."""
    expected = "sha256=" + _hmac_hex(secret, body)
    if not signature or not hmac.compare_digest(expected, signature):
        raise InvalidSignature("X-Hub-Signature-256 does not match")


def _parse_pairs(header: str) -> list[tuple[str, str]]:
    out = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            out.append((key, value))
    return out


def verify_stripe(endpoint_secret: str, header: str | None, body: bytes, *, now: float | None = None,
                  tolerance: int = TOLERANCE, name: str = "Stripe-Signature") -> None:
    """Stripe-Signature 't=..,v1=..[,v1=..]': valid when any v1 equals HMAC-SHA256(secret, '{t}.{body}').
    `name`: the header the errors name (our webhook's scheme is Stripe's under another header)."""
    pairs = _parse_pairs(header or "")
    ts = next((v for k, v in pairs if k == "t"), None)
    signatures = [v for k, v in pairs if k == "v1"]
    if ts is None or not signatures:
        raise InvalidSignature(f"{name} has no t= or v1=")
    expected = _hmac_hex(endpoint_secret, ts.encode() + b"." + body)
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise InvalidSignature(f"{name} does not match")
    _fresh(ts, now, tolerance)


# Our generic webhook signs like Stripe, under our own header name, so a user's service can verify it.
WEBHOOK_HEADER = "X-Aicost-Signature"


def sign_webhook(secret: str, body: bytes, *, now: float | None = None) -> str:
    """The X-Aicost-Signature value for `body`: 't={unix time},v1={hex HMAC-SHA256(secret, "{t}.{body}")}'."""
    ts = str(int(time.time() if now is None else now))
    return f"t={ts},v1={_hmac_hex(secret, ts.encode() + b'.' + body)}"


def verify_webhook(secret: str, header: str | None, body: bytes, *, now: float | None = None,
                   tolerance: int = TOLERANCE) -> None:
    verify_stripe(secret, header, body, now=now, tolerance=tolerance, name=WEBHOOK_HEADER)
