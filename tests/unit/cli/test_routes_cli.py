"""`aicost routes` and `aicost reports` on Slack and Discord webhook fakes: a budget crossing 80% posts one message
to each on `aicost check` (naming budget, amount and percentage), a second check posts nothing; errors exit 2."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

import keyring
import pytest

from aicost_desktop.cli.main import main
from tests.fakes.file_keyring import ENV as KEYRING_ENV
from tests.fakes.file_keyring import FileKeyring
from tests.fakes.http_fake import serving
from tests.unit.integrations.fakes.discord import DiscordFake
from tests.unit.integrations.fakes.slack import SlackFake


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv(KEYRING_ENV, str(tmp_path / "keychain.json"))
    previous = keyring.get_keyring()
    keyring.set_keyring(FileKeyring())
    yield tmp_path / "home"
    keyring.set_keyring(previous)


@pytest.fixture
def run(home: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def call(*args: str, code: int = 0) -> str:
        got = main(["--home", str(home), "--tz", "UTC", *args])
        out, err = capsys.readouterr()
        assert got == code, (args, out, err)
        return out if code == 0 else err
    return call


@pytest.fixture
def hooks(run, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SlackFake, DiscordFake]]:  # type: ignore[no-untyped-def]
    with serving(SlackFake()) as slack, serving(DiscordFake()) as discord:
        monkeypatch.setenv("SLACK_HOOK", slack.webhook_url())
        monkeypatch.setenv("DISCORD_HOOK", discord.webhook_url())
        run("integrations", "connect", "slack", "--name", "slack", "--secret-env", "webhook_url=SLACK_HOOK")
        run("integrations", "connect", "discord", "--name", "dc", "--secret-env", "webhook_url=DISCORD_HOOK")
        yield slack, discord


def test_a_budget_crossing_80_percent_posts_once_to_slack_and_discord(run, hooks) -> None:
    slack, discord = hooks
    out = run("routes", "add", "--on", "threshold", "--at", "80", "--name", "80%",
              "--integration", "slack", "--action", "post_message", "--param", "channel=#ai-costs",
              "--integration", "dc", "--action", "send_message")
    assert out.strip() == ("rule 80%: when any budget reaches 80% -> slack: post_message channel=#ai-costs; "
                           "dc: send_message")
    run("budgets", "add", "--name", "Team", "--amount", "100")
    run("manual", "add", "--service", "Anthropic", "--amount", "85", "--date", datetime.now(ZoneInfo("UTC")).date().isoformat())
    out = run("check")
    assert "integrations: 2 delivered, 0 to retry, 0 failed" in out
    assert len(slack.webhook_posts) == 1 and len(discord.messages) == 1
    for text in (json.dumps(slack.webhook_posts[0]), discord.messages[0]["content"]):
        assert "Team" in text and "$85.00" in text and "85%" in text
    assert "integrations:" not in run("check")  # nothing new: nothing posted
    assert len(slack.webhook_posts) == 1 and len(discord.messages) == 1
    listed = run("routes", "list")
    assert listed.splitlines()[0].split() == ["id", "name", "when", "destination", "quiet", "max/hour"]
    assert "recent deliveries" in listed and listed.count(" sent ") == 2
    doc = json.loads(run("routes", "list", "--json"))
    assert [r["name"] for r in doc["routes"]] == ["80%"] and {d["status"] for d in doc["deliveries"]} == {"sent"}
    assert run("routes", "test", "80%").splitlines() == ["slack: post_message: sent", "dc: send_message: sent"]
    assert len(slack.webhook_posts) == 2 and "Example budget" in json.dumps(slack.webhook_posts[1])
    assert run("routes", "remove", "80%").strip() == "removed rule 80% (2 destinations)"
    assert json.loads(run("routes", "list", "--json"))["routes"] == []


def test_errors_name_the_field_and_value(run, hooks) -> None:
    assert "on" in run("routes", "add", "--on", "budget", "--integration", "slack", "--action", "post_message", code=2)
    assert "integration='nobody'" in run("routes", "add", "--on", "anomaly", "--integration", "nobody",
                                         "--action", "post_message", code=2)
    assert "action=None" in run("routes", "add", "--on", "anomaly", "--integration", "slack", code=2)
    assert "budget='Nope'" in run("routes", "add", "--on", "exceeded", "--budget", "Nope", "--integration", "slack",
                                  "--action", "post_message", code=2)
    assert "param='colour'" in run("routes", "add", "--on", "anomaly", "--integration", "slack", "--action",
                                   "post_message", "--param", "colour=red", code=2)
    assert "--action" in run("routes", "add", "--on", "anomaly", "--action", "post_message", "--integration", "slack",
                             code=2)
    assert "route='x'" in run("routes", "remove", "x", code=2)
    assert "route='x'" in run("routes", "test", "x", code=2)
    assert "day='funday'" in run("reports", "add", "--every", "weekly", "--day", "funday", "--integration", "slack",
                                 "--action", "post_message", code=2)
    assert "at='25'" in run("reports", "add", "--every", "daily", "--at", "25", "--integration", "slack",
                            "--action", "post_message", code=2)
    assert "report='x'" in run("reports", "run-now", "x", code=2)
    assert "report='x'" in run("reports", "remove", "x", code=2)


def test_reports_add_list_run_now_remove(run, hooks) -> None:
    slack, discord = hooks
    out = run("reports", "add", "--every", "weekly", "--day", "monday", "--name", "weekly",
              "--integration", "dc", "--action", "send_embed")
    assert out.strip() == "report weekly: every Monday at 09:00: last week's spend by model -> dc: send_embed (UTC)"
    listed = run("reports", "list")
    assert listed.splitlines()[0].split()[:4] == ["id", "name", "when", "destination"]
    assert json.loads(run("reports", "list", "--json"))[0]["weekday"] == "monday"
    sent = run("reports", "run-now", "weekly")
    assert sent.startswith("sent: AI spend by model, last week (") and "Total $0.00" in sent
    assert len(discord.messages) == 1 and discord.messages[0]["embeds"][0]["title"].startswith("AI spend by model")
    doc = json.loads(run("reports", "run-now", "weekly", "--json"))
    assert doc["report"]["total"] == "0.00" and len(discord.messages) == 2
    assert run("reports", "remove", "weekly").strip() == "removed report weekly"
