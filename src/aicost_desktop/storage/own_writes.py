"""Which of the ledger's commits were this process's own: the write counter each write transaction bumps (table
write_seq, SQLite) and the server processes of this process's connections (PostgreSQL's NOTIFY names its sender).

The change watch (storage/change_watch) must report another process's commits, and of this process's only those
no in-process listener hears of: storage.ledger announces its usage writes to every view already, and the watch
reporting them again made every open view reload a second time about a second after each (after a sync of a
1M-row ledger, a whole extra refresh of every dock). Alerts, deliveries and accounts written here have no such
announcement, so their commits are not marked as announced and the watch still reports them.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import deque
from typing import Any

from sqlalchemy.exc import DBAPIError

log = logging.getLogger("aicost.storage")

ANNOUNCED = "aicost_announced"  # Session.info key: see will_announce
# The tables every write of which in this process is announced in-process (storage.ledger's usage writes): on
# PostgreSQL a NOTIFY names its table, not its transaction, so the watch goes by these.
ANNOUNCED_TABLES = ("usage_records",)
KEEP = 4096  # counter values remembered; an older one not seen yet reads as another's (one extra refresh)
_BUMP = "UPDATE write_seq SET seq = seq + 1 WHERE id = 1 RETURNING seq"


def will_announce(session: Any) -> None:
    """Mark a write transaction whose writer tells the in-process listeners after its commit (storage.ledger's
    usage writes): the watch may leave its commit out. Other own writes (alerts, deliveries, accounts) have no
    such announcement to every view, and the watch still reports them."""
    session.info[ANNOUNCED] = True


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
        try:
            value = conn.exec_driver_sql(_BUMP).scalar()
        except DBAPIError as exc:
            # Never worth a write: a counter dropped under the running app (or broken) only costs the views an
            # extra reload. SQLite's "no such table" fails the statement before it runs; the transaction goes on.
            log.warning("write counter unavailable, own writes are reported as others': %s", exc.orig)
            self._counter = False
            return None
        return value if isinstance(value, int) else None  # a hand-edited counter ('abc', 1.5) counts nothing

    def committed(self, seq: int) -> None:
        """The transaction that took `seq` committed, and its writer announces it in-process."""
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
        return row[0] if row is not None and isinstance(row[0], int) else None
