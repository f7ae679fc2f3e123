"""Notion: an integration token; report rows in a database, append blocks, query, update and read pages."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations import errors as E
from aicost_desktop.integrations.connection import Connection
from aicost_desktop.integrations.http import Dialect, body_json
from aicost_desktop.integrations.spec import (Action, ActionParam, AuthKind, AuthMethod, Category, ConnectionTest,
                                              CredentialField, IntegrationSpec, ParamType)

# Pinned: the SDK's default, the first with data sources (a database holds one or more of them).
NOTION_VERSION = "2025-09-03"
MAX_TEXT = 2000      # characters per rich-text item
MAX_CHILDREN = 100   # blocks per append request (arrays hold at most 100 elements)
MAX_PAGES = 20       # query pages followed (100 rows each) before we stop
_ID_AT_END = re.compile(r"(?<![0-9a-fA-F])([0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
                        r"-[0-9a-fA-F]{12})$")
_HINTS = {
    "object_not_found": "share the page or database with the integration (••• > Connections > add it) and check "
                        "the id",
    "restricted_resource": "the integration lacks a capability: enable it (read/insert/update content) in its settings",
    "unauthorized": "Notion refused the token: copy it again from the integration's settings and reconnect",
    "validation_error": "Notion refused a property or block: the message names it (property names must match the "
                        "database's columns)",
}


def check_id(key: str, value: str) -> str:
    """A Notion id (32 hex, dashed or not), also taken from the end of a page URL; it becomes part of the path."""
    tail = (value or "").strip().split("?")[0].split("#")[0]
    m = _ID_AT_END.search(tail)
    if m is None:
        raise InputError(key, value, "must be a Notion id (32 hex characters, from the page or database URL)")
    return m.group(1)


def rich_text(text: str) -> list[dict[str, Any]]:
    """Text as rich-text items of at most 2,000 characters each (Notion refuses longer ones)."""
    return [{"type": "text", "text": {"content": text[i:i + MAX_TEXT]}} for i in range(0, len(text), MAX_TEXT)] or \
        [{"type": "text", "text": {"content": ""}}]


def paragraphs(text: str) -> list[dict[str, Any]]:
    """One paragraph block per line of text."""
    return [{"object": "block", "type": "paragraph", "paragraph": {"rich_text": rich_text(line)}}
            for line in text.splitlines() if line.strip()]


class NotionApi(Dialect):
    """2xx is success; errors are `{object: error, status, code, message, request_id}`. 429 `rate_limited` and
    529 `service_overload` were not processed: both wait `Retry-After` (integer seconds)."""

    service = "Notion"

    def error_fields(self, resp: httpx.Response) -> tuple[str, str | None]:
        data = body_json(resp)
        if isinstance(data, dict) and data.get("object") == "error":
            return f"{data.get('code')}: {data.get('message')}", str(data.get("code") or "") or None
        return super().error_fields(resp)

    def kind(self, resp: httpx.Response, message: str, code: str | None) -> type[E.IntegrationError]:
        if resp.status_code in (429, 529) or code in ("rate_limited", "service_overload"):
            return E.RateLimited
        return {"unauthorized": E.AuthFailed, "restricted_resource": E.PermissionDenied,
                "object_not_found": E.NotFound}.get(code or "") or super().kind(resp, message, code)

    def hint(self, resp: httpx.Response, kind: type[E.IntegrationError], code: str | None) -> str | None:
        return _HINTS.get(code or "")


class NotionClient:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.http = conn.http(NotionApi())

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None,
              params: dict[str, str] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.conn.token('token')}", "Notion-Version": NOTION_VERSION}
        if body is not None:
            headers["Content-Type"] = "application/json"
        # PATCH appends blocks: repeating it after a 5xx could append twice, so only GETs are retried then.
        resp = self.http.request(method, f"{self.conn.url()}{path}", headers=headers, json=body, params=params,
                                 idempotent=method == "GET")
        data: dict[str, Any] = resp.json()
        return data

    def test(self) -> str:
        me = self._call("GET", "/users/me")
        workspace = (me.get("bot") or {}).get("workspace_name")
        return f"bot {me.get('name')!r}" + (f" in workspace {workspace}" if workspace else "")

    def data_source(self, database_id: str, name: str | None = None) -> str:
        """The id of the database's data source (by name when it has several)."""
        db = self._call("GET", f"/databases/{check_id('database_id', database_id)}")
        sources = db.get("data_sources") or []
        if name:
            sources = [s for s in sources if s.get("name") == name]
        if len(sources) != 1:
            names = ", ".join(str(s.get("name")) for s in db.get("data_sources") or []) or "none"
            raise E.InvalidRequest("Notion", f"the database has {len(sources)} matching data sources ({names})",
                                   hint="name the data source (data_source parameter)")
        return str(sources[0]["id"])

    def create_page(self, database_id: str, properties: dict[str, Any], children: list[Any] | None = None,
                    data_source: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"parent": {"type": "data_source_id",
                                           "data_source_id": self.data_source(database_id, data_source)},
                                "properties": properties}
        if children:
            body["children"] = children[:MAX_CHILDREN]
        page = self._call("POST", "/pages", body)
        if children and len(children) > MAX_CHILDREN:
            self.append_blocks(page["id"], children[MAX_CHILDREN:])
        return {"id": page["id"], "url": page.get("url")}

    def report_row(self, database_id: str, title: str, spend: str, period_start: str, period_end: str | None = None,
                   provider: str | None = None, summary: str | None = None, title_property: str = "Name",
                   spend_property: str = "Spend USD", period_property: str = "Period",
                   provider_property: str = "Provider") -> dict[str, Any]:
        """A cost report row: title, spend (a number column), period (a date column), provider (a select)."""
        try:
            amount = Decimal(spend.strip())
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite():
            raise InputError("spend", spend, "must be a number such as 412.37")
        props: dict[str, Any] = {title_property: {"title": rich_text(title)},
                                 # A JSON number: the float of a Decimal prints back as the same digits.
                                 spend_property: {"number": float(amount)},
                                 period_property: {"date": {"start": period_start, "end": period_end}}}
        if provider:
            props[provider_property] = {"select": {"name": provider[:100]}}
        return self.create_page(database_id, props, paragraphs(summary) if summary else None)

    def append_blocks(self, page_id: str, blocks: list[Any]) -> dict[str, Any]:
        """Append blocks to a page (or block), 100 per request, in order."""
        page_id = check_id("page_id", page_id)
        if not blocks:
            raise E.InvalidRequest("Notion", "nothing to append", hint="give text or blocks")
        added = 0
        for i in range(0, len(blocks), MAX_CHILDREN):
            out = self._call("PATCH", f"/blocks/{page_id}/children", {"children": blocks[i:i + MAX_CHILDREN]})
            added += len(out.get("results") or [])
        return {"ok": True, "appended": added}

    def query(self, database_id: str, where: dict[str, Any] | None = None, sorts: list[Any] | None = None,
              limit: int = 100, data_source: str | None = None) -> list[dict[str, Any]]:
        source = self.data_source(database_id, data_source)
        rows: list[dict[str, Any]] = []
        cursor = None
        for _ in range(MAX_PAGES):
            body: dict[str, Any] = {"page_size": min(100, max(1, limit - len(rows)))}
            if where:
                body["filter"] = where
            if sorts:
                body["sorts"] = sorts
            if cursor:
                body["start_cursor"] = cursor
            out = self._call("POST", f"/data_sources/{source}/query", body)
            rows += [{"id": r["id"], "url": r.get("url"), "properties": r.get("properties", {})}
                     for r in out.get("results", [])]
            cursor = out.get("next_cursor")
            if not out.get("has_more") or not cursor or len(rows) >= limit:
                break
        return rows[:limit]

    def update_page(self, page_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        page = self._call("PATCH", f"/pages/{check_id('page_id', page_id)}", {"properties": properties})
        return {"id": page["id"], "url": page.get("url"), "last_edited_time": page.get("last_edited_time")}

    def read_page(self, page_id: str) -> list[dict[str, Any]]:
        """The page's top-level blocks: type and plain text."""
        page_id = check_id("page_id", page_id)
        out: list[dict[str, Any]] = []
        cursor = None
        for _ in range(MAX_PAGES):
            params = {"page_size": "100", **({"start_cursor": cursor} if cursor else {})}
            data = self._call("GET", f"/blocks/{page_id}/children", params=params)
            for b in data.get("results", []):
                content = b.get(b.get("type"), {}) or {}
                text = "".join(t.get("plain_text") or (t.get("text") or {}).get("content", "")
                               for t in content.get("rich_text", []))
                out.append({"id": b.get("id"), "type": b.get("type"), "text": text})
            cursor = data.get("next_cursor")
            if not data.get("has_more") or not cursor:
                break
        return out


_DB = ActionParam("database_id", "Database id", required=True, help="from the database URL (32 hex characters)")
_SOURCE = ActionParam("data_source", "Data source name", help="only when the database has several")
_PAGE = ActionParam("page_id", "Page id", required=True)

SPEC = IntegrationSpec(
    id="notion", name="Notion", category=Category.DOCS_SHEETS, icon="notion",
    description="Add weekly or monthly cost reports as rows of a Notion database; append, query, update pages.",
    fields=(
        CredentialField("token", "Integration token", secret=True, placeholder="ntn_...",
                        pattern=r"[A-Za-z0-9_]{20,}",
                        pattern_hint="a Notion token (ntn_... from the integration's Configuration tab)"),
    ),
    # Public OAuth integrations need the client secret at the token endpoint (HTTP Basic): no fit for a desktop app.
    auth_methods=(AuthMethod(AuthKind.BEARER_TOKEN, "Internal integration token", ("token",)),),
    base_urls={"api": "https://api.notion.com/v1"},
    test=ConnectionTest("GET /v1/users/me", "HTTP 200 with the integration's bot user"),
    actions=(
        Action("report_row", "Add a cost report row", "A row with title, spend, period and provider (+ summary text)",
               (_DB, ActionParam("title", "Title", required=True),
                ActionParam("spend", "Spend", required=True, help="a number such as 412.37"),
                ActionParam("period_start", "Period start", required=True, help="YYYY-MM-DD"),
                ActionParam("period_end", "Period end", help="YYYY-MM-DD"),
                ActionParam("provider", "Provider"), ActionParam("summary", "Summary", ParamType.TEXT),
                ActionParam("title_property", "Title column", default="Name"),
                ActionParam("spend_property", "Spend column", default="Spend USD"),
                ActionParam("period_property", "Period column", default="Period"),
                ActionParam("provider_property", "Provider column", default="Provider")),
               lambda c, p: c.report_row(p["database_id"], p["title"], p["spend"], p["period_start"],
                                         p["period_end"], p["provider"], p["summary"], p["title_property"],
                                         p["spend_property"], p["period_property"], p["provider_property"])),
        Action("create_page", "Create a page in a database", "A page with the given properties (and blocks)",
               (_DB, ActionParam("properties", "Properties (JSON)", ParamType.JSON, required=True),
                ActionParam("children", "Blocks (JSON)", ParamType.JSON), _SOURCE),
               lambda c, p: c.create_page(p["database_id"], p["properties"], p["children"], p["data_source"])),
        Action("append_blocks", "Append to a page", "Append text (one paragraph per line) or blocks to a page",
               (_PAGE, ActionParam("text", "Text", ParamType.TEXT),
                ActionParam("blocks", "Blocks (JSON)", ParamType.JSON)),
               lambda c, p: c.append_blocks(p["page_id"], (p["blocks"] or []) + paragraphs(p["text"] or ""))),
        Action("query", "Query a database", "Rows of the database's data source (filter and sorts as Notion JSON)",
               (_DB, ActionParam("filter", "Filter (JSON)", ParamType.JSON), ActionParam("sorts", "Sorts (JSON)",
                                                                                         ParamType.JSON),
                ActionParam("limit", "At most", ParamType.INT, default=100), _SOURCE),
               lambda c, p: c.query(p["database_id"], p["filter"], p["sorts"], p["limit"], p["data_source"]),
               destination=False),
        Action("update_page", "Update a page's properties", "Set properties of an existing page",
               (_PAGE, ActionParam("properties", "Properties (JSON)", ParamType.JSON, required=True)),
               lambda c, p: c.update_page(p["page_id"], p["properties"])),
        Action("read_page", "Read a page", "The page's blocks as text", (_PAGE,),
               lambda c, p: c.read_page(p["page_id"]), destination=False),
    ),
    client=NotionClient,
)
