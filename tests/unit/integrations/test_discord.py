"""Discord webhook against its fake: wait=true message, embeds, 204 without wait, errors, retry_after."""

from __future__ import annotations

import json

import pytest

from aicost_desktop.integrations import errors as E
from tests.fakes.http_fake import serving
from tests.unit.integrations.fakes.discord import HOOK_TOKEN, DiscordFake, rate_limited


@pytest.fixture
def discord():  # type: ignore[no-untyped-def]
    with serving(DiscordFake()) as fake:
        yield fake


def test_connect_reads_the_webhook_without_posting(manager, discord) -> None:
    rec = manager.connect("discord", {"webhook_url": discord.webhook_url()}, name="ops")
    assert rec.status_message == "webhook 'Spend alerts' in channel 199737254929760256"
    assert discord.messages == [] and discord.requests[-1].method == "GET"


def test_message_and_embed_wait_for_the_created_message(manager, discord) -> None:
    manager.connect("discord", {"webhook_url": discord.webhook_url("v10/")}, name="ops")
    out = manager.run("ops", "send_message", {"content": "Budget alert", "username": "Spend Tracker"})
    assert out == {"ok": True, "id": "1000", "channel_id": "199737254929760256"}
    req = discord.requests[-1]
    assert req.param("wait") == "true" and req.json() == {"content": "Budget alert", "username": "Spend Tracker"}
    fields = [{"name": "Provider", "value": "OpenAI", "inline": True}]
    out = manager.run("ops", "send_embed", {"title": "OpenAI spend 92% of budget",
                                            "description": "$460.12 of $500.00", "fields": json.dumps(fields)})
    embed = discord.messages[-1]["embeds"][0]
    assert out["id"] == "1001" and embed["title"] == "OpenAI spend 92% of budget"
    assert embed["color"] == 15158332 and embed["fields"] == fields and embed["type"] == "rich"


def test_without_wait_the_answer_is_204(manager, discord) -> None:
    manager.connect("discord", {"webhook_url": discord.webhook_url()}, name="ops")
    client = manager.open("ops")
    assert client.send("hi", wait=False) == {"ok": True}
    assert discord.requests[-1].param("wait") is None and len(discord.messages) == 1


def test_limits_are_checked_before_sending_and_discord_errors_are_typed(manager, discord) -> None:
    manager.connect("discord", {"webhook_url": discord.webhook_url()}, name="ops")
    n = len(discord.requests)
    with pytest.raises(E.InvalidRequest, match="2000"):
        manager.run("ops", "send_message", {"content": "x" * 2001})
    assert len(discord.requests) == n
    with pytest.raises(E.InvalidRequest, match=r"Invalid Form Body \(embeds.0.description: Must be 4096") as err:
        manager.open("ops").send(None, [{"title": "t", "description": "d" * 4097}])
    assert err.value.code == "50035"
    discord.hooks.clear()
    with pytest.raises(E.NotFound, match="Unknown Webhook") as err:
        manager.run("ops", "send_message", {"content": "hi"})
    assert "create a new one" in err.value.hint
    assert HOOK_TOKEN not in str(err.value)


def test_retry_after_float_from_the_body(manager, discord, waits) -> None:
    manager.connect("discord", {"webhook_url": discord.webhook_url()}, name="ops")
    discord.inject(rate_limited(0.5))
    assert manager.run("ops", "send_message", {"content": "hi"})["ok"]
    assert waits == [0.5] and len(discord.messages) == 1
    discord.inject(rate_limited(64.57))
    with pytest.raises(E.RateLimited) as err:
        manager.run("ops", "send_message", {"content": "again"})
    assert err.value.retry_after == 64.57 and len(discord.messages) == 1
