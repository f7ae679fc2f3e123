"""A read-only look at an SQLite ledger's import file states with the standard library alone, so a
re-import with nothing new can answer before SQLAlchemy (most of its time) is even imported, and a
first import can start reading before the ledger is loaded."""

from __future__ import annotations

import os
import sqlite3
from typing import Sequence
from urllib.parse import quote

from aicost_desktop.storage.revision import HEAD

_SQLITE = "sqlite:///"
# (size, mtime_ns, offset, probe, settings): the columns of import_file_state an import plans with
StoredState = tuple[int, int, int, str, str]


def stored_states(db_url: str, kind: str) -> dict[str, StoredState] | None:
    """The stored file states of `kind` by path; {} for an SQLite ledger that does not exist yet;
    None when they cannot be known this way (not SQLite, another schema revision, unreadable)."""
    if not db_url.startswith(_SQLITE):
        return None
    path = db_url[len(_SQLITE):]
    if not path or path.startswith(":"):
        return None
    if not os.path.lexists(path):
        return {}
    if not os.path.isfile(path):
        return None
    try:
        con = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=2)
    except sqlite3.Error:
        return None
    try:
        if con.execute("SELECT version_num FROM alembic_version").fetchall() != [(HEAD,)]:
            return None
        rows = con.execute('SELECT path, size, mtime_ns, "offset", probe, settings FROM import_file_state '
                           "WHERE kind = ?", (kind,))
        return {p: (size, mtime, offset, probe, settings) for p, size, mtime, offset, probe, settings in rows}
    except sqlite3.Error:
        return None
    finally:
        con.close()


def files_unchanged(db_url: str, kind: str, files: Sequence[tuple[str, str]], settings: str) -> bool:
    """True only when this is an SQLite ledger at the current schema revision and every one of
    `files` ((state key, path) pairs) has a stored state of `kind` read under `settings` with its
    size and modification time unchanged. Anything else, doubtful or not, is False: the caller then
    runs the full import, which decides for real."""
    if not files:
        return False
    states = stored_states(db_url, kind)
    if not states:
        return False
    return all(_unchanged(states.get(key), file, settings) for key, file in files)


def _unchanged(state: StoredState | None, file: str, settings: str) -> bool:
    if state is None or state[4] != settings:
        return False
    try:
        st = os.stat(file)
    except OSError:
        return False
    return (st.st_size, st.st_mtime_ns) == (state[0], state[1])
