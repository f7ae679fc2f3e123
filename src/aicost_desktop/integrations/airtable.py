"""Airtable: a personal access token; create, list, update and delete records (10 per request), list bases."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx

from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations import errors as E
from aicost_desktop.integrations.connection import Connection
from aicost_desktop.integrations.http import Dialect, retry_after_header
from aicost_desktop.integrations.spec import (Action, ActionParam, AuthKind, AuthMethod, Category, ConnectionTest,
                                              CredentialField, IntegrationSpec, ParamType)

BATCH = 10         # records per create/update/delete request (Airtable's limit)
RATE_WAIT = 30.0   # Airtable asks clients to wait 30 s after a 429 (5 requests a second per base)
MAX_PAGES = 100    # list pages (100 records each) followed before we stop
_BASE = re.compile(r"app[A-Za-z0-9]{14}")
_RECORD = re.compile(r"rec[A-Za-z0-9]{14}")
_HINTS = {
    "AUTHENTICATION_REQUIRED": "Airtable refused the token: create a personal access token and connect again",
    "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND": "the token lacks a scope (data.records:write) or access to this base, "
                                              "or the base/table name is wrong",
    "INVALID_PERMISSIONS": "the token lacks a scope (data.records:read/write) or access to this base",
    "NOT_FOUND": "no such base, table or record: check the ids and the table name",
    "UNKNOWN_FIELD_NAME": "a field name does not match the table's columns (names are case-sensitive)",
    "INVALID_VALUE_FOR_COLUMN": "a value does not fit its column's type (typecast=true converts text)",
}


def check_base(base: str) -> str:
    if not _BASE.fullmatch(base or ""):
        raise InputError("base", base, "must be a base id (app + 14 characters, from the base's URL)")
    return base


def _records(records: Any) -> list[dict[str, Any]]:
    """Records as field objects: [{"Provider": "OpenAI", "USD": 412.37}, ...] (or {"fields": {...}} items)."""
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list) or not records:
        raise InputError("records", records, "must be a JSON array of field objects")
    out = []
    for r in records:
        fields = r.get("fields", r) if isinstance(r, dict) else None
        if not isinstance(fields, dict) or not fields:
            raise InputError("records", r, "each record must be an object of field names and values")
        out.append(fields)
    return out


class AirtableApi(Dialect):
    """200 is success; errors are `{"error": {type, message}}` (some 404s `{"error": "NOT_FOUND"}`). Any 429 is a rate
    limit whatever its body (airtable.js keys off the status): wait 30 s."""

    service = "Airtable"

    def wait_hint(self, resp: httpx.Response, now: float) -> float | None:
        after = retry_after_header(resp, now)
        if after is not None or resp.status_code != 429:
            return after  # a 5xx: the layer's exponential backoff
        return RATE_WAIT

    def hint(self, resp: httpx.Response, kind: type[E.IntegrationError], code: str | None) -> str | None:
        if resp.status_code == 422 and code == "INVALID_REQUEST_UNKNOWN":
            return "Airtable refused the request: at most 10 records per request, each with fields"
        return _HINTS.get(code or "")


class AirtableClient:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.http = conn.http(AirtableApi())

    def _url(self, base: str, table: str) -> str:
        if not table or not table.strip():
            raise InputError("table", table, "give the table's name or id (tbl...)")
        return f"{self.conn.url()}/{check_base(base)}/{quote(table.strip(), safe='')}"

    def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.conn.token('token')}"}
        if "json" in kwargs:
            headers["Content-Type"] = "application/json"
        data: dict[str, Any] = self.http.request(method, url, headers=headers, **kwargs).json()
        return data

    def test(self) -> str:
        me = self._call("GET", f"{self.conn.url()}/meta/whoami")
        scopes = me.get("scopes")
        return f"user {me.get('id')}" + (f" (scopes: {' '.join(scopes)})" if scopes else "")

    def list_bases(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        offset = None
        for _ in range(MAX_PAGES):
            data = self._call("GET", f"{self.conn.url()}/meta/bases", params={"offset": offset} if offset else None)
            out += [{"id": b["id"], "name": b.get("name"), "permission": b.get("permissionLevel")}
                    for b in data.get("bases", [])]
            offset = data.get("offset")
            if not offset:
                break
        return out

    def list_records(self, base: str, table: str, view: str | None = None, formula: str | None = None,
                     limit: int = 100, fields: list[str] | None = None) -> list[dict[str, Any]]:
        url = self._url(base, table)
        out: list[dict[str, Any]] = []
        offset = None
        for _ in range(MAX_PAGES):
            params: list[tuple[str, str]] = [("pageSize", str(min(100, max(1, limit - len(out)))))]
            params += [(k, v) for k, v in (("view", view), ("filterByFormula", formula), ("offset", offset)) if v]
            params += [("fields[]", f) for f in fields or []]
            data = self._call("GET", url, params=params)
            out += [{"id": r["id"], "created": r.get("createdTime"), "fields": r.get("fields", {})}
                    for r in data.get("records", [])]
            offset = data.get("offset")  # absent on the last page
            if not offset or len(out) >= limit:
                break
        return out[:limit]

    def _batched(self, method: str, url: str, items: list[dict[str, Any]],
                 extra: dict[str, Any]) -> list[dict[str, Any]]:
        """Send `items` 10 at a time. A failure after some batches says how many went through: those are written,
        so retrying the whole action would write them twice."""
        done: list[dict[str, Any]] = []
        for i in range(0, len(items), BATCH):
            try:
                data = self._call(method, url, json={"records": items[i:i + BATCH], **extra})
            except E.IntegrationError as exc:
                if not done:
                    raise
                raise type(exc)(exc.service, f"{exc.message} (after {len(done)} of {len(items)} records were "
                                             f"written)", hint=exc.hint, status=exc.status, code=exc.code,
                                retry_after=exc.retry_after) from None
            done += data.get("records", [])
        return done

    def create_records(self, base: str, table: str, records: Any, typecast: bool = False) -> dict[str, Any]:
        items = [{"fields": f} for f in _records(records)]
        made = self._batched("POST", self._url(base, table), items, {"typecast": typecast})
        return {"created": len(made), "ids": [r["id"] for r in made]}

    def update_records(self, base: str, table: str, records: Any, typecast: bool = False) -> dict[str, Any]:
        """PATCH: only the fields given change. Each record is {"id": "rec...", "fields": {...}}."""
        if not isinstance(records, list) or not records:
            raise InputError("records", records, 'must be a JSON array of {"id": "rec...", "fields": {...}}')
        items = []
        for r in records:
            if not (isinstance(r, dict) and _RECORD.fullmatch(str(r.get("id"))) and isinstance(r.get("fields"), dict)):
                raise InputError("records", r, 'each record needs an "id" (rec...) and "fields"')
            items.append({"id": r["id"], "fields": r["fields"]})
        done = self._batched("PATCH", self._url(base, table), items, {"typecast": typecast})
        return {"updated": len(done), "ids": [r["id"] for r in done]}

    def delete_records(self, base: str, table: str, ids: list[str]) -> dict[str, Any]:
        for rid in ids:
            if not _RECORD.fullmatch(rid):
                raise InputError("ids", rid, "must be record ids (rec + 14 characters)")
        if not ids:
            raise InputError("ids", ids, "give at least one record id")
        url = self._url(base, table)
        deleted = 0
        for i in range(0, len(ids), BATCH):
            data = self._call("DELETE", url, params=[("records[]", r) for r in ids[i:i + BATCH]])
            deleted += sum(1 for r in data.get("records", []) if r.get("deleted"))
        return {"deleted": deleted}


_B = ActionParam("base", "Base id", required=True, help="app... from the base's URL")
_T = ActionParam("table", "Table name or id", required=True)
_TYPECAST = ActionParam("typecast", "Convert text to the column types", ParamType.BOOL, default=False)

SPEC = IntegrationSpec(
    id="airtable", name="Airtable", category=Category.DOCS_SHEETS, icon="airtable",
    description="Add cost reports as records of an Airtable table; list, update and delete records.",
    fields=(
        CredentialField("token", "Personal access token", secret=True, placeholder="pat...",
                        pattern=r"pat[A-Za-z0-9]+\.[A-Za-z0-9]+",
                        pattern_hint="a personal access token (pat….…) from airtable.com/create/tokens"),
    ),
    # OAuth (PKCE) exists, but its redirect URLs are registered per app and a random loopback port is unconfirmed.
    auth_methods=(AuthMethod(AuthKind.BEARER_TOKEN, "Personal access token", ("token",)),),
    base_urls={"api": "https://api.airtable.com/v0"},
    test=ConnectionTest("GET /v0/meta/whoami", "HTTP 200 with the token's user id and scopes"),
    actions=(
        Action("create_records", "Create records", "Add records (sent 10 per request)",
               (_B, _T, ActionParam("records", "Records (JSON)", ParamType.JSON, required=True), _TYPECAST),
               lambda c, p: c.create_records(p["base"], p["table"], p["records"], p["typecast"])),
        Action("list_records", "List records", "Records of a table (or view), following offsets",
               (_B, _T, ActionParam("view", "View"), ActionParam("formula", "filterByFormula"),
                ActionParam("limit", "At most", ParamType.INT, default=100),
                ActionParam("fields", "Fields", ParamType.LIST)),
               lambda c, p: c.list_records(p["base"], p["table"], p["view"], p["formula"], p["limit"], p["fields"]),
               destination=False),
        Action("update_records", "Update records", "Change fields of records by id (10 per request)",
               (_B, _T, ActionParam("records", "Records (JSON)", ParamType.JSON, required=True), _TYPECAST),
               lambda c, p: c.update_records(p["base"], p["table"], p["records"], p["typecast"])),
        Action("delete_records", "Delete records", "Delete records by id (10 per request)",
               (_B, _T, ActionParam("ids", "Record ids", ParamType.LIST, required=True)),
               lambda c, p: c.delete_records(p["base"], p["table"], p["ids"]), destination=False),
        Action("list_bases", "List bases", "Bases the token can see", (), lambda c, p: c.list_bases(),
               destination=False),
    ),
    client=AirtableClient,
)
