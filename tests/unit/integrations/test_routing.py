"""Routing rules: validation naming field and value, matching, idempotent enqueueing, per-destination messages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from aicost_desktop.budgets.model import BudgetSpec, add_budget
from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations.routing import (ROUTE_CHANNEL, DestinationSpec, action_params, add_route,
                                                 alert_message, list_routes, remove_route, route_alerts)
from aicost_desktop.notify.alerts import AlertView, raise_alert
from aicost_desktop.notify.outbox import outbox_rows
from tests.unit.integrations.fakes.discord import DiscordFake
from tests.unit.integrations.fakes.github import PAT
from tests.unit.integrations.fakes.slack import BOT_TOKEN
from tests.fakes.http_fake import serving

NOW = datetime.now(timezone.utc)


def _alert(type_: str = "threshold", threshold: str | None = "80", spent: str = "85", limit: str = "100",
           budget: str | None = "Team") -> AlertView:
    return AlertView(7, type_, budget, 1, Decimal(threshold) if threshold else None,
                     "Team: 80% of budget reached - spent $85.00 of $100.00 (85%) this month on Anthropic.",
                     Decimal(spent), Decimal(limit), "USD", None, NOW, False)


@pytest.fixture
def connected(manager, slack):  # type: ignore[no-untyped-def]
    manager.connect("slack", {"bot_token": BOT_TOKEN}, name="slack-bot", auth="bearer_token",
                     urls={"api": slack.base_url + "/api"})
    manager.connect("github", {"token": PAT}, name="gh", verify=False)
    return manager


def test_a_rule_is_stored_with_its_destinations_and_described_in_words(sqlite_db, connected) -> None:
    r = add_route(sqlite_db, "threshold", [DestinationSpec("slack-bot", "post_message", {"channel": "C00000001"}),
                                          DestinationSpec("gh", "create_issue", {"repo": "octocat/Hello-World",
                                                                                 "labels": "budget,ai"})],
                  min_percent="80", name="budget 80%")
    assert r.describe() == "any budget reaches 80%"
    assert [d.describe() for d in r.destinations] == [
        "slack-bot: post_message channel=C00000001",
        'gh: create_issue labels=["budget", "ai"] repo=octocat/Hello-World']  # typed: a list, not the text
    assert [x.name for x in list_routes(sqlite_db)] == ["budget 80%"]
    assert list_routes(sqlite_db)[0].as_json()["min_percent"] == "80"


@pytest.mark.parametrize("kwargs, field, value", [
    ({"trigger": "budget_crossed"}, "on", "budget_crossed"),
    ({"budget": "Nope"}, "budget", "Nope"),
    ({"trigger": "sync_failure", "budget": "Team"}, "budget", "Team"),
    ({"min_percent": "eighty"}, "at", "eighty"),
    ({"min_percent": "0"}, "at", "0"),
    ({"trigger": "anomaly", "min_percent": "80"}, "at", "80"),
    ({"dest": DestinationSpec("nobody", "post_message")}, "integration", "nobody"),
    ({"dest": DestinationSpec("slack-bot", "fly")}, "action", "fly"),
    ({"dest": DestinationSpec("slack-bot", "list_channels")}, "action", "list_channels"),  # reads, sends nothing
    ({"dest": DestinationSpec("slack-bot", "post_message", {"chanel": "C1"})}, "param", "chanel"),
    ({"dest": DestinationSpec("gh", "create_issue", {})}, "repo", None),  # an issue needs its repository
])
def test_validation_names_the_field_and_value(sqlite_db, connected, kwargs, field, value) -> None:
    add_budget(sqlite_db, BudgetSpec.build(name="Team", amount="100"))
    dest = kwargs.pop("dest", DestinationSpec("slack-bot", "post_message", {"channel": "C00000001"}))
    with pytest.raises(InputError) as e:
        add_route(sqlite_db, kwargs.pop("trigger", "threshold"), [dest], **kwargs)
    assert e.value.field == field and e.value.value == value
    assert list_routes(sqlite_db) == []  # nothing half-stored


def test_names_are_unique(sqlite_db, connected) -> None:
    d = [DestinationSpec("slack-bot", "post_message", {"channel": "C00000001"})]
    add_route(sqlite_db, "anomaly", d, name="x")
    with pytest.raises(InputError) as e:
        add_route(sqlite_db, "anomaly", d, name="x")
    assert e.value.field == "name"


def test_matching_by_trigger_budget_and_percentage(sqlite_db, connected) -> None:
    team = add_budget(sqlite_db, BudgetSpec.build(name="Team", amount="100"))
    d = [DestinationSpec("slack-bot", "post_message", {"channel": "C00000001"})]
    at80 = add_route(sqlite_db, "threshold", d, min_percent=80, name="80")
    over = add_route(sqlite_db, "exceeded", d, budget="Team", name="over")
    sync = add_route(sqlite_db, "sync_failure", d, name="sync")
    later = datetime.now(timezone.utc) + timedelta(minutes=1)

    def a(sent_at: datetime = later, **kw):  # type: ignore[no-untyped-def]
        b = _alert(**kw)
        return AlertView(b.id, b.type, b.budget, team, b.threshold, b.message, b.current_usage, b.budget_limit,
                         b.currency, None, sent_at, False)
    assert at80.matches(a()) and not over.matches(a()) and not sync.matches(a())
    assert not at80.matches(a(threshold="50", spent="60"))
    assert at80.matches(a(threshold="50", spent="85"))     # jumped past 80% between evaluations
    assert over.matches(a(threshold="100", spent="232"))
    assert sync.matches(a(type_="sync_failure", threshold=None, budget=None))
    assert not at80.matches(a(sent_at=NOW - timedelta(days=1)))  # raised before the rule existed


def test_route_alerts_enqueues_each_delivery_once(sqlite_db, connected) -> None:
    d = [DestinationSpec("slack-bot", "post_message", {"channel": "C00000001"}),
         DestinationSpec("gh", "create_issue", {"repo": "octocat/Hello-World"})]
    route = add_route(sqlite_db, "anomaly", d)
    alert = raise_alert(sqlite_db, "anomaly", "anomaly:x:1", "Spend on Anthropic was 4x the usual", channels=[],
                        current_usage=Decimal("40"), budget_limit=Decimal("10"))
    raise_alert(sqlite_db, "sync_failure", "sync:1", "Sync of work failed", channels=[])  # no rule for it
    assert route_alerts(sqlite_db) == 2
    assert route_alerts(sqlite_db) == 0  # a second pass (or another process) adds nothing
    rows = outbox_rows(sqlite_db, alert.id)
    assert sorted((r.channel, r.target) for r in rows) == sorted((ROUTE_CHANNEL, str(x.id)) for x in route.destinations)
    remove_route(sqlite_db, route.name)
    assert {r.status for r in outbox_rows(sqlite_db, alert.id)} == {"skipped"}
    assert list_routes(sqlite_db) == []


def test_messages_use_the_one_money_format_and_words(sqlite_db) -> None:
    msg = alert_message(_alert(spent="1234.5", limit="1000", threshold="100"))
    assert msg.title == "Team: over budget by $234.50 (123%)"
    assert dict(msg.fields) == {"Budget": "Team", "Spent": "$1,234.50", "Limit": "$1,000.00", "Used": "123%"}
    assert msg.data["current_usage"] == "1234.50"
    slack = action_params("slack", "post_message", msg, {"channel": "#ai-costs"})
    assert slack["channel"] == "#ai-costs" and "provider:" not in str(slack)
    assert slack["blocks"][0]["text"]["text"] == "Team: over budget by $234.50 (123%)"
    assert "Spent: $1,234.50" in slack["blocks"][1]["text"]["text"]
    issue = action_params("github", "create_issue", msg, {"repo": "o/r"})
    assert issue["title"] == "AI Cost Tracker: Team: over budget by $234.50 (123%)"
    assert "- **Limit:** $1,000.00" in issue["body"]
    embed = action_params("discord", "send_embed", msg, {})
    assert {"name": "Used", "value": "123%", "inline": True} in embed["fields"]
    hook = action_params("webhook", "post", msg, {})
    assert hook["event"] == "alert.threshold" and hook["data"]["budget_limit"] == "1000.00"
    sms = action_params("twilio", "send_sms", msg, {"to": "+14155550100"})
    assert sms["body"].startswith("Team: over budget by $234.50 (123%): Team: 80%")


def test_a_rule_delivers_only_alerts_raised_after_it(sqlite_db, connected) -> None:
    raise_alert(sqlite_db, "anomaly", "anomaly:old", "old news", channels=[], now=NOW - timedelta(minutes=5))
    add_route(sqlite_db, "anomaly", [DestinationSpec("slack-bot", "post_message", {"channel": "C00000001"})])
    assert route_alerts(sqlite_db) == 0


def test_discord_destination_checks_its_own_limits(sqlite_db, manager) -> None:
    with serving(DiscordFake()) as discord:
        manager.connect("discord", {"webhook_url": discord.webhook_url()}, name="dc")
        r = add_route(sqlite_db, "unpriced", [DestinationSpec("dc", "send_message", {"username": "Costs"})])
    assert r.describe() == "a model has no price"
