"""One Codex rollout file read into its session identity, lineage links and token_count events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from aicost_desktop.domain.errors import InputError
from aicost_desktop.domain.limits import check_usage_instant
from aicost_desktop.importers.base import ImportReport, parse_instant, token_count

# (input incl. cached, cached input, output incl. reasoning, reasoning output): the four counts
# Codex's TokenUsage carries that matter for billing; `total_tokens` is derived and ignored.
Vec = tuple[int, int, int, int]
ZERO: Vec = (0, 0, 0, 0)
_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")


@dataclass(frozen=True, slots=True)
class TokenEvent:
    """One `event_msg`/`token_count` with usage, and the model and tier in force when it ran."""

    line: int
    when: datetime | None          # None when the line's timestamp is unusable (see `bad_time`)
    bad_time: str | None
    total: Vec | None              # info.total_token_usage (cumulative for the thread)
    last: Vec | None               # info.last_token_usage (this request)
    model: str | None              # the event's own model, else the current context's
    tier: str | None               # raw service tier in force; None = the log never said


@dataclass
class SessionMeta:
    """Who a rollout file belongs to and where it came from (read before its events)."""

    path: Path
    session_id: str
    parent_id: str | None = None
    started: datetime | None = None
    # Every session_meta line in the file (its own and those copied with a parent's history):
    # session id -> the id it was forked or spawned from (None for a root session).
    links: dict[str, str | None] = field(default_factory=dict)


def read_meta(path: Path) -> SessionMeta:
    """The file's session_meta lines only (a cheap first pass; bad lines are reported later)."""
    found = SessionMeta(path=path, session_id=_id_from_name(path))
    own = False
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for n, raw in enumerate(fh, start=1):
            if n > 1 and '"session_meta"' not in raw:
                continue
            try:
                data = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if not isinstance(data, dict):
                continue
            payload = data.get("payload")
            if data.get("type") == "session_meta" and isinstance(payload, dict):
                body = payload
            elif n == 1 and data.get("type") is None and isinstance(data.get("id"), str):
                body = data  # 2025 rollouts began with a bare SessionMeta (no type/payload wrapper)
            else:
                if n == 1:
                    found.started = _instant(data.get("timestamp"))
                continue
            sid, parent = _text(body.get("id")), parent_of(body)
            if sid and found.links.get(sid) is None:
                found.links[sid] = parent
            if not own:
                own = True
                found.session_id = sid or found.session_id
                found.parent_id = parent
                found.started = _instant(body.get("timestamp")) or _instant(data.get("timestamp"))
    return found


def read_events(path: Path, report: ImportReport) -> Iterator[TokenEvent]:
    """Stream the file's token_count events with the model and tier in force at each; malformed
    lines and bad token counts are rejected into `report` with their line number."""
    st = _State()
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for n, raw in enumerate(fh, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                report.reject(n, f"malformed JSON ({exc.msg} at column {exc.colno})", path)
                continue
            if isinstance(data, dict):
                event = _line(path, st, n, data, report)
                if event is not None:
                    yield event


@dataclass
class _State:
    model: str | None = None
    tier: str | None = None


def _line(path: Path, st: _State, n: int, data: dict[str, Any], report: ImportReport) -> TokenEvent | None:
    kind, payload = data.get("type"), data.get("payload")
    if not isinstance(payload, dict):
        return None
    if kind in ("session_meta", "turn_context"):
        st.tier = tier_field(payload) or st.tier
        if kind == "turn_context":
            st.model = model_of(payload) or st.model
    elif kind == "event_msg" and payload.get("type") == "thread_settings_applied":
        _settings(st, payload.get("thread_settings"))
    elif kind == "event_msg" and payload.get("type") == "token_count":
        return _token_count(path, st, n, data, payload, report)
    return None


def _settings(st: _State, settings: Any) -> None:
    """`thread_settings_applied` snapshots the whole thread config: a missing service_tier
    means none was set, i.e. Codex sent no tier and the request ran at the default tier."""
    if not isinstance(settings, dict):
        return
    st.model = model_of(settings) or st.model
    st.tier = tier_field(settings) or "default"


def _token_count(path: Path, st: _State, n: int, data: dict[str, Any], payload: dict[str, Any],
                 report: ImportReport) -> TokenEvent | None:
    info = payload.get("info")
    if not isinstance(info, dict):
        return None  # info: null (rate-limit-only events)
    try:
        total = _vec(info.get("total_token_usage"), "info.total_token_usage")
        last = _vec(info.get("last_token_usage"), "info.last_token_usage")
    except InputError as exc:
        report.reject(n, str(exc), path)
        return None
    if total is None and last is None:
        return None
    try:
        when, bad = check_usage_instant("timestamp", parse_instant(data.get("timestamp"), "timestamp")), None
    except InputError as exc:
        when, bad = None, str(exc)
    own_model = model_of(payload) or model_of(info)
    tier = tier_field(info) or tier_field(payload) or st.tier
    return TokenEvent(n, when, bad, total, last, own_model or st.model, tier)


def _instant(value: Any) -> datetime | None:
    try:
        return parse_instant(value, "timestamp")
    except InputError:
        return None


def _vec(raw: Any, name: str) -> Vec | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InputError(name, raw, "must be an object of token counts")
    a, b, c, d = (token_count(raw, k, prefix=f"{name}.") for k in _FIELDS)
    return (a, b, c, d)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def model_of(obj: Any) -> str | None:
    """`model`, `model_name` or `metadata.model` of a payload, trimmed; None when absent."""
    if not isinstance(obj, dict):
        return None
    meta = obj.get("metadata")
    return (_text(obj.get("model")) or _text(obj.get("model_name"))
            or (_text(meta.get("model")) if isinstance(meta, dict) else None))


def tier_field(obj: Any) -> str | None:
    """A `service_tier` string carried on a payload, if any."""
    return _text(obj.get("service_tier")) if isinstance(obj, dict) else None


def parent_of(meta: dict[str, Any]) -> str | None:
    """The session this one was forked or spawned from: `forked_from_id`, `parent_thread_id`,
    or `source.subagent.thread_spawn.parent_thread_id` (codex-rs protocol SessionMeta)."""
    found = _text(meta.get("forked_from_id")) or _text(meta.get("parent_thread_id"))
    if found:
        return found
    source = meta.get("source")
    sub = source.get("subagent") if isinstance(source, dict) else None
    spawn = sub.get("thread_spawn") if isinstance(sub, dict) else None
    return _text(spawn.get("parent_thread_id")) if isinstance(spawn, dict) else None


def _id_from_name(path: Path) -> str:
    """A session id for a file without session_meta: its name without `.jsonl`."""
    return path.stem
