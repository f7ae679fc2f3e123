"""Large logs are streamed: peak Python memory stays far below the file size."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

from aicost_desktop.importers.base import ImportReport
from aicost_desktop.importers.claude_code import ClaudeCodeImporter
from aicost_desktop.importers.codex import CodexImporter

FILLER = "x" * 4000  # tool results and file contents make real transcript lines kilobytes long


def _claude_log(path: Path, entries: int) -> None:
    path.parent.mkdir(parents=True)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(entries):
            fh.write(json.dumps({"type": "user", "timestamp": "2026-03-01T10:00:00Z",
                                 "message": {"role": "user", "content": FILLER}}) + "\n")
            for out in (1, 2):  # a streaming update, then the final copy
                fh.write(json.dumps({
                    "type": "assistant", "timestamp": "2026-03-01T10:00:01Z", "requestId": f"req_{i}",
                    "message": {"id": f"msg_{i}", "model": "m", "content": [{"type": "text", "text": FILLER}],
                                "usage": {"input_tokens": 3, "output_tokens": out}}}) + "\n")


def test_claude_import_memory_is_flat(tmp_path: Path, pricer) -> None:
    log = tmp_path / "projects" / "p" / "s.jsonl"
    _claude_log(log, 3000)
    size = log.stat().st_size
    assert size > 30_000_000
    report = ImportReport()
    tracemalloc.start()
    try:
        n = out = 0
        for rec in ClaudeCodeImporter([tmp_path / "projects"], pricer, report).records():
            n += 1
            out += rec.usage.output_tokens
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (n, out, report.skipped) == (3000, 6000, 3000)
    assert peak < size / 20, f"peak {peak} bytes for a {size}-byte file"


def test_codex_import_memory_is_flat(tmp_path: Path, pricer) -> None:
    log = tmp_path / "sessions" / "rollout-x.jsonl"
    log.parent.mkdir(parents=True)
    with log.open("w", encoding="utf-8") as fh:
        for i in range(1, 5001):
            fh.write(json.dumps({"timestamp": "2026-05-13T09:00:00Z", "type": "response_item",
                                 "payload": {"content": FILLER}}) + "\n")
            fh.write(json.dumps({"timestamp": "2026-05-13T09:00:01Z", "type": "event_msg", "payload": {
                "type": "token_count", "info": {"total_token_usage": {
                    "input_tokens": 10 * i, "cached_input_tokens": 0, "output_tokens": i,
                    "reasoning_output_tokens": 0}}}}) + "\n")
    size = log.stat().st_size
    report = ImportReport()
    tracemalloc.start()
    try:
        total_in = sum(r.usage.input_tokens for r in CodexImporter([tmp_path / "sessions"], pricer, report).records())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total_in == 50_000
    assert peak < size / 20, f"peak {peak} bytes for a {size}-byte file"
