"""Trello against its fake: key + pasted token in an OAuth header, boards, lists, cards, plain-text errors, 429."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations import errors as E
from aicost_desktop.integrations.trello import authorize_url
from tests.fakes.http_fake import FakeHTTPServer, serving
from tests.unit.integrations.fakes.trello import API_KEY, BOARD, LIST_ID, READ_TOKEN, TOKEN, TrelloFake


@pytest.fixture
def trello():  # type: ignore[no-untyped-def]
    with serving(TrelloFake()) as fake:
        yield fake


def _connect(manager, trello, token: str = TOKEN, name: str = "board") -> None:  # type: ignore[no-untyped-def]
    manager.connect("trello", {"api_key": API_KEY, "token": token}, name=name, urls={"api": trello.base_url + "/1"})


def test_credentials_go_in_a_header_never_the_query(manager, trello) -> None:
    _connect(manager, trello)
    assert manager.store.get("board").status_message == "signed in as grace (Grace Hopper)"
    req = trello.requests_to("/1/members/me")[0]
    assert req.header("authorization") == f'OAuth oauth_consumer_key="{API_KEY}", oauth_token="{TOKEN}"'
    assert "key" not in req.query and "token" not in req.query


def test_boards_lists_and_a_card(manager, trello) -> None:
    _connect(manager, trello)
    assert [b["name"] for b in manager.run("board", "list_boards", {})] == ["AI spend"]
    assert [b["name"] for b in manager.run("board", "list_boards", {"include_closed": "yes"})] == ["AI spend", "Old"]
    assert manager.run("board", "list_lists", {"board": BOARD["shortLink"]})[0] == {"id": LIST_ID, "name": "Alerts"}
    out = manager.run("board", "create_card", {"list_id": LIST_ID, "name": "AI spend over budget: OpenAI",
                                               "desc": "$531.90 forecast vs $500 budget"})
    card = trello.cards[0]
    assert out == {"id": card["id"], "url": card["shortUrl"], "name": "AI spend over budget: OpenAI"}
    req = trello.requests_to("/1/cards")[0]
    assert req.json() == {"idList": LIST_ID, "name": "AI spend over budget: OpenAI",
                          "desc": "$531.90 forecast vs $500 budget", "pos": "top"}
    assert req.header("content-type") == "application/json"


def test_plain_text_errors_get_hints(manager, trello) -> None:
    _connect(manager, trello)
    with pytest.raises(E.InvalidRequest, match="invalid value for idList") as err:
        manager.run("board", "create_card", {"list_id": "5abbe4b7ddc1b351ef961999", "name": "x"})
    assert "list_lists" in err.value.hint
    with pytest.raises(E.NotFound, match="not found"):
        manager.run("board", "list_lists", {"board": "5abbe4b7ddc1b351ef961401"})
    with pytest.raises(InputError, match="24 hex"):
        manager.run("board", "create_card", {"list_id": "../members/me", "name": "x"})
    _connect(manager, trello, READ_TOKEN, "ro")
    with pytest.raises(E.AuthFailed, match="unauthorized permission requested") as err:
        manager.run("ro", "create_card", {"list_id": LIST_ID, "name": "x"})
    assert "read,write" in err.value.hint
    trello.tokens.pop(TOKEN)
    with pytest.raises(E.AuthFailed, match="invalid token") as err:
        manager.run("board", "list_boards", {})
    assert "authorize again" in err.value.hint and TOKEN not in str(err.value)
    assert manager.store.get("board").status == "error"


def test_a_wrong_key_is_refused_at_connect(manager, trello, keychain) -> None:
    with pytest.raises(E.AuthFailed, match="invalid key"):
        manager.connect("trello", {"api_key": "f" * 32, "token": TOKEN}, urls={"api": trello.base_url + "/1"})
    assert manager.connections() == [] and not keychain._data


@pytest.mark.parametrize("which", ["API_TOKEN_LIMIT_EXCEEDED", "API_KEY_LIMIT_EXCEEDED"])
def test_429_waits_out_the_10_second_window(manager, trello, waits, which) -> None:
    _connect(manager, trello)
    trello.inject(trello.rate_limited(which))
    manager.run("board", "create_card", {"list_id": LIST_ID, "name": "x"})
    assert waits == [10.0] and len(trello.cards) == 1
    trello.inject(trello.rate_limited(which), times=3)
    with pytest.raises(E.RateLimited, match=f"{which}: Rate limit exceeded"):
        manager.run("board", "create_card", {"list_id": LIST_ID, "name": "y"})
    assert len(trello.cards) == 1


def test_the_token_is_pasted_because_a_redirect_carries_it_in_the_fragment(trello) -> None:
    url = authorize_url(API_KEY)
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith("https://trello.com/1/authorize?") and "return_url" not in q
    assert q == {"expiration": "never", "name": "AI Cost Tracker", "scope": "read,write", "response_type": "token",
                 "key": API_KEY}
    page = httpx.get(trello.base_url + "/1/authorize", params=q)
    assert TOKEN in page.text  # what the user copies
    with serving(FakeHTTPServer()) as listener:  # what a loopback listener would get from a return_url
        loc = httpx.get(trello.base_url + "/1/authorize", params={**q, "return_url": listener.base_url + "/trello"})
        assert loc.headers["location"].endswith(f"#token={TOKEN}")
        httpx.get(loc.headers["location"])
        seen = listener.requests[0]
        assert seen.path == "/trello" and TOKEN not in repr(seen)  # browsers never send the fragment
