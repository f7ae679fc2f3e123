"""Twilio: Account SID with an auth token or API key; send an SMS or WhatsApp message (form-encoded, Basic auth)."""

from __future__ import annotations

from typing import Any

import httpx

from aicost_desktop.integrations import errors as E
from aicost_desktop.integrations.connection import Connection
from aicost_desktop.integrations.http import Dialect, body_json
from aicost_desktop.integrations.spec import (Action, ActionParam, AuthKind, AuthMethod, Category, ConnectionTest,
                                              CredentialField, IntegrationSpec, ParamType)

E164 = r"\+[1-9][0-9]{6,14}"


class TwilioApi(Dialect):
    """201 on a queued message; errors are `{code, message, more_info, status}` (RFC 9457 on newer endpoints)."""

    service = "Twilio"

    def error_fields(self, resp: httpx.Response) -> tuple[str, str | None]:
        data = body_json(resp)
        if isinstance(data, dict) and (data.get("message") or data.get("detail")):
            code = data.get("code")
            return f"{data.get('message') or data.get('detail')} (error {code})", str(code) if code else None
        return super().error_fields(resp)

    def kind(self, resp: httpx.Response, message: str, code: str | None) -> type[E.IntegrationError]:
        if code == "20429":
            return E.RateLimited
        return super().kind(resp, message, code)

    def hint(self, resp: httpx.Response, kind: type[E.IntegrationError], code: str | None) -> str | None:
        return {"20003": "Twilio refused the Account SID and secret: check both and connect again",
                "21211": "the To number is not valid: use E.164 (+14155552345)",
                "21606": "the From number cannot send to this destination: use one of your Twilio numbers",
                "21608": "trial accounts can only send to verified numbers"}.get(code or "")


class TwilioClient:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.http = conn.http(TwilioApi())

    @property
    def account(self) -> str:
        return self.conn.require("account_sid")

    def _auth(self) -> tuple[str, str]:
        if self.conn.value("api_key_sid"):
            return self.conn.require("api_key_sid"), self.conn.require("api_key_secret")
        return self.account, self.conn.require("auth_token")

    def _base(self) -> str:
        return f"{self.conn.url()}/2010-04-01/Accounts/{self.account}"

    def test(self) -> str:
        acc = self.http.request("GET", f"{self._base()}.json", auth=self._auth()).json()
        return f"account {acc.get('friendly_name')!r} ({acc.get('status')})"

    def send(self, to: str, body: str, media_url: str | None = None, whatsapp: bool = False) -> dict[str, Any]:
        sender = self.conn.value("from_number")
        service = self.conn.value("messaging_service_sid")
        if not sender and not service:
            raise E.InvalidRequest("Twilio", "no From number or Messaging Service SID on this connection")
        form: dict[str, str] = {"To": _channel(to, whatsapp), "Body": body}
        if service and not whatsapp:
            form["MessagingServiceSid"] = service
        else:
            form["From"] = _channel(sender or "", whatsapp)
        if media_url:
            form["MediaUrl"] = media_url
        msg = self.http.request("POST", f"{self._base()}/Messages.json", data=form, auth=self._auth()).json()
        return {"sid": msg.get("sid"), "status": msg.get("status"), "to": msg.get("to")}


def _channel(number: str, whatsapp: bool) -> str:
    bare = number.removeprefix("whatsapp:")
    return f"whatsapp:{bare}" if whatsapp else bare


_SID = CredentialField("account_sid", "Account SID", placeholder="AC...", pattern=r"AC[0-9a-fA-F]{32}",
                       pattern_hint="AC followed by 32 hex digits (Console > Account info)")
_FROM = CredentialField("from_number", "From number", required=False, placeholder="+14155550100", pattern=E164,
                        pattern_hint="an E.164 number such as +14155550100")
_SERVICE = CredentialField("messaging_service_sid", "Messaging Service SID", required=False, pattern=r"MG[0-9a-fA-F]{32}",
                           pattern_hint="MG followed by 32 hex digits")

SPEC = IntegrationSpec(
    id="twilio", name="Twilio", category=Category.EMAIL_SMS, icon="twilio",
    description="Text budget alerts by SMS or WhatsApp.",
    fields=(_SID,
            CredentialField("auth_token", "Auth token", secret=True, pattern=r"[0-9a-fA-F]{32}",
                            pattern_hint="32 hex digits"),
            CredentialField("api_key_sid", "API key SID", placeholder="SK...", pattern=r"SK[0-9a-fA-F]{32}",
                            pattern_hint="SK followed by 32 hex digits"),
            CredentialField("api_key_secret", "API key secret", secret=True),
            _FROM, _SERVICE),
    auth_methods=(
        AuthMethod(AuthKind.BASIC, "API key (recommended)", ("account_sid", "api_key_sid", "api_key_secret",
                                                             "from_number", "messaging_service_sid"), id="api_key"),
        AuthMethod(AuthKind.BASIC, "Auth token", ("account_sid", "auth_token", "from_number", "messaging_service_sid"),
                   id="auth_token"),
    ),
    base_urls={"api": "https://api.twilio.com"},
    test=ConnectionTest("GET /2010-04-01/Accounts/{AccountSid}.json", "HTTP 200 with the account"),
    actions=(
        Action("send_sms", "Send an SMS", "A text message to an E.164 number",
               (ActionParam("to", "To", ParamType.PHONE, required=True), ActionParam("body", "Text", ParamType.TEXT, required=True),
                ActionParam("media_url", "Media URL", ParamType.URL)),
               lambda c, p: c.send(p["to"], p["body"], p["media_url"])),
        Action("send_whatsapp", "Send a WhatsApp message", "From a WhatsApp-enabled sender",
               (ActionParam("to", "To", ParamType.PHONE, required=True), ActionParam("body", "Text", ParamType.TEXT, required=True)),
               lambda c, p: c.send(p["to"], p["body"], whatsapp=True)),
    ),
    client=TwilioClient,
)
