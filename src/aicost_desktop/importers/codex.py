"""OpenAI Codex CLI session logs (`$CODEX_HOME/{sessions,archived_sessions}/**/*.jsonl`) to ledger rows.

Rules (research/providers.md 6.2, ccusage's codex adapter):

* `turn_context` lines set the current model; a token_count event's own `model` (payload or
  info) wins over it; a session with no model at all is priced as `gpt-5` and flagged in the
  row's note as approximate;
* `event_msg` / `token_count` events carry `info.last_token_usage` (this turn) and
  `info.total_token_usage` (cumulative); without `last_token_usage` the turn is the
  difference from the previous cumulative totals; `info: null` events and zero turns are skipped;
* `input_tokens` includes `cached_input_tokens` (stored as uncached input + cache reads);
  `output_tokens` already includes `reasoning_output_tokens` (reasoning_included=True);
* the same session file under `sessions/` and `archived_sessions/` is read once (the
  `sessions/` copy wins); a row's key is the session file name plus the event's line number.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from aicost_desktop.domain.enums import DataSource, ServiceTier
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.importers.base import Billing, ImportReport, parse_instant, token_count
from aicost_desktop.sync.base import Pricer

FALLBACK_MODEL = "gpt-5"
FALLBACK_NOTE = f"Codex session recorded no model; priced as {FALLBACK_MODEL} (approximate)"
_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")


def discover_homes(env: Mapping[str, str] | None = None, home: Path | None = None) -> list[Path]:
    """`CODEX_HOME` (comma-separated) or `~/.codex`, keeping those that exist."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    raw = env.get("CODEX_HOME")
    parts = [p.strip() for p in raw.split(",")] if raw and raw.strip() else [str(home / ".codex")]
    homes: list[Path] = []
    for part in parts:
        if not part:
            continue
        path = home / part[2:] if part.startswith("~/") else Path(part)
        if path.is_dir() and path not in homes:
            homes.append(path)
    return homes


def session_dirs(homes: Sequence[Path]) -> list[Path]:
    """`sessions/` dirs first, then `archived_sessions/`, so live copies win."""
    live = [h / "sessions" for h in homes if (h / "sessions").is_dir()]
    archived = [h / "archived_sessions" for h in homes if (h / "archived_sessions").is_dir()]
    return live + archived


def dirs_for_path(path: Path) -> list[Path]:
    """--path: a Codex home (with sessions/ or archived_sessions/) or a sessions dir itself."""
    if not path.exists():
        raise InputError("path", str(path), "does not exist")
    if not path.is_dir():
        raise InputError("path", str(path), "is not a directory")
    return session_dirs([path]) or [path]


def session_files(dirs: Sequence[Path], report: ImportReport) -> list[Path]:
    """Every `*.jsonl` once: a file name already seen in an earlier dir is the same session."""
    seen: set[str] = set()
    files: list[Path] = []
    for d in dirs:
        for f in sorted(d.rglob("*.jsonl"), key=str):
            if not f.is_file():
                continue
            if f.name in seen:
                report.warnings.append(f"{f}: same session as an already imported file; counted once")
                continue
            seen.add(f.name)
            files.append(f)
    return files


def _usage(raw: Any, name: str) -> dict[str, int] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InputError(name, raw, "must be an object of token counts")
    return {k: token_count(raw, k, prefix=f"{name}.") for k in _FIELDS}


def _delta(total: dict[str, int], previous: dict[str, int] | None) -> dict[str, int]:
    if previous is None:
        return dict(total)
    return {k: max(total[k] - previous[k], 0) for k in _FIELDS}


def _model_of(obj: Any) -> str | None:
    if isinstance(obj, dict):
        m = obj.get("model")
        if isinstance(m, str) and m.strip():
            return m.strip()
    return None


class CodexImporter:
    """Turns Codex session logs under some session dirs into ledger records."""

    def __init__(self, dirs: Sequence[Path], pricer: Pricer, report: ImportReport,
                 billing: Billing = Billing.PER_TOKEN, workspace_id: int | None = None) -> None:
        self.dirs = list(dirs)
        self.pricer = pricer
        self.report = report
        self.billing = billing
        self.workspace_id = workspace_id

    def records(self) -> Iterator[UsageRecord]:
        files = session_files(self.dirs, self.report)
        self.report.files += len(files)
        for path in files:
            yield from self._file(path)

    def _file(self, path: Path) -> Iterator[UsageRecord]:
        session = path.stem
        previous: dict[str, int] | None = None
        current_model: str | None = None
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, start=1):
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    self.report.reject(n, f"malformed JSON ({exc.msg} at column {exc.colno})", path)
                    continue
                if not isinstance(data, dict):
                    continue
                kind, payload = data.get("type"), data.get("payload")
                if kind == "turn_context":
                    current_model = _model_of(payload) or current_model
                    continue
                if kind != "event_msg" or not isinstance(payload, dict) or payload.get("type") != "token_count":
                    continue
                info = payload.get("info")
                if not isinstance(info, dict):
                    continue  # info: null (rate-limit-only events)
                try:
                    total = _usage(info.get("total_token_usage"), "info.total_token_usage")
                    last = _usage(info.get("last_token_usage"), "info.last_token_usage")
                    turn = last if last is not None else (_delta(total, previous) if total else None)
                    if total is not None:
                        previous = total
                    if turn is None:
                        continue
                    if not any(turn.values()):
                        self.report.skipped += 1
                        continue
                    when = parse_instant(data.get("timestamp"), "timestamp")
                except InputError as exc:
                    self.report.reject(n, str(exc), path)
                    continue
                model = _model_of(payload) or _model_of(info) or current_model
                yield self._record(session, n, when, model, turn)

    def _record(self, session: str, line: int, when: Any, model: str | None,
                turn: dict[str, int]) -> UsageRecord:
        cached = min(turn["cached_input_tokens"], turn["input_tokens"])
        usage = TokenUsage(
            input_tokens=turn["input_tokens"] - cached, cache_read_tokens=cached,
            output_tokens=turn["output_tokens"], reasoning_tokens=turn["reasoning_output_tokens"],
            reasoning_included=True, requests=1,
        )
        fallback = model is None
        priced_as = FALLBACK_MODEL if fallback else model
        return UsageRecord(
            source=DataSource.LOG, dedup_key=f"codex:{session}:{line}", provider="openai",
            bucket_start=when, bucket_end=when, usage=usage, model=priced_as, model_vendor="openai",
            workspace_id=self.workspace_id,
            computed_cost=self.pricer(priced_as, usage, ServiceTier.STANDARD, when.date()),
            cost_role=self.billing.cost_role, note=FALLBACK_NOTE if fallback else None,
        )
