"""Fake Slack: Web API (HTTP 200 ok/ok:false envelope), incoming webhooks (text bodies), OAuth v2 with PKCE."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from tests.fakes.http_fake import FakeHTTPServer, FakeRequest, FakeResponse
from tests.unit.integrations.fakes.oauth import AuthServer

BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
HOOK_PATH = "/services/T9TK3CUKW/B0KRQLJ9H/a1B2c3D4e5F6g7H8i9J0k1L2"
CHANNELS = [{"id": f"C{i:08d}", "name": f"chan-{i}", "is_channel": True, "is_group": False, "is_im": False,
             "is_mpim": False, "is_private": i % 5 == 0, "created": 1449252889, "creator": "U012A3CDE",
             "is_archived": False, "is_general": i == 0, "unlinked": 0, "name_normalized": f"chan-{i}",
             "is_shared": False, "is_member": True, "num_members": 4, "previous_names": [],
             "topic": {"value": "", "creator": "", "last_set": 0}, "purpose": {"value": "", "creator": "", "last_set": 0}}
            for i in range(5)]
USER = {"id": "W012A3CDE", "team_id": "T012AB3C4", "name": "spengler", "deleted": False, "color": "9f69e7",
        "real_name": "Egon Spengler", "tz": "America/Los_Angeles", "tz_label": "Pacific Daylight Time",
        "tz_offset": -25200, "is_admin": True, "is_owner": False, "is_bot": False, "is_app_user": False,
        "updated": 1502138686,
        "profile": {"real_name": "Egon Spengler", "display_name": "spengler",
                    "email": "spengler@ghostbusters.example.com", "team": "T012AB3C4"}}


def ok(obj: dict, status: int = 200) -> FakeResponse:
    return FakeResponse(status, json.dumps(obj).encode(), {"Content-Type": "application/json; charset=utf-8"})


def text(status: int, body: str) -> FakeResponse:
    return FakeResponse(status, body.encode(), {"Content-Type": "text/plain"})


def rate_limited(retry_after: int = 1) -> FakeResponse:
    return FakeResponse(429, b'{"ok":false,"error":"ratelimited"}',
                        {"Content-Type": "application/json; charset=utf-8", "Retry-After": str(retry_after)})


class SlackFake(FakeHTTPServer):
    def __init__(self) -> None:
        super().__init__()
        self.tokens = {BOT_TOKEN}
        self.hooks = {HOOK_PATH: "#ai-costs"}
        self.archived_hooks: set[str] = set()
        self.posted: list[dict] = []          # messages accepted by chat.postMessage
        self.webhook_posts: list[dict] = []   # messages accepted by a webhook
        self.channels = list(CHANNELS)
        self.page_size_cap = 2                # small pages so pagination is exercised
        self.oauth = AuthServer(token_prefix="xoxp-")
        self.missing_scope_for: set[str] = set()

    def webhook_url(self, path: str = HOOK_PATH) -> str:
        return self.base_url + path

    def _args(self, req: FakeRequest) -> dict:
        if req.method == "GET":
            return {k: v[0] for k, v in req.query.items()}
        ctype = req.header("content-type") or ""
        if ctype.startswith("application/json"):
            return json.loads(req.body or b"{}")
        return {k: v[0] for k, v in parse_qs(req.body.decode()).items()}

    def handle(self, req: FakeRequest) -> FakeResponse:
        if req.path.startswith("/services/"):
            return self._webhook(req)
        if req.path == "/oauth/v2/authorize":
            return self.oauth.authorize(req)
        if req.path == "/api/oauth.v2.access":
            status, body = self.oauth.token(req)
            if status != 200:
                return ok({"ok": False, "error": body["error"]})  # Slack: HTTP 200, ok:false
            return ok({"ok": True, "app_id": "A0KRD7HC3", "team": {"id": "T9TK3CUKW", "name": "Slack Softball Team"},
                       "authed_user": {"id": "U1234", "token_type": "user", **body}})
        if not req.path.startswith("/api/"):
            return text(404, "not found")
        method = req.path[len("/api/"):]
        auth = req.header("authorization") or ""
        token = auth[7:] if auth.startswith("Bearer ") else None
        if token is None:
            return ok({"ok": False, "error": "not_authed"})
        if token not in self.tokens and token not in self.oauth.issued:
            return ok({"ok": False, "error": "invalid_auth"})
        if method in self.missing_scope_for:
            return ok({"ok": False, "error": "missing_scope", "needed": "channels:read", "provided": "chat:write"})
        args = self._args(req)
        if method == "auth.test":
            return ok({"ok": True, "url": "https://subarachnoid.slack.com/", "team": "Subarachnoid Workspace",
                       "user": "grace", "team_id": "T12345678", "user_id": "W12345678"})
        if method == "chat.postMessage":
            if req.method != "POST":
                return ok({"ok": False, "error": "invalid_post_type"})
            channel = args.get("channel")
            if not channel:
                return ok({"ok": False, "error": "channel_not_found"})
            if channel not in {c["id"] for c in self.channels}:
                return ok({"ok": False, "error": "channel_not_found"})
            if not args.get("text") and not args.get("blocks"):
                return ok({"ok": False, "error": "no_text"})
            ts = f"1503435956.{len(self.posted) + 1:06d}"
            self.posted.append({**args, "ts": ts})
            return ok({"ok": True, "channel": channel, "ts": ts,
                       "message": {"text": args.get("text", ""), "type": "message", "subtype": "bot_message",
                                   "bot_id": "B19LU7CSY", "ts": ts, "blocks": args.get("blocks", [])}})
        if method == "conversations.list":
            limit = min(int(args.get("limit", 100)), self.page_size_cap)
            start = int(args.get("cursor") or 0)
            page = self.channels[start:start + limit]
            nxt = str(start + limit) if start + limit < len(self.channels) else ""
            return ok({"ok": True, "channels": page, "response_metadata": {"next_cursor": nxt}})
        if method == "users.info":
            if args.get("user") != USER["id"]:
                return ok({"ok": False, "error": "user_not_found"})
            return ok({"ok": True, "user": USER})
        return ok({"ok": False, "error": "unknown_method"})

    def _webhook(self, req: FakeRequest) -> FakeResponse:
        if req.path in self.archived_hooks:
            return text(410, "channel_is_archived")
        if req.path not in self.hooks:
            return text(404, "no_service")
        try:
            body = json.loads(req.body)
        except ValueError:
            return text(400, "invalid_payload")
        if not isinstance(body, dict) or (not body.get("text") and not body.get("blocks")):
            return text(400, "invalid_payload")
        self.webhook_posts.append(body)
        return text(200, "ok")
