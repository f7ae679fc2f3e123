"""The fast line parser reads exactly what json.loads of the whole line says, or defers to it; the
request pricer prices exactly as the catalog; worker processes give the same records as one process."""

from __future__ import annotations

import json
import random
import sys
from datetime import date
from pathlib import Path

import pytest

from aicost_desktop.domain.enums import ServiceTier
from aicost_desktop.domain.usage import TokenUsage
from aicost_desktop.importers.base import ImportReport, collect
from aicost_desktop.importers.claude_code import ClaudeCodeImporter
from aicost_desktop.importers.claude_parse import _spliced, parse_usage_line
from aicost_desktop.importers.request_pricer import RequestPricer

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from benchmarks.claude_logs_gen import generate  # noqa: E402

FIELDS = ("timestamp", "requestId", "isSidechain", "costUSD", "isApiErrorMessage")
MESSAGE = ("id", "model", "role", "usage")


def _reference(line: bytes):
    """What a whole-line json.loads says (the slow path, which the fast one must equal)."""
    data = json.loads(line)
    message = data.get("message")
    if isinstance(message, dict) and isinstance(message.get("usage"), dict):
        return data, message
    return None


def _same(line: bytes) -> None:
    got = parse_usage_line(line)
    want = _reference(line)
    if want is None:
        assert got is None or got[2], line[:200]  # only agent_progress copies come from elsewhere
        return
    fields, message, progress = got
    assert not progress
    assert {k: fields.get(k) for k in FIELDS} == {k: want[0].get(k) for k in FIELDS}
    assert {k: message.get(k) for k in MESSAGE} == {k: want[1].get(k) for k in MESSAGE}


@pytest.fixture(scope="module")
def generated_lines(tmp_path_factory) -> list[bytes]:
    root = tmp_path_factory.mktemp("gen")
    gen = generate(root, days=2, sessions_per_day=3, seed=11, keep_files=True)
    return [line for p in gen.paths for line in p.read_bytes().splitlines() if b'"usage"' in line]


def test_fast_path_equals_json_loads_on_generated_lines(generated_lines: list[bytes]) -> None:
    fast = 0
    for line in generated_lines:
        _same(line)
        fast += _spliced(line, 0, line.find(b'"usage"'), len(line)) is not None
    assert fast > len(generated_lines) // 2  # and the fast path is the common one


def _assistant(**extra) -> dict:
    d = {"parentUuid": None, "isSidechain": False, "cwd": "/Users/zoé/проект", "sessionId": "s", "version": "2.1.63",
         "message": {"model": "claude-sonnet-4-5-20250929", "id": "msg_1", "type": "message", "role": "assistant",
                     "content": [{"type": "text", "text": 'quote " brace } "usage":{"input_tokens":999} \\'}],
                     "stop_reason": None, "stop_sequence": None,
                     "usage": {"input_tokens": 3, "output_tokens": 7, "cache_read_input_tokens": 11}},
         "requestId": "req_1", "type": "assistant", "uuid": "u", "timestamp": "2026-03-01T10:00:00.000Z"}
    d.update(extra)
    return d


def _dump(d: dict, **kw) -> bytes:
    return json.dumps(d, ensure_ascii=False, separators=kw.pop("separators", (",", ":")), **kw).encode()


TOOL_INPUT_WITH_USAGE = {"type": "tool_use", "id": "toolu_1", "name": "Write",
                         "input": {"usage": {"input_tokens": 5000, "output_tokens": 5000}, "content": "x"}}


@pytest.mark.parametrize("line", [
    _dump(_assistant()),
    _dump(_assistant(), separators=(", ", ": ")),  # spaced JSON: the slow path
    _dump({**_assistant(), "message": {**_assistant()["message"], "content": [TOOL_INPUT_WITH_USAGE]}}),
    _dump({**_assistant(), "costUSD": 0.25, "isApiErrorMessage": False}),
    _dump({"content": "top-level content first", **_assistant()}),
    _dump({**_assistant(), "message": {"usage": {"input_tokens": 1, "output_tokens": 2}, "role": "assistant",
                                       "id": "msg_2", "content": [{"type": "text", "text": "usage first"}]}}),
    _dump({**_assistant(), "message": {"content": [{"type": "text", "text": "content first"}], "role": "assistant",
                                       "id": "msg_3", "usage": {"input_tokens": 1, "output_tokens": 2}}}),
    _dump({"timestamp": "2026-01-09T10:00:00.000Z", "sessionId": "session-alpha",
           "message": {"role": "assistant", "id": "msg-alpha-1", "model": "claude-sonnet-4-20250514",
                       "usage": {"input_tokens": 100, "output_tokens": 50, "cache_creation_input_tokens": 25,
                                 "cache_read_input_tokens": 10}},
           "requestId": "req-alpha-1", "costUSD": 0.12, "version": "1.0.0"}),  # ccusage's fixture (no content)
    # A Task tool result: a user line whose toolUseResult carries the sub-agent's summed usage.
    _dump({"type": "user", "message": {"role": "user", "content": [{"type": "tool_result", "content": "done"}]},
           "toolUseResult": {"totalTokens": 123, "usage": {"input_tokens": 9, "output_tokens": 9}},
           "timestamp": "2026-03-01T10:00:00.000Z"}),
    _dump({**_assistant(), "message": {**_assistant()["message"], "role": "user"}}),
    # Invalid UTF-8 inside the content: the fields around it read the same.
    _dump(_assistant()).replace(b"quote", b"\xff\xfequote"),
])
def test_fast_path_equals_json_loads_on_odd_lines(line: bytes) -> None:
    if b"\xff" in line:
        got = parse_usage_line(line)
        assert got is not None and got[1]["usage"] == _assistant()["message"]["usage"]
        return
    _same(line)


def test_task_results_are_not_usage_lines() -> None:
    line = _dump({"type": "user", "message": {"role": "user", "content": [{"type": "tool_result", "content": "x"}]},
                  "toolUseResult": {"usage": {"input_tokens": 9, "output_tokens": 9}}})
    assert parse_usage_line(line) is None


def test_request_pricer_prices_exactly_as_the_catalog(tmp_path: Path) -> None:
    from aicost_desktop.app_context import AppContext

    ctx = AppContext(home=tmp_path / "home", tz="UTC")
    try:
        catalog = ctx.catalog
        fast = RequestPricer(catalog.cost_of)
        assert fast._catalog is catalog  # the fast path is in use
        rng = random.Random(5)
        models = ["claude-sonnet-4-5-20250929", "claude-opus-4-6", "claude-opus-4-6-fast", "claude-haiku-4-5-20251001",
                  "claude-sonnet-4-20250514", "gpt-4o", "no-such-model-xyz"]
        for _ in range(3000):
            u = TokenUsage(input_tokens=rng.randint(0, 9000), output_tokens=rng.randint(0, 9000),
                           cache_read_tokens=rng.choice([0, rng.randint(0, 400_000)]),
                           cache_write_5m_tokens=rng.randint(0, 30_000), cache_write_1h_tokens=rng.choice([0, 7000]),
                           requests=1)
            model = rng.choice(models)
            tier = rng.choice([ServiceTier.STANDARD, ServiceTier.STANDARD, ServiceTier.BATCH, ServiceTier.PRIORITY])
            day = rng.choice([date(2026, 3, 1), date(2026, 3, 20), date(2025, 6, 1)])
            assert fast(model, u, tier, day) == catalog.cost_of(model, u, tier, day), (model, u, tier, day)
    finally:
        ctx.close()


def test_worker_processes_give_the_same_records(tmp_path: Path, pricer) -> None:
    gen = generate(tmp_path / "c", days=2, sessions_per_day=4, seed=5)

    def run(workers: int) -> tuple[dict[str, tuple], ImportReport]:
        report = ImportReport()
        recs = collect(ClaudeCodeImporter([tmp_path / "c" / "projects"], pricer, report, workers=workers).records())
        return {r.dedup_key: (r.usage, r.model, r.bucket_start, r.line_item, r.project) for r in recs}, report

    one, r1 = run(1)
    two, r2 = run(2)
    assert one == two and len(one) == len(gen.requests)
    assert (r1.skipped, r1.rejected_total) == (r2.skipped, r2.rejected_total)


def _hostile_lines() -> list[bytes]:
    """Usage lines whose values json and orjson read differently (integers beyond 64 bits become floats
    in orjson) or that orjson refuses (NaN, 1e400, lone surrogates), next to ordinary ones."""
    base = _dump(_assistant())
    lines = [base]
    for literal in ("123456789012345678901234567890", str(2**64), str(-(2**63) - 1), str(2**63), "1e400", "NaN",
                    "-Infinity", "1.5", "3.0", "-0", '"7"', "true", "null", "1E2"):
        lines.append(base.replace(b'"input_tokens":3', b'"input_tokens":' + literal.encode()))
        lines.append(base.replace(b'"output_tokens":7', b'"output_tokens":' + literal.encode()))
        lines.append(base.replace(b'"requestId"', b'"costUSD":' + literal.encode() + b',"requestId"'))
    for text in ("\\ud800", "\\u0000", "\\u202e", "\\ud83d\\ude00"):
        lines.append(base.replace(b'"msg_1"', b'"msg_' + text.encode() + b'"'))
        lines.append(base.replace(b'"claude-sonnet-4-5-20250929"', b'"claude-' + text.encode() + b'"'))
        lines.append(base.replace(b'"2026-03-01T10:00:00.000Z"', b'"2026-03-01T10:00:00' + text.encode() + b'Z"'))
    lines.append(base.replace(b'"output_tokens":7', b'"output_tokens":7,"output_tokens":8'))  # duplicate key
    lines.append(base + b"\x1c")  # trailing text json's strip() takes for whitespace
    return [line.replace(b'"msg_1"', f'"msg_{i}"'.encode(), 1) for i, line in enumerate(lines)]


def test_orjson_and_json_give_every_line_the_same_outcome(tmp_path: Path, monkeypatch) -> None:
    import orjson

    from aicost_desktop.importers import claude_parse

    lines = _hostile_lines()
    differ = sum(1 for line in lines if _orjson_or_error(orjson, line) != _json_or_error(line))
    assert differ >= 10  # the cases where reading with orjson alone would name another value
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    fast = claude_parse.scan_file(str(path), 0, 0)

    def refuse(_data: object) -> object:
        raise orjson.JSONDecodeError("refused", "", 0)

    monkeypatch.setattr(claude_parse, "_fast_loads", refuse)
    slow = claude_parse.scan_file(str(path), 0, 0)
    assert fast.rejected > 10 and fast.entries  # both outcomes are there
    assert (fast.entries, fast.rejects, fast.rejected, fast.usage_lines) == (
        slow.entries, slow.rejects, slow.rejected, slow.usage_lines)


def _orjson_or_error(orjson, line: bytes) -> object:
    try:
        return repr(orjson.loads(line))
    except orjson.JSONDecodeError:
        return "error"


def _json_or_error(line: bytes) -> object:
    try:
        return repr(json.loads(line.decode("utf-8", "replace")))
    except ValueError:
        return "error"


def test_the_read_buffer_reused_from_file_to_file_shows_no_file_anything_of_another(tmp_path: Path) -> None:
    """One buffer per thread serves every file (claude_parse._buffer): a long file, then one that grew a
    line past the buffer, then short ones, each without a final newline (a partial line, not read yet):
    each file's entries and offsets are its own, as read alone."""
    from aicost_desktop.importers.claude_parse import CHUNK, FileScan, iter_entries

    def line(mid: str, tokens: int, pad: int = 0) -> str:
        return json.dumps({"type": "assistant", "requestId": f"req_{mid}", "timestamp": "2026-03-01T10:00:00.000Z",
                           "message": {"id": mid, "role": "assistant", "model": "claude-sonnet-4-5",
                                       "content": [{"type": "text", "text": "x" * pad}],
                                       "usage": {"input_tokens": tokens, "output_tokens": 1}}}) + "\n"

    texts = {
        "long": "".join(line(f"msg_l{i}", i) for i in range(3000)) + line("msg_tail", 7)[:-40],
        "wide": line("msg_w", 5, pad=3 * CHUNK) + line("msg_w2", 6),
        "short": line("msg_s", 3) + '{"type":"assistant","message":{"usage":{"input_tokens":9',
        "tiny": line("msg_t", 4)[:-1],
    }
    paths = {}
    for name, text in texts.items():
        paths[name] = tmp_path / f"{name}.jsonl"
        paths[name].write_text(text)

    def read(name: str) -> tuple[list[str], int, int]:
        scan = FileScan(index=0)
        keys = [e[1] for e in iter_entries(str(paths[name]), 0, scan)]
        return keys, scan.offset, scan.usage_lines

    alone = {}
    for name in texts:  # each first in a fresh thread: a buffer of its own
        import threading
        t = threading.Thread(target=lambda n=name: alone.__setitem__(n, read(n)))
        t.start()
        t.join()
    assert [read(name) for name in texts] == [alone[name] for name in texts]
    assert alone["short"] == (["claude-code:msg_s:req_msg_s"], len(line("msg_s", 3)), 1)
    assert alone["tiny"] == ([], 0, 0)
    assert len(alone["long"][0]) == 3000 and alone["wide"][2] == 2
