"""The incoming-webhook listener over real HTTP on 127.0.0.1: each scheme accepted when signed, 401 (logged, in the
event log) when not, a provider's retry answered once, 127.0.0.1 the only bind, no secret or body in any log."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aicost_desktop.domain.errors import InputError, OperationError
from aicost_desktop.integrations.incoming import (MAX_BODY, EventLog, IncomingEvent, IncomingListener, Receiver,
                                                  Source, check_host, connection_sources)
from aicost_desktop.integrations.manager import IntegrationManager
from aicost_desktop.integrations.signatures import sign_webhook
from tests.unit.integrations.fakes.stripe import WEBHOOK_SECRET, sign

SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
GH_SECRET = "gh-hook-secret-0123456789"
OUR_SECRET = "our-webhook-secret-0123456789abcdef"
SECRETS = (SLACK_SECRET, GH_SECRET, OUR_SECRET, WEBHOOK_SECRET)


class Served:
    """A listener on a free port over the test's connections, with what it recorded and handed on."""

    def __init__(self, manager: IntegrationManager, log_path: Path) -> None:
        self.log = EventLog(log_path)
        self.events: list[IncomingEvent] = []
        self.handed: list[tuple[IncomingEvent, object]] = []

        def record(ev: IncomingEvent) -> None:
            self.events.append(ev)
            self.log.append(ev)

        self.receiver = Receiver(connection_sources(manager.store), record=record,
                                 on_event=lambda ev, payload: self.handed.append((ev, payload)))
        self.listener = IncomingListener(self.receiver, 0)
        self.listener.start()
        self.client = httpx.Client(base_url=self.listener.base_url, timeout=10)

    def post(self, name: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return self.client.post(f"/hooks/{name}", content=body, headers=headers)

    def close(self) -> None:
        self.client.close()
        self.listener.stop()


@pytest.fixture
def served(manager: IntegrationManager, tmp_path: Path) -> Iterator[Served]:
    manager.connect("slack", {"webhook_url": "https://hooks.slack.com/services/T1/B1/abc",
                              "signing_secret": SLACK_SECRET}, name="slack-app", verify=False)
    manager.connect("github", {"token": "github_pat_abc123", "webhook_secret": GH_SECRET}, name="gh", verify=False)
    manager.connect("stripe", {"api_key": "rk_test_abc123", "webhook_secret": WEBHOOK_SECRET}, name="pay",
                    verify=False)
    manager.connect("webhook", {"url": "https://example.com/hook", "signing_secret": OUR_SECRET}, name="my service",
                    verify=False)
    manager.connect("stripe", {"api_key": "rk_test_nosecret1"}, name="pay-nosecret", verify=False)
    manager.connect("discord", {"webhook_url": "https://discord.com/api/webhooks/1/abc"}, name="dc", verify=False)
    s = Served(manager, tmp_path / "incoming.jsonl")
    yield s
    s.close()


def _slack_headers(body: bytes, ts: int | None = None, secret: str = SLACK_SECRET,
                   ctype: str = "application/json") -> dict[str, str]:
    t = str(int(time.time()) if ts is None else ts)
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{t}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": t, "X-Slack-Signature": sig, "Content-Type": ctype}


def _gh_headers(body: bytes, event: str = "ping", delivery: str = "72d3162e-cc78-11e3-81ab-4c9367dc0958") -> dict:
    sig = "sha256=" + hmac.new(GH_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": sig, "X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
            "Content-Type": "application/json"}


def test_only_127_0_0_1_is_bound() -> None:
    for host in ("0.0.0.0", "::1", "localhost", "192.168.1.10", ""):
        with pytest.raises(InputError, match="127.0.0.1 only") as err:
            check_host(host)
        assert "tunnel" in str(err.value)
        with pytest.raises(InputError):
            IncomingListener(Receiver(lambda n: None), 0, host)
    assert check_host("127.0.0.1") == "127.0.0.1"


def test_a_taken_port_is_an_operation_error_naming_it() -> None:
    first = IncomingListener(Receiver(lambda n: None), 0)
    first.start()
    try:
        port = int(first.base_url.rsplit(":", 1)[1])
        with pytest.raises(OperationError, match=f"cannot listen on 127.0.0.1:{port}"):
            IncomingListener(Receiver(lambda n: None), port).start()
    finally:
        first.stop()
    assert not first.running


def test_each_scheme_accepts_a_signed_request(served: Served) -> None:
    # Slack: the Events API handshake echoes the challenge; an event_callback is accepted by event id.
    body = json.dumps({"type": "url_verification", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "token": "Jhj5dZrVaK7ZwHHjRyZWjbDl"}).encode()
    r = served.post("slack-app", body, _slack_headers(body))
    assert r.status_code == 200 and r.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    body = b"token=x&team_id=T1&command=%2Fcosts&text=today&trigger_id=13345224609.738474920.8088930838d88f008e0"
    r = served.post("slack-app", body, _slack_headers(body, ctype="application/x-www-form-urlencoded"))
    assert r.status_code == 200 and r.json() == {"text": "Received by AI Cost Tracker."}
    # GitHub: a ping answers 200.
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 42}).encode()
    r = served.post("gh", body, _gh_headers(body))
    assert r.status_code == 200 and r.json() == {"ok": True, "event": "ping"}
    # Stripe: an invoice.paid names its amount.
    body = json.dumps({"id": "evt_1NG8Du2eZvKYlo2CUI79vXWy", "object": "event", "type": "invoice.paid",
                       "data": {"object": {"object": "invoice", "amount_paid": 1099, "currency": "usd"}}}).encode()
    r = served.post("pay", body, {"Stripe-Signature": sign(body), "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json() == {"received": True}
    # Our own webhook, as WebhookClient signs it; the name is URL-quoted.
    body = b'{"data":{"id":3},"event":"alert.threshold"}'
    r = served.post("my%20service", body, {"X-Aicost-Signature": sign_webhook(OUR_SECRET, body),
                                           "X-Aicost-Event": "alert.threshold", "X-Aicost-Delivery": "d1",
                                           "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json() == {"ok": True, "event": "alert.threshold"}
    assert [(e.connection, e.status, e.event) for e in served.events] == [
        ("slack-app", "accepted", "url_verification"), ("slack-app", "accepted", "command /costs"),
        ("gh", "accepted", "ping"), ("pay", "accepted", "invoice.paid"),
        ("my service", "accepted", "alert.threshold")]
    assert served.events[3].delivery == "evt_1NG8Du2eZvKYlo2CUI79vXWy" and served.events[3].detail == "10.99 USD"
    stripe_ev, payload = served.handed[3]
    assert stripe_ev.kind == "stripe" and payload["type"] == "invoice.paid"  # type: ignore[index]
    assert [e.connection for e in served.log.recent()] == ["my service", "pay", "gh", "slack-app", "slack-app"]


def test_unsigned_forged_and_stale_requests_get_401_and_are_logged(served: Served, caplog) -> None:
    caplog.set_level(logging.INFO, "aicost.integrations.incoming")
    body = json.dumps({"id": "evt_forged", "type": "charge.succeeded", "data": {"object": {}}}).encode()
    forged = sign(body, secret="whsec_not_the_endpoint_secret")
    stale = sign(body, t=int(time.time()) - 301)
    cases = [("pay", {}, "Stripe-Signature has no t= or v1="),
             ("pay", {"Stripe-Signature": forged}, "does not match"),
             ("pay", {"Stripe-Signature": stale}, "more than 300 s"),
             ("pay", {"Stripe-Signature": sign(body[:-1] + b"!")}, "does not match"),  # one byte changed
             ("pay-nosecret", {"Stripe-Signature": sign(body)}, "has no webhook_secret"),
             ("gh", {"X-Hub-Signature-256": "sha256=" + "0" * 64}, "X-Hub-Signature-256 does not match"),
             ("slack-app", _slack_headers(body, ts=int(time.time()) - 600), "more than 300 s"),
             ("my%20service", {"X-Aicost-Signature": sign_webhook("another-secret-of-16+", body)}, "does not match")]
    for name, headers, why in cases:
        r = served.post(name, body, headers)
        assert (r.status_code, r.json()) == (401, {"ok": False, "error": "invalid signature"}), name
        assert served.events[-1].status == "rejected" and why in served.events[-1].detail, (name, why)
    assert served.handed == []  # nothing refused reached the handler
    refused = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(refused) == len(cases) and all("incoming request refused" in r.getMessage() for r in refused)
    assert [e.status for e in served.log.recent()] == ["rejected"] * len(cases)
    text = caplog.text + served.log.path.read_text()
    assert not any(s in text for s in SECRETS) and "evt_forged" not in text  # no secret, no body


def test_unknown_hooks_methods_sizes_and_unreadable_bodies(served: Served) -> None:
    assert served.post("nobody", b"{}", {}).status_code == 404
    assert served.post("dc", b"{}", {}).status_code == 404  # Discord sends no webhooks to us
    assert [(e.connection, e.detail) for e in served.events] == [
        ("nobody", "no such connection"), ("dc", "a discord connection receives no webhooks")]
    assert served.client.get("/hooks/pay").status_code == 405
    assert served.client.post("/elsewhere", content=b"{}").status_code == 404
    assert served.client.get("/").json()["service"] == "AI Cost Tracker incoming webhooks"
    big = b"x" * (MAX_BODY + 1)
    assert served.post("pay", big, {"Stripe-Signature": sign(big)}).status_code == 413
    body = b"not json"
    r = served.post("pay", body, {"Stripe-Signature": sign(body)})
    assert (r.status_code, served.events[-1].status) == (400, "invalid")


def test_a_retried_delivery_is_answered_but_handled_once(served: Served) -> None:
    body = json.dumps({"action": "opened", "issue": {"number": 1347}}).encode()
    for _ in range(3):  # GitHub's "redeliver": same X-GitHub-Delivery
        r = served.post("gh", body, _gh_headers(body, "issues", "d-1347"))
        assert r.status_code == 200
    assert r.json()["duplicate"] is True
    assert [e.status for e in served.events] == ["accepted", "duplicate", "duplicate"] and len(served.handed) == 1
    event = json.dumps({"token": "x", "type": "event_callback", "event_id": "Ev08MFMKH6",
                        "event": {"type": "app_mention", "text": "<@U0LAN0Z89> costs?"}}).encode()
    for retry in ("", "1"):  # Slack retries with X-Slack-Retry-Num and the same event_id
        headers = {**_slack_headers(event), **({"X-Slack-Retry-Num": retry} if retry else {})}
        assert served.post("slack-app", event, headers).status_code == 200
    assert [(e.event, e.status) for e in served.events[3:]] == [("app_mention", "accepted"),
                                                               ("app_mention", "duplicate")]


def test_a_secret_added_while_listening_applies_at_once(manager: IntegrationManager, served: Served) -> None:
    body = json.dumps({"id": "evt_2", "type": "charge.succeeded", "data": {"object": {}}}).encode()
    assert served.post("pay-nosecret", body, {"Stripe-Signature": sign(body)}).status_code == 401
    manager.store.set_secret(manager.store.get("pay-nosecret"), "webhook_secret", WEBHOOK_SECRET)
    assert served.post("pay-nosecret", body, {"Stripe-Signature": sign(body)}).status_code == 200


def test_the_event_log_keeps_the_newest_and_skips_damaged_lines(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl", keep=5)
    src = Source("pay", "stripe")
    r = Receiver(lambda n: src, record=log.append)
    for i in range(12):
        r.handle("POST", "/hooks/pay", {}, f'{{"n": {i}}}'.encode())  # unsigned: each one refused and kept
    lines = log.path.read_text().splitlines()
    assert 5 <= len(lines) <= 10  # trimmed to the newest 5 once past twice that
    with open(log.path, "a") as fh:
        fh.write("{half a line\n")
    assert len(log.recent(3)) == 3 and all(e.status == "rejected" for e in log.recent())
    assert oct(log.path.stat().st_mode & 0o777) == "0o600"
