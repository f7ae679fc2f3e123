"""Rule deliveries through the outbox: exactly once across evaluations and restarts, retry_after honoured,
a failing destination marked failed with its reason without blocking the others."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

import httpx
import pytest

from aicost_desktop.app_context import AppContext
from aicost_desktop.budgets.model import BudgetSpec, add_budget
from aicost_desktop.integrations.delivery import RouteDelivery, delivery_log
from aicost_desktop.integrations.http import RetryPolicy
from aicost_desktop.integrations.manager import IntegrationManager
from aicost_desktop.integrations.routing import ROUTE_CHANNEL, DestinationSpec, add_route
from aicost_desktop.notify.alerts import raise_alert
from aicost_desktop.notify.outbox import outbox_rows
from aicost_desktop.runtime import Runtime
from aicost_desktop.secrets import MemorySecretStore
from tests.fakes.http_fake import serving
from tests.unit.budgets.helpers import spend_on
from tests.unit.integrations.fakes.discord import DiscordFake, rate_limited
from tests.unit.integrations.fakes.github import PAT, GitHubFake
from tests.unit.integrations.fakes.slack import BOT_TOKEN, SlackFake


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def discord() -> Iterator[DiscordFake]:
    with serving(DiscordFake()) as fake:
        yield fake


@pytest.fixture
def github() -> Iterator[GitHubFake]:
    with serving(GitHubFake()) as fake:
        yield fake


@pytest.fixture
def one_try(sqlite_db, keychain) -> Iterator[IntegrationManager]:  # type: ignore[no-untyped-def]
    """A manager that never retries in-process: every retry is the outbox's."""
    m = IntegrationManager(sqlite_db, keychain, client=httpx.Client(timeout=5),
                           policy=RetryPolicy(max_attempts=1, sleep=lambda s: None))
    yield m
    m.close()


def _evaluate(rt: Runtime) -> None:
    done = threading.Event()
    rt.alerts.evaluated.connect(lambda _r: done.set())
    rt.alerts.evaluate_now()
    assert done.wait(20)


def test_a_budget_crossing_80_percent_posts_once_to_slack_and_opens_one_github_issue(
        tmp_path, slack: SlackFake, github: GitHubFake) -> None:
    """'When any budget crosses 80%, post to Slack #ai-costs and open a GitHub issue': evaluated twice, then
    again by a new runtime over a new context on the same ledger (a restart), it delivers exactly once."""
    keychain = MemorySecretStore()
    ctx = AppContext(home=tmp_path / "home", tz="UTC", secrets=keychain)
    m = IntegrationManager(ctx.db, keychain)
    m.connect("slack", {"webhook_url": slack.webhook_url()}, name="slack-ai-costs")  # the #ai-costs webhook
    m.connect("github", {"token": PAT}, name="gh", urls={"api": github.base_url})
    m.close()
    add_route(ctx.db, "threshold", [DestinationSpec("slack-ai-costs", "post_message"),
                                    DestinationSpec("gh", "create_issue", {"repo": "octocat/Hello-World",
                                                                           "labels": "ai-costs"})],
              min_percent=80, name="budget 80%")
    add_budget(ctx.db, BudgetSpec.build(name="Team", amount="100"))
    spend_on(ctx.db, datetime.now(ctx.tz).date(), "85", "a", provider="anthropic")
    rt = Runtime(ctx, alert_interval_s=3600)
    try:
        _evaluate(rt)
        _evaluate(rt)
    finally:
        rt.stop(wait_s=10)
    ctx.close()
    ctx2 = AppContext(home=tmp_path / "home", tz="UTC", secrets=keychain)
    rt2 = Runtime(ctx2, alert_interval_s=3600)
    try:
        _evaluate(rt2)
    finally:
        rt2.stop(wait_s=10)
    assert len(slack.webhook_posts) == 1 and len(github.issues) == 1
    post, issue = slack.webhook_posts[0], github.issues[0]
    assert post["blocks"][0]["text"]["text"] == "Team: 80% of budget"
    text = post["blocks"][1]["text"]["text"]
    assert "Spent: $85.00" in text and "Limit: $100.00" in text and "Used: 85%" in text
    assert "provider:" not in text
    assert issue["title"] == "AI Cost Tracker: Team: 80% of budget"
    assert "- **Spent:** $85.00" in issue["body"] and [lb["name"] for lb in issue["labels"]] == ["ai-costs"]
    log = delivery_log(ctx2.db)
    assert [d.status for d in log] == ["sent", "sent"] and {d.route for d in log} == {"budget 80%"}
    ctx2.close()


def test_a_discord_429_is_retried_after_its_retry_after(sqlite_db, one_try, discord: DiscordFake) -> None:
    one_try.connect("discord", {"webhook_url": discord.webhook_url()}, name="dc")
    add_route(sqlite_db, "anomaly", [DestinationSpec("dc", "send_message")])
    clock = Clock()
    alert = raise_alert(sqlite_db, "anomaly", "anomaly:openai:1", "Spend on OpenAI was 4x the usual", channels=[])
    loop = RouteDelivery(sqlite_db, ZoneInfo("UTC"), one_try, clock=clock)
    discord.inject(rate_limited(retry_after=42.5))
    t0 = clock.now
    res = loop.run_once()
    assert len(res.retried) == 1 and discord.messages == []
    row = outbox_rows(sqlite_db, alert.id)[0]
    assert row.status == "pending" and row.next_attempt_at == t0 + timedelta(seconds=42.5)
    assert "rate limited" in (row.last_error or "") and loop.next_due() == t0 + timedelta(seconds=42.5)
    clock.now = t0 + timedelta(seconds=42)
    assert loop.run_once().sent == [] and discord.messages == []  # not before the service said
    clock.now = t0 + timedelta(seconds=42.5)
    assert loop.run_once().sent == [row.id]
    assert len(discord.messages) == 1 and "Spend on OpenAI was 4x the usual" in discord.messages[0]["content"]
    assert loop.run_once().sent == [] and len(discord.messages) == 1
    assert outbox_rows(sqlite_db, alert.id)[0].attempts == 2


def test_a_failing_destination_is_marked_failed_and_does_not_block_the_others(
        sqlite_db, one_try, slack: SlackFake, discord: DiscordFake) -> None:
    one_try.connect("slack", {"bot_token": BOT_TOKEN}, name="slack-bot", auth="bearer_token",
                    urls={"api": slack.base_url + "/api"})
    one_try.connect("discord", {"webhook_url": discord.webhook_url()}, name="dc")
    add_route(sqlite_db, "sync_failure", [DestinationSpec("slack-bot", "post_message", {"channel": "C404"}),
                                          DestinationSpec("dc", "send_embed")])
    loop = RouteDelivery(sqlite_db, ZoneInfo("UTC"), one_try)
    alert = raise_alert(sqlite_db, "sync_failure", "sync_failure:1:open", "Sync of work failed: HTTP 500", channels=[])
    res = loop.run_once()
    assert len(res.failed) == 1 and len(res.sent) == 1
    assert len(discord.messages) == 1 and discord.messages[0]["embeds"][0]["title"] == "Sync failed"
    failed = next(r for r in outbox_rows(sqlite_db, alert.id) if r.status == "failed")
    assert failed.channel == ROUTE_CHANNEL and failed.attempts == 1
    assert failed.last_error == ("Slack: HTTP 200: channel_not_found; check the channel id or name, and that the "
                                 "app can see it (private: invite it)")
    assert BOT_TOKEN not in failed.last_error
    assert loop.run_once().sent == [] and slack.posted == []  # failed for good: not retried
    log = {d.destination: d for d in delivery_log(sqlite_db)}
    assert log["slack-bot: post_message"].status == "failed" and log["dc: send_embed"].status == "sent"


def test_a_network_failure_backs_off_and_a_removed_connection_fails_the_delivery(sqlite_db, one_try) -> None:
    one_try.connect("discord", {"webhook_url": "http://127.0.0.1:9/api/webhooks/1/abc"}, name="dc", verify=False)
    add_route(sqlite_db, "anomaly", [DestinationSpec("dc", "send_message")])
    clock = Clock()
    loop = RouteDelivery(sqlite_db, ZoneInfo("UTC"), one_try, clock=clock)
    alert = raise_alert(sqlite_db, "anomaly", "anomaly:x", "Spend was unusual", channels=[])
    assert len(loop.run_once().retried) == 1
    row = outbox_rows(sqlite_db, alert.id)[0]
    assert row.next_attempt_at == clock.now + timedelta(seconds=30)  # the outbox's back-off
    assert (row.last_error or "").startswith("Discord: ConnectError")
    one_try.disconnect("dc")  # its destinations go with it
    clock.now += timedelta(seconds=30)
    assert len(loop.run_once().failed) == 1
    assert "destination was removed" in (outbox_rows(sqlite_db, alert.id)[0].last_error or "")
