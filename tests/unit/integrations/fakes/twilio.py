"""Fake Twilio 2010-04-01 Messages: HTTP Basic (AC:token or SK:secret), form-encoded only, 201 spec-shaped JSON."""

from __future__ import annotations

import base64
import json
import re
import secrets
from urllib.parse import parse_qs

from tests.fakes.http_fake import FakeHTTPServer, FakeRequest, FakeResponse

ACCOUNT_SID = "AC" + "a" * 32
AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
KEY_SID, KEY_SECRET = "SK" + "b" * 32, "keysecret-4f1a2b3c4d5e6f70"
E164 = re.compile(r"(whatsapp:)?\+[1-9][0-9]{6,14}")


def err(status: int, code: int, message: str) -> FakeResponse:
    return FakeResponse(status, json.dumps({"code": code, "message": message,
                                            "more_info": f"https://www.twilio.com/docs/errors/{code}",
                                            "status": status}).encode(), {"Content-Type": "application/json"})


class TwilioFake(FakeHTTPServer):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[dict] = []

    def _authed(self, req: FakeRequest) -> bool:
        auth = req.header("authorization") or ""
        if not auth.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        return (user, password) in {(ACCOUNT_SID, AUTH_TOKEN), (KEY_SID, KEY_SECRET)}

    def handle(self, req: FakeRequest) -> FakeResponse:
        m = re.fullmatch(r"/2010-04-01/Accounts/(AC[0-9a-f]{32})(\.json|/Messages\.json)", req.path)
        if m is None:
            return err(404, 20404, "The requested resource was not found")
        if not self._authed(req) or m.group(1) != ACCOUNT_SID:
            return err(401, 20003, "Authenticate")
        if m.group(2) == ".json":
            return FakeResponse(200, json.dumps({"sid": ACCOUNT_SID, "friendly_name": "My first Twilio account",
                                                 "status": "active", "type": "Full"}).encode(),
                                {"Content-Type": "application/json"})
        if req.method != "POST":
            return FakeResponse(200, json.dumps({"messages": self.messages, "page": 0, "page_size": 50,
                                                 "next_page_uri": None}).encode(), {"Content-Type": "application/json"})
        if not (req.header("content-type") or "").startswith("application/x-www-form-urlencoded"):
            return err(400, 20001, "Content-Type must be application/x-www-form-urlencoded")
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        to = form.get("To")
        if not to:
            return err(400, 21604, "A 'To' phone number is required.")
        if not E164.fullmatch(to):
            return err(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return err(400, 21603, "A 'From' phone number is required.")
        if not any(form.get(k) for k in ("Body", "MediaUrl", "ContentSid")):
            return err(400, 21602, "Message body is required.")
        if to.startswith("whatsapp:") != (form.get("From") or "").startswith("whatsapp:") and form.get("From"):
            return err(400, 63007, "Twilio could not find a Channel with the specified From address")
        sid = "SM" + secrets.token_hex(16)
        date = "Thu, 24 Aug 2023 05:01:45 +0000"
        msg = {"account_sid": ACCOUNT_SID, "api_version": "2010-04-01", "body": form.get("Body", ""),
               "date_created": date, "date_sent": date, "date_updated": date, "direction": "outbound-api",
               "error_code": None, "error_message": None, "from": form.get("From"), "num_media": "0",
               "num_segments": "1", "price": None, "price_unit": None,
               "messaging_service_sid": form.get("MessagingServiceSid"), "sid": sid, "status": "queued",
               "subresource_uris": {"media": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media.json"},
               "to": to, "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json"}
        self.messages.append(msg)
        return FakeResponse(201, json.dumps(msg).encode(), {"Content-Type": "application/json"})
