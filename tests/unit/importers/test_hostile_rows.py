"""Issue 15, bad rows: a folder holding one hostile row of each kind imports everything else and lists
each rejected line with its reason; nothing outside domain/limits.py's ranges reaches either backend."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from aicost_desktop.cli.main import main
from aicost_desktop.domain.enums import DataSource
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.limits import MAX_TOKENS
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.storage.ledger import upsert_records

DAY = "2026-11-02"
TODAY = datetime.now(timezone.utc).date()


def claude_line(n: str, *, model: str = "claude-sonnet-4-5-20250929", ts: str = f"{DAY}T08:00:00.000Z",
                usage: dict | None = None, cost: object = None, mid: str | None = None) -> str:
    entry: dict = {"type": "assistant", "sessionId": "s", "timestamp": ts, "requestId": f"req_{n}",
                   "message": {"id": mid or f"msg_{n}", "model": model, "role": "assistant",
                               "content": [{"type": "text", "text": "ok"}],
                               "usage": usage or {"input_tokens": 10, "output_tokens": 5}}}
    if cost is not None:
        entry["costUSD"] = cost
    return json.dumps(entry)


# (line text, the start of the reason it is rejected with)
HOSTILE = [
    (claude_line("t30", usage={"input_tokens": 10**30, "output_tokens": 1}),
     "message.usage.input_tokens=1000000000000000000000000000000: is more than 1,000,000,000,000 tokens"),
    (claude_line("t63", usage={"input_tokens": 1, "output_tokens": 2**63}), "message.usage.output_tokens=9223372036854775808"),
    # Three rows of 2**62 in one hour: each fits a 64-bit column, their hourly sum would not.
    *[(claude_line(f"h{i}", ts=f"{DAY}T09:00:0{i}Z", usage={"input_tokens": 1, "output_tokens": 1,
                                                             "cache_read_input_tokens": 2**62}),
       "message.usage.cache_read_input_tokens=4611686018427387904") for i in range(3)],
    # The money version: three rows of $900M in one hour, each within the 64-bit column, their sum not.
    *[(claude_line(f"m{i}", ts=f"{DAY}T10:00:0{i}Z", cost=9e8),
       "costUSD=900000000.0: is more than 1,000,000, the most one ledger row holds") for i in range(3)],
    (claude_line("c300", cost=1e300), "costUSD=1e+300: is outside the ledger's range"),
    (claude_line("inf").replace('"sessionId"', '"costUSD": Infinity, "sessionId"'), "costUSD=inf: must be a finite number"),
    (claude_line("nan").replace('"sessionId"', '"costUSD": NaN, "sessionId"'), "costUSD=nan: must be a finite number"),
    (claude_line("neg", cost=-5), "costUSD=-5: must not be negative"),
    (claude_line("y9999", ts="9999-12-31T23:00:00Z"), "timestamp='9999-12-31T23:00:00+00:00': is after"),
    (claude_line("y0001", ts="0001-01-01T00:00:00Z"), "timestamp='0001-01-01T00:00:00+00:00': is before 2000-01-01"),
    (claude_line("nul", model="claude\x00sonnet"), "message.model='claude\\x00sonnet': contains the unprintable character U+0000"),
    (claude_line("rtl", model="claude\u202esonnet"), "message.model='claude\\u202esonnet': contains the unprintable character U+202E"),
    (claude_line("long", model="c" * 100_000), "message.model='cccc"),
    (claude_line("longid", mid="m" * 5000), "message.id='mmmm"),
]
GOOD = [claude_line("ok1"), claude_line("ok2", ts="2026-11-03T08:00:00Z", usage={"input_tokens": 7, "output_tokens": 3})]


def _write_claude(root: Path) -> Path:
    folder = root / "projects" / "-home-u-p"
    folder.mkdir(parents=True)
    lines = [GOOD[0], *(text for text, _ in HOSTILE), GOOD[1]]
    (folder / "s.jsonl").write_text("\n".join(lines) + "\n")
    return folder / "s.jsonl"


def _rows(home: Path) -> list[tuple]:
    con = sqlite3.connect(home / "ledger.sqlite3")
    try:
        return con.execute("SELECT dedup_key, input_tokens, output_tokens, cost FROM usage_records "
                           "ORDER BY dedup_key").fetchall()
    finally:
        con.close()


def test_a_claude_folder_with_one_hostile_row_of_each_kind_imports_the_rest_and_lists_each_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    transcript = _write_claude(tmp_path / "claude")
    home = tmp_path / "home"
    code = main(["--home", str(home), "import", "claude-code", "--path", str(tmp_path / "claude")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith(f"added 2, updated 0, skipped 0, rejected {len(HOSTILE)}"), out
    listed = out.splitlines()[1:]
    assert len(listed) == len(HOSTILE)
    for n, ((_, reason), got) in enumerate(zip(HOSTILE, listed), start=2):
        assert got.strip().startswith(f"{transcript}:{n}: {reason}"), (n, got)
        assert len(got) < 400  # a 100,000-character model name is not printed whole
    assert [r[:3] for r in _rows(home)] == [("claude-code:msg_ok1:req_ok1", 10, 5), ("claude-code:msg_ok2:req_ok2", 7, 3)]
    # Every re-run hits the same lines again and still imports nothing twice.
    assert main(["--home", str(home), "import", "claude-code", "--path", str(tmp_path / "claude")]) == 0
    assert len(_rows(home)) == 2


def _codex_event(ts: str, total: tuple[int, int, int, int], last: tuple[int, int, int, int] | None = None) -> str:
    names = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")
    info = {"total_token_usage": dict(zip(names, total)), "last_token_usage": dict(zip(names, last or total))}
    return json.dumps({"timestamp": ts, "type": "event_msg", "payload": {"type": "token_count", "info": info}})


def test_codex_hostile_events_are_rejected_lines_and_their_tokens_are_not_lost(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sessions = tmp_path / "codex" / "sessions"
    sessions.mkdir(parents=True)
    lines = [
        json.dumps({"timestamp": f"{DAY}T07:00:00Z", "type": "session_meta", "payload": {"id": "sess-1"}}),
        json.dumps({"timestamp": f"{DAY}T07:00:00Z", "type": "turn_context", "payload": {"model": "gpt-5"}}),
        _codex_event(f"{DAY}T07:01:00Z", (100, 0, 10, 0)),
        _codex_event(f"{DAY}T07:02:00Z", (10**30, 0, 10, 0)),                        # line 4
        _codex_event("9999-12-31T07:03:00Z", (300, 0, 30, 0), (200, 0, 20, 0)),       # line 5
        _codex_event(f"{DAY}T07:04:00Z", (400, 0, 40, 0), (100, 0, 10, 0)),
        json.dumps({"timestamp": f"{DAY}T07:05:00Z", "type": "turn_context", "payload": {"model": "gpt\u202e5"}}),
        _codex_event(f"{DAY}T07:06:00Z", (500, 0, 50, 0), (100, 0, 10, 0)),         # line 8
    ]
    path = sessions / "rollout-2026-11-02T07-00-00-sess-1.jsonl"
    path.write_text("\n".join(lines) + "\n")
    home = tmp_path / "home"
    assert main(["--home", str(home), "import", "codex", "--path", str(tmp_path / "codex")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("added 2, updated 0, skipped 0, rejected 3"), out
    assert f"{path}:4: info.total_token_usage.input_tokens=1000000000000000000000000000000: is more than" in out
    assert f"{path}:5: timestamp='9999-12-31T07:03:00+00:00': is after" in out
    assert f"{path}:8: model='gpt\\u202e5': contains the unprintable character U+202E" in out
    # The rejected-date turn's tokens roll into the next one (the counter is cumulative): 100 + 300 input.
    assert sum(r[1] for r in _rows(home)) == 400


ANTHROPIC_COST_HEADER = "usage_date_utc,model,workspace,api_key,usage_type,context_window,token_type,cost_usd,list_price_usd,cost_type"
CSV_ROWS = [
    (f"{DAY},claude-sonnet-4-5,Default,k1,message,0-200k,input,1.25,1.25,tokens", None),
    (f"{DAY},claude-sonnet-4-5,Default,k1,message,0-200k,output,1e30,1e30,tokens",
     "cost_usd='1e30': is outside the ledger's range"),
    ("9999-12-31,claude-sonnet-4-5,Default,k1,message,0-200k,output,2.00,2.00,tokens",
     "usage_date_utc='9999-12-31': is after"),
    ("0001-01-01,claude-sonnet-4-5,Default,k1,message,0-200k,output,2.00,2.00,tokens",
     "usage_date_utc='0001-01-01': is before 2000-01-01"),
    (f'{DAY},"{"x" * 140_000}",Default,k1,message,0-200k,input,1,1,tokens', "a cell is longer than 131,072 characters"),
    (f"{DAY},claude-sonnet-4-5,Default,k1,message,0-200k,input,NaN,1,tokens", "cost_usd='NaN': must be a finite number"),
    (f"{DAY},claude-sonnet-4-5,Default,k1,message,0-200k,input,Infinity,1,tokens", "cost_usd='Infinity': must be a finite number"),
    (f"{DAY},claude-sonnet-4-5,Caf\u00e9 team,k1,message,0-200k,input,3.00,3.00,tokens", None),
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1", "cp1252"])
def test_a_csv_in_any_spreadsheet_encoding_imports_and_rejects_its_bad_rows_by_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], encoding: str) -> None:
    path = tmp_path / "cost.csv"
    path.write_text("\n".join([ANTHROPIC_COST_HEADER, *(row for row, _ in CSV_ROWS)]) + "\n", encoding=encoding)
    home = tmp_path / "home"
    code = main(["--home", str(home), "import", "csv", "--format", "anthropic-cost", str(path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    bad = [(n, reason) for n, (_, reason) in enumerate(CSV_ROWS, start=2) if reason]
    assert out.startswith(f"added 2, updated 0, skipped 0, rejected {len(bad)}"), out
    for n, reason in bad:
        assert f"  line {n}: {reason}" in out, (n, out)
    assert ("not UTF-8; read as Windows-1252 (Latin-1)" in out + err) == (encoding in ("latin-1", "cp1252"))
    con = sqlite3.connect(home / "ledger.sqlite3")
    notes = con.execute("SELECT sum(cost) FROM usage_records").fetchone()[0]
    con.close()
    assert Decimal(notes).scaleb(-10) == Decimal("4.25")


def _record(**changes: object) -> UsageRecord:
    at = datetime(2026, 11, 2, 8, tzinfo=timezone.utc)
    base: dict = dict(source=DataSource.IMPORT, dedup_key="k", provider="openai", bucket_start=at, bucket_end=at,
                      model="gpt-5", usage=TokenUsage(input_tokens=1))
    base.update(changes)
    return UsageRecord(**base)


@pytest.mark.parametrize(("changes", "field"), [
    ({"model": "gpt\x00-5"}, "model"), ({"model": "gpt\u202e5"}, "model"), ({"model": "g" * 100_000}, "model"),
    ({"project": "p\u2066x"}, "project"), ({"provider": "o" * 41}, "provider"), ({"note": "a\x00b"}, "note"),
    ({"dedup_key": "k" * 401}, "dedup_key"), ({"usage": None}, "input_tokens"),
    ({"reported_cost": Decimal("1e30")}, "reported_cost"), ({"computed_cost": Decimal("NaN")}, "computed_cost"),
    ({"bucket_start": datetime(1999, 12, 31, 23, tzinfo=timezone.utc)}, "timestamp"),
])
def test_one_validation_per_field_before_either_backend(db, changes: dict, field: str) -> None:
    """The same record is refused with the same InputError whichever backend it was meant for, and the
    ledger keeps what it had (PostgreSQL used to refuse NUL and long names with a traceback)."""
    upsert_records(db, [_record(dedup_key="kept")])
    if changes.get("usage", 0) is None:
        changes = {"usage": TokenUsage(input_tokens=MAX_TOKENS)}
        assert _record(**changes).usage.input_tokens == MAX_TOKENS  # the bound itself fits
        with pytest.raises(InputError) as exc:
            TokenUsage(input_tokens=MAX_TOKENS + 1)
    else:
        with pytest.raises(InputError) as exc:
            upsert_records(db, [_record(**changes)])
    assert exc.value.field == field and len(str(exc.value)) < 400
    # What does fit is stored as given on both backends: unicode names, tabs and newlines in notes.
    upsert_records(db, [_record(dedup_key="unicode", model="模型-é", project="Café", note="line\nbreak\tand tab")])
    from sqlalchemy import select

    from aicost_desktop.storage.tables import UsageRow

    with db.session() as s:
        got = dict(s.execute(select(UsageRow.dedup_key, UsageRow.model)).all())
    assert got == {"kept": "gpt-5", "unicode": "模型-é"}


def test_usage_dates_run_from_2000_to_a_year_from_today() -> None:
    late = datetime.combine(TODAY + timedelta(days=366), datetime.min.time(), timezone.utc)
    assert _record(bucket_start=late, bucket_end=late).bucket_start == late
    with pytest.raises(InputError, match="more than a year from now"):
        _record(bucket_start=late + timedelta(days=1), bucket_end=late + timedelta(days=1))
    start = datetime(2000, 1, 1, tzinfo=timezone.utc)
    assert _record(bucket_start=start, bucket_end=start).bucket_start == start


def test_a_ledger_holding_year_1_and_9999_rows_from_an_older_version_still_exports(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    assert main(["--home", str(home), "manual", "add", "--service", "X", "--amount", "5", "--date", DAY]) == 0
    con = sqlite3.connect(home / "ledger.sqlite3")
    with con:  # what an unchecked version stored; the export used to die in domain/days.py with OverflowError
        for key, when in (("old", "0001-01-01 00:00:00.000000"), ("new", "9999-12-31 00:00:00.000000")):
            con.execute("INSERT INTO usage_records (source, dedup_key, workspace_id, provider, service_tier, "
                        "bucket_start, bucket_end, dated, input_tokens, output_tokens, cache_read_tokens, "
                        "cache_write_5m_tokens, cache_write_1h_tokens, reasoning_tokens, reasoning_included, "
                        "requests, cost, cost_role, currency, is_demo, updated_at) SELECT 'import', ?, workspace_id, "
                        "'openai', 'standard', ?, ?, 0, 1, 1, 0, 0, 0, 0, 1, 1, 10000000000, 'spend', 'USD', 0, "
                        "updated_at FROM usage_records LIMIT 1", (key, when, when))
    con.close()
    capsys.readouterr()
    out = tmp_path / "all.csv"
    code = main(["--home", str(home), "--tz", "America/New_York", "export", "--format", "csv", "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 0, err
    text = out.read_text()
    assert "0001-01-01" in text and "9999-12-31" in text


@pytest.mark.parametrize(("args", "line"), [
    (["manual", "add", "--service", "X", "--amount", "5", "--date", "9999-12-31"], "error: date='9999-12-31': is after"),
    (["manual", "add", "--service", "X", "--amount", "5", "--date", "1999-12-31"], "error: date='1999-12-31': is before 2000-01-01"),
    (["manual", "add", "--service", "X\u202ey", "--amount", "5", "--date", DAY],
     "error: service='X\\u202ey': contains the unprintable character U+202E"),
    (["manual", "add", "--service", "X", "--amount", "5", "--date", DAY, "--note", "a\x00b"],
     "error: argument 'a\\x00b' contains a NUL byte"),
    (["subscriptions", "add", "--service", "S", "--amount", "5", "--period", "yearly", "--start", "9999-01-01"],
     "error: start='9999-01-01': is after"),
])
def test_manual_entries_and_subscriptions_follow_the_same_ranges(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], line: str) -> None:
    home = tmp_path / "home"
    assert main(["--home", str(home), "manual", "add", "--service", "Kept", "--amount", "1", "--date", DAY]) == 0
    capsys.readouterr()
    assert main(["--home", str(home), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(line) and len(err.splitlines()) == 1, err
    assert [r[0] for r in _rows(home)] and len(_rows(home)) == 1
