"""SendGrid: an API key with Mail Send; send an email (plain + HTML, or a dynamic template)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations import errors as E
from aicost_desktop.integrations.connection import Connection
from aicost_desktop.integrations.http import Dialect, body_json
from aicost_desktop.integrations.spec import (Action, ActionParam, AuthKind, AuthMethod, Category, ConnectionTest,
                                              CredentialField, IntegrationSpec, ParamType)

EMAIL = r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+"


class SendGridApi(Dialect):
    """202 is success; errors are `{"errors": [{field, message, help}]}`; 429 names X-RateLimit-Reset (epoch s)."""

    service = "SendGrid"

    def error_fields(self, resp: httpx.Response) -> tuple[str, str | None]:
        data = body_json(resp)
        if isinstance(data, dict) and isinstance(data.get("errors"), list) and data["errors"]:
            parts = [f"{e.get('field')}: {e.get('message')}" if e.get("field") else str(e.get("message"))
                     for e in data["errors"] if isinstance(e, dict)]
            return "; ".join(parts), None
        return super().error_fields(resp)

    def wait_hint(self, resp: httpx.Response, now: float) -> float | None:
        reset = resp.headers.get("x-ratelimit-reset")
        if reset and reset.isdigit():
            return max(0.0, int(reset) - now)
        return super().wait_hint(resp, now)

    def hint(self, resp: httpx.Response, kind: type[E.IntegrationError], code: str | None) -> str | None:
        if resp.status_code == 401:
            return "SendGrid refused the API key: create one with Mail Send permission and connect again"
        if resp.status_code == 403:
            return "the API key lacks Mail Send, or the sender is not verified in SendGrid (Sender Authentication)"
        return None


class SendGridClient:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.http = conn.http(SendGridApi())

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.conn.require('api_key')}"}

    def test(self) -> str:
        scopes = self.http.request("GET", f"{self.conn.url()}/v3/scopes", headers=self._headers()).json().get("scopes", [])
        if "mail.send" not in scopes:
            raise E.PermissionDenied("SendGrid", "the API key has no mail.send scope",
                                     hint="give the key the Mail Send permission")
        return "API key can send mail"

    def send_email(self, to: list[str], subject: str | None, text: str | None = None, html: str | None = None,
                   template_id: str | None = None, template_data: dict[str, Any] | None = None) -> dict[str, Any]:
        if not to:
            raise E.InvalidRequest("SendGrid", "no recipient")
        for addr in to:
            if not re.fullmatch(EMAIL, addr):
                raise InputError("to", addr, "not an email address (name@example.com)")
        if not template_id and not (text or html):
            raise E.InvalidRequest("SendGrid", "an email needs text, HTML or a dynamic template id")
        personalization: dict[str, Any] = {"to": [{"email": addr} for addr in to]}
        if template_data:
            personalization["dynamic_template_data"] = template_data
        sender: dict[str, str] = {"email": self.conn.require("from_email")}
        if self.conn.value("from_name"):
            sender["name"] = self.conn.require("from_name")
        body: dict[str, Any] = {"personalizations": [personalization], "from": sender}
        if subject:
            body["subject"] = subject
        if template_id:
            body["template_id"] = template_id
        else:
            # text/plain must come before text/html
            body["content"] = ([{"type": "text/plain", "value": text}] if text else []) + \
                              ([{"type": "text/html", "value": html}] if html else [])
        resp = self.http.request("POST", f"{self.conn.url()}/v3/mail/send", headers=self._headers(), json=body)
        return {"ok": True, "message_id": resp.headers.get("x-message-id")}


SPEC = IntegrationSpec(
    id="sendgrid", name="SendGrid", category=Category.EMAIL_SMS, icon="sendgrid",
    description="Email alerts and reports through Twilio SendGrid (plain text and HTML, or a dynamic template).",
    fields=(
        CredentialField("api_key", "API key", secret=True, placeholder="SG.xxxx.yyyy",
                        pattern=r"SG\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", pattern_hint="a SendGrid API key starts with SG."),
        CredentialField("from_email", "From address", placeholder="alerts@example.com", pattern=EMAIL,
                        pattern_hint="an email address verified in SendGrid"),
        CredentialField("from_name", "From name", required=False, default="AI Cost Tracker"),
    ),
    auth_methods=(AuthMethod(AuthKind.BEARER_TOKEN, "API key", ("api_key", "from_email", "from_name")),),
    base_urls={"api": "https://api.sendgrid.com"},  # EU accounts: https://api.eu.sendgrid.com
    test=ConnectionTest("GET /v3/scopes", "HTTP 200 and the scopes include mail.send"),
    actions=(
        Action("send_email", "Send an email", "Plain text and HTML, or a dynamic template with its data",
               (ActionParam("to", "To", ParamType.LIST, required=True), ActionParam("subject", "Subject"),
                ActionParam("text", "Plain text", ParamType.TEXT), ActionParam("html", "HTML", ParamType.TEXT),
                ActionParam("template_id", "Dynamic template id"),
                ActionParam("template_data", "Template data (JSON)", ParamType.JSON)),
               lambda c, p: c.send_email(p["to"], p["subject"], p["text"], p["html"], p["template_id"],
                                         p["template_data"])),
    ),
    client=SendGridClient,
)
