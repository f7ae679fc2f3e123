"""OAuth for a desktop app: authorization code + PKCE on a one-shot 127.0.0.1 listener, device flow, refresh."""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import secrets
import string
import threading
import time
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from aicost_desktop.domain.redact import register
from aicost_desktop.integrations.errors import AuthFailed, NetworkError, OAuthError
from aicost_desktop.integrations.http import body_json

log = logging.getLogger("aicost.integrations.oauth")
VERIFIER_ALPHABET = string.ascii_letters + string.digits + "-._~"  # RFC 7636 unreserved characters
LOGIN_TIMEOUT = 300.0  # five minutes for the user to sign in
REFRESH_MARGIN = 120.0  # refresh this many seconds before the access token expires
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def pkce_pair(length: int = 64) -> tuple[str, str]:
    """(code_verifier, S256 code_challenge): BASE64URL(SHA256(verifier)) without padding."""
    if not 43 <= length <= 128:
        raise ValueError("a PKCE verifier has 43..128 characters")
    verifier = "".join(secrets.choice(VERIFIER_ALPHABET) for _ in range(length))
    return verifier, s256(verifier)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Endpoints:
    """Resolved OAuth URLs of one connection (a spec's defaults with the connection's overrides)."""

    authorize_url: str = ""
    token_url: str = ""
    device_code_url: str = ""
    scopes: tuple[str, ...] = ()
    scope_separator: str = " "
    scope_param: str = "scope"
    extra_authorize: tuple[tuple[str, str], ...] = ()
    client_auth: str = "body"
    redirect_path: str = "/callback"

    @property
    def scope(self) -> str:
        return self.scope_separator.join(self.scopes)


@dataclass(frozen=True)
class TokenSet:
    """Access token, optional refresh token and expiry (epoch seconds)."""

    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None
    scope: str | None = None
    token_type: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_response(cls, data: Mapping[str, Any], now: float, previous: "TokenSet | None" = None) -> "TokenSet":
        src = data
        if not data.get("access_token") and isinstance(data.get("authed_user"), dict):
            src = data["authed_user"]  # Slack PKCE installs carry only a user token
        access = src.get("access_token")
        if not isinstance(access, str) or not access:
            raise OAuthError("oauth", "the token endpoint answered without an access token")
        register(access)
        refresh = src.get("refresh_token") or (previous.refresh_token if previous else None)
        register(refresh)
        expires_in = src.get("expires_in")
        try:
            expires_at = now + float(expires_in) if expires_in not in (None, "") else None  # Google may send a string
        except (TypeError, ValueError):
            expires_at = None
        return cls(access, refresh, expires_at, src.get("scope"), src.get("token_type"),
                   {k: v for k, v in data.items() if k in ("team", "bot_user_id", "workspace_name", "incoming_webhook")})

    def due(self, now: float, margin: float = REFRESH_MARGIN) -> bool:
        return self.expires_at is not None and now >= self.expires_at - margin


_PAGE = ("<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>"
         "<body style=\"font-family:sans-serif;max-width:36em;margin:4em auto\"><h1>{title}</h1><p>{text}</p>"
         "</body></html>")


@dataclass
class Callback:
    params: dict[str, str]


class LoopbackListener:
    """Listens on 127.0.0.1 on a random port for exactly one redirect to `path`, then stops."""

    def __init__(self, path: str = "/callback", timeout: float = LOGIN_TIMEOUT) -> None:
        self.path, self.timeout = path, timeout
        self._result: Callback | None = None
        self._expected_state: str | None = None
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                listener._serve(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the URL holds the code
                pass

        self._httpd = HTTPServer(("127.0.0.1", 0), Handler)

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{self.path}"

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        if parts.path != self.path:
            self._reply(h, 404, "Not found", "This address is only used to finish signing in.")
            return
        params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        # state first: a redirect we did not start must not be able to report anything, not even an error.
        if not secrets.compare_digest(params.get("state", ""), self._expected_state or "\0"):
            self._reply(h, 400, "Sign-in failed", "This response does not belong to the sign-in AI Cost Tracker "
                                                  "started. Start again from the app.")
            self._result = Callback({"error": "state_mismatch"})
        elif params.get("error"):
            self._reply(h, 200, "Sign-in cancelled", "You can close this tab and return to AI Cost Tracker.")
            self._result = Callback(params)
        elif params.get("code"):
            self._reply(h, 200, "Signed in", "You can close this tab and return to AI Cost Tracker.")
            self._result = Callback(params)
        else:
            self._reply(h, 400, "Sign-in failed", "The service sent no authorization code.")
            self._result = Callback({"error": "no_code"})

    @staticmethod
    def _reply(h: BaseHTTPRequestHandler, status: int, title: str, text: str) -> None:
        body = _PAGE.format(title=html.escape(title), text=html.escape(text)).encode("utf-8")
        h.send_response(status)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Cache-Control", "no-store")
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(body)

    def wait(self, state: str, cancel: threading.Event | None = None) -> dict[str, str]:
        """The callback's query once one arrives; OAuthError on timeout, cancel, wrong state or a denial."""
        self._expected_state = state
        deadline = time.monotonic() + self.timeout
        try:
            while self._result is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise OAuthError("oauth", f"no answer from the browser within {self.timeout:.0f} s",
                                     hint="sign in again, and finish in the browser within five minutes")
                if cancel is not None and cancel.is_set():
                    raise OAuthError("oauth", "sign-in cancelled", hint="start it again when ready")
                self._httpd.timeout = min(left, 0.25)
                self._httpd.handle_request()
        finally:
            self.close()
        params = self._result.params
        err = params.get("error")
        if err == "state_mismatch":
            raise OAuthError("oauth", "the redirect's state did not match this sign-in (possible forgery); ignored")
        if err:
            desc = params.get("error_description") or err
            if err == "access_denied":
                raise OAuthError("oauth", f"access was denied in the browser ({desc})",
                                 hint="approve the request to connect, or choose another auth method")
            raise OAuthError("oauth", f"the service refused the sign-in: {desc}")
        register(params.get("code"))
        return params

    def close(self) -> None:
        self._httpd.server_close()


def _token_request(client: httpx.Client, ep: Endpoints, form: dict[str, str], client_id: str,
                   client_secret: str | None) -> dict[str, Any]:
    headers = {"Accept": "application/json"}  # GitHub answers form-encoded otherwise
    auth = httpx.Auth()  # no client authentication (what httpx itself uses when there is none)
    if ep.client_auth == "basic":
        auth = httpx.BasicAuth(client_id, client_secret or "")
    else:
        form["client_id"] = client_id
        if client_secret:
            form["client_secret"] = client_secret
    register(client_secret)
    try:
        resp = client.post(ep.token_url, data=form, headers=headers, auth=auth)
    except httpx.TransportError as exc:
        raise NetworkError("oauth", f"token endpoint unreachable: {type(exc).__name__}") from None
    data = body_json(resp)
    if not isinstance(data, dict):
        raise OAuthError("oauth", f"token endpoint answered HTTP {resp.status_code} without JSON")
    # Errors come as HTTP 400 (RFC 6749), HTTP 200 with "error" (GitHub) or ok:false (Slack).
    if data.get("error") or resp.status_code != 200 or data.get("ok") is False:
        code = str(data.get("error") or f"HTTP {resp.status_code}")
        desc = data.get("error_description") or code
        kind = AuthFailed if code in ("invalid_grant", "invalid_client", "bad_client_secret") else OAuthError
        err = kind("oauth", f"token request refused: {desc}", code=code, status=resp.status_code,
                   hint="sign in again" if code == "invalid_grant" else None)
        interval = data.get("interval")
        err.interval = float(interval) if isinstance(interval, (int, float)) else None
        raise err
    return data


def authorize(ep: Endpoints, client_id: str, *, client: httpx.Client, client_secret: str | None = None,
              browser: Callable[[str], Any] = webbrowser.open, timeout: float = LOGIN_TIMEOUT,
              cancel: threading.Event | None = None, clock: Callable[[], float] = time.time) -> TokenSet:
    """Authorization code + PKCE: open the system browser, wait for the loopback redirect, exchange the code."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(24)
    listener = LoopbackListener(ep.redirect_path, timeout)
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": listener.redirect_uri,
             "state": state, "code_challenge": challenge, "code_challenge_method": "S256"}
    if ep.scopes:
        query[ep.scope_param] = ep.scope
    query.update(dict(ep.extra_authorize))
    sep = "&" if "?" in ep.authorize_url else "?"
    try:
        browser(f"{ep.authorize_url}{sep}{urlencode(query)}")
    except Exception as exc:  # noqa: BLE001 - no browser: the listener is useless
        listener.close()
        raise OAuthError("oauth", f"could not open the system browser ({type(exc).__name__})") from None
    params = listener.wait(state, cancel)
    form = {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": listener.redirect_uri,
            "code_verifier": verifier}
    return TokenSet.from_response(_token_request(client, ep, form, client_id, client_secret), clock())


def refresh(ep: Endpoints, tokens: TokenSet, client_id: str, *, client: httpx.Client,
            client_secret: str | None = None, clock: Callable[[], float] = time.time) -> TokenSet:
    """A new access token from the refresh token; providers that do not rotate keep the old refresh token."""
    if not tokens.refresh_token:
        raise AuthFailed("oauth", "the access token expired and there is no refresh token", hint="sign in again")
    form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
    return TokenSet.from_response(_token_request(client, ep, form, client_id, client_secret), clock(), tokens)


@dataclass(frozen=True)
class DeviceCode:
    """What the user is shown: go to `verification_uri` and type `user_code`."""

    user_code: str
    verification_uri: str
    expires_in: int
    interval: int


def device_flow(ep: Endpoints, client_id: str, *, client: httpx.Client, show: Callable[[DeviceCode], Any],
                sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
                cancel: threading.Event | None = None) -> TokenSet:
    """RFC 8628 device authorization: show the code, poll honouring `interval` and `slow_down` until approved."""
    form = {"client_id": client_id}
    if ep.scopes:
        form["scope"] = ep.scope
    try:
        resp = client.post(ep.device_code_url, data=form, headers={"Accept": "application/json"})
    except httpx.TransportError as exc:
        raise NetworkError("oauth", f"device endpoint unreachable: {type(exc).__name__}") from None
    data = body_json(resp)
    if resp.status_code != 200 or not isinstance(data, dict) or data.get("error") or "device_code" not in data:
        desc = (data or {}).get("error_description") or (data or {}).get("error") if isinstance(data, dict) else None
        raise OAuthError("oauth", f"device code request refused: {desc or f'HTTP {resp.status_code}'}",
                         hint="check that device flow is enabled for this OAuth app")
    device_code = str(data["device_code"])
    register(device_code)
    interval = float(data.get("interval") or 5)
    code = DeviceCode(str(data["user_code"]), str(data["verification_uri"]), int(data.get("expires_in") or 900),
                      int(interval))
    show(code)
    deadline = clock() + code.expires_in
    while True:
        if cancel is not None and cancel.is_set():
            raise OAuthError("oauth", "sign-in cancelled", hint="start it again when ready")
        sleep(interval)
        if clock() > deadline:
            raise OAuthError("oauth", "the device code expired before it was approved")
        poll = {"device_code": device_code, "grant_type": DEVICE_GRANT}
        try:
            return TokenSet.from_response(_token_request(client, ep, poll, client_id, None), clock())
        except OAuthError as exc:
            if exc.code == "authorization_pending":
                continue
            if exc.code == "slow_down":
                # RFC 8628 §3.5: add 5 s; GitHub also sends the new interval, which wins when larger.
                interval = max(interval + 5, exc.interval or 0.0)
                continue
            if exc.code == "access_denied":
                raise OAuthError("oauth", "access was denied on the device page",
                                 hint="approve the request to connect") from None
            if exc.code == "expired_token":
                raise OAuthError("oauth", "the device code expired before it was approved") from None
            raise
