"""The providers' published signature examples (secret, payload, expected signature) verify, in signatures.py and
through the incoming listener over HTTP; a one-byte change or a timestamp more than 5 minutes old is refused."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from aicost_desktop.integrations.incoming import IncomingListener, Receiver, Source
from aicost_desktop.integrations.signatures import InvalidSignature, verify_stripe
# Slack's example is from api.slack.com "Verifying requests from Slack" (signing secret, X-Slack-Request-Timestamp,
# slash-command body, X-Slack-Signature); GitHub's from docs.github.com "Validating webhook deliveries" (secret
# "It's a Secret to Everybody", payload "Hello, World!", X-Hub-Signature-256). Both are kept in test_signatures.py.
from tests.unit.integrations.test_signatures import (GITHUB_BODY, GITHUB_SECRET, GITHUB_SIG, SLACK_BODY, SLACK_SECRET,
                                                     SLACK_SIG, SLACK_TS)

# Stripe publishes a fixed vector in its official .NET library, stripe/stripe-dotnet (commit d33036292e0f,
# 2026-08-07): src/StripeTests/Services/Events/EventUtilityTest.cs signs src/StripeTests/Resources/
# event_test_signature.json (below, byte for byte: LF line ends, a final newline) with the secret "webhook_secret"
# at t=1533204620, "(echo -n "1533204620." && cat event_test_signature.json) | openssl sha256 -hmac webhook_secret",
# and accepts it at t+100 with a 300 s tolerance but refuses it at t+400. The v0 entry is ignored (v1 is the scheme).
STRIPE_SECRET = "webhook_secret"
STRIPE_TS = 1533204620
STRIPE_SIG = ("t=1533204620,v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7,"
              "v0=63f3a72374a733066c4be69ed7f8e5ac85c22c9f0a6a612ab9a025a9e4ee7eef")
STRIPE_BODY = b"""{
  "id": "evt_123",
  "object": "event",
  "account": "acct_123",
  "api_version": "2017-05-25",
  "created": 1533204620,
  "data": {
    "object": {
      "id": "cus_123",
      "object": "customer",
      "created": 123456789,
      "email": "test@stripe.com",
      "livemode": false,
      "metadata": {}
    }
  },
  "livemode": false,
  "pending_webhooks": 1,
  "request": {
    "id": "req_123",
    "idempotency_key": "idempotency-key-123"
  },
  "type": "customer.created"
}
"""
FIVE_MINUTES = 300


def _one_byte_changed(body: bytes, at: int) -> bytes:
    return body[:at] + bytes([body[at] ^ 0x01]) + body[at + 1:]


def test_stripe_published_example_verifies_and_a_changed_byte_or_old_timestamp_does_not() -> None:
    verify_stripe(STRIPE_SECRET, STRIPE_SIG, STRIPE_BODY, now=STRIPE_TS + 100)
    verify_stripe(STRIPE_SECRET, STRIPE_SIG, STRIPE_BODY, now=STRIPE_TS + FIVE_MINUTES)  # the edge is inside
    for at in (0, STRIPE_BODY.index(b"cus_123"), len(STRIPE_BODY) - 1):
        with pytest.raises(InvalidSignature, match="does not match"):
            verify_stripe(STRIPE_SECRET, STRIPE_SIG, _one_byte_changed(STRIPE_BODY, at), now=STRIPE_TS + 100)
    with pytest.raises(InvalidSignature, match="does not match"):  # the .NET test's own "this_changes_the_json"
        verify_stripe(STRIPE_SECRET, STRIPE_SIG, STRIPE_BODY + b"this_changes_the_json", now=STRIPE_TS + 100)
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_stripe(STRIPE_SECRET + "x", STRIPE_SIG, STRIPE_BODY, now=STRIPE_TS + 100)
    for late in (FIVE_MINUTES + 1, FIVE_MINUTES + 100):  # 400 s: the .NET test's RejectOutdatedTimestamp
        with pytest.raises(InvalidSignature, match="more than 300 s"):
            verify_stripe(STRIPE_SECRET, STRIPE_SIG, STRIPE_BODY, now=STRIPE_TS + late)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def published() -> Iterator[tuple[httpx.Client, Clock]]:
    """A listener whose three hooks hold the published secrets, on a clock set per example."""
    hooks = {"slack": Source("slack", "slack", SLACK_SECRET), "github": Source("github", "github", GITHUB_SECRET),
             "stripe": Source("stripe", "stripe", STRIPE_SECRET)}
    clock = Clock()
    listener = IncomingListener(Receiver(hooks.get, clock=clock), 0)
    listener.start()
    with httpx.Client(base_url=listener.base_url, timeout=10) as client:
        yield client, clock
    listener.stop()


CASES = {
    "slack": (SLACK_BODY, int(SLACK_TS), {"X-Slack-Request-Timestamp": SLACK_TS, "X-Slack-Signature": SLACK_SIG,
                                          "Content-Type": "application/x-www-form-urlencoded"}),
    "github": (GITHUB_BODY, None, {"X-Hub-Signature-256": GITHUB_SIG, "X-GitHub-Event": "ping"}),
    "stripe": (STRIPE_BODY, STRIPE_TS, {"Stripe-Signature": STRIPE_SIG, "Content-Type": "application/json"}),
}


@pytest.mark.parametrize("hook", list(CASES))
def test_published_examples_through_the_listener(published: tuple[httpx.Client, Clock], hook: str) -> None:
    client, clock = published
    body, ts, headers = CASES[hook]
    clock.now = (ts or 1_700_000_000) + 10
    assert client.post(f"/hooks/{hook}", content=body, headers=headers).status_code == 200
    changed = _one_byte_changed(body, len(body) // 2)
    r = client.post(f"/hooks/{hook}", content=changed, headers=headers)
    assert (r.status_code, r.json()["error"]) == (401, "invalid signature")
    if ts is not None:  # GitHub signs no timestamp; Slack and Stripe refuse one more than 5 minutes old
        clock.now = ts + FIVE_MINUTES + 1
        assert client.post(f"/hooks/{hook}", content=body, headers=headers).status_code == 401
