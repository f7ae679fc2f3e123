"""`aicost cost` and `aicost prices` run in-process: exact output, exit codes and error lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aicost_desktop.cli.main import main


def run(home: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--home", str(home), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(home: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    code, out, err = run(home, capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_cost_json_worked_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(tmp_path, capsys, "cost", "--model", "gpt-4o-mini", "--input-tokens", "1000000",
                   "--output-tokens", "1000000", "--at", "2026-11-01")
    assert doc["model"] == "gpt-4o-mini" and doc["resolved_model"] == "gpt-4o-mini"
    assert doc["priced"] is True and doc["total_usd"] == "0.75"
    assert doc["lines"] == [{"kind": "input", "tokens": 1000000, "per_mtok": "0.15", "amount": "0.15"},
                            {"kind": "output", "tokens": 1000000, "per_mtok": "0.6", "amount": "0.60"}]


def test_cost_cache_read_example_and_resolution(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(tmp_path, capsys, "cost", "--model", "anthropic/claude-sonnet-4.5", "--input-tokens", "0",
                   "--output-tokens", "0", "--cache-read-tokens", "100_000")
    assert doc["model"] == "anthropic/claude-sonnet-4.5" and doc["resolved_model"] == "claude-sonnet-4-5"
    assert doc["total_usd"] == "0.03"
    assert doc["lines"][1] == {"kind": "cache_read", "tokens": 100000, "per_mtok": "0.3", "amount": "0.03"}


def test_cost_all_kinds_batch_tier_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # one request with a 190k-token prompt: under Sonnet 4.5's 200k long-context threshold
    doc = run_json(tmp_path, capsys, "cost", "--model", "claude-sonnet-4-5-20250929", "--input-tokens", "100000",
                   "--output-tokens", "100000", "--cache-read-tokens", "50000", "--cache-write-tokens", "20000",
                   "--cache-write-1h-tokens", "20000", "--tier", "batch")
    # 0.15 + 0.0075 + 0.0375 + 0.06 (1h: 50% of $6, noted) + 0.75
    assert doc["total_usd"] == "1.005"
    assert [(ln["kind"], ln["per_mtok"]) for ln in doc["lines"]] == [
        ("input", "1.5"), ("cache_read", "0.15"), ("cache_write_5m", "1.875"), ("cache_write_1h", "3"),
        ("output", "7.5")]
    assert doc["notes"] == ["no batch price for claude-sonnet-4-5-20250929 (cache_write_1h): 50% of standard price used"]
    assert doc["tier"] == "batch"


def test_cost_human_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(tmp_path, capsys, "cost", "--model", "gpt-4o-mini", "--input-tokens", "1000000",
                       "--output-tokens", "1000000", "--at", "2026-11-01")
    assert code == 0
    assert out.splitlines() == [
        "model  gpt-4o-mini -> gpt-4o-mini (snapshot), standard tier, 2026-11-01",
        "kind       tokens  $/MTok  amount",
        "input   1,000,000    0.15   $0.15",
        "output  1,000,000     0.6   $0.60",
        "total                       $0.75",
    ]


def test_cost_retired_model_by_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def cost(tokens: str, at: str) -> dict:
        return run_json(tmp_path, capsys, "cost", "--model", "gemini-1.5-flash", "--input-tokens", tokens,
                        "--output-tokens", "0", "--at", at)

    before, after = cost("100000", "2024-08-11"), cost("100000", "2024-08-12")
    assert (before["total_usd"], after["total_usd"]) == ("0.035", "0.0075")
    assert after["source"] == "retired" and after["effective_from"] == "2024-08-12"
    long = cost("1000000", "2024-08-12")  # a 1M-token prompt is above 128k: doubled rate
    assert long["total_usd"] == "0.15" and long["long_context_above_tokens"] == 128000


def test_cost_unknown_model_suggests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(tmp_path, capsys, "cost", "--model", "gpt-4o-mni", "--input-tokens", "1",
                         "--output-tokens", "1")
    assert code == 2 and out == ""
    assert err.startswith("error: model='gpt-4o-mni': unknown model; did you mean: gpt-4o-mini, ")
    assert err.rstrip().endswith("?")


def test_cost_unknown_model_without_close_match(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(tmp_path, capsys, "cost", "--model", "xyz", "--input-tokens", "1", "--output-tokens", "1")
    assert code == 2
    assert err.startswith("error: model='xyz': unknown model")


@pytest.mark.parametrize("flag,value,reason", [
    ("--input-tokens", "-5", "must be >= 0"), ("--output-tokens", "1.5", "must be a whole number"),
    ("--cache-read-tokens", "abc", "must be a whole number"), ("--cache-write-tokens", "-1", "must be >= 0"),
    ("--cache-write-1h-tokens", "x", "must be a whole number"), ("--tier", "turbo", "must be one of"),
    ("--at", "2026-13-01", "must be a date YYYY-MM-DD"),
])
def test_cost_bad_input_names_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str,
                                       value: str, reason: str) -> None:
    code, _, err = run(tmp_path, capsys, "cost", "--model", "gpt-4o", "--input-tokens", "1",
                       "--output-tokens", "1", flag, value)
    assert code == 2
    assert err.startswith(f"error: {flag}='{value}': {reason}")


def test_cost_model_is_required(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(tmp_path, capsys, "cost", "--input-tokens", "1")
    assert code == 2 and "--model" in err


def test_prices_show_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(tmp_path, capsys, "prices", "show", "claude-sonnet-4-5-20250929")
    # Anthropic's published price (curated table) wins over LiteLLM's, which lacks the >200k rates
    assert doc["resolved_model"] == "claude-sonnet-4-5-20250929" and doc["source"] == "retired"
    rates = {(r["kind"], r["tier"], r["above_tokens"]): r["per_mtok"] for r in doc["rates"]}
    assert rates[("input", "standard", None)] == "3" and rates[("cache_write_1h", "standard", None)] == "6"
    assert rates[("output", "batch", None)] == "7.5"
    assert doc["snapshot"]["source"] == "litellm 1.109.1" and doc["snapshot"]["model_count"] == 4552


def test_prices_show_human_and_unknown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(tmp_path, capsys, "prices", "show", "gemini-1.5-pro", "--at", "2024-06-01")
    assert code == 0
    assert ("source    provider-published price (curated table, https://ai.google.dev/gemini-api/docs/pricing), "
            "effective 2024-05-14") in out
    assert "  input>128000       7" in out.splitlines()
    code, _, err = run(tmp_path, capsys, "prices", "show", "gpt-4o-mni")
    assert code == 2 and err.startswith("error: model='gpt-4o-mni': unknown model; did you mean: gpt-4o-mini")


def test_prices_set_then_cost_uses_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(tmp_path, capsys, "prices", "set", "claude-sonnet-4-5", "--input-per-mtok", "2",
                       "--output-per-mtok", "10", "--cache-read-per-mtok", "0.2", "--from", "2026-01-01")
    assert code == 0
    assert out == ("set price of claude-sonnet-4-5 for 2026-01-01 on (USD per million tokens): "
                   "input 2, output 10, cache-read 0.2\n")
    args = ("cost", "--model", "claude-sonnet-4-5-20250929", "--input-tokens", "100000", "--output-tokens",
            "100000", "--cache-read-tokens", "100000")
    assert run_json(tmp_path, capsys, *args, "--at", "2026-02-01")["total_usd"] == "1.22"
    assert run_json(tmp_path, capsys, *args, "--at", "2025-12-31")["total_usd"] == "1.83"
    shown = run_json(tmp_path, capsys, "prices", "show", "claude-sonnet-4-5", "--at", "2026-02-01")
    assert shown["source"] == "override" and shown["effective_from"] == "2026-01-01"
    assert shown["overrides"][0]["input_per_mtok"] == "2"
    # Same model and date again: the row is replaced, not duplicated.
    code, out, _ = run(tmp_path, capsys, "prices", "set", "claude-sonnet-4-5", "--input-per-mtok", "2.5",
                       "--output-per-mtok", "10", "--from", "2026-01-01")
    assert out.startswith("replaced price of claude-sonnet-4-5 for 2026-01-01 on")
    assert len(run_json(tmp_path, capsys, "prices", "show", "claude-sonnet-4-5")["overrides"]) == 1


def test_prices_set_prices_an_unknown_model_for_all_dates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(tmp_path, capsys, "prices", "set", "My Local LLM", "--input-per-mtok", "0.5",
                   "--output-per-mtok", "1.25")
    assert doc["model_key"] == "my-local-llm" and doc["effective_from"] == "1970-01-01"
    cost = run_json(tmp_path, capsys, "cost", "--model", "my-local-llm", "--input-tokens", "2000000",
                    "--output-tokens", "1000000", "--at", "2020-05-05")
    assert cost["total_usd"] == "2.25" and cost["source"] == "override"


@pytest.mark.parametrize("flag,value,reason", [("--input-per-mtok", "abc", "must be a decimal number"),
                                               ("--output-per-mtok", "-1", "must not be negative"),
                                               ("--from", "yesterday", "must be a date")])
def test_prices_set_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str,
                              reason: str) -> None:
    argv = {"--input-per-mtok": "1", "--output-per-mtok": "2", flag: value}
    code, _, err = run(tmp_path, capsys, "prices", "set", "gpt-4o",
                       *[x for kv in argv.items() for x in kv])
    assert code == 2 and err.startswith(f"error: {flag}='{value}': {reason}")


def test_prices_update_installs_and_replaces_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from importlib import resources

    bundled = json.loads(resources.files("aicost_desktop.pricing").joinpath("data", "model_prices.json").read_bytes())
    bundled["gpt-4o-mini"]["input_cost_per_token"] = 3e-07  # doubled: plausible
    new = tmp_path / "new.json"
    new.write_text(json.dumps(bundled))
    home = tmp_path / "home"
    code, out, _ = run(home, capsys, "prices", "update", "--from", str(new))
    assert code == 0, out
    assert (home / "model_prices.json").read_bytes() == new.read_bytes()
    assert "models 4552 -> 4552: 0 added, 0 removed, 1 with changed input/output prices" in out
    doc = run_json(home, capsys, "cost", "--model", "gpt-4o-mini", "--input-tokens", "1000000",
                   "--output-tokens", "1000000")
    assert doc["total_usd"] == "0.90" and doc["source"] == "user_file"


def test_prices_update_refuses_suspicious_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small = tmp_path / "small.json"
    small.write_text(json.dumps({"gpt-4o-mini": {"input_cost_per_token": 1.5e-07}}))
    home = tmp_path / "home"
    code, _, err = run(home, capsys, "prices", "update", "--from", str(small))
    assert code == 2
    assert err.startswith(f"error: --from='{small}': would drop 4551 of 4552 models (more than half)")
    assert not (home / "model_prices.json").exists()
    code, _, _ = run(home, capsys, "prices", "update", "--from", str(small), "--force")
    assert code == 0 and (home / "model_prices.json").exists()
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    code, _, err = run(home, capsys, "prices", "update", "--from", str(bad), "--force")
    assert code == 2 and "must be a JSON object" in err


def test_cost_flex_without_flex_price_says_standard_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # gpt-4o has batch but no flex price: flex used to bill the batch price silently.
    code, out, _ = run(tmp_path, capsys, "cost", "--model", "gpt-4o", "--input-tokens", "1000000",
                       "--output-tokens", "1000000", "--tier", "flex", "--at", "2026-11-01")
    assert code == 0
    assert out.splitlines()[-2].split() == ["total", "$12.50"]
    assert out.splitlines()[-1] == "note: no flex price for gpt-4o: standard price used"


def test_cost_fast_mode_by_name_and_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ("--input-tokens", "1000000", "--output-tokens", "1000000", "--at", "2026-04-01")
    by_name = run_json(tmp_path, capsys, "cost", "--model", "claude-opus-4-6-fast", *args)
    by_flag = run_json(tmp_path, capsys, "cost", "--model", "claude-opus-4-6", "--speed", "fast", *args)
    for doc in (by_name, by_flag):  # Opus 4.6 fast mode: 6x $5 / $25
        assert (doc["total_usd"], doc["speed"], doc["resolved_model"]) == ("180.00", "fast", "claude-opus-4-6")
        assert doc["notes"] == ["fast mode: 6x standard rates"]
    code, _, err = run(tmp_path, capsys, "cost", "--model", "claude-opus-4-6", "--speed", "turbo", *args)
    assert code == 2 and err.startswith("error: --speed='turbo': must be one of standard, fast")
