"""Held-out accuracy: a generated Codex home through the real CLI equals OpenAI's published prices."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from aicost_desktop.cli.main import main

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))
from codex_logs import Request, build_home  # noqa: E402

# USD per million tokens (input, cached input, output) from OpenAI's pricing page
# (openai.com/api/pricing: Standard, Priority and Flex tabs). Hard-coded on purpose: the test
# checks the catalog and the importer against what OpenAI bills, not against themselves.
PUBLISHED = {
    ("gpt-5", "standard"): ("1.25", "0.125", "10.00"),
    ("gpt-5", "priority"): ("2.50", "0.25", "20.00"),
    ("gpt-5", "flex"): ("0.625", "0.0625", "5.00"),
    ("gpt-5-mini", "standard"): ("0.25", "0.025", "2.00"),
    ("gpt-5-mini", "priority"): ("0.45", "0.045", "3.60"),
    ("gpt-5-mini", "flex"): ("0.125", "0.0125", "1.00"),
}
MTOK = Decimal(1_000_000)


def published_cost(req: Request) -> Decimal:
    inp, cached, out = (Decimal(x) for x in PUBLISHED[(req.model, req.tier)])
    uncached = req.input_tokens - req.cached_input_tokens
    return (uncached * inp + req.cached_input_tokens * cached + req.output_tokens * out) / MTOK


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(list(args)) == 0
    return capsys.readouterr().out


def _report(capsys: pytest.CaptureFixture[str], base: list[str]) -> dict[str, object]:
    out = _cli(capsys, *base, "report", "--mode", "computed", "--group-by", "day", "--json",
               "--from", "2026-03-01", "--to", "2026-03-10")
    return json.loads(out)


def test_generated_home_matches_published_prices_in_total_and_per_day(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home, requests = build_home(tmp_path)
    base = ["--home", str(tmp_path / "aicost"), "--tz", "UTC"]
    _cli(capsys, *base, "import", "codex", "--path", str(home))
    report = _report(capsys, base)

    truth_cost: dict[str, Decimal] = defaultdict(Decimal)
    truth_requests: dict[str, int] = defaultdict(int)
    for req in requests:
        day = req.when.date().isoformat()
        truth_cost[day] += published_cost(req)
        truth_requests[day] += 1
    rows = {r["day"]: r for r in report["rows"]}  # type: ignore[index]
    assert set(rows) == set(truth_cost)
    for day, want in truth_cost.items():
        got = Decimal(rows[day]["cost_exact"])
        assert abs(got - want) <= want * Decimal("0.005"), (day, got, want)
        assert rows[day]["requests"] == truth_requests[day], day
        assert rows[day]["unpriced_rows"] == 0
    total = Decimal(report["total_exact"])  # type: ignore[arg-type]
    want_total = sum(truth_cost.values(), Decimal(0))
    assert abs(total - want_total) <= want_total * Decimal("0.005"), (total, want_total)


def test_reimporting_the_generated_home_changes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home, _ = build_home(tmp_path, seed=11)
    base = ["--home", str(tmp_path / "aicost"), "--tz", "UTC"]
    _cli(capsys, *base, "import", "codex", "--path", str(home))
    first = _report(capsys, base)
    again = _cli(capsys, *base, "import", "codex", "--path", str(home))
    assert again.startswith("added 0, updated 0,")
    assert _report(capsys, base) == first


# provider wins: OpenAI's priority page lists GPT-5-codex and GPT-5.1-codex at $2.50 in / $0.25
# cached / $20 out; LiteLLM has no *_priority rate for them, the curated price table does.
def test_priority_codex_models_are_priced_at_openais_published_priority_rate(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import datetime, timezone

    from codex_logs import Thread

    start = datetime(2026, 3, 4, 9, 0, tzinfo=timezone.utc)
    t = Thread.start("019c0000-0000-7000-8000-0000000c0dex", start)
    t.turn_context(start, "gpt-5-codex")
    t.settings(start, "priority")
    t.request(start.replace(minute=1), 100_000, 60_000, 10_000, 4_000)
    t.write(tmp_path / "home")
    base = ["--home", str(tmp_path / "aicost"), "--tz", "UTC"]
    _cli(capsys, *base, "import", "codex", "--path", str(tmp_path / "home"))
    got = Decimal(_report(capsys, base)["total_exact"])  # type: ignore[arg-type]
    # 40k uncached x $2.50 + 60k cached x $0.25 + 10k out x $20, per million.
    assert got == Decimal("0.1") + Decimal("0.015") + Decimal("0.2")
