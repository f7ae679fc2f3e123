"""Slack: incoming webhook or bot token; post a message with blocks, list channels, get user info."""

from __future__ import annotations

import json
from typing import Any

import httpx

from aicost_desktop.integrations import errors as E
from aicost_desktop.integrations.connection import Connection
from aicost_desktop.integrations.http import Dialect, body_json
from aicost_desktop.integrations.spec import (Action, ActionParam, AuthKind, AuthMethod, Category, ConnectionTest,
                                              CredentialField, IntegrationSpec, OAuthEndpoints, ParamType)

MAX_PAGES = 50  # conversations.list pages followed (200 channels each) before we stop

_AUTH = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "no_permission"}
_NOT_FOUND = {"channel_not_found", "user_not_found", "user_not_visible", "not_in_channel", "is_archived"}
_HINTS = {
    "not_in_channel": "invite the app to the channel (/invite @app) or grant chat:write.public",
    "channel_not_found": "check the channel id or name, and that the app can see it (private: invite it)",
    "missing_scope": "add the missing scope to the Slack app, reinstall it and paste the new token",
    "invalid_auth": "the token was refused: paste a current bot token (xoxb-...)",
    "no_service": "the webhook was removed in Slack: create a new one and connect again",
    "channel_is_archived": "the webhook's channel is archived: create a webhook for another channel",
}


class SlackApi(Dialect):
    """Web API: success is HTTP 200 *and* `ok: true`; failures are HTTP 200 `{"ok": false, "error": code}`."""

    service = "Slack"

    def ok(self, resp: httpx.Response) -> bool:
        data = body_json(resp)
        return resp.status_code == 200 and isinstance(data, dict) and data.get("ok") is True

    def error_fields(self, resp: httpx.Response) -> tuple[str, str | None]:
        data = body_json(resp)
        if isinstance(data, dict) and data.get("error"):
            code = str(data["error"])
            needed = f" (needs {data['needed']})" if data.get("needed") else ""
            return f"{code}{needed}", code
        return super().error_fields(resp)

    def kind(self, resp: httpx.Response, message: str, code: str | None) -> type[E.IntegrationError]:
        if resp.status_code == 429 or code in ("ratelimited", "rate_limited"):
            return E.RateLimited
        if code in _AUTH:
            return E.AuthFailed
        if code == "missing_scope":
            return E.PermissionDenied
        if code in _NOT_FOUND:
            return E.NotFound
        if resp.status_code == 200:
            return E.InvalidRequest
        return super().kind(resp, message, code)

    def hint(self, resp: httpx.Response, kind: type[E.IntegrationError], code: str | None) -> str | None:
        return _HINTS.get(code or "")


class SlackWebhook(Dialect):
    """Incoming webhook: HTTP 200 `ok` (text/plain); errors are an HTTP status with a short text code."""

    service = "Slack webhook"

    def error_fields(self, resp: httpx.Response) -> tuple[str, str | None]:
        text = resp.text.strip()[:200] or f"HTTP {resp.status_code}"
        return text, text if text.replace("_", "").isalnum() else None

    def hint(self, resp: httpx.Response, kind: type[E.IntegrationError], code: str | None) -> str | None:
        return _HINTS.get(code or "")


class SlackClient:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.api = conn.http(SlackApi())
        self.hook = conn.http(SlackWebhook())

    @property
    def uses_webhook(self) -> bool:
        return self.conn.auth is AuthKind.WEBHOOK_URL

    def _call(self, method: str, body: dict[str, Any] | None = None, *, get: bool = False) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.conn.token('bot_token')}"}
        url = f"{self.conn.url()}/{method}"
        if get:
            resp = self.api.request("GET", url, headers=headers, params=body)
        else:
            # JSON calls must not rely on a token body field: the token goes in the header.
            resp = self.api.request("POST", url, headers={**headers, "Content-Type": "application/json;charset=utf-8"},
                                    content=_json(body or {}))
        data: dict[str, Any] = resp.json()
        return data

    def test(self) -> str:
        if self.uses_webhook:
            # An empty payload is refused (400) by a live webhook and 404/403/410 by a dead one: nothing is posted.
            try:
                self.hook.request("POST", self.conn.require("webhook_url"), json={})
            except E.InvalidRequest as exc:
                if exc.status == 400:
                    return "webhook URL accepted"
                raise
            return "webhook URL accepted"
        data = self._call("auth.test")
        return f"team {data.get('team')}, user {data.get('user')}"

    def post_message(self, channel: str | None, text: str | None, blocks: list[Any] | None = None,
                     thread_ts: str | None = None) -> dict[str, Any]:
        if not text and not blocks:
            raise E.InvalidRequest("Slack", "a message needs text or blocks")
        body: dict[str, Any] = {}
        if text:
            body["text"] = text  # also the notification fallback when blocks are given
        if blocks:
            body["blocks"] = blocks
        if self.uses_webhook:
            self.hook.request("POST", self.conn.require("webhook_url"), json=body)
            return {"ok": True}
        if not channel:
            raise E.InvalidRequest("Slack", "a bot-token message needs a channel", hint="give the channel id (C...)")
        body["channel"] = channel
        if thread_ts:
            body["thread_ts"] = thread_ts
        data = self._call("chat.postMessage", body)
        return {"ok": True, "channel": data.get("channel"), "ts": data.get("ts")}

    def list_channels(self, types: str = "public_channel,private_channel", exclude_archived: bool = True,
                      limit: int = 200) -> list[dict[str, Any]]:
        if self.uses_webhook:
            raise E.InvalidRequest("Slack", "a webhook cannot list channels", hint="connect with a bot token")
        out: list[dict[str, Any]] = []
        cursor = ""
        for _ in range(MAX_PAGES):
            params = {"types": types, "exclude_archived": str(exclude_archived).lower(), "limit": str(limit)}
            if cursor:
                params["cursor"] = cursor
            data = self._call("conversations.list", params, get=True)
            out += [{"id": c["id"], "name": c.get("name"), "is_private": c.get("is_private", False),
                     "is_member": c.get("is_member", False)} for c in data.get("channels", [])]
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                break
        return out

    def user_info(self, user: str) -> dict[str, Any]:
        if self.uses_webhook:
            raise E.InvalidRequest("Slack", "a webhook cannot read users", hint="connect with a bot token")
        u = self._call("users.info", {"user": user}, get=True)["user"]
        profile = u.get("profile") or {}
        return {"id": u["id"], "name": u.get("name"), "real_name": u.get("real_name") or profile.get("real_name"),
                "tz": u.get("tz"), "email": profile.get("email"), "is_bot": u.get("is_bot", False)}


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode("utf-8")


def alert_blocks(title: str, text: str) -> list[dict[str, Any]]:
    """Block Kit for an alert: a header and the text as mrkdwn (&, < and > escaped, as Slack requires)."""
    esc = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return [{"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": esc[:3000]}}]


SPEC = IntegrationSpec(
    id="slack", name="Slack", category=Category.MESSAGING, icon="slack",
    description="Post budget alerts and reports to a channel (incoming webhook or bot token).",
    fields=(
        CredentialField("webhook_url", "Incoming webhook URL", secret=True,
                        placeholder="https://hooks.slack.com/services/T.../B.../...",
                        pattern=r"https?://[^\s/]+/services/[A-Za-z0-9]+/[A-Za-z0-9]+/[A-Za-z0-9]+",
                        pattern_hint="a Slack incoming webhook URL (https://hooks.slack.com/services/T.../B.../...)"),
        CredentialField("bot_token", "Bot token", secret=True, placeholder="xoxb-...",
                        pattern=r"xox[bp]-[A-Za-z0-9-]+", pattern_hint="a bot token starts with xoxb-"),
        CredentialField("client_id", "OAuth client id", help="from the Slack app's Basic Information page"),
        CredentialField("signing_secret", "Signing secret", secret=True, required=False,
                        pattern=r"[A-Za-z0-9]{16,}", pattern_hint="the Signing Secret of the Slack app's Basic "
                                                                  "Information page",
                        help="only to verify requests Slack sends to the incoming-webhook listener"),
    ),
    auth_methods=(
        AuthMethod(AuthKind.WEBHOOK_URL, "Incoming webhook", ("webhook_url", "signing_secret")),
        AuthMethod(AuthKind.BEARER_TOKEN, "Bot token", ("bot_token", "signing_secret")),
        # PKCE installs (public clients) may ask only user scopes: messages post as the user.
        AuthMethod(AuthKind.OAUTH_PKCE, "Sign in with Slack (user token)", ("client_id",),
                   OAuthEndpoints(authorize_url="https://slack.com/oauth/v2/authorize",
                                  token_url="https://slack.com/api/oauth.v2.access",
                                  scopes=("chat:write", "channels:read", "users:read"), scope_separator=",",
                                  scope_param="user_scope", redirect_path="/slack/callback")),
    ),
    base_urls={"api": "https://slack.com/api"},
    test=ConnectionTest("POST /api/auth.test (webhook: POST {} to the URL)",
                        "HTTP 200 and ok: true (webhook: 400 invalid_payload, nothing posted)"),
    actions=(
        Action("post_message", "Post a message", "Post text (and Block Kit blocks) to a channel",
               (ActionParam("channel", "Channel id", help="C...; ignored by a webhook (it has its channel)"),
                ActionParam("text", "Text", ParamType.TEXT),
                ActionParam("blocks", "Blocks (JSON)", ParamType.JSON),
                ActionParam("thread_ts", "Thread timestamp")),
               lambda c, p: c.post_message(p["channel"], p["text"], p["blocks"], p["thread_ts"])),
        Action("list_channels", "List channels", "Channels the bot can see",
               (ActionParam("types", "Types", default="public_channel,private_channel"),
                ActionParam("exclude_archived", "Skip archived", ParamType.BOOL, default=True)),
               lambda c, p: c.list_channels(p["types"], p["exclude_archived"]), destination=False),
        Action("user_info", "User info", "A user's name, time zone and email",
               (ActionParam("user", "User id", required=True),), lambda c, p: c.user_info(p["user"]),
               destination=False),
    ),
    client=SlackClient,
)
