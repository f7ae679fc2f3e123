"""A read-only look at an SQLite ledger's import file states with the standard library alone, so a
re-import with nothing new can answer before SQLAlchemy (most of its time) is even imported."""

from __future__ import annotations

import os
import sqlite3
from typing import Sequence
from urllib.parse import quote

from aicost_desktop.storage.revision import HEAD

_SQLITE = "sqlite:///"


def files_unchanged(db_url: str, kind: str, files: Sequence[tuple[str, str]], settings: str) -> bool:
    """True only when this is an SQLite ledger at the current schema revision and every one of
    `files` ((state key, path) pairs) has a stored state of `kind` read under `settings` with its
    size and modification time unchanged. Anything else, doubtful or not, is False: the caller then
    runs the full import, which decides for real."""
    if not files or not db_url.startswith(_SQLITE):
        return False
    path = db_url[len(_SQLITE):]
    if not path or path.startswith(":") or not os.path.isfile(path):
        return False
    try:
        con = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=2)
    except sqlite3.Error:
        return False
    try:
        if con.execute("SELECT version_num FROM alembic_version").fetchall() != [(HEAD,)]:
            return False
        rows = con.execute("SELECT path, size, mtime_ns, settings FROM import_file_state WHERE kind = ?", (kind,))
        states = {p: (size, mtime, got) for p, size, mtime, got in rows}
    except sqlite3.Error:
        return False
    finally:
        con.close()
    for key, file in files:
        state = states.get(key)
        if state is None or state[2] != settings:
            return False
        try:
            st = os.stat(file)
        except OSError:
            return False
        if (st.st_size, st.st_mtime_ns) != (state[0], state[1]):
            return False
    return True
