"""A read-only look at an SQLite ledger's import file states with the standard library alone, so a
re-import with nothing new can answer before SQLAlchemy (most of its time) is even imported, and a
first import can start reading before the ledger is loaded."""

from __future__ import annotations

import os
import sqlite3
from typing import Any, Sequence
from urllib.parse import quote

from aicost_desktop.storage.revision import HEAD

_SQLITE = "sqlite:///"
# (size, mtime_ns, offset, probe, settings): the columns of import_file_state an import plans with
StoredState = tuple[int, int, int, str, str]


def stored_states(db_url: str, kind: str) -> dict[str, StoredState] | None:
    """The stored file states of `kind` by path; {} for an SQLite ledger that does not exist yet;
    None when they cannot be known this way (not SQLite, another schema revision, unreadable)."""
    rows = _query(db_url, 'SELECT path, size, mtime_ns, "offset", probe, settings FROM import_file_state '
                          "WHERE kind = ?", (kind,))
    if rows is None:
        return None
    return {p: (size, mtime, offset, probe, settings) for p, size, mtime, offset, probe, settings in rows}


def files_unchanged(db_url: str, kind: str, files: Sequence[tuple[str, str]], settings: str) -> bool:
    """True only when this is an SQLite ledger at the current schema revision and every one of
    `files` ((state key, path) pairs) has a stored state of `kind` read under `settings` with its
    size and modification time unchanged. Anything else, doubtful or not, is False: the caller then
    runs the full import, which decides for real."""
    if not files:
        return False
    # Only what the answer needs (states read under other settings count as missing): this and the
    # stat of each file are most of a re-import with nothing new, after the interpreter's start.
    rows = _query(db_url, "SELECT path, size, mtime_ns FROM import_file_state WHERE kind = ? AND settings = ?",
                  (kind, settings))
    if not rows:
        return False
    states = {path: (size, mtime) for path, size, mtime in rows}
    get, stat = states.get, os.stat
    for key, file in files:
        state = get(key)
        if state is None:
            return False
        try:
            st = stat(file)
        except OSError:
            return False
        if (st.st_size, st.st_mtime_ns) != state:
            return False
    return True


def _query(db_url: str, sql: str, params: tuple[str, ...]) -> list[tuple[Any, ...]] | None:
    """The rows of `sql` on the SQLite ledger at `db_url`, read only; [] when the ledger does not exist
    yet; None when not SQLite, at another schema revision, or unreadable."""
    if not db_url.startswith(_SQLITE):
        return None
    path = db_url[len(_SQLITE):]
    if not path or path.startswith(":"):
        return None
    if not os.path.lexists(path):
        return []
    if not os.path.isfile(path):
        return None
    try:
        con = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=2)
    except sqlite3.Error:
        return None
    try:
        if con.execute("SELECT version_num FROM alembic_version").fetchall() != [(HEAD,)]:
            return None
        return con.execute(sql, params).fetchall()
    except sqlite3.Error:
        return None
    finally:
        con.close()
