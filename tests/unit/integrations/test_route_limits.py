"""Per-rule quiet hours (the user's time zone: deliveries wait, not dropped) and hourly limit (the excess goes out
as one summary when the hour allows), edits that keep what was delivered, and the delivery log's words."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

import httpx
import pytest

from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations.delivery import RouteDelivery, delivery_failures, delivery_log
from aicost_desktop.integrations.http import RetryPolicy
from aicost_desktop.integrations.manager import IntegrationManager
from aicost_desktop.integrations.routing import (DestinationSpec, add_route, get_route, parse_quiet_hours,
                                                 parse_max_per_hour, route_alerts, update_route)
from aicost_desktop.notify.alerts import raise_alert
from aicost_desktop.notify.outbox import outbox_rows
from tests.fakes.http_fake import FakeResponse, serving
from tests.unit.integrations.fakes.discord import DiscordFake
from tests.unit.integrations.fakes.slack import BOT_TOKEN

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(d: int, h: int, mi: int = 0) -> datetime:
    return datetime(2026, 3, d, h, mi, tzinfo=BERLIN).astimezone(timezone.utc)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def discord() -> Iterator[DiscordFake]:
    with serving(DiscordFake()) as fake:
        yield fake


@pytest.fixture
def one_try(sqlite_db, keychain, discord) -> Iterator[IntegrationManager]:  # type: ignore[no-untyped-def]
    m = IntegrationManager(sqlite_db, keychain, client=httpx.Client(timeout=5),
                           policy=RetryPolicy(max_attempts=1, sleep=lambda s: None))
    m.connect("discord", {"webhook_url": discord.webhook_url()}, name="dc")
    yield m
    m.close()


def _alert(db, clock: Clock, n: int) -> int:  # type: ignore[no-untyped-def]
    a = raise_alert(db, "anomaly", f"anomaly:{n}", f"Spend on model-{n} was unusual", channels=[], now=clock.now)
    assert a is not None
    return a.id


def test_quiet_hours_parse_in_24_hour_local_time() -> None:
    assert parse_quiet_hours("22:00-07:00") == ("22:00", "07:00")
    assert parse_quiet_hours("22-7") == ("22:00", "07:00")
    assert parse_quiet_hours(" 9:30 – 17:05 ") == ("09:30", "17:05")
    assert parse_quiet_hours("off") is None and parse_quiet_hours("") is None
    for bad in ("22:00", "25:00-07:00", "22:00-22:00", "10pm-7am", "22:00-07:00-08:00"):
        with pytest.raises(InputError) as e:
            parse_quiet_hours(bad)
        assert e.value.field == "quiet-hours" and e.value.value == bad
    assert parse_max_per_hour("3") == 3 and parse_max_per_hour("off") is None
    for bad in ("0", "-1", "many", "1001", True):
        with pytest.raises(InputError) as e:
            parse_max_per_hour(bad)  # type: ignore[arg-type]
        assert e.value.field == "max-per-hour"


def test_a_delivery_due_in_quiet_hours_waits_until_they_end_in_the_users_zone(sqlite_db, one_try, discord) -> None:
    clock = Clock(berlin(10, 23, 30))  # 22:30 UTC
    route = add_route(sqlite_db, "anomaly", [DestinationSpec("dc", "send_message")], name="night",
                      quiet_hours="22:00-07:00", now=clock.now - timedelta(minutes=1))
    assert route.quiet_hours == "22:00-07:00" and route.limits() == "quiet 22:00-07:00"
    loop = RouteDelivery(sqlite_db, BERLIN, one_try, clock=clock)
    alert = _alert(sqlite_db, clock, 1)
    res = loop.run_once()
    assert res.deferred and not res.sent and discord.messages == []
    row = outbox_rows(sqlite_db, alert)[0]
    assert row.status == "pending" and row.next_attempt_at == berlin(11, 7) and row.attempts == 0
    (entry,) = delivery_log(sqlite_db)
    assert entry.status == "waiting"
    assert entry.detail(BERLIN) == "the rule's quiet hours (22:00-07:00) end at 07:00"
    assert loop.next_due() == berlin(11, 7)
    clock.now = berlin(11, 6, 59)
    assert loop.run_once().sent == [] and discord.messages == []
    clock.now = berlin(11, 7)
    assert loop.run_once().sent == [row.id]
    assert len(discord.messages) == 1 and "Spend on model-1 was unusual" in discord.messages[0]["content"]
    (entry,) = delivery_log(sqlite_db)
    assert entry.status == "sent" and entry.note is None and entry.detail(BERLIN) == "sent 03-11 07:00"


def test_quiet_hours_are_local_time_not_utc(sqlite_db, one_try, discord) -> None:
    # 06:30 UTC is 07:30 in Berlin in March (UTC+1): past the end of a 22:00-07:00 window there.
    clock = Clock(datetime(2026, 3, 11, 6, 30, tzinfo=timezone.utc))
    add_route(sqlite_db, "anomaly", [DestinationSpec("dc", "send_message")], quiet_hours="22:00-07:00",
              now=clock.now - timedelta(minutes=1))
    _alert(sqlite_db, clock, 1)
    assert len(RouteDelivery(sqlite_db, BERLIN, one_try, clock=clock).run_once().sent) == 1
    assert len(discord.messages) == 1


def test_over_the_hourly_limit_the_waiting_alerts_go_out_together_in_one_message(sqlite_db, one_try, discord) -> None:
    """Limit 2 an hour: the second message of the hour carries every alert then due; later ones wait for the hour
    to free a slot and go out in one message; every alert is delivered exactly once, never more than 2 an hour."""
    t0 = berlin(10, 12)
    clock = Clock(t0)
    add_route(sqlite_db, "anomaly", [DestinationSpec("dc", "send_message")], name="spend", max_per_hour=2,
              now=t0 - timedelta(minutes=1))
    loop = RouteDelivery(sqlite_db, BERLIN, one_try, clock=clock)
    sent_at: list[datetime] = []

    def step(at: datetime, *alerts: int) -> None:
        clock.now = at
        for n in alerts:
            _alert(sqlite_db, clock, n)
        before = len(discord.messages)
        loop.run_once()
        sent_at.extend([at] * (len(discord.messages) - before))

    step(t0, 1)                                         # the hour's first message: alert 1 alone
    step(t0 + timedelta(minutes=5), 2, 3, 4)            # the hour's last message: 2, 3 and 4 together
    assert len(discord.messages) == 2
    summary = discord.messages[1]["content"]
    assert summary.startswith("**3 alerts: spend**") and "at most 2 messages an hour" in summary
    assert all(f"Spend on model-{n} was unusual" in summary for n in (2, 3, 4))
    step(t0 + timedelta(minutes=10), 5)                 # the hour is full: 5 and 6 wait
    step(t0 + timedelta(minutes=15), 6)
    assert len(discord.messages) == 2
    waiting = [d for d in delivery_log(sqlite_db) if d.status == "waiting"]
    assert len(waiting) == 2 and waiting[0].detail(BERLIN) == (
        "the rule sends at most 2 an hour; at 13:00 the alerts waiting go out in one message")
    step(t0 + timedelta(minutes=59), )
    assert len(discord.messages) == 2
    step(t0 + timedelta(minutes=60))                    # alert 1's slot is free: 5 and 6 in one message
    assert len(discord.messages) == 3 and discord.messages[2]["content"].startswith("**2 alerts: spend**")
    step(t0 + timedelta(minutes=90))
    texts = [m["content"] for m in discord.messages]
    for n in range(1, 7):  # each alert exactly once
        assert sum(t.count(f"Spend on model-{n} was unusual") for t in texts) == 1, n
    for t in sent_at:  # never more than 2 in any hour
        assert sum(1 for u in sent_at if t <= u < t + timedelta(hours=1)) <= 2
    log = {d.alert_id: d for d in delivery_log(sqlite_db)}
    assert {d.status for d in log.values()} == {"sent"}
    lead = next(d for d in log.values() if d.note and d.note.startswith("one message for 3 alerts"))
    riders = [d for d in log.values() if d.note and d.note.startswith(f"sent in one message with alert #{lead.alert_id}")]
    assert len(riders) == 2
    assert {r.status for r in outbox_rows(sqlite_db)} == {"sent", "folded"}


def test_a_failed_summary_puts_its_alerts_back_to_wait(sqlite_db, one_try, discord) -> None:
    clock = Clock(berlin(10, 12))
    add_route(sqlite_db, "anomaly", [DestinationSpec("dc", "send_message")], max_per_hour=1,
              now=clock.now - timedelta(minutes=1))
    loop = RouteDelivery(sqlite_db, BERLIN, one_try, clock=clock)
    _alert(sqlite_db, clock, 1)
    _alert(sqlite_db, clock, 2)
    route_alerts(sqlite_db, clock.now)
    for _ in range(2):  # the summary of 1 and 2 fails twice with a 503 (a network hiccup at Discord)
        discord.inject(FakeResponse(503, b"upstream connect error"))
    res = loop.run_once()
    assert res.retried and discord.messages == []
    rows = {r.alert_id: r for r in outbox_rows(sqlite_db)}
    assert {r.status for r in rows.values()} == {"pending"} and all(r.claimed_at is None for r in rows.values())
    clock.now += timedelta(seconds=30)  # the back-off
    loop.run_once()
    clock.now += timedelta(hours=2)
    loop.run_once()
    texts = [m["content"] for m in discord.messages]
    for n in (1, 2):
        assert sum(t.count(f"Spend on model-{n} was unusual") for t in texts) == 1
    assert {r.status for r in outbox_rows(sqlite_db)} <= {"sent", "folded"}


def test_edit_changes_limits_and_keeps_the_destinations_that_stay(sqlite_db, one_try, discord, slack) -> None:
    one_try.connect("slack", {"bot_token": BOT_TOKEN}, name="slack-bot", auth="bearer_token",
                    urls={"api": slack.base_url + "/api"})
    clock = Clock(berlin(10, 12))
    r = add_route(sqlite_db, "anomaly", [DestinationSpec("dc", "send_message")], name="r",
                  now=clock.now - timedelta(minutes=1))
    keep = r.destinations[0].id
    e = update_route(sqlite_db, "r", quiet_hours="22:00-07:00", max_per_hour="5", now=clock.now)
    assert (e.quiet_hours, e.max_per_hour, e.edited_at) == ("22:00-07:00", 5, None)  # limits are not a new match
    e = update_route(sqlite_db, "r", destinations=[DestinationSpec("dc", "send_message"),
                                                   DestinationSpec("slack-bot", "post_message", {"channel": "C00000001"})])
    assert [d.id for d in e.destinations][0] == keep and len(e.destinations) == 2
    assert update_route(sqlite_db, str(e.id), quiet_hours="off", max_per_hour="off").limits() == ""
    with pytest.raises(InputError) as err:
        update_route(sqlite_db, "r", trigger="threshold", min_percent="eighty")
    assert err.value.field == "at"
    assert get_route(sqlite_db, "r").trigger == "anomaly"  # nothing half-changed
    e = update_route(sqlite_db, "r", trigger="sync_failure", now=clock.now + timedelta(minutes=5))
    assert e.edited_at == clock.now + timedelta(minutes=5)


def test_a_new_match_routes_only_alerts_raised_after_the_edit(sqlite_db, one_try, discord) -> None:
    clock = Clock(berlin(10, 12))
    add_route(sqlite_db, "anomaly", [DestinationSpec("dc", "send_message")], name="r",
              now=clock.now - timedelta(hours=1))
    raise_alert(sqlite_db, "sync_failure", "sync:1", "Sync of work failed", channels=[], now=clock.now)
    update_route(sqlite_db, "r", trigger="sync_failure", now=clock.now + timedelta(minutes=1))
    assert route_alerts(sqlite_db, clock.now + timedelta(minutes=2)) == 0  # raised before the rule matched it
    raise_alert(sqlite_db, "sync_failure", "sync:2", "Sync of home failed", channels=[],
                now=clock.now + timedelta(minutes=3))
    assert route_alerts(sqlite_db, clock.now + timedelta(minutes=4)) == 1


def test_a_failed_delivery_shows_on_its_connection_until_one_works(sqlite_db, one_try, discord) -> None:
    clock = Clock(berlin(10, 12))
    add_route(sqlite_db, "anomaly", [DestinationSpec("dc", "send_message")], now=clock.now - timedelta(minutes=1))
    loop = RouteDelivery(sqlite_db, BERLIN, one_try, clock=clock)
    hooks = set(discord.hooks)
    discord.hooks.clear()  # the webhook was deleted in Discord
    a = _alert(sqlite_db, clock, 1)
    assert len(loop.run_once().failed) == 1
    failure = delivery_failures(sqlite_db)["dc"]
    assert failure.what.startswith(f"alert #{a} (rule ") and "Unknown Webhook" in failure.reason
    (entry,) = delivery_log(sqlite_db, problems=True)
    assert entry.status == "failed" and re.search(r"\(gave up after 1 attempt\)$", entry.detail(BERLIN))
    discord.hooks.update(hooks)
    _alert(sqlite_db, clock, 2)
    assert len(loop.run_once().sent) == 1
    assert delivery_failures(sqlite_db) == {}  # it works again: the card clears
    assert delivery_log(sqlite_db, problems=True)[0].status == "failed"  # the log keeps the failure
