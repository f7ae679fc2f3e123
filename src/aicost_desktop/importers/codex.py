"""OpenAI Codex CLI session logs (`$CODEX_HOME/{sessions,archived_sessions}/**/*.jsonl`) to ledger rows.

Every request is counted once and priced the way OpenAI bills it. Rules and their sources:

* Turns (codex-rs `TokenUsageInfo`; ccusage codex adapter): a session's `event_msg`/`token_count`
  events carry `info.total_token_usage`, the thread's cumulative counter, and
  `info.last_token_usage`. A turn is the step of the cumulative total from the session's
  previous total; an event whose total did not move adds nothing (Codex re-emits the last
  count, and `recompute_token_usage` after a rollback rewrites only `last_token_usage`). A total
  that goes down is a reset: the new total is the turn. A file's first total that is larger than
  its own last turn continues a counter kept elsewhere (seeded from a parent), so only that
  last turn is new. `last_token_usage` is the turn only where no cumulative total exists.
  `info: null` (rate-limit-only) events and zero turns are skipped.
* Copied history (codex-rs `SessionMeta.forked_from_id`, `SessionSource::SubAgent(ThreadSpawn
  { parent_thread_id })`, `InitialHistory::Forked` persisting the parent's rollout items; ccusage
  `replay.rs`): forks and sub-agents write the parent's rollout, token counts included, into their
  own file, either verbatim at the original instants or re-stamped at the spawn instant, and the
  child's counter continues from the parent's. A request is identified by its lineage root (the
  oldest ancestor reachable through `forked_from_id` / `parent_thread_id` links, read from every
  `session_meta` line, copied ones too) plus its counter step (previous total -> total), and also
  by its exact (instant, cumulative total); copies sharing either are one request. Files are read
  in order of session start (a parent began before anything that copied it), so the request is
  kept where it first ran, whatever order the directory lists files in; the row's key is a
  digest of that identity, so a copy read without its parent still lands on the same key.
* Tier (codex-rs `ThreadSettingsAppliedEvent.thread_settings.service_tier`; openai/codex#20311:
  token_count events carry no tier): the `service_tier` in force when a request ran, from
  `thread_settings_applied` events (a snapshot without one means none was set: default), or a
  `service_tier` on `turn_context` / `session_meta` / the event itself where a version writes one.
  `priority` and legacy `fast` price at priority rates, `flex` at flex rates, `default`/`auto` at
  standard. A log that records no tier is priced standard and its rows say so; today's
  `~/.codex/config.toml` is never read for old sessions.
* Models: `turn_context` (and `thread_settings_applied`) set the current model; a token_count
  event's own `model` wins; a session with no model at all is priced as `gpt-5`, flagged
  approximate in the row's note.
* Tokens (providers.md 6.2): `input_tokens` includes `cached_input_tokens` (stored as uncached input
  + cache reads); `output_tokens` already includes `reasoning_output_tokens`.
* Files: the same session file under `sessions/` and `archived_sessions/` is read once (the
  `sessions/` copy wins); malformed lines are rejected with their line and reason.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

from aicost_desktop.domain.enums import DataSource, ServiceTier
from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.usage import TokenUsage, UsageRecord
from aicost_desktop.importers.base import Billing, ImportReport
from aicost_desktop.importers.codex_rollout import read_events, read_meta
from aicost_desktop.importers.codex_turns import SeenTurns, Turn, creation_order, lineage_roots, turns_of
from aicost_desktop.sync.base import Pricer

FALLBACK_MODEL = "gpt-5"
FALLBACK_NOTE = f"Codex session recorded no model; priced as {FALLBACK_MODEL} (approximate)"
NO_TIER_NOTE = "tier not recorded in log; standard price"
_TIERS = {"priority": ServiceTier.PRIORITY, "fast": ServiceTier.PRIORITY, "flex": ServiceTier.FLEX,
          "default": ServiceTier.STANDARD, "standard": ServiceTier.STANDARD, "auto": ServiceTier.STANDARD}


def tier_of(raw: str | None) -> tuple[ServiceTier, str | None]:
    """The billing tier for a logged `service_tier`, and the note a row needs when it is a guess."""
    if raw is None:
        return ServiceTier.STANDARD, NO_TIER_NOTE
    tier = _TIERS.get(raw.strip().lower())
    if tier is None:
        return ServiceTier.STANDARD, f"service tier {raw!r} in log is not a known tier; standard price"
    return tier, None


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


class CodexImporter:
    """Turns Codex session logs under some session dirs into ledger records, each request once."""

    def __init__(self, dirs: Sequence[Path], pricer: Pricer, report: ImportReport,
                 billing: Billing = Billing.PER_TOKEN, workspace_id: int | None = None) -> None:
        self.dirs = list(dirs)
        self.pricer = pricer
        self.report = report
        self.billing = billing
        self.workspace_id = workspace_id
        self.stems: set[str] = set()  # session files read, for retiring their pre-digest row keys

    def records(self) -> Iterator[UsageRecord]:
        files = session_files(self.dirs, self.report)
        self.report.files += len(files)
        self.stems.update(f.stem for f in files)
        # First pass: every file's session_meta lines, for the lineage links across files.
        metas = [read_meta(path) for path in files]
        roots = lineage_roots(metas)
        seen, copies = SeenTurns(), 0
        # Parents before the files that copy them, so a request is kept where it first ran.
        for meta in creation_order(metas):
            events = read_events(meta.path, self.report)
            for turn in turns_of(events, roots[meta.session_id], meta.path, self.report):
                if not seen.first_time(turn):
                    copies += 1
                    continue
                try:
                    record = self._record(turn)
                except ValueError as exc:  # a field outside domain/limits.py's ranges (model name...)
                    self.report.reject(turn.line, str(exc), meta.path)
                    continue
                yield record
        self.report.skipped += copies
        if copies:
            self.report.warnings.append(
                f"{copies} request(s) copied into forked or sub-agent sessions were counted once")

    def _record(self, turn: Turn) -> UsageRecord:
        inp, cached, out, reasoning = turn.usage
        cached = min(cached, inp)
        usage = TokenUsage(input_tokens=inp - cached, cache_read_tokens=cached, output_tokens=out,
                           reasoning_tokens=reasoning, reasoning_included=True, requests=1)
        priced_as = turn.model or FALLBACK_MODEL
        tier, tier_note = tier_of(turn.tier)
        notes = [n for n in (None if turn.model else FALLBACK_NOTE, tier_note) if n]
        return UsageRecord(
            source=DataSource.LOG, dedup_key=turn.dedup_key, provider="openai",
            bucket_start=turn.when, bucket_end=turn.when, usage=usage, model=priced_as,
            model_vendor="openai", workspace_id=self.workspace_id, service_tier=tier,
            computed_cost=self.pricer(priced_as, usage, tier, turn.when.date()),
            cost_role=self.billing.cost_role, note="; ".join(notes) or None,
        )


LEGACY_KEY_PREFIX = "codex:"  # before per-request digests keys were codex:<file stem>:<line>


def legacy_keys(stems: Iterable[str]) -> list[str]:
    """The LIKE patterns of rows an older version wrote for these session files (one per line),
    which the digest-keyed rows of a new import replace; `codex:t:` digests never match."""
    return [f"{LEGACY_KEY_PREFIX}{_like_escape(stem)}:%" for stem in sorted(stems) if stem != "t"]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

