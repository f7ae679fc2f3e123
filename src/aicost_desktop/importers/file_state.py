"""How much of each log file an importer has read, so a re-import reads only what was appended.

Per (kind, resolved path) the `import_file_state` table keeps the size and mtime seen, the byte
offset consumed (the end of the last complete line: a partial last line is read again next time),
a probe hash (the first HEAD_BYTES and the TAIL_BYTES before the offset) and the settings the rows
were made with. A file is skipped when size and mtime are unchanged; read from the offset when it
grew and the probe still matches; read whole when it shrank below the offset, its probed bytes
changed (rewritten), or the settings differ.

Standard library only: claude_parse's worker processes use `probe`, and the CLI plans a read with
`plan` before SQLAlchemy is loaded (importers/claude_read.py). importers/file_state_store.py loads and
saves the states.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

HEAD_BYTES = 4096
TAIL_BYTES = 256


@dataclass(frozen=True, slots=True)
class FileState:
    """What one import read of one file."""

    size: int
    mtime_ns: int
    offset: int
    probe: str
    settings: str


@dataclass(frozen=True, slots=True)
class ReadPlan:
    """Where to start reading one file: `start` 0 with `whole` for a first or full re-read."""

    path: str | Path
    key: str  # the path as stored
    size: int
    mtime_ns: int
    start: int
    whole: bool
    refresh: bool  # the settings changed: rows equal to stored ones are written again


def probe(fd: int, offset: int) -> str:
    """Hash of the bytes a rewrite would change: the head, and the last bytes before `offset`."""
    head = os.pread(fd, min(HEAD_BYTES, offset), 0)
    tail_start = max(min(HEAD_BYTES, offset), offset - TAIL_BYTES)
    tail = os.pread(fd, offset - tail_start, tail_start) if offset > tail_start else b""
    return hashlib.sha256(head + b"\0" + tail).hexdigest()


def plan(path: str | Path, key: str, st: os.stat_result, prev: FileState | None, settings: str) -> ReadPlan | None:
    """None when nothing changed; otherwise where to read from (see the module docstring)."""
    size, mtime = st.st_size, st.st_mtime_ns
    if prev is None:
        return ReadPlan(path, key, size, mtime, 0, True, False)
    if prev.settings != settings:
        return ReadPlan(path, key, size, mtime, 0, True, True)
    if prev.size == size and prev.mtime_ns == mtime:
        return None
    if size < prev.offset:  # truncated (or replaced by something shorter)
        return ReadPlan(path, key, size, mtime, 0, True, False)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError:
        return ReadPlan(path, key, size, mtime, 0, True, False)
    try:
        same = probe(fd, prev.offset) == prev.probe
    finally:
        os.close(fd)
    if not same:
        return ReadPlan(path, key, size, mtime, 0, True, False)
    return ReadPlan(path, key, size, mtime, prev.offset, False, False)
