"""Signature verification with the services' published examples: good, one byte changed, stale timestamp."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from aicost_desktop.integrations.signatures import (InvalidSignature, sign_webhook, verify_github, verify_slack,
                                                    verify_stripe, verify_webhook)

# Slack's "Verifying requests from Slack" example: signing secret, timestamp, slash-command body, signature.
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_TS = "1531420618"
SLACK_BODY = (b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
              b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
              b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
              b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
SLACK_SIG = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
# GitHub's "Validating webhook deliveries" example.
GITHUB_SECRET = "It's a Secret to Everybody"
GITHUB_BODY = b"Hello, World!"
GITHUB_SIG = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def _flip(body: bytes) -> bytes:
    return body[:-1] + bytes([body[-1] ^ 1])


def test_slack_published_example() -> None:
    now = int(SLACK_TS) + 10
    verify_slack(SLACK_SECRET, SLACK_TS, SLACK_SIG, SLACK_BODY, now=now)
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_slack(SLACK_SECRET, SLACK_TS, SLACK_SIG, _flip(SLACK_BODY), now=now)
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_slack(SLACK_SECRET, SLACK_TS, None, SLACK_BODY, now=now)
    with pytest.raises(InvalidSignature, match="300 s"):
        verify_slack(SLACK_SECRET, SLACK_TS, SLACK_SIG, SLACK_BODY, now=int(SLACK_TS) + 301)
    with pytest.raises(InvalidSignature, match="timestamp"):
        verify_slack(SLACK_SECRET, None, SLACK_SIG, SLACK_BODY, now=now)


def test_github_published_example() -> None:
    verify_github(GITHUB_SECRET, GITHUB_SIG, GITHUB_BODY)
    for bad in (GITHUB_SIG[:-1] + "0", GITHUB_SIG[7:], "sha1=" + GITHUB_SIG[7:], None, ""):
        with pytest.raises(InvalidSignature):
            verify_github(GITHUB_SECRET, bad, GITHUB_BODY)
    with pytest.raises(InvalidSignature):
        verify_github(GITHUB_SECRET, GITHUB_SIG, _flip(GITHUB_BODY))


def _stripe_header(secret: str, ts: int, body: bytes, scheme: str = "v1") -> str:
    # stripe-python's test helper: "t=%d,%s=%s" % (timestamp, scheme, hmac_sha256(secret, "%d.%s"))
    sig = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},{scheme}={sig}"


def test_stripe_signature_scheme() -> None:
    secret, body, ts = "whsec_test_secret", b'{\n  "id": "evt_test_webhook",\n  "object": "event"\n}', 1492774577
    header = _stripe_header(secret, ts, body)
    verify_stripe(secret, header, body, now=ts + 5)
    # Several v1 signatures (secret rolling) and a v0 are fine as long as one v1 matches.
    verify_stripe(secret, f"t={ts},v1=deadbeef,{header.split(',')[1]},v0=abc", body, now=ts)
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_stripe(secret, header, _flip(body), now=ts)
    with pytest.raises(InvalidSignature, match="no t= or v1="):
        verify_stripe(secret, _stripe_header(secret, ts, body, "v0"), body, now=ts)
    with pytest.raises(InvalidSignature, match="300 s"):
        verify_stripe(secret, header, body, now=ts + 301)


def test_our_webhook_signature_round_trips_and_refuses_replays() -> None:
    body = b'{"type":"threshold","budget":"team"}'
    header = sign_webhook("s3cret-value", body, now=1_800_000_000)
    assert header.startswith("t=1800000000,v1=")
    verify_webhook("s3cret-value", header, body, now=1_800_000_100)
    with pytest.raises(InvalidSignature):
        verify_webhook("s3cret-value", header, _flip(body), now=1_800_000_100)
    with pytest.raises(InvalidSignature):
        verify_webhook("other-secret", header, body, now=1_800_000_100)
    with pytest.raises(InvalidSignature):
        verify_webhook("s3cret-value", header, body, now=1_800_000_301)
