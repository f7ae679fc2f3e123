"""Fake Airtable v0: PAT scopes and base access list, records in tables, 10 per write, offsets, 422 field errors."""

from __future__ import annotations

import json
import re
import secrets
import string
from datetime import datetime, timezone
from urllib.parse import unquote

from tests.fakes.http_fake import FakeHTTPServer, FakeRequest, FakeResponse

TOKEN = "patAbCdEfGh012345.0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
READ_TOKEN = "patReadOnly0123456.fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
BASE = "appXyZ0123456789a"
OTHER_BASE = "appNotShared00000"
TABLE = "Spend"
COLUMNS = {"Provider": str, "Month": str, "USD": float, "Notes": str}
RATE_BODY = {"errors": [{"error": "RATE_LIMIT_REACHED", "message": "Rate limit exceeded. Please try again later"}]}


def _rid(prefix: str = "rec") -> str:
    return prefix + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(14))


class AirtableFake(FakeHTTPServer):
    def __init__(self) -> None:
        super().__init__()
        self.tokens = {TOKEN: {"scopes": ["data.records:read", "data.records:write", "schema.bases:read"],
                               "bases": {BASE}},
                       READ_TOKEN: {"scopes": ["data.records:read"], "bases": {BASE}}}
        self.tables: dict[str, dict[str, list[dict]]] = {BASE: {TABLE: []}, OTHER_BASE: {TABLE: []}}
        self.bases = [{"id": BASE, "name": "AI costs", "permissionLevel": "create"},
                      {"id": OTHER_BASE, "name": "Finance", "permissionLevel": "read"}]

    @staticmethod
    def _json(obj: dict, status: int = 200) -> FakeResponse:
        return FakeResponse(status, json.dumps(obj).encode(), {"Content-Type": "application/json; charset=utf-8"})

    def error(self, status: int, type_: str, message: str) -> FakeResponse:
        return self._json({"error": {"type": type_, "message": message}}, status)

    def rate_limited(self, body: dict | None = None) -> FakeResponse:
        """429 with no Retry-After; the exact body is unconfirmed, so tests may pass their own."""
        return self._json(RATE_BODY if body is None else body, 429)

    def _no_access(self) -> FakeResponse:
        return self.error(403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", "Invalid permissions, or the requested model "
                          "was not found. Check that both your user and your token have the required permissions, "
                          "and that the model names and/or ids are correct.")

    def handle(self, req: FakeRequest) -> FakeResponse:
        auth = req.header("authorization") or ""
        grant = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if grant is None:
            return self.error(401, "AUTHENTICATION_REQUIRED", "Authentication required")
        if req.path == "/v0/meta/whoami":
            return self._json({"id": "usrL2PNC5o3H4lBEi", "scopes": grant["scopes"]})
        if req.path == "/v0/meta/bases":
            if "schema.bases:read" not in grant["scopes"]:
                return self._no_access()
            return self._json({"bases": [b for b in self.bases if b["id"] in grant["bases"]]})
        m = re.fullmatch(r"/v0/(app[A-Za-z0-9]{14})/([^/]+)", req.path)
        if m is None:
            return self._json({"error": "NOT_FOUND"}, 404)
        base, table = m.group(1), unquote(m.group(2))
        if base not in grant["bases"] or table not in self.tables.get(base, {}):
            return self._no_access()
        rows = self.tables[base][table]
        if req.method == "GET":
            return self._list(req, rows)
        if "data.records:write" not in grant["scopes"]:
            return self._no_access()
        if req.method == "DELETE":
            ids = req.params("records")
            if not ids or len(ids) > 10:
                return self.error(422, "INVALID_REQUEST_UNKNOWN", "Invalid request: parameter validation failed. "
                                  "Check your request data.")
            known = {r["id"] for r in rows}
            if any(i not in known for i in ids):
                return self._json({"error": "NOT_FOUND"}, 404)
            self.tables[base][table] = [r for r in rows if r["id"] not in ids]
            return self._json({"records": [{"id": i, "deleted": True} for i in ids]})
        if not (req.header("content-type") or "").startswith("application/json"):
            return self.error(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")
        body = req.json()
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list) or not records or len(records) > 10:
            return self.error(422, "INVALID_REQUEST_UNKNOWN", "Invalid request: parameter validation failed. "
                              "Check your request data.")
        typecast = body.get("typecast") is True
        checked = []
        for r in records:
            fields = r.get("fields") if isinstance(r, dict) else None
            if not isinstance(fields, dict):
                return self.error(422, "INVALID_REQUEST_MISSING_FIELDS", "Could not find field \"fields\" in the request body")
            out = {}
            for name, value in fields.items():
                kind = COLUMNS.get(name)
                if kind is None:
                    return self.error(422, "UNKNOWN_FIELD_NAME", f'Unknown field name: "{name}"')
                if kind is float and not (isinstance(value, (int, float)) and not isinstance(value, bool)):
                    try:
                        value = float(value) if typecast else None
                    except (TypeError, ValueError):
                        value = None
                    if value is None:
                        return self.error(422, "INVALID_VALUE_FOR_COLUMN", f'Field "{name}" cannot accept the '
                                                                           "provided value")
                if kind is str and not isinstance(value, str):
                    if not typecast:
                        return self.error(422, "INVALID_VALUE_FOR_COLUMN", f'Field "{name}" cannot accept the '
                                                                           "provided value")
                    value = str(value)
                out[name] = value
            checked.append((r.get("id"), out))
        if req.method == "POST":
            now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            made = [{"id": _rid(), "createdTime": now, "fields": f} for _, f in checked]
            rows.extend(made)
            return self._json({"records": made})
        if req.method == "PATCH":
            by_id = {r["id"]: r for r in rows}
            if any(rid not in by_id for rid, _ in checked):
                return self._json({"error": "NOT_FOUND"}, 404)
            for rid, f in checked:
                by_id[rid]["fields"].update(f)
            return self._json({"records": [by_id[rid] for rid, _ in checked]})
        return self._json({"error": "NOT_FOUND"}, 404)

    def _list(self, req: FakeRequest, rows: list[dict]) -> FakeResponse:
        size = int(req.param("pageSize") or 100)
        if not 1 <= size <= 100:
            return self.error(422, "INVALID_PAGE_SIZE", "pageSize must be between 1 and 100")
        formula = req.param("filterByFormula")
        if formula:  # only {Field}='value' is understood
            m = re.fullmatch(r"\{([^}]+)\}\s*=\s*'([^']*)'", formula)
            if m is None:
                return self.error(422, "INVALID_FILTER_BY_FORMULA", "The formula for filtering records is invalid")
            rows = [r for r in rows if str(r["fields"].get(m.group(1))) == m.group(2)]
        start = 0
        offset = req.param("offset")
        if offset:
            ids = [r["id"] for r in rows]
            rec = offset.split("/")[-1]
            if rec not in ids:
                return self.error(422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE", "The offset is no longer valid")
            start = ids.index(rec)
        names = req.params("fields")
        page = [{**r, "fields": {k: v for k, v in r["fields"].items() if not names or k in names}}
                for r in rows[start:start + size]]
        out: dict = {"records": page}
        if start + size < len(rows):
            out["offset"] = f"itr{_rid('')}/{rows[start + size]['id']}"
        return self._json(out)
