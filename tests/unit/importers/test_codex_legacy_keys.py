"""Upgrading: rows an older Codex import keyed by file and line are replaced, never counted twice."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from aicost_desktop.domain.enums import DataSource
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.importers.runner import import_codex
from aicost_desktop.storage.ledger import upsert_records

from .conftest import ledger_totals

AT = datetime(2026, 5, 13, 9, 1, tzinfo=timezone.utc)


def _old_row(key: str, tokens: int = 1000) -> UsageRecord:
    usage = TokenUsage(input_tokens=tokens, output_tokens=tokens, requests=1)
    return UsageRecord(source=DataSource.LOG, dedup_key=key, provider="openai", bucket_start=AT,
                       bucket_end=AT, usage=usage, model="gpt-5", computed_cost=Decimal("1"))


def test_reimport_after_upgrade_replaces_file_and_line_keys(db, codex_home: Path, pricer) -> None:
    fresh = import_codex(db, pricer, codex_home)
    expected = ledger_totals(db, "log")
    # Rows as an older version would have left them: one per token_count line of the file.
    stem = "rollout-2026-05-13T09-00-00-aaaa"
    upsert_records(db, [_old_row(f"codex:{stem}:4"), _old_row(f"codex:{stem}:7"),
                         # a session file that is not part of this import keeps its rows
                         _old_row("codex:rollout-gone:3", 7),
                         # a claude row whose key merely looks alike is untouched
                         UsageRecord(source=DataSource.LOG, dedup_key=f"codex_{stem}:1", provider="anthropic",
                                     bucket_start=AT, bucket_end=AT, usage=TokenUsage(input_tokens=5, requests=1),
                                     model="claude-sonnet-4-5")])
    again = import_codex(db, pricer, codex_home)
    after = ledger_totals(db, "log")
    assert after["rows"] == expected["rows"] + 2
    assert after["input"] == expected["input"] + 7 + 5
    assert any("replaced 2 row(s)" in w for w in again.warnings)
    assert fresh.added and not any("older version" in w for w in fresh.warnings)
