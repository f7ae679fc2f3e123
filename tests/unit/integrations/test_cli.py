"""`aicost integrations`: list (all with auth methods and status), connect with --secret-env, test, run, disconnect."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import pytest

from aicost_desktop.cli.main import main
from tests.fakes.file_keyring import ENV as KEYRING_ENV
from tests.fakes.file_keyring import FileKeyring
from tests.unit.integrations.fakes.slack import BOT_TOKEN


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv(KEYRING_ENV, str(tmp_path / "keychain.json"))
    previous = keyring.get_keyring()
    keyring.set_keyring(FileKeyring())
    yield tmp_path / "home"
    keyring.set_keyring(previous)


def _run(home: Path, capsys, *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = main(["--home", str(home), "integrations", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_json_names_every_integration_with_auth_methods_and_status(home, capsys) -> None:
    code, out, _ = _run(home, capsys, "list", "--json")
    doc = json.loads(out)
    assert code == 0 and {d["id"] for d in doc} >= {"slack", "discord", "email", "sendgrid", "twilio", "github", "webhook",
                                                    "trello", "notion", "google_sheets", "airtable", "stripe"}
    sheets = next(d for d in doc if d["id"] == "google_sheets")
    assert [a["id"] for a in sheets["auth_methods"]] == ["oauth_pkce"]
    assert sheets["docs"] == "docs/integrations/google-sheets.md"
    slack = next(d for d in doc if d["id"] == "slack")
    assert [a["id"] for a in slack["auth_methods"]] == ["webhook_url", "bearer_token", "oauth_pkce"]
    assert slack["status"] == "not_connected" and slack["docs"] == "docs/integrations/slack.md"
    code, out, _ = _run(home, capsys, "list")
    assert out.splitlines()[0].split() == ["id", "name", "category", "auth", "status", "connections"]


def test_connect_test_run_disconnect(home, capsys, slack, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SLACK_TOKEN", BOT_TOKEN)
    code, out, err = _run(home, capsys, "connect", "slack", "--name", "team", "--auth", "bearer_token",
                          "--secret-env", "bot_token=SLACK_TOKEN", "--base-url", slack.base_url + "/api")
    assert code == 0, err
    assert out.startswith("connected team (Slack, bearer_token) (team Subarachnoid Workspace, user grace)")
    assert BOT_TOKEN not in out and BOT_TOKEN in (tmp_path / "keychain.json").read_text()
    assert _run(home, capsys, "test", "team")[:2] == (0, "team: ok: team Subarachnoid Workspace, user grace\n")
    code, out, _ = _run(home, capsys, "run", "team", "post_message", "--param", "channel=C00000001",
                        "--param", "text=Budget alert", "--json")
    assert code == 0 and json.loads(out)["channel"] == "C00000001"
    listed = json.loads(_run(home, capsys, "list", "--json")[1])
    assert next(d for d in listed if d["id"] == "slack")["status"] == "connected"
    assert _run(home, capsys, "disconnect", "team")[1] == "disconnected team; 1 keychain entry removed\n"
    assert BOT_TOKEN not in (tmp_path / "keychain.json").read_text()
    # `remove`, the issue's name for it (and the other commands'), does the same.
    assert _run(home, capsys, "connect", "slack", "--name", "again", "--auth", "bearer_token", "--secret-env",
                "bot_token=SLACK_TOKEN", "--base-url", slack.base_url + "/api")[0] == 0
    assert _run(home, capsys, "remove", "again")[1] == "disconnected again; 1 keychain entry removed\n"
    assert BOT_TOKEN not in (tmp_path / "keychain.json").read_text()


def test_secrets_are_refused_on_the_command_line_and_failures_exit_1(home, capsys, slack) -> None:
    code, _, err = _run(home, capsys, "connect", "slack", "--auth", "bearer_token", "--field", f"bot_token={BOT_TOKEN}")
    assert code == 2 and "--secret-env bot_token=VAR" in err and BOT_TOKEN not in err
    code, _, err = _run(home, capsys, "connect", "slack", "--field", "webhook_url=x")
    assert code == 2
    code, _, err = _run(home, capsys, "connect", "nope")
    assert code == 2 and "use one of slack" in err
    code, _, err = _run(home, capsys, "test", "missing")
    assert code == 2 and "no such connection" in err
