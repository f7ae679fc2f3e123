"""Private files: the home and its folders 0700, the ledger, settings, logs and backups 0600, whatever the umask.

The ledger says what a user spends and with whom; other local users have no business reading it.
Files are created with restrictive modes from the start (never 0644 first and fixed later), and
files left readable by an older version are tightened on start. On Windows, where POSIX modes do
not apply (the profile folder is private already), every function is a no-op.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger("aicost.files")

DIR_MODE = 0o700
FILE_MODE = 0o600
POSIX = os.name == "posix"
# SQLite's companions of a database file: the write-ahead log, its index and the rollback journal.
SQLITE_SIDECARS = ("-wal", "-shm", "-journal")


def restrict(path: Path, mode: int) -> bool:
    """chmod `path` to `mode` if it exists, is ours and not a symlink; True when it was changed."""
    if not POSIX:
        return False
    try:
        st = path.lstat()
    except FileNotFoundError:
        return False
    except OSError as exc:
        log.warning("cannot check the mode of %s: %s", path, exc)
        return False
    if path.is_symlink() or st.st_uid != os.getuid() or (st.st_mode & 0o7777) == mode:
        return False
    try:
        os.chmod(path, mode)
    except OSError as exc:
        log.warning("cannot make %s private (mode %o): %s", path, mode, exc)
        return False
    return True


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) as 0700 folders; an existing `path` is tightened to 0700.

    Only folders created here and `path` itself are changed: a parent that already existed (the
    user's own home, say) keeps its mode.
    """
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    for created in missing:
        restrict(created, DIR_MODE)  # mkdir's mode is cut by the umask; and parents get 0777 & ~umask
    restrict(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty as 0600 if it does not exist; tighten an existing one to 0600."""
    if POSIX:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), FILE_MODE)
        except FileExistsError:
            pass
        else:
            os.close(fd)
    restrict(path, FILE_MODE)
    return path


def private_sqlite(db_file: Path) -> None:
    """The SQLite file 0600 before SQLite first opens it, and its -wal/-shm/-journal tightened too.

    SQLite creates the -wal and -shm files with the database file's own mode, so a private database
    gets private companions.
    """
    private_file(db_file)
    for suffix in SQLITE_SIDECARS:
        restrict(db_file.with_name(db_file.name + suffix), FILE_MODE)


def fix_tree(folder: Path) -> int:
    """Tighten `folder` to 0700 and the files directly in it to 0600; returns how many were changed."""
    if not POSIX or not folder.is_dir():
        return 0
    changed = int(restrict(folder, DIR_MODE))
    try:
        entries = list(folder.iterdir())
    except OSError:
        return changed
    for entry in entries:
        if entry.is_symlink():
            continue
        if entry.is_dir():
            changed += int(restrict(entry, DIR_MODE))
        elif entry.is_file():
            changed += int(restrict(entry, FILE_MODE))
    return changed
