"""Every `aicost` command, text and --json, on a demo ledger: every money figure is in the one format
('$1,234.56', sub-cent '$0.0012'; JSON strings '1234.56' / '0.0012'), ids are never reused, `manual edit`
changes only what it is given, removals say so, tables have header rows, and every action has help."""

from __future__ import annotations

import argparse
import functools
import json
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator
from zoneinfo import ZoneInfo

import keyring
import pytest

from aicost_desktop.cli.main import build_parser, main
from tests.fakes.file_keyring import ENV as KEYRING_ENV
from tests.fakes.file_keyring import FileKeyring
from tests.fakes.openai_fake import ADMIN_KEY, OpenAIFake

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
# '$1,234.56' (two decimals, thousands grouped), or a sub-cent amount with digits up to its first non-zero
# ones ('$0.004', '$0.0012'); a sign only in front. Other currencies: '12.50 EUR'.
USD = re.compile(r"[+-]?\$(?:(?:0|[1-9]\d{0,2}(?:,\d{3})*)\.\d\d|0\.00\d*[1-9])")
OTHER = re.compile(r"[+-]?(?:(?:0|[1-9]\d{0,2}(?:,\d{3})*)\.\d\d|0\.00\d*[1-9]) (?:EUR|GBP)")
DOLLAR = re.compile(r"[+-]?\$[\d,.]*\d")  # anything that looks like dollars, well formed or not
NOT_ROUNDED = re.compile(r"\d\.\d*000\b")  # '30.0000000000': ledger scale leaking into text
# JSON: the exact amount, at least two decimals, no trailing zeros past them.
JSON_MONEY = re.compile(r"-?\d+\.\d\d(?:\d*[1-9])?")
# Keys that hold money in some command's JSON, and decimal keys that are not money.
MONEY_KEYS = {"amount", "cost", "cost_exact", "total", "total_exact", "total_usd", "spent", "spent_exact",
              "limit", "forecast", "current_usage", "budget_limit", "reported", "computed", "actual", "expected",
              "delta", "mean", "lower", "upper", "to_date", "projection", "forecast_lower", "forecast_upper"}
NOT_MONEY = {"percent", "threshold", "thresholds", "per_mtok", "input_per_mtok", "output_per_mtok",
             "cache_read_per_mtok", "cache_write_5m_per_mtok", "cache_write_1h_per_mtok", "score", "share",
             "drift_pct", "drift_limit_pct"}


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path
    for action in subs:
        for name, child in action.choices.items():
            yield from _leaves(child, (*path, name))


@functools.cache  # a parser of every command is built once, not once per command run
def _has_json(path: tuple[str, ...]) -> bool:
    parser = _FULL_PARSER
    for word in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[word]
    return any("--json" in a.option_strings for a in parser._actions)


class Session:
    """Runs commands on one home and checks every output as it comes."""

    def __init__(self, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.home, self.capsys = home, capsys
        self.ran: set[tuple[str, ...]] = set()
        self.figures = 0

    def __call__(self, *args: str, code: int = 0, both: bool = True) -> str:
        """Run `args` in text (and with --json when the command has it); returns the text output."""
        path = tuple(a for a in args[:2] if not a.startswith("-"))
        leaf = next(p for p in LEAVES if path[:len(p)] == p)
        self.ran.add(leaf)
        out = self._run(args, code)
        self._check_text(args, out)
        if both and _has_json(leaf) and "--json" not in args:
            doc = self._run((*args, "--json"), code)
            if code == 0:
                self._check_json(args, json.loads(doc))
        return out

    def json(self, *args: str) -> Any:
        return json.loads(self._run((*args, "--json"), 0))

    def _run(self, args: tuple[str, ...], code: int) -> str:
        got = main(["--home", str(self.home), *args])
        out, err = self.capsys.readouterr()
        assert got == code, (args, out, err)
        self._check_text(args, err)
        return out

    def _check_text(self, args: tuple[str, ...], text: str) -> None:
        for m in DOLLAR.finditer(text):
            assert USD.fullmatch(m.group()), (args, m.group(), text)
            self.figures += 1
        assert not NOT_ROUNDED.search(text), (args, text)

    def _check_json(self, args: tuple[str, ...], doc: Any, key: str | None = None) -> None:
        if isinstance(doc, dict):
            for k, v in doc.items():
                self._check_json(args, v, k)
        elif isinstance(doc, list):
            for v in doc:
                self._check_json(args, v, key)
        elif key in MONEY_KEYS:
            assert doc is None or (isinstance(doc, str) and JSON_MONEY.fullmatch(doc)), (args, key, doc)
            self.figures += doc is not None
        elif isinstance(doc, float) or (isinstance(doc, str) and re.fullmatch(r"-?\d+\.\d+", doc)):
            assert key in NOT_MONEY, f"{args}: {key}={doc!r} looks like money: add it to MONEY_KEYS"


_FULL_PARSER = build_parser()
LEAVES = sorted(_leaves(_FULL_PARSER), key=len, reverse=True)
# Serves until Ctrl-C, printing no money (tests/unit/integrations/test_incoming_cli.py runs it as a process).
SERVES = {("integrations", "listen")}


@pytest.fixture
def file_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(KEYRING_ENV, str(tmp_path / "keychain.json"))
    previous = keyring.get_keyring()
    keyring.set_keyring(FileKeyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def test_every_command_prints_money_in_the_one_format(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch, file_keyring: None) -> None:
    home = tmp_path / "home"
    run = Session(home, capsys)
    today = datetime.now(ZoneInfo("UTC")).date().isoformat()
    assert f"demo rows (90 days) into {home / 'ledger.sqlite3'};" in run("demo")  # says which ledger
    # Manual entries: whole, sub-cent, another currency, a refund.
    entry = run("manual", "add", "--service", "Midjourney", "--amount", "30", "--date", today,
                "--model", "v7", "--note", "launch images").strip()
    run("manual", "add", "--service", "Tiny", "--amount", "0.004", "--date", today)
    run("manual", "add", "--service", "Mistral", "--amount", "12.5", "--currency", "EUR", "--date", today)
    run("manual", "add", "--service", "Midjourney", "--amount", "5", "--refund", "--date", today)
    listed = run("manual", "list")
    assert listed.splitlines()[0].split() == ["id", "date", "service", "provider", "model", "amount", "type", "note"]
    assert "$30.00" in listed and "$0.004" in listed and "12.50 EUR" in listed and "-$5.00" in listed
    assert {e["amount"] for e in run.json("manual", "list")} >= {"30.00", "0.004", "12.50", "-5.00"}
    assert run("manual", "edit", entry, "--amount", "35").strip().endswith("$35.00")
    run("manual", "edit", entry, code=2)  # nothing to change
    run("subscriptions", "add", "--service", "Perplexity Pro", "--amount", "20", "--period", "monthly",
        "--start", today)
    subs = run("subscriptions", "list")
    assert subs.splitlines()[0].split() == ["id", "service", "provider", "amount", "period", "from", "to"]
    assert "$20.00" in subs and "20.0000000000" not in subs
    run("budgets", "add", "--name", "Everything", "--amount", "100")
    run("budgets", "add", "--name", "Tiny", "--amount", "0.5", "--scope", "model:gpt-4.1", "--thresholds", "50")
    run("budgets", "add", "--name", "Typo", "--amount", "5", "--scope", "provider:opnai", code=2)
    assert run("budgets", "list").splitlines()[0].split()[:3] == ["id", "name", "limit"]
    status = run("budgets", "status")
    assert status.splitlines()[0].split()[:3] == ["budget", "spent", "limit"]
    check = run("check")
    assert check.splitlines()[:len(status.splitlines())] == status.splitlines()  # the same table, same figures
    run("alerts", "list")
    alert = run.json("alerts", "list")[0]["id"]
    run("alerts", "ack", str(alert))
    for group in ("provider,model", "day", "model"):
        out = run("report", "--from", "2000-01-01", "--group-by", group)
        assert out.splitlines()[1].split()[-2:] == ["cost", "tokens"]
        assert all(line.split()[0] for line in out.splitlines()[2:])  # no blank first column
    run("report", "--model", "gtp-4.1", code=2)
    run("cost", "--model", "gpt-4o-mini", "--input-tokens", "1234", "--output-tokens", "10")
    run("cost", "--model", "claude-sonnet-4-5", "--input-tokens", "1000000", "--output-tokens", "100000")
    run("prices", "show", "gpt-4o-mini")
    run("prices", "set", "my-local-llm", "--input-per-mtok", "0.3", "--output-per-mtok", "1.2")
    prices = tmp_path / "prices.json"
    shutil.copyfile(Path(__import__("aicost_desktop.pricing", fromlist=["x"]).__file__).parent / "data"
                    / "model_prices.json", prices)
    run("prices", "update", "--from", str(prices))
    for action in ("forecast", "anomalies", "reconcile"):
        run("analytics", action, *(("--all",) if action == "reconcile" else ()))
    out = run("export", "--out", str(tmp_path / "out.csv"))
    assert re.search(r"sum of cost: 12\.50 EUR \+ \$[\d,]+\.\d\d\)", out)  # one sum per currency, never added
    run("export", "--out", str(tmp_path / "x.csv"), "--provider", "opnai", code=2)
    run("import", "claude-code", "--path", str(FIXTURES / "claude" / "home"))
    run("import", "codex", "--path", str(FIXTURES / "codex" / "home"))
    run("import", "csv", str(FIXTURES / "csv" / "openai_costs.csv"), "--format", "openai-costs")
    # An account on a fake OpenAI Admin API (real HTTP on 127.0.0.1).
    monkeypatch.setenv("TEST_KEY", ADMIN_KEY)
    with OpenAIFake(now=datetime.now(timezone.utc), days=3) as fake:
        run("accounts", "add", "--provider", "openai", "--name", "work", "--base-url", fake.base_url + "/v1",
            "--key-env", "TEST_KEY")
        run("accounts", "test", "work")
        run("sync", "--account", "work")
    accounts = run("accounts", "list")
    assert accounts.splitlines()[0].split()[:3] == ["id", "name", "provider"]
    assert run("accounts", "disable", "work").strip() == "account work disabled (its history stays)"
    assert run("accounts", "enable", "work").strip() == "account work enabled"
    run("budgets", "pause-key", "Everything", code=2)
    run("budgets", "resume-key", "Everything", code=2)
    # Removals say what they removed.
    assert run("manual", "delete", entry).strip() == f"deleted manual entry {entry}"
    sub = str(run.json("subscriptions", "list")[-1]["id"])
    assert run("subscriptions", "remove", sub).strip() == f"removed subscription {sub} and its charges"
    assert run("budgets", "remove", "Tiny").strip().startswith("budget Tiny removed")
    assert run("accounts", "remove", "work").strip().startswith("removed account work")
    # A new entry never takes the deleted one's id.
    again = run("manual", "add", "--service", "Midjourney", "--amount", "30", "--date", today).strip()
    assert int(again) > int(entry)
    assert run("gateway", "token").strip().startswith("aicgw_")  # the gateway itself serves until Ctrl-C
    # Integrations (their own tests use local fakes): the table and JSON list, and errors naming the connection.
    assert run("integrations", "list").splitlines()[0].split()[:2] == ["id", "name"]
    run("integrations", "connect", "no-such-service", code=2)
    for action in (("test",), ("disconnect",), ("remove",), ("run", "x")):
        run("integrations", action[0], "no-such-connection", *action[1:], code=2)
    # Rules and reports (their own tests deliver to fakes) on a webhook stored untested whose URL refuses.
    monkeypatch.setenv("HOOK_URL", "http://127.0.0.1:9/hook")
    monkeypatch.setenv("HOOK_SECRET", "0123456789abcdef0123")
    run("integrations", "connect", "webhook", "--name", "hook", "--secret-env", "url=HOOK_URL",
        "--secret-env", "signing_secret=HOOK_SECRET", "--no-test")
    run("routes", "add", "--on", "threshold", "--at", "80", "--integration", "hook", "--action", "post", "--name", "r")
    assert run("routes", "list").splitlines()[0].split() == ["id", "name", "when", "destination", "quiet", "max/hour"]
    assert "(quiet 22:00-07:00, at most 3 an hour" in run("routes", "edit", "r", "--quiet-hours", "22:00-07:00",
                                                         "--max-per-hour", "3")
    run("routes", "log")
    run("routes", "test", "r", code=1)  # nothing listens: the destination's failure is printed
    assert run("routes", "remove", "r").strip() == "removed rule r (1 destination)"
    run("reports", "add", "--every", "weekly", "--integration", "hook", "--action", "post", "--name", "w")
    run("reports", "list")
    run("reports", "run-now", "w", code=1)
    assert run("reports", "remove", "w").strip() == "removed report w"
    assert run("integrations", "events").startswith("no incoming webhook requests yet")
    run("demo", "--clear")
    assert run.ran == set(LEAVES) - SERVES, f"not run: {sorted(set(LEAVES) - SERVES - run.ran)}"
    assert run.figures > 300  # the checks saw the money, not empty output


def test_manual_edit_changes_only_the_amount(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = Session(tmp_path, capsys)
    entry = run("manual", "add", "--service", "ElevenLabs", "--amount", "22", "--currency", "EUR", "--date",
                "2026-10-24", "--provider", "Eleven", "--model", "v3", "--input-tokens", "5", "--output-tokens",
                "7", "--note", "voice-over", "--refund").strip()
    before = next(e for e in run.json("manual", "list") if str(e["id"]) == entry)
    run("manual", "edit", entry, "--amount", "35")
    after = next(e for e in run.json("manual", "list") if str(e["id"]) == entry)
    assert after == {**before, "amount": "-35.00"}  # still a refund, still EUR, note and model kept
    run("manual", "edit", entry, "--no-refund", "--note", "")
    after = next(e for e in run.json("manual", "list") if str(e["id"]) == entry)
    assert after == {**before, "amount": "35.00", "type": "charge", "note": None}


def test_every_action_has_help() -> None:
    def walk(parser: argparse.ArgumentParser, path: str) -> Iterator[str]:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                # An alias shares its command's parser; argparse names the pair "disconnect (remove)".
                helped = {id(action.choices[a.dest.split(" (")[0]]) for a in action._choices_actions if a.help}
                for name, child in action.choices.items():
                    if id(child) not in helped:
                        yield f"{path} {name}".strip()
                    yield from walk(child, f"{path} {name}")
    assert list(walk(build_parser(), "")) == []
    text = build_parser().format_help()
    assert re.search(r"^    subscriptions +recurring", text, re.M)  # on its own help line, not wrapped


def test_prices_show_before_a_model_existed_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = Session(tmp_path, capsys)
    # Run without the money check: the curated entry's note quotes the provider's rates ('$6 input').
    out = run._run(("prices", "show", "claude-sonnet-4-5", "--at", "2020-01-01"), 0)
    assert "had no published price on 2020-01-01: its first price is from 2025-09-29" in out
    assert "source    provider-published price (curated table" in out and "retired" not in out
    doc = run.json("prices", "show", "claude-sonnet-4-5", "--at", "2020-01-01")
    assert doc["before_first_price"] is True and doc["source"] == "retired"
    assert run.json("prices", "show", "claude-sonnet-4-5", "--at", "2026-01-01")["before_first_price"] is False
    # A snapshot price has no history: a date before the snapshot says the rates are the snapshot's.
    out = run("prices", "show", "gpt-4o", "--at", "2020-01-01", both=False)
    assert re.search(r"records no launch date or price history for gpt-4o: the rates below are its rates on "
                     r"\d{4}-\d\d-\d\d, not necessarily on 2020-01-01", out), out
    assert run.json("prices", "show", "gpt-4o", "--at", "2020-01-01")["history_unknown"] is True
    assert "price history" not in run("prices", "show", "gpt-4o", both=False)  # today: the snapshot's own rates
    header = run("cost", "--model", "claude-sonnet-4-5", "--input-tokens", "10", both=False).splitlines()[0]
    assert "(provider-published price from 2025-09-29)" in header and "retired" not in header
