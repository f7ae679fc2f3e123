"""How much of each log file an importer has read, so a re-import reads only what was appended.

Per (kind, resolved path) the `import_file_state` table keeps the size and mtime seen, the byte
offset consumed (the end of the last complete line: a partial last line is read again next time),
a probe hash (the first HEAD_BYTES and the TAIL_BYTES before the offset) and the settings the rows
were made with. A file is skipped when size and mtime are unchanged; read from the offset when it
grew and the probe still matches; read whole when it shrank below the offset, its probed bytes
changed (rewritten), or the settings differ.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from sqlalchemy import bindparam, select

if TYPE_CHECKING:
    from aicost_desktop.storage.db import Database

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

    path: Path
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


def plan(path: Path, key: str, st: os.stat_result, prev: FileState | None, settings: str) -> ReadPlan | None:
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


def load(db: "Database", kind: str) -> dict[str, FileState]:
    """Every stored state of one importer kind, by path."""
    from aicost_desktop.storage.tables import ImportFileState as T  # worker: keeps the ORM out of claude_parse's workers (see save)

    with db.session() as s:
        rows = s.execute(select(T.path, T.size, T.mtime_ns, T.offset, T.probe, T.settings).where(T.kind == kind))
        return {r.path: FileState(r.size, r.mtime_ns, r.offset, r.probe, r.settings) for r in rows}


def save(db: "Database", kind: str, states: Iterable[tuple[str, FileState]]) -> None:
    """Store (path, state) pairs, inserting or updating under the write lock (another import may
    have added a path meanwhile)."""
    # worker: claude_parse (run in worker processes) imports this module for probe(); the ORM stays out
    from aicost_desktop.storage.ledger import sqlite_time
    from aicost_desktop.storage.tables import ImportFileState as T, core_table

    now = datetime.now(timezone.utc)
    rows = {path: (st.size, st.mtime_ns, st.offset, st.probe, st.settings) for path, st in states}
    if not rows:
        return
    with db.write_session() as s:
        if db.dialect == "sqlite":  # thousands of files: the DBAPI's executemany, not the ORM's binds
            _save_sqlite(s.connection().connection.cursor(), kind, rows, sqlite_time(now))
            return
        ids = dict(s.execute(select(T.path, T.id).where(T.kind == kind)).all())
        names = ("size", "mtime_ns", "offset", "probe", "settings")
        updates = [{"row_id": ids[p], **dict(zip(names, r)), "updated_at": now} for p, r in rows.items() if p in ids]
        inserts = [{"kind": kind, "path": p, **dict(zip(names, r)), "updated_at": now}
                   for p, r in rows.items() if p not in ids]
        if updates:
            s.execute(core_table(T).update().where(T.id == bindparam("row_id")), updates)
        if inserts:
            s.execute(core_table(T).insert(), inserts)


def _save_sqlite(cur: Any, kind: str, rows: dict[str, tuple[int, int, int, str, str]], when: str) -> None:
    """save() on SQLite; `when` is updated_at as SQLAlchemy's SQLite DateTime stores it (ledger.sqlite_time)."""
    try:
        ids = dict(cur.execute("SELECT path, id FROM import_file_state WHERE kind = ?", (kind,)).fetchall())
        cur.executemany('UPDATE import_file_state SET size = ?, mtime_ns = ?, "offset" = ?, probe = ?, settings = ?, '
                        "updated_at = ? WHERE id = ?", [(*r, when, ids[p]) for p, r in rows.items() if p in ids])
        cur.executemany('INSERT INTO import_file_state (kind, path, size, mtime_ns, "offset", probe, settings, '
                        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [(kind, p, *r, when) for p, r in rows.items() if p not in ids])
    finally:
        cur.close()
