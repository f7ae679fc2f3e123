"""Generic webhook: POST JSON to any URL, signed with HMAC-SHA256 over timestamp + body (X-Aicost-Signature)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from aicost_desktop.integrations.connection import Connection
from aicost_desktop.integrations.http import Dialect
from aicost_desktop.integrations.signatures import WEBHOOK_HEADER, sign_webhook
from aicost_desktop.integrations.spec import (Action, ActionParam, AuthKind, AuthMethod, Category, ConnectionTest,
                                              CredentialField, IntegrationSpec, ParamType)


class GenericWebhook(Dialect):
    service = "Webhook"


class WebhookClient:
    """Each POST carries X-Aicost-Signature 't=<unix>,v1=<hex>' and X-Aicost-Delivery (a unique id to de-duplicate)."""

    def __init__(self, conn: Connection, clock: Callable[[], float] = time.time) -> None:
        self.conn, self.clock = conn, clock
        self.http = conn.http(GenericWebhook())

    def post(self, event: str, payload: dict[str, Any], delivery_id: str | None = None) -> dict[str, Any]:
        body = json.dumps({"event": event, "data": payload}, separators=(",", ":"), sort_keys=True).encode("utf-8")
        delivery = delivery_id or uuid.uuid4().hex
        headers = {"Content-Type": "application/json", "X-Aicost-Event": event, "X-Aicost-Delivery": delivery,
                   WEBHOOK_HEADER: sign_webhook(self.conn.require("signing_secret"), body, now=self.clock())}
        # The receiver de-duplicates on X-Aicost-Delivery, so a retried POST is safe.
        resp = self.http.request("POST", self.conn.require("url"), content=body, headers=headers, idempotent=True)
        return {"ok": True, "status": resp.status_code, "delivery": delivery}

    def test(self) -> str:
        out = self.post("ping", {"message": "AI Cost Tracker webhook test"})
        return f"the URL answered HTTP {out['status']} to a signed ping"


SPEC = IntegrationSpec(
    id="webhook", name="Webhook", category=Category.DEV_TOOLS, icon="webhook",
    description="POST alerts as signed JSON to your own service (HMAC-SHA256 over timestamp and body).",
    fields=(
        CredentialField("url", "URL", secret=True, placeholder="https://example.com/hooks/aicost",
                        pattern=r"https?://[^\s]+", pattern_hint="an http(s) URL",
                        help="kept in the keychain: such URLs often embed a token"),
        CredentialField("signing_secret", "Signing secret", secret=True,
                        pattern=r".{16,}", pattern_hint="at least 16 characters (e.g. from `openssl rand -hex 32`)"),
    ),
    auth_methods=(AuthMethod(AuthKind.SIGNING_SECRET, "URL and signing secret", ("url", "signing_secret")),),
    base_urls={},
    test=ConnectionTest("POST {url} event=ping", "any 2xx answer to a signed ping"),
    actions=(
        Action("post", "POST an event", "Send a JSON object as a signed event",
               (ActionParam("event", "Event name", default="alert"), ActionParam("data", "Data (JSON)", ParamType.JSON,
                                                                                 required=True)),
               lambda c, p: c.post(p["event"], p["data"])),
    ),
    client=WebhookClient,
)
