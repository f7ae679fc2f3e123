"""OAuth for a desktop app end to end against a fake authorization server: PKCE S256 on a one-shot loopback
listener, state checked first, denial, timeout, refresh before expiry."""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from aicost_desktop.integrations import oauth
from aicost_desktop.integrations.errors import AuthFailed, OAuthError
from aicost_desktop.integrations.manager import IntegrationManager
from aicost_desktop.integrations.oauth import Endpoints, LoopbackListener, pkce_pair, s256


class Browser:
    """Plays the system browser: follows /authorize to its 302 and loads the redirect in another thread."""

    def __init__(self, tamper=None) -> None:  # type: ignore[no-untyped-def]
        self.tamper = tamper
        self.opened: list[str] = []
        self.pages: list[httpx.Response] = []
        self.done = threading.Event()

    def __call__(self, url: str) -> None:
        self.opened.append(url)
        threading.Thread(target=self._visit, args=(url,), daemon=True).start()

    def _visit(self, url: str) -> None:
        try:
            loc = httpx.get(url, timeout=5).headers["location"]
            if self.tamper:
                loc = self.tamper(loc)
            self.pages.append(httpx.get(loc, timeout=5))
        finally:
            self.done.set()


def _urls(fake) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"authorize": fake.base_url + "/oauth/v2/authorize", "token": fake.base_url + "/api/oauth.v2.access",
            "api": fake.base_url + "/api"}


def test_pkce_s256_matches_rfc_7636_appendix_b_and_verifiers_are_well_formed() -> None:
    assert s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128 and set(verifier) <= set(oauth.VERIFIER_ALPHABET)
    assert challenge == s256(verifier) and "=" not in challenge
    assert pkce_pair()[0] != verifier


def test_sign_in_with_pkce_on_a_loopback_port_stores_tokens_and_shows_a_close_tab_page(manager, slack, keychain) -> None:
    browser = Browser()
    manager.browser = browser
    rec = manager.connect_oauth("slack", client_id=slack.oauth.client_id, name="me", urls=_urls(slack))
    assert rec.status == "ok" and rec.auth_method == "oauth_pkce"
    q = {k: v[0] for k, v in parse_qs(urlsplit(browser.opened[0]).query).items()}
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert q["user_scope"] == "chat:write,channels:read,users:read" and "scope" not in q
    redirect = urlsplit(q["redirect_uri"])
    assert redirect.hostname == "127.0.0.1" and redirect.port and redirect.path == "/slack/callback"
    browser.done.wait(5)
    page = browser.pages[0]
    assert page.status_code == 200 and "You can close this tab" in page.text
    assert {k.rsplit(":", 1)[1] for k in keychain._data} == {"access_token", "refresh_token"}
    assert manager.store.secret(rec, "access_token") == slack.oauth.current_access
    # One-shot: the listener is gone once the code arrived.
    with pytest.raises(httpx.ConnectError):
        httpx.get(q["redirect_uri"], timeout=2)


def test_a_wrong_state_is_refused_before_the_code_is_looked_at(manager, slack) -> None:
    def forge(loc: str) -> str:
        parts = urlsplit(loc)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        q["state"] = "attacker"
        return parts._replace(query=urlencode(q)).geturl()

    manager.browser = browser = Browser(forge)
    with pytest.raises(OAuthError, match="state did not match"):
        manager.connect_oauth("slack", client_id=slack.oauth.client_id, urls=_urls(slack))
    browser.done.wait(5)
    assert browser.pages[0].status_code == 400
    assert slack.requests_to("/api/oauth.v2.access") == []  # the code was never exchanged
    assert manager.connections() == []


def test_user_denied(manager, slack) -> None:
    slack.oauth.deny = True
    manager.browser = Browser()
    with pytest.raises(OAuthError, match="denied") as err:
        manager.connect_oauth("slack", client_id=slack.oauth.client_id, urls=_urls(slack))
    assert "approve" in err.value.hint and manager.connections() == []


def test_no_answer_times_out_and_closes_the_listener(manager, slack) -> None:
    opened: list[str] = []
    manager.browser, manager.login_timeout = opened.append, 0.3
    t0 = time.monotonic()
    with pytest.raises(OAuthError, match="no answer from the browser within"):
        manager.connect_oauth("slack", client_id=slack.oauth.client_id, urls=_urls(slack))
    assert time.monotonic() - t0 < 3
    redirect = parse_qs(urlsplit(opened[0]).query)["redirect_uri"][0]
    with pytest.raises(httpx.ConnectError):
        httpx.get(redirect, timeout=2)


def test_other_paths_do_not_end_the_wait() -> None:
    listener = LoopbackListener("/cb", timeout=5)
    uri = listener.redirect_uri
    got: dict[str, str] = {}
    waiter = threading.Thread(target=lambda: got.update(listener.wait("s1")))
    waiter.start()
    assert httpx.get(uri.replace("/cb", "/favicon.ico"), timeout=5).status_code == 404
    assert httpx.get(uri + "?code=abc&state=s1", timeout=5).status_code == 200
    waiter.join(5)
    assert got["code"] == "abc"


def test_the_access_token_is_refreshed_before_it_expires(manager, slack, keychain) -> None:
    slack.oauth.expires_in = "60"  # a string, as Google sends it; inside the 120 s refresh margin
    manager.browser = Browser()
    rec = manager.connect_oauth("slack", client_id=slack.oauth.client_id, name="me", urls=_urls(slack))
    first_access, first_refresh = manager.store.secret(rec, "access_token"), manager.store.secret(rec, "refresh_token")
    assert manager.test("me").ok
    rec = manager.store.get("me")
    assert manager.store.secret(rec, "access_token") != first_access
    assert manager.store.secret(rec, "access_token") == slack.oauth.current_access
    assert manager.store.secret(rec, "refresh_token") != first_refresh  # rotated and re-stored
    refreshes = [r for r in slack.requests_to("/api/oauth.v2.access") if b"grant_type=refresh_token" in r.body]
    assert len(refreshes) == 1
    auth = slack.requests_to("/api/auth.test")[-1].header("authorization")
    assert auth == f"Bearer {slack.oauth.current_access}"
    assert len(keychain._data) == 2  # replaced in place, one entry per secret


def test_a_token_far_from_expiry_is_not_refreshed(manager, slack) -> None:
    manager.browser = Browser()
    manager.connect_oauth("slack", client_id=slack.oauth.client_id, name="me", urls=_urls(slack))
    manager.test("me")
    assert not [r for r in slack.requests_to("/api/oauth.v2.access") if b"refresh_token" in r.body]


def test_a_revoked_refresh_token_asks_to_sign_in_again(slack) -> None:
    ep = Endpoints(token_url=slack.base_url + "/api/oauth.v2.access")
    tokens = oauth.TokenSet("xoxp-old", "rt-revoked", expires_at=0)
    with httpx.Client() as client, pytest.raises(AuthFailed, match="sign in again"):
        oauth.refresh(ep, tokens, slack.oauth.client_id, client=client)
