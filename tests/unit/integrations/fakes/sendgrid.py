"""Fake SendGrid v3: /v3/mail/send validation, 202 + X-Message-Id, X-RateLimit-* on every reply, /v3/scopes."""

from __future__ import annotations

import json
import secrets
import time

from tests.fakes.http_fake import FakeHTTPServer, FakeRequest, FakeResponse

API_KEY = "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"
MAX_BODY = 30 * 1024 * 1024


class SendGridFake(FakeHTTPServer):
    def __init__(self) -> None:
        super().__init__()
        self.keys = {API_KEY: ["mail.send", "scopes.read"]}
        self.sent: list[dict] = []

    def _rl(self, remaining: int = 599) -> dict[str, str]:
        return {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": str(int(time.time()) + 60)}

    def _errors(self, status: int, *errors: dict) -> FakeResponse:
        return FakeResponse(status, json.dumps({"errors": list(errors)}).encode(),
                            {"Content-Type": "application/json", **self._rl()})

    def rate_limited(self, reset_in: int = 1) -> FakeResponse:
        h = {"Content-Type": "application/json", **self._rl(0)}
        h["X-RateLimit-Reset"] = str(int(time.time()) + reset_in)
        return FakeResponse(429, b'{"errors":[{"field":null,"message":"too many requests"}]}', h)

    def handle(self, req: FakeRequest) -> FakeResponse:
        auth = req.header("authorization") or ""
        key = auth[7:] if auth.startswith("Bearer ") else ""
        if key not in self.keys:
            return self._errors(401, {"field": None, "message": "The provided authorization grant is invalid, "
                                                                "expired, or revoked"})
        if req.path == "/v3/scopes" and req.method == "GET":
            return FakeResponse(200, json.dumps({"scopes": self.keys[key]}).encode(),
                                {"Content-Type": "application/json", **self._rl()})
        if req.path != "/v3/mail/send" or req.method != "POST":
            return self._errors(404, {"field": None, "message": "resource not found"})
        if "mail.send" not in self.keys[key]:
            return self._errors(403, {"field": None, "message": "access forbidden"})
        if len(req.body) > MAX_BODY:
            return self._errors(413, {"field": None, "message": "payload too large"})
        try:
            mail = json.loads(req.body)
        except ValueError:
            return self._errors(400, {"field": None, "message": "Bad Request", "help": None})
        errs = []
        ps = mail.get("personalizations")
        if not isinstance(ps, list) or not 1 <= len(ps) <= 1000:
            errs.append({"field": "personalizations", "message": "The personalizations field is required and must "
                                                                 "have at least one personalization.", "help": "http://sendgrid.com/docs"})
        else:
            for i, p in enumerate(ps):
                if not p.get("to") or any("@" not in (t.get("email") or "") for t in p["to"]):
                    errs.append({"field": f"personalizations.{i}.to", "message": "The to array is required for all "
                                 "personalization objects, and must have at least one email object with a valid email "
                                 "address.", "help": "http://sendgrid.com/docs"})
        if "@" not in ((mail.get("from") or {}).get("email") or ""):
            errs.append({"field": "from.email", "message": "The from email does not contain a valid address.",
                         "help": "http://sendgrid.com/docs"})
        has_subject = mail.get("subject") or all(p.get("subject") for p in ps or [{}])
        if not mail.get("template_id"):
            if not has_subject:
                errs.append({"field": "subject", "message": "The subject is required.", "help": None})
            content = mail.get("content") or []
            if not content:
                errs.append({"field": "content", "message": "Unless a valid template_id is provided, the content "
                                                            "parameter is required.", "help": None})
            types = [c.get("type") for c in content]
            if "text/plain" in types and "text/html" in types and types.index("text/plain") > types.index("text/html"):
                errs.append({"field": "content", "message": "If present, text/plain must be first.", "help": None})
        if errs:
            return self._errors(400, *errs)
        self.sent.append(mail)
        return FakeResponse(202, b"", {"X-Message-Id": secrets.token_urlsafe(16), **self._rl()})
