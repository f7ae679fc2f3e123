"""OpenRouter keeps 30 days of activity: a longer backfill says so on the account, in `aicost sync` and `accounts list`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import keyring
import pytest

from aicost_desktop.accounts import add_account, get_account, remove_account
from aicost_desktop.cli.main import main
from aicost_desktop.sync.http import HttpPolicy
from aicost_desktop.account_sync import retention_notes, sync_account
from tests.fakes.file_keyring import ENV as KEYRING_ENV
from tests.fakes.file_keyring import FileKeyring
from tests.fakes.openrouter_fake import MANAGEMENT_KEY, TODAY, OpenRouterFake, _row

NOW = datetime.combine(TODAY, datetime.min.time(), tzinfo=timezone.utc).replace(hour=12)
FAST = HttpPolicy(sleep=lambda s: None)
NOTE = "OpenRouter keeps 30 days of activity: data before 2025-08-02 cannot be synced"


@pytest.fixture
def fake() -> Iterator[OpenRouterFake]:
    with OpenRouterFake() as server:
        yield server


def test_first_backfill_says_so_and_the_note_stays_on_the_account(ctx, fake) -> None:  # type: ignore[no-untyped-def]
    acc = add_account(ctx.db, ctx.secrets, "openrouter", "router", MANAGEMENT_KEY, fake.api_base)
    with httpx.Client() as client:
        first = sync_account(ctx, acc, client=client, policy=FAST, now=NOW)  # 90-day backfill by default
        assert first.ok and NOTE in first.message
        assert first.report is not None and first.report.unavailable_before == date(2025, 8, 2)
        assert NOTE in (get_account(ctx.db, acc).status_message or "")
        assert retention_notes(ctx.db) == {acc: NOTE}
        # A routine re-read (last 3 days) has no hole of its own, but the account's history still has one.
        again = sync_account(ctx, acc, client=client, policy=FAST, now=NOW + timedelta(hours=2))
        assert again.ok and "30 days" not in again.message
        assert retention_notes(ctx.db) == {acc: NOTE}
        # A later backfill past a later floor keeps the earliest: before 08-02 nothing was ever synced.
        later = NOW + timedelta(days=5)
        fake.today = TODAY + timedelta(days=5)
        out = sync_account(ctx, acc, since=datetime(2025, 7, 1, tzinfo=timezone.utc), client=client, policy=FAST,
                           now=later)
        assert out.ok and "data before 2025-08-07" in out.message
        assert retention_notes(ctx.db) == {acc: NOTE}
    remove_account(ctx.db, ctx.secrets, acc)
    assert retention_notes(ctx.db) == {}


def test_a_backfill_inside_30_days_has_no_note(ctx, fake) -> None:  # type: ignore[no-untyped-def]
    acc = add_account(ctx.db, ctx.secrets, "openrouter", "short", MANAGEMENT_KEY, fake.api_base)
    out = sync_account(ctx, acc, since=datetime(2025, 8, 20, tzinfo=timezone.utc), policy=FAST, now=NOW)
    assert out.ok and "30 days" not in out.message and retention_notes(ctx.db) == {}


# ---- the CLI, on the real clock ---------------------------------------------------------------

@pytest.fixture
def file_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FileKeyring]:
    """The CLI's real keychain store, backed by a file (the OS keychain is outside the test)."""
    monkeypatch.setenv(KEYRING_ENV, str(tmp_path / "keychain.json"))
    previous = keyring.get_keyring()
    backend = FileKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def cli(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--home", str(home), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_sync_and_accounts_list_show_the_30_day_limit(tmp_path: Path, capsys, monkeypatch,  # type: ignore[no-untyped-def]
                                                           file_keyring) -> None:
    today = datetime.now(timezone.utc).date()
    floor = (today - timedelta(days=30)).isoformat()
    note = f"OpenRouter keeps 30 days of activity: data before {floor} cannot be synced"
    rows = [_row((today - timedelta(days=3)).isoformat(), "openai/gpt-4.1", "OpenAI", 0.25, 2, 100, 50)]
    with OpenRouterFake(today=today, activity=rows) as fake:
        monkeypatch.setenv("OR_KEY", MANAGEMENT_KEY)
        code, _, err = cli(capsys, tmp_path, "accounts", "add", "--provider", "openrouter", "--name", "router",
                           "--base-url", fake.api_base, "--key-env", "OR_KEY")
        assert code == 0, err
        code, out, err = cli(capsys, tmp_path, "sync")
        assert code == 0, err
        assert out.startswith("router: 1 records") and note in out
        code, out, _ = cli(capsys, tmp_path, "sync", "--json")  # a re-read: no new hole, the old one stays
        assert code == 0 and "30 days" not in json.loads(out)[0]["message"]
    code, out, _ = cli(capsys, tmp_path, "accounts", "list")
    assert code == 0 and "router" in out and f"note: {note}" in out
    code, out, _ = cli(capsys, tmp_path, "accounts", "list", "--json")
    assert json.loads(out)[0]["history_note"] == note
    assert MANAGEMENT_KEY not in out
