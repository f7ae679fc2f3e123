"""Scheduled reports: once per period in the user's time zone (across restarts), the numbers of `aicost report`,
to Slack, Discord and a signed webhook; a rate-limited send is retried after the service's retry_after."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Iterator
from zoneinfo import ZoneInfo

import httpx
import pytest

from aicost_desktop.app_context import AppContext
from aicost_desktop.domain.errors import InputError
from aicost_desktop.integrations.http import RetryPolicy
from aicost_desktop.integrations.manager import IntegrationManager
from aicost_desktop.integrations.reports import (add_report, due_period, get_report, list_reports, remove_report,
                                                 reports_next_due, run_due_reports, run_report_now)
from aicost_desktop.integrations.routing import DestinationSpec
from aicost_desktop.runtime.alerts import report_spend
from aicost_desktop.secrets import MemorySecretStore
from tests.fakes.http_fake import serving
from tests.unit.budgets.helpers import spend_on
from tests.unit.integrations.fakes.discord import DiscordFake, rate_limited
from tests.unit.integrations.fakes.slack import SlackFake
from tests.unit.integrations.test_webhook import SECRET, Receiver

LA = ZoneInfo("America/Los_Angeles")
UTC = timezone.utc


def local(y: int, m: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=LA).astimezone(UTC)


@pytest.fixture
def la_ctx(tmp_path) -> Iterator[AppContext]:  # type: ignore[no-untyped-def]
    ctx = AppContext(home=tmp_path / "home", tz="America/Los_Angeles", secrets=MemorySecretStore())
    yield ctx
    ctx.close()


def _manager(ctx: AppContext) -> IntegrationManager:
    return IntegrationManager(ctx.db, ctx.secrets, client=httpx.Client(timeout=5),
                              policy=RetryPolicy(max_attempts=1, sleep=lambda s: None))


def test_periods_in_the_users_zone() -> None:
    # Monday 2026-03-09 09:00 in Los Angeles is 16:00 UTC (daylight time began on Sunday the 8th).
    p = due_period("weekly", 0, 9, datetime(2026, 3, 9, 16, 0, tzinfo=UTC), LA)
    assert (p.start, p.end, p.due_at) == (date(2026, 3, 2), date(2026, 3, 8), local(2026, 3, 9, 9))
    assert due_period("weekly", 0, 9, datetime(2026, 3, 9, 15, 59, tzinfo=UTC), LA).start == date(2026, 2, 23)
    assert due_period("daily", None, 0, datetime(2026, 3, 1, 7, 59, tzinfo=UTC), LA).start == date(2026, 2, 27)
    m = due_period("monthly", None, 9, local(2026, 3, 1, 9), LA)
    assert (m.start, m.end) == (date(2026, 2, 1), date(2026, 2, 28))


def test_a_weekly_report_runs_once_per_week_in_the_users_time_zone(la_ctx: AppContext, tmp_path) -> None:
    ctx = la_ctx
    with serving(SlackFake()) as slack:
        m = _manager(ctx)
        m.connect("slack", {"webhook_url": slack.webhook_url()}, name="hook")
        sched = add_report(ctx.db, ctx.tz, "weekly", DestinationSpec("hook", "post_message"), weekday="monday",
                           hour=9, now=local(2026, 3, 4, 12))
        assert sched.describe() == "every Monday at 09:00: last week's spend by model"
        assert sched.last_period == "2026-02-23"  # the week already due when it was added is not sent
        spend_on(ctx.db, date(2026, 3, 1), "99", "sun-before", model="gpt-4o")          # the week before
        spend_on(ctx.db, date(2026, 3, 2), "10", "mon", model="gpt-4o")
        spend_on(ctx.db, date(2026, 3, 8), "2.5", "sun", model="claude-sonnet-4-5")
        spend_on(ctx.db, date(2026, 3, 8), "0.004", "sun2", model="gpt-4o")
        spend_on(ctx.db, date(2026, 3, 9), "100", "next-mon", model="gpt-4o")       # the next week
        spend = report_spend(ctx)
        # Monday 01:00 UTC is still Sunday evening in Los Angeles; 08:59 local is before the report hour.
        for at in (datetime(2026, 3, 9, 1, 0, tzinfo=UTC), local(2026, 3, 9, 8, 59)):
            assert run_due_reports(ctx, m, spend, now=at) == []
        assert reports_next_due(ctx, now=local(2026, 3, 9, 8, 59)) == local(2026, 3, 9, 9)
        assert run_due_reports(ctx, m, spend, now=local(2026, 3, 9, 9)) == [sched.name]
        assert run_due_reports(ctx, m, spend, now=local(2026, 3, 9, 10)) == []
        m.close()
        # A restart: a new context and manager over the same ledger send nothing more this week.
        ctx2 = AppContext(home=tmp_path / "home", tz="America/Los_Angeles", secrets=ctx.secrets)
        m2 = _manager(ctx2)
        assert run_due_reports(ctx2, m2, report_spend(ctx2), now=local(2026, 3, 13, 18)) == []
        assert len(slack.webhook_posts) == 1
        post = slack.webhook_posts[0]
        assert post["blocks"][0]["text"]["text"] == "AI spend by model, last week (2026-03-02 to 2026-03-08)"
        body = post["blocks"][1]["text"]["text"]
        # The numbers of `aicost report --from 2026-03-02 --to 2026-03-08 --group-by model`, biggest first.
        expected = spend(date(2026, 3, 2), date(2026, 3, 8), "model")
        assert expected.total == Decimal("12.504")
        assert body.splitlines() == ["Total $12.50 in America/Los_Angeles.", "Total: $12.50",
                                     "gpt-4o             $10.00", "claude-sonnet-4-5  $2.50"]
        assert reports_next_due(ctx2, now=local(2026, 3, 9, 10)) == local(2026, 3, 16, 9)
        assert run_due_reports(ctx2, m2, report_spend(ctx2), now=local(2026, 3, 16, 9, 5)) == [sched.name]
        assert len(slack.webhook_posts) == 2 and "$100.00" in slack.webhook_posts[1]["blocks"][1]["text"]["text"]
        assert get_report(ctx2.db, sched.name).last_period == "2026-03-09"
        m2.close()
        ctx2.close()


def test_a_rate_limited_report_is_retried_after_retry_after(la_ctx: AppContext) -> None:
    ctx = la_ctx
    with serving(DiscordFake()) as discord:
        m = _manager(ctx)
        m.connect("discord", {"webhook_url": discord.webhook_url()}, name="dc")
        add_report(ctx.db, ctx.tz, "daily", DestinationSpec("dc", "send_embed"), hour=8, name="daily",
                   now=local(2026, 3, 9, 7))
        spend_on(ctx.db, date(2026, 3, 9), "3", "x", model="gpt-4o")
        spend = report_spend(ctx)
        discord.inject(rate_limited(retry_after=90))
        t0 = local(2026, 3, 10, 8, 1)
        assert run_due_reports(ctx, m, spend, now=t0) == []
        s = get_report(ctx.db, "daily")
        assert s.last_status == "retrying" and s.next_attempt_at == t0 + timedelta(seconds=90)
        assert "rate limited" in (s.last_error or "") and reports_next_due(ctx, now=t0) == s.next_attempt_at
        assert run_due_reports(ctx, m, spend, now=t0 + timedelta(seconds=89)) == []
        assert run_due_reports(ctx, m, spend, now=t0 + timedelta(seconds=90)) == ["daily"]
        embed = discord.messages[0]["embeds"][0]
        assert embed["title"] == "AI spend by model, yesterday (2026-03-09)"
        assert "gpt-4o  $3.00" in embed["description"] and get_report(ctx.db, "daily").last_status == "sent"
        m.close()


def test_a_monthly_report_posts_rows_to_a_signed_webhook_and_run_now(la_ctx: AppContext) -> None:
    ctx = la_ctx
    with serving(Receiver()) as receiver:
        m = _manager(ctx)
        m.connect("webhook", {"url": receiver.base_url + "/hook", "signing_secret": SECRET}, name="mine")
        add_report(ctx.db, ctx.tz, "monthly", DestinationSpec("mine", "post"), group_by="provider", name="monthly",
                   now=local(2026, 3, 2, 12))
        spend_on(ctx.db, date(2026, 3, 31), "7", "a", provider="anthropic")
        spend = report_spend(ctx)
        assert run_due_reports(ctx, m, spend, now=local(2026, 4, 1, 8, 59)) == []
        assert run_due_reports(ctx, m, spend, now=local(2026, 4, 1, 9)) == ["monthly"]
        events = [e for e in receiver.events.values() if e["event"] == "report.monthly"]
        assert len(events) == 1
        data = events[0]["data"]
        assert (data["from"], data["to"], data["total"], data["group_by"]) == ("2026-03-01", "2026-03-31", "7.00",
                                                                             "provider")
        run_report_now(ctx, m, "monthly", spend, now=local(2026, 4, 2, 12))  # on request, schedule unchanged
        assert len([e for e in receiver.events.values() if e["event"] == "report.monthly"]) == 2
        assert get_report(ctx.db, "monthly").last_period == "2026-03-01"
        m.close()


def test_schedule_validation_and_removal(la_ctx: AppContext) -> None:
    ctx = la_ctx
    with serving(SlackFake()) as slack:
        m = _manager(ctx)
        m.connect("slack", {"webhook_url": slack.webhook_url()}, name="hook")
        m.close()
    dest = DestinationSpec("hook", "post_message")
    for kwargs, field, value in (({"frequency": "hourly"}, "every", "hourly"),
                                 ({"weekday": "funday"}, "day", "funday"),
                                 ({"frequency": "daily", "weekday": "monday"}, "day", "monday"),
                                 ({"hour": 24}, "at", 24), ({"group_by": "colour"}, "group-by", "colour")):
        with pytest.raises(InputError) as e:
            add_report(ctx.db, ctx.tz, kwargs.pop("frequency", "weekly"), dest, **kwargs)  # type: ignore[arg-type]
        assert (e.value.field, e.value.value) == (field, value)
    with pytest.raises(InputError) as e:
        add_report(ctx.db, ctx.tz, "weekly", DestinationSpec("nobody", "post_message"))
    assert e.value.field == "integration"
    s = add_report(ctx.db, ctx.tz, "weekly", dest)
    assert s.weekday == 0 and s.name == "weekly spend by model -> hook"  # the week_start setting's day
    assert remove_report(ctx.db, s.name).id == s.id and list_reports(ctx.db) == []
