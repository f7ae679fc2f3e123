"""Which of the ledger's commits were this process's own: the write counter each write transaction bumps (table
write_seq, SQLite) and the server processes of this process's connections (PostgreSQL's NOTIFY names its sender).

The change watch (storage/change_watch) must report another process's commits, and only those: this process
announces its own writes in-process already, and reporting them again made every open view reload a second
time about a second after each of them (after a sync of a 1M-row ledger, a whole extra refresh of every dock).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from typing import Any

KEEP = 4096  # counter values remembered; an older one not seen yet reads as another's (one extra refresh)
_BUMP = "UPDATE write_seq SET seq = seq + 1 WHERE id = 1 RETURNING seq"


class OwnWrites:
    """Per open ledger (Database.own_writes): thread-safe, filled by the writers, read by the watch."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seqs: set[int] = set()
        self._order: deque[int] = deque()
        self.pids: set[int] = set()  # PostgreSQL backends of this process's connections
        self._counter: bool | None = None  # whether the ledger has the write_seq table (None: not looked yet)

    # -- SQLite: the write counter ---------------------------------------------------------------------

    def bump(self, conn: Any) -> int | None:
        """In a write transaction (the write lock held, so counter values follow the commit order): take the
        next counter value. None on a ledger without the counter (opened without migrating)."""
        if self._counter is None:
            self._counter = conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'write_seq'").first() is not None
        if not self._counter:
            return None
        value = conn.exec_driver_sql(_BUMP).scalar()
        return int(value) if value is not None else None

    def committed(self, seq: int) -> None:
        """The transaction that took `seq` committed."""
        with self._lock:
            self._seqs.add(seq)
            self._order.append(seq)
            while len(self._order) > KEEP:
                self._seqs.discard(self._order.popleft())

    def all_own(self, first: int, last: int) -> bool:
        """Whether every counter value in [first, last] is one of this process's commits."""
        with self._lock:
            if last - first + 1 > len(self._seqs):
                return False
            return all(s in self._seqs for s in range(first, last + 1))

    @staticmethod
    def read_counter(conn: sqlite3.Connection) -> int | None:
        """The counter as the watch's own connection reads it (None: no counter in this ledger)."""
        try:
            row = conn.execute("SELECT seq FROM write_seq WHERE id = 1").fetchone()
        except sqlite3.Error:
            return None
        return int(row[0]) if row is not None else None
