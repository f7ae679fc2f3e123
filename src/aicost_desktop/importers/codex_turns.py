"""Codex requests from rollout logs: per-session counter steps, lineage, and dedup across files."""

from __future__ import annotations

import hashlib
from array import array
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from aicost_desktop.importers.base import ImportReport
from aicost_desktop.importers.codex_rollout import ZERO, SessionMeta, TokenEvent, Vec

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class Turn:
    """One request as one file records it. Copies of the same request in other files share
    `identity` (same lineage root and counter step) or `exact` (same instant and total)."""

    identity: str
    exact: str
    when: datetime
    line: int
    usage: Vec
    model: str | None
    tier: str | None

    @property
    def dedup_key(self) -> str:
        return f"codex:t:{hashlib.blake2b(self.identity.encode('utf-8'), digest_size=12).hexdigest()}"


def lineage_roots(metas: Sequence[SessionMeta]) -> dict[str, str]:
    """Each session's oldest known ancestor, following forked_from / parent thread links.

    A file's own session_meta is authoritative; metas copied into other files fill in parents
    whose files are gone, so a fork's root is found even without its parent's log."""
    parent: dict[str, str] = {}
    for m in metas:
        for sid, up in m.links.items():
            if up and sid not in parent:
                parent[sid] = up
    for m in metas:
        if m.parent_id:
            parent[m.session_id] = m.parent_id
    roots: dict[str, str] = {}
    for m in metas:
        node, seen = m.session_id, {m.session_id}
        while node in parent and parent[node] not in seen:
            node = parent[node]
            seen.add(node)
        roots[m.session_id] = node
    return roots


def creation_order(metas: Iterable[SessionMeta]) -> list[SessionMeta]:
    """Files by session start: a parent began before anything that copied it, so its own
    records of a request are met first; ties and undated files fall back to id and path."""
    return sorted(metas, key=lambda m: (m.started is None, m.started or _EPOCH, m.session_id, str(m.path)))


def turns_of(events: Iterable[TokenEvent], root: str, path: Path, report: ImportReport) -> Iterator[Turn]:
    """The requests of one file, in order; zero turns are counted as skipped in `report`.

    With a cumulative total the turn is the step from the previous total (a total that went
    down, or one equal to its own last turn after a non-zero total, is a reset: the new total is
    the turn). The first total of a file that is larger
    than its own last turn continues a counter recorded elsewhere, so only that last turn is
    new. Without any total, `last_token_usage` is the turn.
    """
    prev: Vec | None = None
    for ev in events:
        if ev.total is not None:
            before, usage = _step(prev, ev)
            identity = f"total|{root}|{_csv(before)}|{_csv(ev.total)}"
            exact = f"at|{_iso(ev.when)}|{_csv(ev.total)}"
        else:
            assert ev.last is not None  # read_events keeps only events with some usage
            usage = ev.last
            identity = exact = f"last|{_iso(ev.when)}|{_csv(ev.last)}"
        if not any(usage):
            report.skipped += 1
            prev = ev.total if ev.total is not None else prev
            continue
        if ev.when is None:
            # Rejected, and the counter is not advanced: its tokens roll into the next turn.
            report.reject(ev.line, ev.bad_time or "timestamp missing", path)
            continue
        prev = ev.total if ev.total is not None else prev
        yield Turn(identity, exact, ev.when, ev.line, usage, ev.model, ev.tier)


def _step(prev: Vec | None, ev: TokenEvent) -> tuple[Vec, Vec]:
    """(previous cumulative total, this turn) for an event that has a cumulative total."""
    total = ev.total
    assert total is not None
    if prev is None:
        last = ev.last
        if last is not None and last != total and _covers(total, last):
            return _minus(total, last), last
        return ZERO, total
    if ev.last is not None and ev.last == total and total != prev and any(prev):
        # A counter restarted at zero whose first turn is its whole total (a spawned session's own counter
        # after the parent's replayed history): the step from the replayed total would count only the excess.
        return prev, total
    if _covers(total, prev):
        return prev, _minus(total, prev)
    return prev, total  # the counter went down: a reset, and the new total is the turn


def _covers(big: Vec, small: Vec) -> bool:
    return all(b >= s for b, s in zip(big, small))


def _minus(a: Vec, b: Vec) -> Vec:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3])


def _iso(when: datetime | None) -> str:
    return when.isoformat() if when is not None else "-"


def _csv(v: Vec) -> str:
    return f"{v[0]},{v[1]},{v[2]},{v[3]}"


class SeenTurns:
    """Requests already counted, as 64-bit digests of their identity and exact tokens."""

    def __init__(self) -> None:
        self._seen = _U64Set()

    def first_time(self, turn: Turn) -> bool:
        """True the first time a request is met; a copy matching by either token is not, and its
        own tokens join the set so copies of the copy are recognised too."""
        new_identity = self._seen.add(_h(turn.identity))
        if turn.exact == turn.identity:
            return new_identity
        new_exact = self._seen.add(_h(turn.exact))
        return new_identity and new_exact


def _h(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "big") or 1


class _U64Set:
    """An open-addressing set of non-zero 64-bit ints in one flat array: 16-32 bytes per member
    instead of ~80 for a Python set of ints, so memory stays far below the size of the logs."""

    def __init__(self) -> None:
        self._slots = array("Q", bytes(8 * 1024))
        self._count = 0

    def __contains__(self, value: int) -> bool:
        slots, mask = self._slots, len(self._slots) - 1
        i = value & mask
        while slots[i]:
            if slots[i] == value:
                return True
            i = (i + 1) & mask
        return False

    def add(self, value: int) -> bool:
        """Add `value`; True when it was not a member yet."""
        if 2 * (self._count + 1) > len(self._slots):
            old, self._slots, self._count = self._slots, array("Q", bytes(16 * len(self._slots))), 0
            for v in old:
                if v:
                    self._insert(v)
        return self._insert(value)

    def _insert(self, value: int) -> bool:
        slots, mask = self._slots, len(self._slots) - 1
        i = value & mask
        while True:
            held = slots[i]
            if not held:
                slots[i] = value
                self._count += 1
                return True
            if held == value:
                return False
            i = (i + 1) & mask
