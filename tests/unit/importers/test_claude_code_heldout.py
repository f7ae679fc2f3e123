"""Held-out accuracy: a realistic Claude Code folder over several days (streaming snapshots, resumed
sessions, sub-agent files, missing sub-agent files with agent_progress copies, /btw replays, 1-hour
cache writes, prompts above 200K, fast mode) imported through the CLI; the daily computed cost equals
the distinct requests priced at Anthropic's PUBLISHED rates, which this test states on its own."""

from __future__ import annotations

import json
import random
import sys
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from aicost_desktop.cli.main import main

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
from benchmarks.claude_logs_gen import CASES, Request, generate  # noqa: E402

# Anthropic's published prices, $ per million tokens: input, output, cache read, 5-minute cache
# write, 1-hour cache write; the second tuple applies to a request whose prompt (input + cache reads
# + cache writes) is above 200K tokens. Fast mode for Opus 4.6 bills 6x every standard rate.
PUBLISHED: dict[str, tuple[tuple[str, ...], tuple[str, ...] | None]] = {
    "claude-sonnet-4-5-20250929": (("3", "15", "0.30", "3.75", "6"), ("6", "22.50", "0.60", "7.50", "12")),
    "claude-opus-4-6": (("5", "25", "0.50", "6.25", "10"), None),
    "claude-opus-4-6-fast": (("30", "150", "3", "37.50", "60"), None),
    "claude-haiku-4-5-20251001": (("1", "5", "0.10", "1.25", "2"), None),
}
TOLERANCE = Decimal("0.005")


def published_cost(r: Request) -> Decimal:
    base, long = PUBLISHED[r.model]
    if r.prompt > 200_000:
        assert long is not None, f"the generator made a {r.model} prompt above 200K: no published rate to check"
        base = long
    rates = [Decimal(x) for x in base]
    tokens = (r.input, r.output, r.cache_read, r.w5, r.w1)
    return sum((Decimal(t) * rate for t, rate in zip(tokens, rates)), Decimal(0)) / Decimal(1_000_000)


def expected_by_day(requests: list[Request]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for r in requests:
        out[r.at.date().isoformat()] += published_cost(r)
    return dict(out)


def cli(tmp_path: Path, capsys, *argv: str) -> str:
    code = main(["--home", str(tmp_path / "home"), "--db", f"sqlite:///{tmp_path}/ledger.db", "--tz", "UTC", *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def report_by_day(tmp_path: Path, capsys, days: list[str]) -> dict[str, Decimal]:
    out = cli(tmp_path, capsys, "report", "--mode", "computed", "--group-by", "day", "--from", min(days),
              "--to", max(days), "--json")
    data = json.loads(out)
    assert all(row["unpriced_rows"] == 0 for row in data["rows"]), data["rows"]
    return {row["day"]: Decimal(row["cost_exact"]) for row in data["rows"]}


def assert_matches(got: dict[str, Decimal], want: dict[str, Decimal]) -> None:
    assert sorted(got) == sorted(want)
    for day, cost in want.items():
        assert abs(got[day] - cost) <= TOLERANCE * cost, (day, got[day], cost)
    total_got, total_want = sum(got.values()), sum(want.values())
    assert abs(total_got - total_want) <= TOLERANCE * total_want, (total_got, total_want)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("claude")
    gen = generate(root, days=4, sessions_per_day=3, seed=7, keep_files=True)
    return root, gen


def test_generated_folder_has_every_case(folder) -> None:
    _root, gen = folder
    assert all(gen.cases[c] > 0 for c in CASES), gen.cases
    assert any(r.prompt > 200_000 for r in gen.requests if r.model.startswith("claude-sonnet"))
    assert len({r.at.date() for r in gen.requests}) == 4


def test_cli_import_costs_the_distinct_requests_at_published_prices(folder, tmp_path: Path, capsys) -> None:
    root, gen = folder
    out = json.loads(cli(tmp_path, capsys, "import", "claude-code", "--path", str(root), "--json"))
    assert (out["added"], out["rejected"]) == (len(gen.requests), 0)
    want = expected_by_day(gen.requests)
    assert_matches(report_by_day(tmp_path, capsys, list(want)), want)
    again = json.loads(cli(tmp_path, capsys, "import", "claude-code", "--path", str(root), "--json"))
    assert (again["added"], again["updated"]) == (0, 0)
    assert_matches(report_by_day(tmp_path, capsys, list(want)), want)


def test_importing_while_claude_code_writes_gives_the_same_costs(folder, tmp_path: Path, capsys) -> None:
    """Every file cut at a random byte (mid-line too) and some sub-agent files not there yet, imported;
    then the whole folder, imported again: the result is the one-shot import's, exactly."""
    root, gen = folder
    live = tmp_path / "live"
    rng = random.Random(3)
    full: dict[Path, bytes] = {}
    for path in gen.paths:
        data = path.read_bytes()
        target = live / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        full[target] = data
        if "subagents" in path.parts and rng.random() < 0.5:
            continue  # appears only later: its requests come from agent_progress copies first
        target.write_bytes(data[:rng.randrange(len(data) + 1)])
    first = json.loads(cli(tmp_path, capsys, "import", "claude-code", "--path", str(live), "--json"))
    assert first["added"] > 0
    for target, data in full.items():
        target.write_bytes(data)
    cli(tmp_path, capsys, "import", "claude-code", "--path", str(live), "--json")
    want = expected_by_day(gen.requests)
    got = report_by_day(tmp_path, capsys, list(want))
    assert_matches(got, want)

    once = tmp_path / "once"
    once.mkdir()
    cli(once, capsys, "import", "claude-code", "--path", str(root), "--json")
    assert report_by_day(once, capsys, list(want)) == got


def test_days_follow_the_requests(folder) -> None:
    _root, gen = folder
    # Every copy of a request is written within seconds, never across midnight UTC (so "the day of
    # the kept copy" and "the day of the request" agree).
    for r in gen.requests:
        assert (r.at + timedelta(minutes=10)).date() == r.at.date()
