"""Trello: an API key and a pasted user token; list boards and lists, create a card on a list."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import httpx

from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.redact import register
from aicost_desktop.integrations import errors as E
from aicost_desktop.integrations.connection import Connection
from aicost_desktop.integrations.http import Dialect, body_json, retry_after_header
from aicost_desktop.integrations.spec import (Action, ActionParam, AuthKind, AuthMethod, Category, ConnectionTest,
                                              CredentialField, IntegrationSpec, ParamType)

AUTHORIZE_URL = "https://trello.com/1/authorize"
APP_NAME = "AI Cost Tracker"
WINDOW = 10.0   # Trello counts requests per token in 10-second windows and names no wait
MAX_DESC = 16384
_ID = re.compile(r"[0-9a-f]{24}")
_HINTS = {
    "invalid key": "Trello refused the API key: copy it again from your Power-Up's API key page",
    "invalid token": "Trello refused the token (revoked or expired): authorize again and paste the new token",
    "unauthorized permission requested": "the token lacks write access: authorize again with scope read,write",
    "invalid value for idList": "no such list: find its id with the list_lists action (board id from the URL)",
}


def authorize_url(api_key: str, expiration: str = "never") -> str:
    """The page where the user approves the app and Trello shows the token to paste. No return_url: Trello would
    put the token in the URL fragment, which a loopback listener never receives."""
    query = {"expiration": expiration, "name": APP_NAME, "scope": "read,write", "response_type": "token", "key": api_key}
    return f"{AUTHORIZE_URL}?{urlencode(query)}"


def check_id(key: str, value: str) -> str:
    if not _ID.fullmatch(value or ""):
        raise InputError(key, value, "must be a Trello id (24 hex characters)")
    return value


class TrelloApi(Dialect):
    """200 is success; errors are often plain text ("invalid token", "invalid value for idList"); a rate limit is
    429 `{"error": "API_TOKEN_LIMIT_EXCEEDED"|"API_KEY_LIMIT_EXCEEDED", "message": ...}` with no wait named."""

    service = "Trello"

    def error_fields(self, resp: httpx.Response) -> tuple[str, str | None]:
        data = body_json(resp)
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            return f"{data['error']}: {data.get('message') or ''}".rstrip(": "), data["error"]
        text = resp.text.strip()[:300] or f"HTTP {resp.status_code}"
        return text, text if len(text) < 60 else None

    def kind(self, resp: httpx.Response, message: str, code: str | None) -> type[E.IntegrationError]:
        if code and code.endswith("LIMIT_EXCEEDED"):
            return E.RateLimited
        return super().kind(resp, message, code)

    def wait_hint(self, resp: httpx.Response, now: float) -> float | None:
        after = retry_after_header(resp, now)
        if after is not None or resp.status_code != 429:
            return after
        return WINDOW  # the rest of the 10 s window answers 429 too

    def hint(self, resp: httpx.Response, kind: type[E.IntegrationError], code: str | None) -> str | None:
        return _HINTS.get(code or "")


class TrelloClient:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.http = conn.http(TrelloApi())

    def _call(self, method: str, path: str, params: dict[str, str] | None = None,
              body: dict[str, Any] | None = None) -> Any:
        key, token = self.conn.require("api_key"), self.conn.require("token")
        register(key)
        register(token)
        # In a header rather than key=&token= in the query, where proxies and logs would keep them.
        headers = {"Authorization": f'OAuth oauth_consumer_key="{key}", oauth_token="{token}"'}
        resp = self.http.request(method, f"{self.conn.url()}{path}", headers=headers, params=params, json=body)
        return resp.json()

    def test(self) -> str:
        me = self._call("GET", "/members/me", {"fields": "username,fullName"})
        return f"signed in as {me.get('username')}" + (f" ({me['fullName']})" if me.get("fullName") else "")

    def list_boards(self, include_closed: bool = False) -> list[dict[str, Any]]:
        boards = self._call("GET", "/members/me/boards", {"filter": "all" if include_closed else "open",
                                                          "fields": "name,url,closed"})
        return [{"id": b["id"], "name": b.get("name"), "url": b.get("url"), "closed": b.get("closed", False)}
                for b in boards]

    def list_lists(self, board: str) -> list[dict[str, Any]]:
        if not re.fullmatch(r"[0-9a-f]{24}|[A-Za-z0-9]{8}", board or ""):
            raise InputError("board", board, "must be a board id or its short link (trello.com/b/<shortLink>/...)")
        lists = self._call("GET", f"/boards/{board}/lists", {"filter": "open", "fields": "name,closed,pos"})
        return [{"id": x["id"], "name": x.get("name")} for x in lists]

    def create_card(self, list_id: str, name: str, desc: str | None = None, pos: str = "top",
                    due: str | None = None, labels: list[str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"idList": check_id("list_id", list_id), "name": name[:MAX_DESC], "pos": pos}
        if desc:
            body["desc"] = desc[:MAX_DESC]
        if due:
            body["due"] = due
        if labels:
            body["idLabels"] = ",".join(check_id("labels", x) for x in labels)
        # A POST is not repeated after a 5xx (the card may exist); a 429 was not processed and is retried.
        card = self._call("POST", "/cards", body=body)
        return {"id": card["id"], "url": card.get("shortUrl") or card.get("url"), "name": card.get("name")}


SPEC = IntegrationSpec(
    id="trello", name="Trello", category=Category.DEV_TOOLS, icon="trello",
    description="Create a card on a Trello list when a budget is exceeded; list boards and lists.",
    fields=(
        CredentialField("api_key", "API key", secret=True, pattern=r"[0-9a-f]{32}",
                        pattern_hint="the 32-character API key from your Power-Up's API key page"),
        CredentialField("token", "Token", secret=True, pattern=r"(ATTA)?[0-9A-Za-z]{60,}",
                        pattern_hint="the token Trello shows after you allow access (ATTA...)",
                        help="open the authorize link (see the setup guide), allow, copy the token shown"),
    ),
    auth_methods=(AuthMethod(AuthKind.KEY_TOKEN, "API key and pasted token", ("api_key", "token")),),
    base_urls={"api": "https://api.trello.com/1"},
    test=ConnectionTest("GET /1/members/me", "HTTP 200 with the token's member"),
    actions=(
        Action("create_card", "Create a card", "A card on a list (budget exceeded, sync failing)",
               (ActionParam("list_id", "List id", required=True), ActionParam("name", "Title", required=True),
                ActionParam("desc", "Description", ParamType.TEXT),
                ActionParam("pos", "Position", ParamType.CHOICE, default="top", choices=("top", "bottom")),
                ActionParam("due", "Due date", help="ISO 8601, e.g. 2026-09-01"),
                ActionParam("labels", "Label ids", ParamType.LIST)),
               lambda c, p: c.create_card(p["list_id"], p["name"], p["desc"], p["pos"], p["due"], p["labels"])),
        Action("list_boards", "List boards", "Your boards",
               (ActionParam("include_closed", "Include closed", ParamType.BOOL, default=False),),
               lambda c, p: c.list_boards(p["include_closed"]), destination=False),
        Action("list_lists", "List a board's lists", "Open lists of a board (their ids are card destinations)",
               (ActionParam("board", "Board id or short link", required=True),),
               lambda c, p: c.list_lists(p["board"]), destination=False),
    ),
    client=TrelloClient,
)
