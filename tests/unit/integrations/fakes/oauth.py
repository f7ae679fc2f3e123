"""A fake OAuth authorization server: /authorize 302s to the loopback redirect, /token checks PKCE."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode

from tests.fakes.http_fake import FakeRequest, FakeResponse


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str | None
    method: str | None
    scope: str | None
    used: bool = False


@dataclass
class AuthServer:
    """Authorization-code + PKCE, refresh (rotating or not). Mixed into a service fake."""

    client_id: str = "client-123"
    client_secret: str | None = None      # required at the token endpoint when set
    deny: bool = False                    # the user clicks "Cancel"
    rotate_refresh: bool = True
    expires_in: int | str = 3600
    grants: dict[str, Grant] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)
    refresh_tokens: set[str] = field(default_factory=set)
    token_prefix: str = "at-"

    def authorize(self, req: FakeRequest) -> FakeResponse:
        q = {k: v[0] for k, v in req.query.items()}
        redirect = q.get("redirect_uri", "")
        if q.get("client_id") != self.client_id or not redirect.startswith("http://127.0.0.1:"):
            return FakeResponse(400, b"bad client_id or redirect_uri", {"Content-Type": "text/plain"})
        state = q.get("state", "")
        if self.deny:
            return FakeResponse(302, b"", {"Location": f"{redirect}?{urlencode({'error': 'access_denied', 'state': state})}"})
        code = "code-" + secrets.token_hex(8)
        self.grants[code] = Grant(q["client_id"], redirect, q.get("code_challenge"), q.get("code_challenge_method"),
                                  q.get("scope") or q.get("user_scope"))
        return FakeResponse(302, b"", {"Location": f"{redirect}?{urlencode({'code': code, 'state': state})}"})

    def _client_ok(self, req: FakeRequest, form: dict[str, str]) -> bool:
        cid, secret = form.get("client_id"), form.get("client_secret")
        auth = req.header("authorization") or ""
        if auth.startswith("Basic "):
            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        if cid != self.client_id:
            return False
        return self.client_secret is None or secret == self.client_secret

    def token(self, req: FakeRequest) -> tuple[int, dict]:
        """(status, body) of a token request; the service fake wraps it in its own envelope."""
        if not (req.header("content-type") or "").startswith("application/x-www-form-urlencoded"):
            return 400, {"error": "invalid_request", "error_description": "form body required"}
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        if not self._client_ok(req, form):
            return 401, {"error": "invalid_client"}
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            g = self.grants.get(form.get("code", ""))
            if g is None or g.used:
                return 400, {"error": "invalid_grant", "error_description": "Malformed auth code."}
            if form.get("redirect_uri") != g.redirect_uri:
                return 400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"}
            verifier = form.get("code_verifier", "")
            expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if g.method != "S256" or not verifier or expected != g.challenge:
                return 400, {"error": "invalid_grant", "error_description": "code_verifier does not match"}
            g.used = True
            return 200, self._issue(g.scope, with_refresh=True)
        if grant_type == "refresh_token":
            rt = form.get("refresh_token", "")
            if rt not in self.refresh_tokens:
                return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
            if self.rotate_refresh:
                self.refresh_tokens.discard(rt)
            return 200, self._issue(None, with_refresh=self.rotate_refresh)
        return 400, {"error": "unsupported_grant_type"}

    def _issue(self, scope: str | None, with_refresh: bool) -> dict:
        access = self.token_prefix + secrets.token_hex(12)
        self.issued.append(access)
        body: dict = {"access_token": access, "token_type": "Bearer", "expires_in": self.expires_in}
        if scope:
            body["scope"] = scope
        if with_refresh:
            rt = "rt-" + secrets.token_hex(12)
            self.refresh_tokens.add(rt)
            body["refresh_token"] = rt
        return body

    @property
    def current_access(self) -> str | None:
        return self.issued[-1] if self.issued else None
