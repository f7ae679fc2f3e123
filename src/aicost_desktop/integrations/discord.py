"""Discord: a channel webhook URL; send a message or an embed (`?wait=true` returns the created message)."""

from __future__ import annotations

from typing import Any

import httpx

from aicost_desktop.integrations import errors as E
from aicost_desktop.integrations.connection import Connection
from aicost_desktop.integrations.http import Dialect, body_json, retry_after_header
from aicost_desktop.integrations.spec import (Action, ActionParam, AuthKind, AuthMethod, Category, ConnectionTest,
                                              CredentialField, IntegrationSpec, ParamType)

MAX_CONTENT, MAX_EMBEDS, MAX_EMBED_TOTAL = 2000, 10, 6000
ALERT_RED = 15158332


class DiscordWebhook(Dialect):
    """200/204 is success; errors are `{code, message, errors}`; 429 carries `retry_after` (float seconds)."""

    service = "Discord"

    def error_fields(self, resp: httpx.Response) -> tuple[str, str | None]:
        data = body_json(resp)
        if isinstance(data, dict) and "message" in data:
            detail = _first_error(data.get("errors"))
            return f"{data['message']}{f' ({detail})' if detail else ''}", str(data.get("code", ""))
        return super().error_fields(resp)

    def wait_hint(self, resp: httpx.Response, now: float) -> float | None:
        data = body_json(resp)
        if isinstance(data, dict) and isinstance(data.get("retry_after"), (int, float)):
            return float(data["retry_after"])  # more precise than the header's whole seconds
        return retry_after_header(resp, now)

    def hint(self, resp: httpx.Response, kind: type[E.IntegrationError], code: str | None) -> str | None:
        if code == "10015":
            # Discord restricts clients that keep calling a deleted webhook: the user must replace it.
            return "the webhook was deleted in Discord: create a new one and connect again"
        if code == "50035":
            return "the message breaks a Discord limit (2,000 characters, 10 embeds, 6,000 embed characters)"
        return None


def _first_error(errors: Any, path: str = "") -> str | None:
    """The first `_errors` message of Discord's nested error tree, with its field path."""
    if not isinstance(errors, dict):
        return None
    if isinstance(errors.get("_errors"), list) and errors["_errors"]:
        return f"{path or 'body'}: {errors['_errors'][0].get('message')}"
    for key, sub in errors.items():
        found = _first_error(sub, f"{path}.{key}" if path else key)
        if found:
            return found
    return None


def _embed_size(e: dict[str, Any]) -> int:
    n = len(e.get("title", "")) + len(e.get("description", ""))
    n += len((e.get("footer") or {}).get("text", "")) + len((e.get("author") or {}).get("name", ""))
    return n + sum(len(f.get("name", "")) + len(f.get("value", "")) for f in e.get("fields", []))


class DiscordClient:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.http = conn.http(DiscordWebhook())

    @property
    def url(self) -> str:
        return self.conn.require("webhook_url")

    def test(self) -> str:
        # "Get Webhook with Token": validates the URL without posting.
        hook = self.http.request("GET", self.url).json()
        return f"webhook {hook.get('name')!r} in channel {hook.get('channel_id')}"

    def send(self, content: str | None = None, embeds: list[dict[str, Any]] | None = None,
             username: str | None = None, wait: bool = True) -> dict[str, Any]:
        if not content and not embeds:
            raise E.InvalidRequest("Discord", "a message needs content or an embed")
        if content and len(content) > MAX_CONTENT:
            raise E.InvalidRequest("Discord", f"content is {len(content)} characters; Discord allows {MAX_CONTENT}")
        if embeds and (len(embeds) > MAX_EMBEDS or sum(_embed_size(e) for e in embeds) > MAX_EMBED_TOTAL):
            raise E.InvalidRequest("Discord", f"at most {MAX_EMBEDS} embeds of {MAX_EMBED_TOTAL} characters in all")
        body: dict[str, Any] = {}
        if content:
            body["content"] = content
        if embeds:
            body["embeds"] = embeds
        if username:
            body["username"] = username
        # Without wait=true Discord answers 204 and drops errors for messages it could not save.
        resp = self.http.request("POST", self.url, params={"wait": "true"} if wait else None, json=body)
        if resp.status_code == 204:
            return {"ok": True}
        msg = resp.json()
        return {"ok": True, "id": msg.get("id"), "channel_id": msg.get("channel_id")}

    def send_embed(self, title: str, description: str | None = None, color: int | None = ALERT_RED,
                   fields: list[dict[str, Any]] | None = None, content: str | None = None) -> dict[str, Any]:
        embed: dict[str, Any] = {"title": title[:256], "type": "rich"}
        if description:
            embed["description"] = description[:4096]
        if color is not None:
            embed["color"] = color
        if fields:
            embed["fields"] = [{"name": str(f["name"])[:256], "value": str(f["value"])[:1024],
                                "inline": bool(f.get("inline", False))} for f in fields[:25]]
        embed["footer"] = {"text": "AI Cost Tracker"}
        return self.send(content, [embed])


SPEC = IntegrationSpec(
    id="discord", name="Discord", category=Category.MESSAGING, icon="discord",
    description="Post alerts and reports to a Discord channel through its webhook.",
    fields=(CredentialField("webhook_url", "Webhook URL", secret=True,
                            placeholder="https://discord.com/api/webhooks/123/abc...",
                            pattern=r"https?://[^\s/]+/api/(v\d+/)?webhooks/\d+/[A-Za-z0-9_-]+",
                            pattern_hint="a Discord webhook URL (https://discord.com/api/webhooks/ID/TOKEN)"),),
    auth_methods=(AuthMethod(AuthKind.WEBHOOK_URL, "Webhook URL", ("webhook_url",)),),
    base_urls={},
    test=ConnectionTest("GET {webhook URL}", "HTTP 200 with the webhook object (nothing posted)"),
    actions=(
        Action("send_message", "Send a message", "Post text (and embeds) and wait for the created message",
               (ActionParam("content", "Text", ParamType.TEXT), ActionParam("embeds", "Embeds (JSON)", ParamType.JSON),
                ActionParam("username", "Post as")),
               lambda c, p: c.send(p["content"], p["embeds"], p["username"])),
        Action("send_embed", "Send an embed", "A titled card with fields",
               (ActionParam("title", "Title", required=True), ActionParam("description", "Description", ParamType.TEXT),
                ActionParam("color", "Colour", ParamType.INT, default=ALERT_RED),
                ActionParam("fields", "Fields (JSON)", ParamType.JSON), ActionParam("content", "Text", ParamType.TEXT)),
               lambda c, p: c.send_embed(p["title"], p["description"], p["color"], p["fields"], p["content"])),
    ),
    client=DiscordClient,
)
