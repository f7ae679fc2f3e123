"""Fake Discord webhooks: execute (204, or 200 message with ?wait=true), get with token, limits, rate limits."""

from __future__ import annotations

import json
import re

from tests.fakes.http_fake import FakeHTTPServer, FakeRequest, FakeResponse

HOOK_ID, HOOK_TOKEN = "223704706495545344", "3d89bb7572e0fb30d8128367b3b1b44fecd1726de135cbe28a41f8b2f777c372ba2939e72279b94526ff5d1bd4358d65cf11"
_PATH = re.compile(r"/api/(?:v\d+/)?webhooks/(\d+)/([A-Za-z0-9_-]+)")
RL = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4", "X-RateLimit-Reset": "1470173023.123",
      "X-RateLimit-Reset-After": "1.0", "X-RateLimit-Bucket": "abcd1234"}


def reply(obj: dict | None, status: int = 200) -> FakeResponse:
    headers = dict(RL)
    if obj is None:
        return FakeResponse(status, b"", headers)
    headers["Content-Type"] = "application/json"
    return FakeResponse(status, json.dumps(obj).encode(), headers)


def rate_limited(retry_after: float = 0.5) -> FakeResponse:
    r = reply({"message": "You are being rate limited.", "retry_after": retry_after, "global": False}, 429)
    r.headers.update({"Retry-After": str(int(retry_after) + 1), "X-RateLimit-Remaining": "0",
                      "X-RateLimit-Scope": "user"})
    return r


class DiscordFake(FakeHTTPServer):
    def __init__(self) -> None:
        super().__init__()
        self.hooks = {(HOOK_ID, HOOK_TOKEN)}
        self.messages: list[dict] = []

    def webhook_url(self, version: str = "") -> str:
        return f"{self.base_url}/api/{version}webhooks/{HOOK_ID}/{HOOK_TOKEN}"

    def handle(self, req: FakeRequest) -> FakeResponse:
        m = _PATH.fullmatch(req.path)
        if m is None:
            return reply({"message": "404: Not Found", "code": 0}, 404)
        if (m.group(1), m.group(2)) not in self.hooks:
            return reply({"message": "Unknown Webhook", "code": 10015}, 404)
        if req.method == "GET":
            return reply({"application_id": None, "avatar": None, "channel_id": "199737254929760256",
                          "guild_id": "199737254929760256", "id": HOOK_ID, "name": "Spend alerts", "type": 1,
                          "token": HOOK_TOKEN})
        if req.method != "POST":
            return reply({"message": "405: Method Not Allowed", "code": 0}, 405)
        try:
            body = json.loads(req.body)
        except ValueError:
            return reply({"code": 50109, "message": "The request body contains invalid JSON."}, 400)
        if not any(body.get(k) for k in ("content", "embeds", "components", "files", "poll")):
            return reply({"code": 50006, "message": "Cannot send an empty message"}, 400)
        if len(body.get("content") or "") > 2000:
            return reply({"code": 50035, "message": "Invalid Form Body", "errors": {"content": {"_errors": [
                {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}}, 400)
        embeds = body.get("embeds") or []
        for i, e in enumerate(embeds):
            if len(e.get("description") or "") > 4096:
                return reply({"code": 50035, "message": "Invalid Form Body", "errors": {"embeds": {str(i): {
                    "description": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH",
                                                 "message": "Must be 4096 or fewer in length."}]}}}}}, 400)
        msg = {"id": str(1000 + len(self.messages)), "type": 0, "content": body.get("content", ""),
               "channel_id": "199737254929760256", "webhook_id": HOOK_ID,
               "author": {"id": HOOK_ID, "username": body.get("username") or "Spend alerts", "avatar": None,
                          "bot": True},
               "attachments": [], "embeds": embeds, "mentions": [], "mention_roles": [], "pinned": False,
               "mention_everyone": False, "tts": False, "timestamp": "2026-08-21T10:00:00.000000+00:00",
               "edited_timestamp": None, "flags": 0, "components": []}
        self.messages.append(msg)
        if req.param("wait") == "true":
            return reply(msg)
        return reply(None, 204)
