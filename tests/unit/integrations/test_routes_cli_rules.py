"""`aicost routes` with everything a rule holds: report triggers (the scheduled report, listed with the rules),
quiet hours and an hourly limit (text and JSON), `routes edit`, the delivery log, and SMTP email as a destination."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aicost_desktop.cli.main import main
from aicost_desktop.integrations.delivery import RouteDelivery
from aicost_desktop.integrations.routing import DestinationSpec, add_route
from aicost_desktop.notify.alerts import raise_alert
from tests.unit.cli.test_routes_cli import home, hooks, run  # noqa: F401 - fixtures
from tests.unit.integrations.test_smtp import Sink, _auth, _fields


class ReplyingSink(Sink):
    """The SMTP fake's sink that can answer DATA with a given reply instead of accepting the message."""

    reply: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply:
            return self.reply
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp() -> Iterator[tuple[ReplyingSink, int]]:
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = ReplyingSink()
    ctl = Controller(sink, hostname="127.0.0.1", port=port, authenticator=_auth, auth_require_tls=False)
    ctl.start()
    yield sink, port
    ctl.stop()


def test_report_triggers_create_the_schedule_and_list_with_the_rules(run, hooks, home) -> None:  # noqa: F811
    slack, discord = hooks
    out = run("routes", "add", "--on", "report:weekly", "--day", "monday", "--at", "8", "--group-by", "provider",
              "--name", "weekly", "--integration", "dc", "--action", "send_embed")
    assert out.strip() == ("report weekly: every Monday at 08:00: last week's spend by provider -> dc: send_embed "
                           "(UTC)")
    run("routes", "add", "--on", "report:monthly", "--integration", "slack", "--action", "post_message")
    run("routes", "add", "--on", "anomaly", "--name", "odd", "--quiet-hours", "22:00-07:00", "--max-per-hour", "3",
        "--integration", "slack", "--action", "post_message")
    # The reports command sees what routes made, and the other way round.
    assert [r["name"] for r in json.loads(run("reports", "list", "--json"))] == ["weekly",
                                                                              "monthly spend by model -> slack"]
    doc = json.loads(run("routes", "list", "--json"))
    by = {r["name"]: r for r in doc["routes"]}
    assert [r["trigger"] for r in doc["routes"]] == ["anomaly", "report:weekly", "report:monthly"]
    assert by["weekly"]["kind"] == "report" and by["weekly"]["ref"].startswith("r")
    assert by["weekly"]["weekday"] == "monday" and by["weekly"]["hour"] == 8
    assert by["weekly"]["destinations"][0]["connection"] == "dc"
    assert (by["odd"]["quiet_hours"], by["odd"]["max_per_hour"]) == ("22:00-07:00", 3)
    lines = run("routes", "list").splitlines()
    odd = next(line for line in lines if line.split()[1:2] == ["odd"])
    assert odd.split()[-2:] == ["22:00-07:00", "3"]
    weekly = next(line for line in lines if " weekly " in line)
    assert weekly.split()[0] == by["weekly"]["ref"] and "every Monday at 08:00" in weekly
    # Reports run as before: sent once their period is due.
    assert run("routes", "test", "weekly").strip() == "dc: send_embed: sent"
    assert discord.messages[0]["embeds"][0]["title"].startswith("AI spend by provider, last week")
    assert run("routes", "remove", by["weekly"]["ref"]).strip() == "removed report weekly"
    assert [r["name"] for r in json.loads(run("reports", "list", "--json"))] == ["monthly spend by model -> slack"]


def test_report_rules_refuse_the_options_of_alert_rules_and_back(run, hooks) -> None:  # noqa: F811
    base = ("--integration", "slack", "--action", "post_message")
    assert "quiet-hours='22-7'" in run("routes", "add", "--on", "report:daily", "--quiet-hours", "22-7", *base, code=2)
    assert "max-per-hour='3'" in run("routes", "add", "--on", "report:daily", "--max-per-hour", "3", *base, code=2)
    assert "day='monday'" in run("routes", "add", "--on", "anomaly", "--day", "monday", *base, code=2)
    assert "at='25'" in run("routes", "add", "--on", "report:daily", "--at", "25", *base, code=2)
    assert "quiet-hours='late'" in run("routes", "add", "--on", "anomaly", "--quiet-hours", "late", *base, code=2)
    assert "max-per-hour='0'" in run("routes", "add", "--on", "anomaly", "--max-per-hour", "0", *base, code=2)
    assert "integration='dc'" in run("routes", "add", "--on", "report:daily", *base, "--integration", "dc",
                                     "--action", "send_message", code=2)  # a report has one destination
    run("routes", "add", "--on", "anomaly", "--name", "same", *base)
    assert "name='same'" in run("routes", "add", "--on", "report:daily", "--name", "same", *base, code=2)
    assert json.loads(run("reports", "list", "--json")) == []


def test_edit_changes_only_what_is_given(run, hooks) -> None:  # noqa: F811
    run("budgets", "add", "--name", "Team", "--amount", "100")
    run("routes", "add", "--on", "threshold", "--at", "80", "--budget", "Team", "--name", "t",
        "--integration", "slack", "--action", "post_message", "--param", "channel=#ai-costs")
    out = run("routes", "edit", "t", "--quiet-hours", "22:00-07:00", "--max-per-hour", "4")
    assert out.strip() == ("rule t: when budget Team reaches 80% -> slack: post_message channel=#ai-costs "
                           "(quiet 22:00-07:00, at most 4 an hour, UTC)")
    out = run("routes", "edit", "t", "--at", "90", "--any-budget", "--max-per-hour", "off", "--disable")
    assert out.strip() == ("rule t: when any budget reaches 90% -> slack: post_message channel=#ai-costs "
                           "(quiet 22:00-07:00, UTC) [disabled]")
    out = run("routes", "edit", "t", "--enable", "--integration", "dc", "--action", "send_message")
    assert out.strip().endswith("-> dc: send_message (quiet 22:00-07:00, UTC)")
    rule = json.loads(run("routes", "list", "--json"))["routes"][0]
    assert (rule["enabled"], rule["min_percent"], rule["budget"], rule["max_per_hour"]) == (True, "90", None, None)
    run("routes", "add", "--on", "report:daily", "--name", "d", "--integration", "slack", "--action", "post_message")
    assert run("routes", "edit", "d", "--on", "report:weekly", "--day", "fri", "--at", "7").strip() == (
        "report d: every Friday at 07:00: last week's spend by model -> slack: post_message (UTC)")
    assert "on='anomaly'" in run("routes", "edit", "d", "--on", "anomaly", code=2)
    assert "route='d'" in run("routes", "edit", "d", code=2)  # nothing to change
    assert "route='nope'" in run("routes", "edit", "nope", "--max-per-hour", "2", code=2)


def test_the_delivery_log_says_what_happened_to_each_delivery(run, hooks, home) -> None:  # noqa: F811
    slack, discord = hooks
    run("routes", "add", "--on", "anomaly", "--name", "odd", "--integration", "slack", "--action", "post_message",
        "--integration", "dc", "--action", "send_message")
    assert run("routes", "log").strip() == "no deliveries yet"
    from aicost_desktop.app_context import AppContext  # the same ledger, as the running app would write it
    ctx = AppContext(home=home, tz="UTC")
    try:
        raise_alert(ctx.db, "anomaly", "anomaly:1", "Spend on Anthropic was 4x the usual", channels=[])
    finally:
        ctx.close()
    discord.hooks.clear()  # Discord's webhook was deleted: a refusal retrying cannot fix
    run("check")
    log = json.loads(run("routes", "log", "--json"))
    by = {d["connection"]: d for d in log}
    assert by["slack"]["status"] == "sent" and by["slack"]["alert_title"] == "Unusual spend"
    assert by["dc"]["status"] == "failed" and "Unknown Webhook" in by["dc"]["reason"]
    text = run("routes", "log").splitlines()
    assert text[0].split() == ["queued", "alert", "rule", "destination", "status", "detail"]
    failed = next(line for line in text if " failed " in line)
    assert "Unusual spend" in failed and "odd" in failed and "Unknown Webhook" in failed and "gave up after 1 attempt" in failed
    problems = json.loads(run("routes", "log", "--json", "--problems"))
    assert [d["connection"] for d in problems] == ["dc"]
    assert len(json.loads(run("routes", "log", "--json", "--limit", "1"))) == 1
    assert "limit='0'" in run("routes", "log", "--limit", "0", code=2)


def test_smtp_email_is_a_rule_destination(sqlite_db, manager, smtp) -> None:  # noqa: F811
    sink, port = smtp
    manager.connect("email", _fields(port), name="mail")
    with pytest.raises(Exception) as e:
        add_route(sqlite_db, "anomaly", [DestinationSpec("mail", "send_email", {"to": "ops@example.com, nope"})])
    assert getattr(e.value, "field", None) == "to" and getattr(e.value, "value", None) == "nope"
    now = datetime.now(timezone.utc)
    add_route(sqlite_db, "anomaly", [DestinationSpec("mail", "send_email",
                                                     {"to": "ops@example.com, cfo@example.com"})],
              now=now - timedelta(minutes=1))
    raise_alert(sqlite_db, "anomaly", "anomaly:1", "Spend on Anthropic was 4x the usual", channels=[], now=now)
    res = RouteDelivery(sqlite_db, ZoneInfo("UTC"), manager).run_once()
    assert len(res.sent) == 1
    ((rcpts, msg),) = sink.messages
    assert rcpts == ["ops@example.com", "cfo@example.com"]
    assert msg["Subject"] == "[AI Cost Tracker] Unusual spend" and msg["From"] == "alerts@example.com"
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in msg.walk() if not p.is_multipart()}
    plain, html = parts["text/plain"], parts["text/html"]
    assert "Spend on Anthropic was 4x the usual" in plain and "<h2>Unusual spend</h2>" in html


def test_smtp_replies_are_typed_for_the_outbox(manager, smtp) -> None:  # noqa: F811
    """A 4xx reply (greylisting, a full queue) is retried later; a 5xx one fails the delivery with its reason."""
    from aicost_desktop.integrations import errors as E
    from aicost_desktop.integrations.delivery import as_failure
    from aicost_desktop.notify.outbox import PermanentDeliveryError, RetryLater

    sink, port = smtp
    manager.connect("email", _fields(port), name="mail")
    params = {"to": ["ops@example.com"], "subject": "s", "text": "t"}
    for reply, kind, outbox in (("451 4.7.1 Greylisted, try again later", E.ServiceUnavailable, RetryLater),
                                ("554 5.7.1 Message rejected as spam", E.InvalidRequest, PermanentDeliveryError)):
        sink.reply = reply
        with pytest.raises(kind) as e:
            manager.run("mail", "send_email", params)
        assert reply.split(" ", 1)[1] in str(e.value) and isinstance(as_failure(e.value), outbox)
    assert sink.messages == []
