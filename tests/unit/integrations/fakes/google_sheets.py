"""Fake Google Sheets v4 with its OAuth server: installed-app PKCE, no refresh rotation, grids per sheet."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

from tests.fakes.http_fake import FakeHTTPServer, FakeRequest, FakeResponse
from tests.unit.integrations.fakes.oauth import AuthServer

CLIENT_ID = "1234567890-abc123def456.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-Fake0Client0Secret0Value0123"
SHEET_ID = "1qFopcWEGi_JqeOGvSs93SyFdsSI8J30NzrX92_HZBR0"
READ_ONLY_ID = "1ReadOnlyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
JSON_TYPE = "application/json; charset=UTF-8"
_CELLS = re.compile(r"([A-Z]+)?([0-9]+)?(?::([A-Z]+)?([0-9]+)?)?")


def col_letter(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def sheet_ref(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_]+", name) else "'" + name.replace("'", "''") + "'"


class GoogleSheetsFake(FakeHTTPServer):
    def __init__(self) -> None:
        super().__init__()
        self.oauth = AuthServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rotate_refresh=False,
                                expires_in=3599, token_prefix="ya29.a0")
        self.authorize_queries: list[dict[str, str]] = []
        self.revoked: set[str] = set()
        self.titles = {SHEET_ID: "AI spend", READ_ONLY_ID: "Finance (view only)"}
        self.grids: dict[str, dict[str, list[list]]] = {SHEET_ID: {"Sheet1": [], "Spend by model": []},
                                                        READ_ONLY_ID: {"Sheet1": [["x"]]}}
        self.formulas_entered: list[str] = []

    # ---- envelopes ---------------------------------------------------------------------
    @staticmethod
    def _json(obj: dict, status: int = 200) -> FakeResponse:
        return FakeResponse(status, json.dumps(obj).encode(), {"Content-Type": JSON_TYPE})

    def error(self, status: int, state: str, message: str) -> FakeResponse:
        return self._json({"error": {"code": status, "message": message, "status": state}}, status)

    def quota_exceeded(self) -> FakeResponse:
        return self.error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Write requests' and limit "
                          "'Write requests per minute per user' of service 'sheets.googleapis.com' for consumer "
                          "'project_number:1234567890'.")

    # ---- routing -----------------------------------------------------------------------
    def handle(self, req: FakeRequest) -> FakeResponse:
        if req.path == "/o/oauth2/v2/auth":
            self.authorize_queries.append({k: v[0] for k, v in req.query.items()})
            return self.oauth.authorize(req)
        if req.path == "/token":
            status, body = self.oauth.token(req)
            return self._json(body, status)
        auth = req.header("authorization") or ""
        token = auth[7:] if auth.startswith("Bearer ") else ""
        if token not in self.oauth.issued or token in self.revoked:
            return self.error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected "
                              "OAuth 2 access token, login cookie or other valid authentication credential.")
        m = re.fullmatch(r"/v4/spreadsheets/([A-Za-z0-9_-]+)(?:/values/([^/]+))?", req.path)
        if m is None:
            return self.error(404, "NOT_FOUND", "Requested entity was not found.")
        sid, raw_range = m.group(1), m.group(2)
        if sid not in self.grids:
            return self.error(404, "NOT_FOUND", "Requested entity was not found.")
        if raw_range is None:
            return self._spreadsheet(sid)
        append = raw_range.endswith(":append")
        a1 = unquote(raw_range.removesuffix(":append"))
        parsed = self._parse(sid, a1)
        if isinstance(parsed, FakeResponse):
            return parsed
        if req.method == "GET":
            return self._read(sid, *parsed)
        if sid == READ_ONLY_ID:
            return self.error(403, "PERMISSION_DENIED", "The caller does not have permission")
        option = req.param("valueInputOption")
        if option is None:
            return self.error(400, "INVALID_ARGUMENT", "'valueInputOption' is required but not specified")
        if option not in ("RAW", "USER_ENTERED"):
            return self.error(400, "INVALID_ARGUMENT", f"Invalid value at 'value_input_option' ({option})")
        body = req.json()
        values = body.get("values") if isinstance(body, dict) else None
        if not isinstance(values, list) or not all(isinstance(r, list) for r in values):
            return self.error(400, "INVALID_ARGUMENT", "Invalid value at 'data.values'")
        values = [[self._enter(v, option) for v in row] for row in values]
        if append and req.method == "POST":
            return self._append(sid, parsed[0], parsed[1], values)
        if req.method == "PUT":
            return self._write(sid, parsed[0], parsed[1], parsed[2], values)
        return self.error(404, "NOT_FOUND", "Requested entity was not found.")

    def _enter(self, value, option: str):  # type: ignore[no-untyped-def]
        if option == "USER_ENTERED" and isinstance(value, str):
            if value.startswith("'"):
                return value[1:]
            if value.startswith("="):
                self.formulas_entered.append(value)
        return value

    def _parse(self, sid: str, a1: str) -> tuple[str, int, int, int | None, int | None] | FakeResponse:
        """(sheet, first column, first row, last column, last row), 1-based; None = open-ended."""
        sheets = list(self.grids[sid])
        if "!" in a1:
            name, cells = a1.rsplit("!", 1)
            if name.startswith("'") and name.endswith("'"):
                name = name[1:-1].replace("''", "'")
        elif a1 in sheets or a1.strip("'") in sheets:
            name, cells = a1.strip("'"), ""
        else:
            name, cells = sheets[0], a1
        m = _CELLS.fullmatch(cells)
        if name not in sheets or m is None or (cells and not (m.group(1) or m.group(2))):
            return self.error(400, "INVALID_ARGUMENT", f"Unable to parse range: {a1}")
        c0 = col_number(m.group(1)) if m.group(1) else 1
        r0 = int(m.group(2)) if m.group(2) else 1
        c1 = col_number(m.group(3)) if m.group(3) else (c0 if m.group(2) and ":" not in cells and cells else None)
        r1 = int(m.group(4)) if m.group(4) else (r0 if m.group(1) and m.group(2) and ":" not in cells else None)
        return name, c0, r0, c1, r1

    def _spreadsheet(self, sid: str) -> FakeResponse:
        sheets = [{"properties": {"sheetId": i, "title": t, "index": i, "sheetType": "GRID",
                                  "gridProperties": {"rowCount": 1000, "columnCount": 26}}}
                  for i, t in enumerate(self.grids[sid])]
        return self._json({"spreadsheetId": sid, "properties": {"title": self.titles[sid], "locale": "en_US",
                                                               "autoRecalc": "ON_CHANGE", "timeZone": "Etc/GMT",
                                                               "defaultFormat": {}},
                           "sheets": sheets, "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{sid}/edit"})

    @staticmethod
    def _formatted(v):  # type: ignore[no-untyped-def]
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        return "" if v is None else str(v)

    def _read(self, sid: str, sheet: str, c0: int, r0: int, c1: int | None, r1: int | None) -> FakeResponse:
        grid = self.grids[sid][sheet]
        last_row = r1 or max(len(grid), r0)
        rows = []
        for r in range(r0, last_row + 1):
            row = grid[r - 1] if r - 1 < len(grid) else []
            cells = row[c0 - 1:c1] if c1 else row[c0 - 1:]
            rows.append([self._formatted(v) for v in cells])
        while rows and not any(rows[-1]):
            rows.pop()  # trailing empty rows are left out, as Google does
        end = f"{col_letter(c1 or 26)}{r1 or 1000}"
        out: dict = {"range": f"{sheet_ref(sheet)}!{col_letter(c0)}{r0}:{end}", "majorDimension": "ROWS"}
        if rows:
            out["values"] = rows
        return self._json(out)

    def _place(self, grid: list[list], row: int, col: int, values: list[list]) -> None:
        for i, vals in enumerate(values):
            while len(grid) < row + i:
                grid.append([])
            target = grid[row + i - 1]
            while len(target) < col - 1 + len(vals):
                target.append(None)
            target[col - 1:col - 1 + len(vals)] = vals

    def _append(self, sid: str, sheet: str, c0: int, values: list[list]) -> FakeResponse:
        grid = self.grids[sid][sheet]
        used = [i for i, row in enumerate(grid) if any(v not in (None, "") for v in row)]
        width = max((len(r) for r in values), default=0)
        out: dict = {"spreadsheetId": sid}
        if used:
            last_col = max(len(grid[i]) for i in used)
            out["tableRange"] = f"{sheet_ref(sheet)}!A1:{col_letter(last_col)}{used[-1] + 1}"
        start = (used[-1] + 2) if used else 1
        self._place(grid, start, c0, values)
        end_row = start + len(values) - 1
        out["updates"] = {"spreadsheetId": sid,
                          "updatedRange": f"{sheet_ref(sheet)}!{col_letter(c0)}{start}:"
                                          f"{col_letter(c0 + width - 1)}{end_row}",
                          "updatedRows": len(values), "updatedColumns": width,
                          "updatedCells": sum(len(r) for r in values)}
        return self._json(out)

    def _write(self, sid: str, sheet: str, c0: int, r0: int, values: list[list]) -> FakeResponse:
        self._place(self.grids[sid][sheet], r0, c0, values)
        width = max((len(r) for r in values), default=0)
        return self._json({"spreadsheetId": sid, "updatedRange": f"{sheet_ref(sheet)}!{col_letter(c0)}{r0}:"
                                                                 f"{col_letter(c0 + width - 1)}{r0 + len(values) - 1}",
                           "updatedRows": len(values), "updatedColumns": width,
                           "updatedCells": sum(len(r) for r in values)})
