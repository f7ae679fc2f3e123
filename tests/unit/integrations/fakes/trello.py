"""Fake Trello REST v1: key+token in the query or an OAuth header, plain-text errors, cards, boards, lists."""

from __future__ import annotations

import html
import json
import re
import secrets
from datetime import datetime, timezone

from tests.fakes.http_fake import FakeHTTPServer, FakeRequest, FakeResponse

API_KEY = "0123456789abcdef0123456789abcdef"
TOKEN = "ATTA" + "9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e" + "1A2B3C4D"
READ_TOKEN = "ATTA" + "0" * 64 + "READONLY"
BOARD = {"id": "5abbe4b7ddc1b351ef961400", "name": "AI spend", "desc": "", "closed": False,
         "url": "https://trello.com/b/AbCdEfGh/ai-spend", "shortLink": "AbCdEfGh"}
CLOSED_BOARD = {"id": "5abbe4b7ddc1b351ef961499", "name": "Old", "desc": "", "closed": True,
                "url": "https://trello.com/b/ZzZzZzZz/old", "shortLink": "ZzZzZzZz"}
LIST_ID = "5abbe4b7ddc1b351ef961414"
LISTS = [{"id": LIST_ID, "name": "Alerts", "closed": False, "idBoard": BOARD["id"], "pos": 16384},
         {"id": "5abbe4b7ddc1b351ef961415", "name": "Done", "closed": False, "idBoard": BOARD["id"], "pos": 32768}]


def text(status: int, body: str) -> FakeResponse:
    return FakeResponse(status, body.encode(), {"Content-Type": "text/plain; charset=utf-8"})


class TrelloFake(FakeHTTPServer):
    def __init__(self) -> None:
        super().__init__()
        self.keys = {API_KEY}
        self.tokens = {TOKEN: {"read", "write"}, READ_TOKEN: {"read"}}
        self.cards: list[dict] = []

    @staticmethod
    def _json(obj, status: int = 200) -> FakeResponse:  # type: ignore[no-untyped-def]
        return FakeResponse(status, json.dumps(obj).encode(), {"Content-Type": "application/json; charset=utf-8"})

    def rate_limited(self, which: str = "API_TOKEN_LIMIT_EXCEEDED") -> FakeResponse:
        return self._json({"error": which, "message": "Rate limit exceeded"}, 429)

    def _credentials(self, req: FakeRequest) -> tuple[str | None, str | None]:
        auth = req.header("authorization") or ""
        if auth.startswith("OAuth "):
            pairs = dict(re.findall(r'(\w+)="([^"]*)"', auth))
            return pairs.get("oauth_consumer_key"), pairs.get("oauth_token")
        return req.param("key"), req.param("token")

    def handle(self, req: FakeRequest) -> FakeResponse:
        if req.path == "/1/authorize":
            return self._authorize(req)
        key, token = self._credentials(req)
        if key not in self.keys:
            return text(401, "invalid key")
        if token not in self.tokens:
            return text(401, "invalid token")
        path = req.path
        if req.method == "GET":
            if path in ("/1/members/me", f"/1/tokens/{token}/member"):
                return self._json({"id": "5abbe4b7ddc1b351ef960001", "username": "grace", "fullName": "Grace Hopper",
                                   "url": "https://trello.com/grace"})
            if path == "/1/members/me/boards":
                filt = req.param("filter") or "all"
                boards = [b for b in (BOARD, CLOSED_BOARD) if filt == "all" or (filt == "open") != b["closed"]]
                fields = (req.param("fields") or "").split(",")
                return self._json([{k: v for k, v in b.items() if k == "id" or not fields[0] or k in fields}
                                   for b in boards])
            m = re.fullmatch(r"/1/boards/([^/]+)/lists", path)
            if m:
                if m.group(1) not in (BOARD["id"], BOARD["shortLink"]):
                    return text(404, "The requested resource was not found.")
                return self._json(LISTS)
            return text(404, "Cannot GET " + path)
        if req.method == "POST" and path == "/1/cards":
            if "write" not in self.tokens[token]:
                return text(401, "unauthorized permission requested")
            args = {k: v[0] for k, v in req.query.items() if k not in ("key", "token")}
            if req.body:
                args.update(req.json())
            if args.get("idList") not in {x["id"] for x in LISTS}:
                return text(400, "invalid value for idList")
            if len(args.get("desc") or "") > 16384:
                return text(400, "invalid value for desc")
            if args.get("pos", "bottom") not in ("top", "bottom") and not str(args["pos"]).replace(".", "").isdigit():
                return text(400, "invalid value for pos")
            n = len(self.cards) + 42
            short = secrets.token_urlsafe(6)[:8]
            slug = re.sub(r"[^a-z0-9]+", "-", (args.get("name") or "").lower()).strip("-")
            card = {"id": secrets.token_hex(12), "idShort": n, "name": args.get("name", ""), "desc": args.get("desc", ""),
                    "idList": args["idList"], "idBoard": BOARD["id"], "closed": False,
                    "pos": 8192 if args.get("pos") == "top" else 65536, "due": args.get("due"), "dueComplete": False,
                    "dateLastActivity": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "url": f"https://trello.com/c/{short}/{n}-{slug}", "shortUrl": f"https://trello.com/c/{short}",
                    "idLabels": [x for x in (args.get("idLabels") or "").split(",") if x], "labels": [],
                    "idMembers": [], "idChecklists": [], "badges": {}}
            self.cards.append(card)
            return self._json(card)
        return text(404, f"Cannot {req.method} {path}")

    def _authorize(self, req: FakeRequest) -> FakeResponse:
        """The approval page, already approved: the token in the return_url's fragment, or shown to copy."""
        if req.param("key") not in self.keys:
            return text(400, "invalid key")
        if req.param("response_type") != "token":
            return text(400, "invalid response_type")
        token = TOKEN if "write" in (req.param("scope") or "") else READ_TOKEN
        ret = req.param("return_url")
        if ret:
            return FakeResponse(302, b"", {"Location": f"{ret}#token={token}"})
        page = (f"<html><body><p>You have granted access to {html.escape(req.param('name') or '')}.</p>"
                f"<pre>{token}</pre></body></html>")
        return FakeResponse(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})
