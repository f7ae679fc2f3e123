"""Claude Code transcripts (`projects/**/*.jsonl`) to ledger rows, de-duplicated the way ccusage does.

Memory stays flat however large the logs are: pass 1 streams every line and keeps, per
(message.id, requestId), only a rank and the (file, line) of the best copy seen; pass 2 streams
the files again and builds records for the winning lines only. Rules (research/providers.md 6.1):

* duplicates of one key keep the non-sidechain copy, then the larger token total, then the one
  with `speed` set, then the first seen (files in path order);
* sidechain replays (`isSidechain: true`) are dropped when a non-sidechain entry has the same
  message id; sidechain copies of one message id collapse into one;
* entries without `message.id` are not de-duplicated (keyed by a hash of the line);
* `<synthetic>` entries (Claude Code's own placeholders) and `isApiErrorMessage` entries are
  not API requests and are skipped; lines without `message.usage` are ignored;
* nested `cache_creation.{ephemeral_5m,ephemeral_1h}_input_tokens` replace the flat
  `cache_creation_input_tokens`; `speed: "fast"` is priced as `<model>-fast` (unpriced unless
  the catalog knows it, never silently at standard rates); `costUSD` becomes `reported_cost`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from aicost_desktop.domain.enums import DataSource, ServiceTier
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.money import money
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.importers.base import Billing, ImportReport, parse_instant, token_count
from aicost_desktop.sync.base import Pricer

SYNTHETIC_MODEL = "<synthetic>"
_TIERS = {t.value: t for t in ServiceTier}


def discover_roots(env: Mapping[str, str] | None = None, home: Path | None = None) -> list[Path]:
    """The `projects/` directories ccusage reads, in its order.

    CLAUDE_CONFIG_DIR (comma-separated; each a config dir containing `projects/` or the
    `projects/` dir itself) replaces the defaults and must name at least one valid directory.
    Otherwise `$XDG_CONFIG_HOME/claude/projects` (default `~/.config/claude/projects`) and
    `~/.claude/projects`, whichever exist.
    """
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    roots: list[Path] = []
    raw = env.get("CLAUDE_CONFIG_DIR")
    if raw is not None and raw.strip():
        for part in (p.strip() for p in raw.split(",")):
            if not part:
                continue
            path = home / part[2:] if part.startswith("~/") else (home if part == "~" else Path(part))
            if path.name == "projects" and path.is_dir():
                path = path.parent
            projects = path / "projects"
            if projects.is_dir() and projects not in roots:
                roots.append(projects)
        if not roots:
            raise InputError("CLAUDE_CONFIG_DIR", raw,
                             "no directory there contains projects/ (nor is a projects/ directory)")
        return roots
    xdg = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    for base in (xdg / "claude", home / ".claude"):
        projects = base / "projects"
        if projects.is_dir() and projects not in roots:
            roots.append(projects)
    return roots


def roots_for_path(path: Path) -> list[Path]:
    """--path: a Claude config dir (with projects/) or a projects dir; InputError if missing."""
    if not path.exists():
        raise InputError("path", str(path), "does not exist")
    if not path.is_dir():
        raise InputError("path", str(path), "is not a directory")
    return [path / "projects"] if (path / "projects").is_dir() else [path]


def usage_files(roots: Sequence[Path]) -> list[tuple[Path, Path]]:
    """Every `*.jsonl` under the roots, recursively, as (root, file) sorted by path."""
    found: list[tuple[Path, Path]] = []
    seen: set[Path] = set()
    for root in roots:
        for f in root.rglob("*.jsonl"):
            if f.is_file() and f.resolve() not in seen:
                seen.add(f.resolve())
                found.append((root, f))
    found.sort(key=lambda rf: str(rf[1]))
    return found


@dataclass(frozen=True, slots=True)
class _Entry:
    """The parts of a usage line that de-duplication and records need."""

    message_id: str | None
    request_id: str | None
    sidechain: bool
    model: str | None
    usage: TokenUsage
    fast: bool
    tier: ServiceTier
    timestamp: datetime
    cost_usd: Any
    api_error: bool


def _parse_line(line: str) -> _Entry | None:
    """None for lines that are not usage entries; InputError naming the field for bad ones."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError("line", line[:60], f"malformed JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        return None
    message = data.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("usage"), dict):
        return None  # user, summary, file-history-snapshot lines
    u = message["usage"]
    p = "message.usage."
    nested = u.get("cache_creation")
    if isinstance(nested, dict):
        w5 = token_count(nested, "ephemeral_5m_input_tokens", prefix=p + "cache_creation.")
        w1 = token_count(nested, "ephemeral_1h_input_tokens", prefix=p + "cache_creation.")
    else:
        w5, w1 = token_count(u, "cache_creation_input_tokens", prefix=p), 0
    usage = TokenUsage(
        input_tokens=token_count(u, "input_tokens", required=True, prefix=p),
        output_tokens=token_count(u, "output_tokens", required=True, prefix=p),
        cache_read_tokens=token_count(u, "cache_read_input_tokens", prefix=p),
        cache_write_5m_tokens=w5, cache_write_1h_tokens=w1,
        reasoning_included=True, requests=1,
    )
    timestamp = parse_instant(data.get("timestamp"), "timestamp")
    cost = data.get("costUSD")
    if cost is not None and (isinstance(cost, bool) or not isinstance(cost, (int, float))):
        raise InputError("costUSD", cost, "must be a number")
    model = message.get("model")
    mid, rid = message.get("id"), data.get("requestId")
    return _Entry(
        message_id=mid if isinstance(mid, str) and mid else None,
        request_id=rid if isinstance(rid, str) and rid else None,
        sidechain=data.get("isSidechain") is True,
        model=model if isinstance(model, str) and model else None,
        usage=usage, fast=u.get("speed") == "fast",
        tier=_TIERS.get(str(u.get("service_tier") or "standard"), ServiceTier.STANDARD),
        timestamp=timestamp, cost_usd=cost, api_error=data.get("isApiErrorMessage") is True,
    )


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) for each non-blank line, streaming from the open file object."""
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, start=1):
            if line.strip():
                yield n, line.rstrip("\r\n")


class ClaudeCodeImporter:
    """Turns Claude Code transcripts under some `projects/` roots into ledger records."""

    def __init__(self, roots: Sequence[Path], pricer: Pricer, report: ImportReport,
                 billing: Billing = Billing.PER_TOKEN, workspace_id: int | None = None) -> None:
        self.roots = list(roots)
        self.pricer = pricer
        self.report = report
        self.billing = billing
        self.workspace_id = workspace_id

    def records(self) -> Iterator[UsageRecord]:
        files = usage_files(self.roots)
        self.report.files += len(files)
        winners = self._select(files)
        for idx, (root, path) in enumerate(files):
            wanted = winners.get(idx)
            if not wanted:
                continue
            project = _project(root, path)
            for n, line in _lines(path):
                if n not in wanted:
                    continue
                try:
                    entry = _parse_line(line)
                except ValueError:  # the file changed between the passes; pass 1 saw it valid
                    continue
                if entry is not None:
                    yield self._record(entry, project, line)

    def _select(self, files: list[tuple[Path, Path]]) -> dict[int, set[int]]:
        """Pass 1: the (file index -> line numbers) of the copy that wins for every key."""
        exact: dict[int, tuple[tuple[int, int], int, int]] = {}   # hash(mid, rid) -> rank, file, line
        side: dict[int, tuple[tuple[int, int], int, int]] = {}    # hash(mid) -> best sidechain copy
        main_mids: set[int] = set()
        keyless: list[tuple[int, int]] = []
        report = self.report
        for idx, (_root, path) in enumerate(files):
            for n, line in _lines(path):
                try:
                    entry = _parse_line(line)
                except InputError as exc:
                    report.reject(n, str(exc) if exc.field != "line" else exc.reason, path)
                    continue
                except ValueError as exc:
                    report.reject(n, str(exc), path)
                    continue
                if entry is None:
                    continue
                if entry.api_error or entry.model == SYNTHETIC_MODEL:
                    report.skipped += 1
                    continue
                if entry.message_id is None:
                    keyless.append((idx, n))
                    continue
                rank = (entry.usage.total_tokens, 1 if entry.fast else 0)
                if entry.sidechain:
                    table, key = side, hash(entry.message_id)
                else:
                    table, key = exact, hash((entry.message_id, entry.request_id))
                    main_mids.add(hash(entry.message_id))
                best = table.get(key)
                if best is None:
                    table[key] = (rank, idx, n)
                elif rank > best[0]:
                    table[key] = (rank, idx, n)
                    report.skipped += 1
                else:
                    report.skipped += 1
        winners: dict[int, set[int]] = defaultdict(set)
        for _rank, idx, n in exact.values():
            winners[idx].add(n)
        for mid_hash, (_rank, idx, n) in side.items():
            if mid_hash in main_mids:
                report.skipped += 1  # a sidechain replay of a main-session message
            else:
                winners[idx].add(n)
        for idx, n in keyless:
            winners[idx].add(n)
        return winners

    def _record(self, e: _Entry, project: str | None, line: str) -> UsageRecord:
        model = f"{e.model}-fast" if e.model and e.fast else e.model
        if e.message_id is not None:
            key = f"claude-code:{e.message_id}:{e.request_id or ''}"
        else:
            key = f"claude-code:line:{hashlib.sha256(line.strip().encode()).hexdigest()[:24]}"
        computed = self.pricer(model, e.usage, e.tier, e.timestamp.date())
        return UsageRecord(
            source=DataSource.LOG, dedup_key=key, provider="anthropic",
            bucket_start=e.timestamp, bucket_end=e.timestamp, usage=e.usage, model=model,
            model_vendor="anthropic", workspace_id=self.workspace_id, project=project,
            service_tier=e.tier, line_item="sidechain" if e.sidechain else None,
            reported_cost=money(e.cost_usd) if e.cost_usd is not None else None,
            computed_cost=computed, cost_role=self.billing.cost_role,
        )


def _project(root: Path, path: Path) -> str | None:
    """The first folder under `projects/` (the session's cwd with '/' turned into '-')."""
    rel = path.relative_to(root).parts
    return rel[0] if len(rel) > 1 else None
