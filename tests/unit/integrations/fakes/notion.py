"""Fake Notion API: Bearer + Notion-Version checked, databases with data sources, pages, blocks, error envelope."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone

from tests.fakes.http_fake import FakeHTTPServer, FakeRequest, FakeResponse

TOKEN = "ntn_4271837402739LyVbnS3q9xYzWmQp8KcR7tFhJd2aBe5"
VERSIONS = {"2022-06-28", "2025-09-03", "2026-03-11"}
DATA_SOURCE_VERSIONS = {"2025-09-03", "2026-03-11"}
DB_ID = "248104cd-477e-80fd-b757-e945d38000bd"
SOURCE_ID = "248104cd-477e-80af-bc30-000bd28de8f9"
UNSHARED_DB = "0f3c9a7e-1111-4222-8333-444455556666"
TWO_SOURCES_DB = "5a1b2c3d-0000-4000-8000-00000000aaaa"
BOT = {"object": "user", "id": "3c90c3cc-0d44-4b50-8888-8dd25736052a", "name": "AI Cost Tracker",
       "avatar_url": None, "type": "bot",
       "bot": {"owner": {"type": "workspace", "workspace": True}, "workspace_name": "Acme"}}
SCHEMA = {"Name": "title", "Spend USD": "number", "Period": "date", "Provider": "select"}
TEXT_TYPES = {"paragraph", "heading_1", "heading_2", "heading_3", "bulleted_list_item", "numbered_list_item",
              "quote", "callout", "to_do"}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class NotionFake(FakeHTTPServer):
    def __init__(self) -> None:
        super().__init__()
        self.tokens = {TOKEN}
        self.pages: dict[str, dict] = {}
        self.blocks: dict[str, list[dict]] = {}   # parent id -> children, in order
        self.rows: list[dict] = []                # pages created in the data source

    # ---- envelopes ---------------------------------------------------------------------
    @staticmethod
    def _json(obj: dict, status: int = 200, extra: dict | None = None) -> FakeResponse:
        rid = str(uuid.uuid4())
        if isinstance(obj, dict) and obj.get("object") in ("error", "page", "list", "user", "database"):
            obj = {**obj, "request_id": rid}
        return FakeResponse(status, json.dumps(obj).encode(), {"Content-Type": "application/json; charset=utf-8",
                                                               "x-notion-request-id": rid, **(extra or {})})

    def error(self, status: int, code: str, message: str, extra: dict | None = None,
              additional: dict | None = None) -> FakeResponse:
        body: dict = {"object": "error", "status": status, "code": code, "message": message}
        if additional:
            body["additional_data"] = additional
        return self._json(body, status, extra)

    def rate_limited(self, retry_after: int = 1) -> FakeResponse:
        return self.error(429, "rate_limited", "You have been rated limited. Please try again in a few minutes.",
                          {"Retry-After": str(retry_after)}, {"rate_limit_reason": "per_connection"})

    def overloaded(self, retry_after: int = 1) -> FakeResponse:
        return self.error(529, "service_overload", "Notion is overloaded. Please try again later.",
                          {"Retry-After": str(retry_after)})

    # ---- routing -----------------------------------------------------------------------
    def handle(self, req: FakeRequest) -> FakeResponse:
        auth = req.header("authorization") or ""
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return self.error(401, "unauthorized", "API token is invalid.")
        version = req.header("notion-version")
        if version is None:
            return self.error(400, "missing_version", "Notion-Version header failed validation: Notion-Version "
                                                      "header should be defined, instead was `undefined`.")
        if version not in VERSIONS:
            return self.error(400, "invalid_request", f"Notion-Version {version} is not supported.")
        path = req.path.removeprefix("/v1")
        body = {}
        if req.body:
            if not (req.header("content-type") or "").startswith("application/json"):
                return self.error(400, "invalid_request", "Content-Type must be application/json.")
            try:
                body = json.loads(req.body)
            except ValueError:
                return self.error(400, "invalid_json", "Error parsing JSON body.")
        if path == "/users/me" and req.method == "GET":
            return self._json(BOT)
        if m := re.fullmatch(r"/databases/([0-9a-f-]+)", path):
            return self._database(m.group(1), version)
        if m := re.fullmatch(r"/data_sources/([0-9a-f-]+)/query", path):
            if version not in DATA_SOURCE_VERSIONS:
                return self.error(400, "invalid_request_url", "Invalid request URL.")
            if m.group(1) != SOURCE_ID:
                return self._missing(m.group(1))
            return self._query(body, "page_or_data_source")
        if m := re.fullmatch(r"/databases/([0-9a-f-]+)/query", path):
            if m.group(1) == TWO_SOURCES_DB:
                return self.error(400, "validation_error", "Databases with multiple data sources are not supported "
                                  "in this API version.", additional={"error_type": "multiple_data_sources_for_database",
                                                                       "minimum_api_version": "2025-09-03"})
            if self._norm(m.group(1)) != self._norm(DB_ID) or version in DATA_SOURCE_VERSIONS:
                return self.error(400, "invalid_request_url", "Invalid request URL.")
            return self._query(body, "page_or_database")
        if path == "/pages" and req.method == "POST":
            return self._create_page(body, version)
        if m := re.fullmatch(r"/pages/([0-9a-f-]+)", path):
            return self._update_page(self._norm(m.group(1)), body) if req.method == "PATCH" else \
                self._page(self._norm(m.group(1)))
        if m := re.fullmatch(r"/blocks/([0-9a-f-]+)/children", path):
            parent = self._norm(m.group(1))
            if parent not in self.blocks:
                return self._missing(m.group(1))
            if req.method == "PATCH":
                return self._append(parent, body)
            return self._children(parent, req)
        return self.error(400, "invalid_request_url", "Invalid request URL.")

    @staticmethod
    def _norm(id_: str) -> str:
        raw = id_.replace("-", "")
        return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}" if len(raw) == 32 else id_

    def _missing(self, id_: str) -> FakeResponse:
        return self.error(404, "object_not_found", f"Could not find database with ID: {id_}. Make sure the relevant "
                                                   "pages and databases are shared with your integration.")

    def _database(self, id_: str, version: str) -> FakeResponse:
        id_ = self._norm(id_)
        if id_ not in (DB_ID, TWO_SOURCES_DB):
            return self._missing(id_)
        db: dict = {"object": "database", "id": id_, "title": [{"type": "text", "plain_text": "AI spend"}],
                    "created_time": "2026-08-01T10:00:00.000Z", "last_edited_time": _now(), "in_trash": False,
                    "url": f"https://www.notion.so/{id_.replace('-', '')}"}
        if version in DATA_SOURCE_VERSIONS:
            db["data_sources"] = [{"id": SOURCE_ID, "name": "AI spend"}]
            if id_ == TWO_SOURCES_DB:
                db["data_sources"].append({"id": "6b2c3d4e-0000-4000-8000-00000000bbbb", "name": "Archive"})
        else:
            db["properties"] = {k: {"type": t} for k, t in SCHEMA.items()}
        return self._json(db)

    def _query(self, body: dict, kind: str) -> FakeResponse:
        size = body.get("page_size", 100)
        if not isinstance(size, int) or not 1 <= size <= 100:
            return self.error(400, "validation_error", "body.page_size should be ≤ `100`.")
        start = int(body.get("start_cursor") or 0)
        chunk = self.rows[start:start + size]
        more = start + size < len(self.rows)
        return self._json({"object": "list", "results": chunk, "next_cursor": str(start + size) if more else None,
                           "has_more": more, "type": kind, kind: {}})

    def _check_text(self, items: object, where: str) -> str | None:
        if not isinstance(items, list):
            return f"{where} should be an array."
        if len(items) > 100:
            return f"{where}.length should be ≤ `100`, instead was `{len(items)}`."
        for i, t in enumerate(items):
            content = ((t or {}).get("text") or {}).get("content")
            if not isinstance(content, str):
                return f"{where}[{i}].text.content should be defined."
            if len(content) > 2000:
                return f"{where}[{i}].text.content.length should be ≤ `2000`, instead was `{len(content)}`."
        return None

    def _check_properties(self, props: dict) -> str | None:
        for name, value in props.items():
            kind = SCHEMA.get(name)
            if kind is None:
                return f"{name} is not a property that exists."
            if not isinstance(value, dict) or kind not in value:
                return f"{name} is expected to be {kind}."
            v = value[kind]
            if kind == "title" and (msg := self._check_text(v, f"body.properties.{name}.title")):
                return msg
            if kind == "number" and not (v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))):
                return f"body.properties.{name}.number should be a number or `null`."
            if kind == "date" and not (isinstance(v, dict) and re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", v.get("start", ""))):
                return f"body.properties.{name}.date.start should be a valid ISO 8601 date string."
            if kind == "select" and not (isinstance(v, dict) and v.get("name") and "," not in v["name"]):
                return f"body.properties.{name}.select.name should be defined and contain no commas."
        return None

    def _check_blocks(self, children: object) -> str | None:
        if not isinstance(children, list) or not children:
            return "body.children should be a non-empty array."
        if len(children) > 100:
            return f"body.children.length should be ≤ `100`, instead was `{len(children)}`."
        for i, b in enumerate(children):
            kind = (b or {}).get("type")
            if kind not in TEXT_TYPES or not isinstance(b.get(kind), dict):
                return f"body.children[{i}].{kind} should be defined."
            if msg := self._check_text(b[kind].get("rich_text"), f"body.children[{i}].{kind}.rich_text"):
                return msg
        return None

    def _page_obj(self, id_: str, parent: dict, props: dict) -> dict:
        now = _now()
        return {"object": "page", "id": id_, "created_time": now, "last_edited_time": now,
                "created_by": {"object": "user", "id": BOT["id"]}, "last_edited_by": {"object": "user", "id": BOT["id"]},
                "cover": None, "icon": None, "parent": parent, "archived": False, "in_trash": False,
                "is_locked": False, "properties": {k: {"id": k[:4].lower(), "type": SCHEMA[k], **v}
                                                   for k, v in props.items()},
                "url": f"https://www.notion.so/{id_.replace('-', '')}", "public_url": None}

    def _create_page(self, body: dict, version: str) -> FakeResponse:
        parent = body.get("parent") or {}
        if "data_source_id" in parent:
            if version not in DATA_SOURCE_VERSIONS:
                return self.error(400, "validation_error", "body.parent.data_source_id is not supported.")
            if parent["data_source_id"] != SOURCE_ID:
                return self._missing(parent["data_source_id"])
        elif "database_id" in parent:
            if self._norm(parent["database_id"]) != DB_ID:
                return self._missing(parent["database_id"])
        else:
            return self.error(400, "validation_error", "body.parent.data_source_id should be defined.")
        props = body.get("properties") or {}
        if not isinstance(props, dict) or sum(1 for k in props if SCHEMA.get(k) == "title") != 1:
            return self.error(400, "validation_error", "Title is not provided.")
        if msg := self._check_properties(props):
            return self.error(400, "validation_error", msg)
        if "children" in body and (msg := self._check_blocks(body["children"])):
            return self.error(400, "validation_error", msg)
        page = self._page_obj(str(uuid.uuid4()), parent, props)
        self.pages[page["id"]] = page
        self.rows.append(page)
        self.blocks[page["id"]] = []
        for b in body.get("children") or []:
            self.blocks[page["id"]].append(self._block(b))
        return self._json(page)

    def _page(self, id_: str) -> FakeResponse:
        return self._json(self.pages[id_]) if id_ in self.pages else self._missing(id_)

    def _update_page(self, id_: str, body: dict) -> FakeResponse:
        if id_ not in self.pages:
            return self._missing(id_)
        props = body.get("properties") or {}
        if msg := self._check_properties(props):
            return self.error(400, "validation_error", msg)
        page = self.pages[id_]
        page["properties"].update({k: {"id": k[:4].lower(), "type": SCHEMA[k], **v} for k, v in props.items()})
        page["last_edited_time"] = _now()
        return self._json(page)

    @staticmethod
    def _block(b: dict) -> dict:
        kind = b["type"]
        texts = [{**t, "plain_text": t["text"]["content"], "annotations": {}, "href": None} for t in b[kind]["rich_text"]]
        return {"object": "block", "id": str(uuid.uuid4()), "type": kind, "has_children": False, "in_trash": False,
                "created_time": _now(), kind: {**b[kind], "rich_text": texts, "color": "default"}}

    def _append(self, parent: str, body: dict) -> FakeResponse:
        if msg := self._check_blocks(body.get("children")):
            return self.error(400, "validation_error", msg)
        added = [self._block(b) for b in body["children"]]
        self.blocks[parent].extend(added)
        return self._json({"object": "list", "results": added, "next_cursor": None, "has_more": False,
                           "type": "block", "block": {}})

    def _children(self, parent: str, req: FakeRequest) -> FakeResponse:
        size = int(req.param("page_size") or 100)
        start = int(req.param("start_cursor") or 0)
        items = self.blocks[parent]
        more = start + size < len(items)
        return self._json({"object": "list", "results": items[start:start + size],
                           "next_cursor": str(start + size) if more else None, "has_more": more,
                           "type": "block", "block": {}})
