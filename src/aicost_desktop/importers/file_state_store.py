"""The import file states in the ledger (importers/file_state.py holds what they mean): loading
them, and saving what an import read."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterable

from sqlalchemy import bindparam, select

from aicost_desktop.importers.file_state import FileState
from aicost_desktop.storage.ledger import sqlite_time
from aicost_desktop.storage.tables import ImportFileState as T, core_table

if TYPE_CHECKING:
    from aicost_desktop.storage.db import Database


def load(db: "Database", kind: str) -> dict[str, FileState]:
    """Every stored state of one importer kind, by path."""
    with db.session() as s:
        rows = s.execute(select(T.path, T.size, T.mtime_ns, T.offset, T.probe, T.settings).where(T.kind == kind))
        return {r.path: FileState(r.size, r.mtime_ns, r.offset, r.probe, r.settings) for r in rows}


def save(db: "Database", kind: str, states: Iterable[tuple[str, FileState]]) -> None:
    """Store (path, state) pairs, inserting or updating under the write lock (another import may
    have added a path meanwhile)."""
    now = datetime.now(timezone.utc)
    rows = _rows(states)
    if not rows:
        return
    with db.write_session() as s:
        if db.dialect == "sqlite":  # thousands of files: the DBAPI's executemany, not the ORM's binds
            cur = s.connection().connection.cursor()
            try:
                _save_sqlite(cur, kind, rows, sqlite_time(now))
            finally:
                cur.close()
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


def save_sqlite_in(cur: Any, kind: str, states: Iterable[tuple[str, FileState]]) -> None:
    """save() inside a caller's SQLite write transaction, through its DBAPI cursor (an import's last
    bulk transaction: its rows and the states that say they were read commit together)."""
    rows = _rows(states)
    if rows:
        _save_sqlite(cur, kind, rows, sqlite_time(datetime.now(timezone.utc)))


def _rows(states: Iterable[tuple[str, FileState]]) -> dict[str, tuple[int, int, int, str, str]]:
    """The columns save() writes, by path (a path given twice keeps its last state)."""
    return {path: (st.size, st.mtime_ns, st.offset, st.probe, st.settings) for path, st in states}


def _save_sqlite(cur: Any, kind: str, rows: dict[str, tuple[int, int, int, str, str]], when: str) -> None:
    """save() on SQLite; `when` is updated_at as SQLAlchemy's SQLite DateTime stores it (ledger.sqlite_time)."""
    ids = dict(cur.execute("SELECT path, id FROM import_file_state WHERE kind = ?", (kind,)).fetchall())
    cur.executemany('UPDATE import_file_state SET size = ?, mtime_ns = ?, "offset" = ?, probe = ?, settings = ?, '
                    "updated_at = ? WHERE id = ?", [(*r, when, ids[p]) for p, r in rows.items() if p in ids])
    cur.executemany('INSERT INTO import_file_state (kind, path, size, mtime_ns, "offset", probe, settings, '
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(kind, p, *r, when) for p, r in rows.items() if p not in ids])
