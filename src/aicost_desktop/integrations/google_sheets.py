"""Google Sheets: sign in with Google (installed app, PKCE, loopback); append rows, read a range, write cells."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations import errors as E
from aicost_desktop.integrations.connection import Connection
from aicost_desktop.integrations.http import Dialect, body_json
from aicost_desktop.integrations.spec import (Action, ActionParam, AuthKind, AuthMethod, Category, ConnectionTest,
                                              CredentialField, IntegrationSpec, OAuthEndpoints, ParamType)

SCOPE = "https://www.googleapis.com/auth/spreadsheets"
INPUT_OPTIONS = ("USER_ENTERED", "RAW")
_SHEET_ID = re.compile(r"[A-Za-z0-9_-]{20,}")
_HINTS = {
    "UNAUTHENTICATED": "Google refused the sign-in (revoked or expired): connect Google Sheets again",
    "PERMISSION_DENIED": "the signed-in account cannot edit this spreadsheet: share it with the account (Editor)",
    "NOT_FOUND": "no such spreadsheet: copy the id between /d/ and /edit from its URL",
    "INVALID_ARGUMENT": "Google refused a parameter: check the sheet name in the range (quote names with spaces: "
                        "'My sheet'!A1)",
}


def spreadsheet_id(value: str) -> str:
    """The id, also taken from a spreadsheet URL (…/spreadsheets/d/<id>/edit); it becomes part of the path."""
    value = (value or "").strip()
    m = re.search(r"/spreadsheets/d/([A-Za-z0-9_-]+)", value)
    sid = m.group(1) if m else value
    if not _SHEET_ID.fullmatch(sid):
        raise InputError("spreadsheet_id", value, "must be a spreadsheet id or URL (…/spreadsheets/d/<id>/edit)")
    return sid


def _cell(value: Any, formulas: bool) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # USER_ENTERED parses it as a number; RAW keeps the exact digits
    if isinstance(value, str) and not formulas and value[:1] in ("=", "+", "-", "@") and not _number(value):
        # A leading apostrophe makes Sheets keep the text: alert text must not become a formula.
        return "'" + value
    return value


def _number(text: str) -> bool:
    return re.fullmatch(r"[+-]?[0-9][0-9,]*(\.[0-9]+)?", text) is not None


def rows_of(values: Any) -> list[list[Any]]:
    """A list of rows (a single flat row is one row); cells are text, numbers, booleans or empty."""
    if isinstance(values, list) and values and not any(isinstance(v, list) for v in values):
        values = [values]
    if not isinstance(values, list) or not values or not all(isinstance(r, list) for r in values):
        raise InputError("values", values, "must be a JSON array of rows, e.g. [[\"2026-08-17\", \"OpenAI\", 412.37]]")
    for row in values:
        for v in row:
            if not (v is None or isinstance(v, (str, int, float, bool, Decimal))):
                raise InputError("values", v, "a cell must be text, a number, true/false or null")
    return values


class GoogleApi(Dialect):
    """2xx is success; errors are `{"error": {code, message, status}}`. 429 RESOURCE_EXHAUSTED names no wait:
    exponential backoff (the per-minute quotas refill every minute)."""

    service = "Google Sheets"

    def error_fields(self, resp: httpx.Response) -> tuple[str, str | None]:
        data = body_json(resp)
        err = data.get("error") if isinstance(data, dict) else None
        if isinstance(err, dict) and err.get("message"):
            return f"{err.get('status')}: {err['message']}", str(err.get("status") or "") or None
        return super().error_fields(resp)

    def kind(self, resp: httpx.Response, message: str, code: str | None) -> type[E.IntegrationError]:
        if code == "RESOURCE_EXHAUSTED":
            return E.RateLimited
        return super().kind(resp, message, code)

    def hint(self, resp: httpx.Response, kind: type[E.IntegrationError], code: str | None) -> str | None:
        return _HINTS.get(code or "")


class GoogleSheetsClient:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.http = conn.http(GoogleApi())

    def _id(self, sheet: str | None) -> str:
        return spreadsheet_id(sheet or self.conn.require("spreadsheet_id"))

    def _call(self, method: str, path: str, params: dict[str, str] | None = None,
              body: dict[str, Any] | None = None) -> dict[str, Any]:
        resp = self.http.request(method, f"{self.conn.url()}/spreadsheets/{path}", params=params, json=body,
                                 headers={"Authorization": f"Bearer {self.conn.token()}"})
        data: dict[str, Any] = resp.json()
        return data

    @staticmethod
    def _range(a1: str) -> str:
        if not a1 or not a1.strip():
            raise InputError("range", a1, "give an A1 range such as Sheet1!A1 or 'My sheet'!A:D")
        return quote(a1.strip(), safe="")  # '!' ':' and quotes encoded, as gspread sends them

    def test(self) -> str:
        a1 = self.conn.value("test_range") or "A1:Z1"
        data = self._call("GET", f"{self._id(None)}/values/{self._range(a1)}")
        return f"read {data.get('range')} ({len(data.get('values') or [])} row(s))"

    def list_sheets(self, sheet: str | None = None) -> list[dict[str, Any]]:
        data = self._call("GET", self._id(sheet), {"includeGridData": "false"})
        out = []
        for s in data.get("sheets", []):
            p = s.get("properties") or {}
            grid = p.get("gridProperties") or {}
            out.append({"title": p.get("title"), "sheet_id": p.get("sheetId"), "index": p.get("index"),
                        "rows": grid.get("rowCount"), "columns": grid.get("columnCount")})
        return out

    def read_range(self, a1: str, sheet: str | None = None) -> list[list[Any]]:
        data = self._call("GET", f"{self._id(sheet)}/values/{self._range(a1)}")
        return list(data.get("values") or [])  # Google leaves "values" out of an empty range

    def append_rows(self, rows: Any, a1: str = "A1", sheet: str | None = None, value_input_option: str = "USER_ENTERED",
                    formulas: bool = False) -> dict[str, Any]:
        """Append after the table found at `a1` (INSERT_ROWS: rows below are pushed down, not overwritten).
        Not retried after a 5xx: the rows may have been appended."""
        cells = [[_cell(v, formulas) for v in row] for row in rows_of(rows)]
        params = {"valueInputOption": value_input_option, "insertDataOption": "INSERT_ROWS",
                  "includeValuesInResponse": "false"}
        data = self._call("POST", f"{self._id(sheet)}/values/{self._range(a1)}:append", params,
                          {"majorDimension": "ROWS", "values": cells})
        up = data.get("updates") or {}
        return {"updated_range": up.get("updatedRange"), "updated_rows": up.get("updatedRows"),
                "updated_cells": up.get("updatedCells"), "table_range": data.get("tableRange")}

    def write_cells(self, a1: str, rows: Any, sheet: str | None = None, value_input_option: str = "USER_ENTERED",
                    formulas: bool = False) -> dict[str, Any]:
        """Overwrite the cells of `a1` (a PUT: repeating it writes the same cells, so it may be retried)."""
        cells = [[_cell(v, formulas) for v in row] for row in rows_of(rows)]
        data = self._call("PUT", f"{self._id(sheet)}/values/{self._range(a1)}",
                          {"valueInputOption": value_input_option}, {"majorDimension": "ROWS", "values": cells})
        return {"updated_range": data.get("updatedRange"), "updated_cells": data.get("updatedCells")}


_SHEET = ActionParam("spreadsheet", "Spreadsheet id or URL", help="default: the connection's spreadsheet")
_OPTION = ActionParam("value_input_option", "Value input", ParamType.CHOICE, default="USER_ENTERED",
                      choices=INPUT_OPTIONS, help="USER_ENTERED parses numbers and dates as typed; RAW stores text")
_FORMULAS = ActionParam("formulas", "Allow formulas", ParamType.BOOL, default=False,
                        help="off: text starting with = + - @ is stored as text")

SPEC = IntegrationSpec(
    id="google_sheets", name="Google Sheets", category=Category.DOCS_SHEETS, icon="google-sheets",
    docs="docs/integrations/google-sheets.md",
    description="Append daily or weekly spend by model to a spreadsheet; read and write ranges.",
    fields=(
        CredentialField("client_id", "OAuth client id", placeholder="1234-abc.apps.googleusercontent.com",
                        help="a Google Cloud OAuth client of type Desktop app"),
        CredentialField("client_secret", "OAuth client secret", secret=True, required=False,
                        help="Desktop-app clients have one; Google does not treat it as confidential"),
        CredentialField("spreadsheet_id", "Spreadsheet id", pattern=r"[A-Za-z0-9_-]{20,}",
                        pattern_hint="the id between /d/ and /edit in the spreadsheet's URL"),
        CredentialField("test_range", "Range read by the connection test", required=False, default="A1:Z1"),
    ),
    auth_methods=(
        AuthMethod(AuthKind.OAUTH_PKCE, "Sign in with Google", ("client_id", "client_secret", "spreadsheet_id",
                                                               "test_range"),
                   OAuthEndpoints(authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
                                  token_url="https://oauth2.googleapis.com/token", scopes=(SCOPE,),
                                  # offline: a refresh token; consent: issued again on a re-connect
                                  extra_authorize=(("access_type", "offline"), ("prompt", "consent")),
                                  client_auth="body", redirect_path="/")),
    ),
    base_urls={"api": "https://sheets.googleapis.com/v4"},
    test=ConnectionTest("GET /v4/spreadsheets/{id}/values/{test range}", "HTTP 200 with the range read"),
    actions=(
        Action("append_rows", "Append rows", "Append rows after the table (a weekly spend report)",
               (ActionParam("values", "Rows (JSON)", ParamType.JSON, required=True),
                ActionParam("range", "Range", default="A1", help="where the table is: Sheet1!A1, 'Spend'!A:D"),
                _SHEET, _OPTION, _FORMULAS),
               lambda c, p: c.append_rows(p["values"], p["range"], p["spreadsheet"], p["value_input_option"],
                                          p["formulas"])),
        Action("write_cells", "Write cells", "Overwrite a range with values",
               (ActionParam("range", "Range", required=True), ActionParam("values", "Rows (JSON)", ParamType.JSON,
                                                                          required=True), _SHEET, _OPTION, _FORMULAS),
               lambda c, p: c.write_cells(p["range"], p["values"], p["spreadsheet"], p["value_input_option"],
                                          p["formulas"])),
        Action("read_range", "Read a range", "The values of a range",
               (ActionParam("range", "Range", required=True), _SHEET),
               lambda c, p: c.read_range(p["range"], p["spreadsheet"]), destination=False),
        Action("list_sheets", "List sheets", "The spreadsheet's sheets (tabs)", (_SHEET,),
               lambda c, p: c.list_sheets(p["spreadsheet"]), destination=False),
    ),
    client=GoogleSheetsClient,
)
