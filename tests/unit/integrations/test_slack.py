"""Slack against its fake: webhook and bot token, the HTTP-200 ok:false envelope, Retry-After, pagination, secrets."""

from __future__ import annotations

import json

import pytest

from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.redact import redact
from aicost_desktop.integrations import errors as E
from aicost_desktop.integrations.manager import IntegrationManager
from tests.fakes.http_fake import FakeResponse
from tests.unit.integrations.fakes.slack import BOT_TOKEN, HOOK_PATH, SlackFake, rate_limited


def _bot(manager: IntegrationManager, slack: SlackFake, name: str = "slack-bot") -> None:
    manager.connect("slack", {"bot_token": BOT_TOKEN}, name=name, auth="bearer_token",
                    urls={"api": slack.base_url + "/api"})


def test_webhook_connect_tests_without_posting_then_posts_text_and_blocks(manager, slack) -> None:
    rec = manager.connect("slack", {"webhook_url": slack.webhook_url()}, name="alerts")
    assert rec.status == "ok" and rec.status_message == "webhook URL accepted"
    assert slack.webhook_posts == []  # the test posted nothing
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Budget alert* 92%"}}]
    assert manager.run("alerts", "post_message", {"text": "Budget alert: 92%", "blocks": json.dumps(blocks)}) == {"ok": True}
    assert slack.webhook_posts == [{"text": "Budget alert: 92%", "blocks": blocks}]
    last = slack.requests_to(HOOK_PATH)[-1]
    assert last.method == "POST" and last.header("content-type") == "application/json"


def test_bot_token_posts_json_with_the_token_in_the_header_only(manager, slack) -> None:
    _bot(manager, slack)
    assert manager.test("slack-bot").detail == "team Subarachnoid Workspace, user grace"
    out = manager.run("slack-bot", "post_message", {"channel": "C00000001", "text": "hi"})
    assert out["ok"] and out["channel"] == "C00000001" and out["ts"].startswith("1503435956.")
    req = slack.requests_to("/api/chat.postMessage")[-1]
    assert req.header("authorization") == f"Bearer {BOT_TOKEN}"
    assert req.header("content-type") == "application/json;charset=utf-8"
    assert req.json() == {"text": "hi", "channel": "C00000001"}


def test_http_200_ok_false_is_an_error_with_a_next_step(manager, slack) -> None:
    _bot(manager, slack)
    with pytest.raises(E.NotFound) as err:
        manager.run("slack-bot", "post_message", {"channel": "C99999999", "text": "hi"})
    assert err.value.code == "channel_not_found" and err.value.status == 200
    assert "invite the app" in str(err.value) or "check the channel" in str(err.value)
    slack.missing_scope_for.add("conversations.list")
    with pytest.raises(E.PermissionDenied, match="needs channels:read"):
        manager.run("slack-bot", "list_channels")
    with pytest.raises(E.NotFound):
        manager.run("slack-bot", "user_info", {"user": "U0NOBODY"})


def test_a_refused_token_is_not_stored(manager, slack, keychain) -> None:
    with pytest.raises(E.AuthFailed, match="invalid_auth"):
        manager.connect("slack", {"bot_token": "xoxb-0000-wrong"}, auth="bearer_token",
                        urls={"api": slack.base_url + "/api"})
    assert manager.connections() == [] and keychain._data == {}


def test_form_fields_are_checked_before_any_request(manager, slack) -> None:
    with pytest.raises(InputError, match="bot token starts with xoxb-"):
        manager.connect("slack", {"bot_token": "not-a-token"}, auth="bearer_token")
    with pytest.raises(InputError, match="webhook_url"):
        manager.connect("slack", {"webhook_url": "https://example.com/nope"})
    with pytest.raises(InputError, match="takes webhook_url"):
        manager.connect("slack", {"webhook_url": slack.webhook_url(), "bot_token": BOT_TOKEN})
    assert slack.requests == []


def test_retry_after_is_honoured_and_a_long_wait_goes_back_to_the_caller(manager, slack, waits) -> None:
    _bot(manager, slack)
    slack.inject(rate_limited(1))
    assert manager.run("slack-bot", "post_message", {"channel": "C00000001", "text": "a"})["ok"]
    assert waits == [1.0] and len(slack.posted) == 1
    slack.inject(rate_limited(120))
    with pytest.raises(E.RateLimited) as err:
        manager.run("slack-bot", "post_message", {"channel": "C00000001", "text": "b"})
    assert err.value.retry_after == 120 and err.value.retryable
    assert waits == [1.0] and len(slack.posted) == 1  # not retried in-process, not posted


def test_a_5xx_post_is_not_retried_but_a_read_is(manager, slack, waits) -> None:
    _bot(manager, slack)
    slack.inject(FakeResponse(503, b"upstream", {"Content-Type": "text/plain"}))
    with pytest.raises(E.ServiceUnavailable):
        manager.run("slack-bot", "post_message", {"channel": "C00000001", "text": "a"})
    assert len(slack.requests_to("/api/chat.postMessage")) == 1  # may have been processed: no duplicate
    slack.inject(FakeResponse(503, b"upstream", {"Content-Type": "text/plain"}))
    assert len(manager.run("slack-bot", "list_channels")) == 5
    assert len(waits) == 1


def test_conversations_list_follows_next_cursor_to_the_empty_one(manager, slack) -> None:
    _bot(manager, slack)
    channels = manager.run("slack-bot", "list_channels")
    assert [c["id"] for c in channels] == [f"C{i:08d}" for i in range(5)]
    cursors = [r.param("cursor") for r in slack.requests_to("/api/conversations.list")]
    assert cursors == [None, "2", "4"]
    assert slack.requests_to("/api/conversations.list")[0].method == "GET"
    assert manager.run("slack-bot", "user_info", {"user": "W012A3CDE"})["email"] == "spengler@ghostbusters.example.com"


def test_webhook_errors_are_typed(manager, slack) -> None:
    manager.connect("slack", {"webhook_url": slack.webhook_url()}, name="alerts")
    slack.archived_hooks.add(HOOK_PATH)
    with pytest.raises(E.NotFound, match="channel_is_archived") as err:
        manager.run("alerts", "post_message", {"text": "x"})
    assert "archived" in err.value.hint
    assert manager.test("alerts").ok is False
    assert manager.catalog("slack")[0].status == "error"
    with pytest.raises(E.NotFound, match="no_service"):
        manager.connect("slack", {"webhook_url": slack.webhook_url("/services/T1/B1/gone0000")}, name="gone")


def test_secrets_live_in_one_keychain_entry_each_and_never_in_the_ledger(manager, slack, keychain, sqlite_db) -> None:
    manager.connect("slack", {"webhook_url": slack.webhook_url()}, name="alerts")
    _bot(manager, slack)
    refs = sorted(keychain._data)
    assert len(refs) == 2 and {r.rsplit(":", 1)[1] for r in refs} == {"webhook_url", "bot_token"}
    raw = open(sqlite_db.engine.url.database, "rb").read()
    assert BOT_TOKEN.encode() not in raw and HOOK_PATH.encode() not in raw
    # A service echoing the token back does not get it into our error text.
    slack.inject(FakeResponse(400, f"bad token {BOT_TOKEN}".encode(), {"Content-Type": "text/plain"}))
    with pytest.raises(E.InvalidRequest) as err:
        manager.run("slack-bot", "post_message", {"channel": "C00000001", "text": "x"})
    assert BOT_TOKEN not in str(err.value) and BOT_TOKEN not in redact(f"{BOT_TOKEN}")
    manager.disconnect("slack-bot")
    assert len(keychain._data) == 1 and manager.store.find("slack-bot") is None


def test_catalog_search_and_category_filter(manager, slack) -> None:
    manager.connect("slack", {"webhook_url": slack.webhook_url()}, name="alerts")
    cards = {c.spec.id: c for c in manager.catalog()}
    assert cards["slack"].status == "connected"
    assert [c.spec.id for c in manager.catalog("channel", category="messaging")][0] == "slack"
    assert all(c.spec.category.value == "messaging" for c in manager.catalog(category="messaging"))
    assert manager.catalog("no such thing") == []
