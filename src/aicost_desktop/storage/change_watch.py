"""Noticing that another connection changed the ledger: SQLite's data_version, PostgreSQL's LISTEN/NOTIFY.

An open window must show what the CLI, a second window or another machine's sync wrote, without
re-reading the ledger on a timer. `ChangeWatch.poll()` is cheap (one PRAGMA, or reading pending
notifications) and says whether anything was committed by someone else since the last poll.
Changes made through this process's own connections are announced in-process (`storage.ledger.add_listener`,
the UI's own signals); they also move data_version (each pooled connection is "another connection") and send
NOTIFYs, so the watch leaves out what `storage.own_writes` knows as this process's announced writes: a
data_version move whose write counter values are all of those, a usage NOTIFY from one of our server processes.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING, Any

from aicost_desktop.storage.own_writes import ANNOUNCED_TABLES, OwnWrites

if TYPE_CHECKING:
    from aicost_desktop.storage.db import Database

log = logging.getLogger("aicost.storage")

# The channel the triggers of migration 0008 notify on (PostgreSQL identifiers are lower case).
CHANNEL = "aicost_ledger_changed"
# The tables a view shows; a trigger on each notifies CHANNEL once per writing statement.
WATCHED_TABLES = ("usage_records", "accounts", "budgets", "subscriptions", "cost_alerts", "sync_state",
                  "balance_snapshots", "price_overrides", "workspaces")


class ChangeWatch:
    """One watcher per open ledger; `poll()` from one thread at a time (the runtime's watch loop)."""

    def __init__(self, db: "Database") -> None:
        self._db = db
        self._sqlite: sqlite3.Connection | None = None
        self._pg: Any = None
        self._version: int | None = None
        self._seq: int | None = None  # the write counter at the last poll (SQLite)
        if db.dialect == "sqlite":
            if db.file is not None:
                # Its own read-only connection: data_version counts commits by *other* connections.
                self._sqlite = sqlite3.connect(f"file:{db.file}?mode=ro", uri=True, check_same_thread=False,
                                               timeout=1.0)
                self._version = self._sqlite_version()
                self._seq = OwnWrites.read_counter(self._sqlite)
        elif db.dialect == "postgresql":
            self._pg = _listen(db)

    @property
    def active(self) -> bool:
        """False for ledgers it cannot watch (an in-memory SQLite database)."""
        return self._sqlite is not None or self._pg is not None

    def _sqlite_version(self) -> int:
        assert self._sqlite is not None
        return int(self._sqlite.execute("PRAGMA data_version").fetchone()[0])

    def poll(self) -> bool:
        """True when another connection committed a change since the previous poll."""
        try:
            if self._sqlite is not None:
                version = self._sqlite_version()
                if version == self._version:
                    return False
                self._version = version
                return not self._only_own_commits()
            if self._pg is not None:
                # Ours only when it is a usage write (storage.ledger announces those in-process); our other
                # writes (alerts, deliveries, accounts) reach the views through this watch.
                own = self._db.own_writes.pids
                return any(n.pid not in own or n.payload not in ANNOUNCED_TABLES
                           for n in list(self._pg.notifies(timeout=0)))
        except (sqlite3.Error, OSError) as exc:
            log.debug("ledger change poll failed: %s", exc)
        except Exception as exc:  # noqa: BLE001 - psycopg's errors; a lost server connection is re-opened
            if self._pg is None:  # not a server connection's: nothing to re-open, and unknown is a change
                log.debug("ledger change poll failed: %s", exc)
                return True
            log.debug("ledger change poll failed, listening again: %s", exc)
            self._reopen_pg()
            return True  # what happened while the connection was gone is unknown: refresh once
        return False

    def _only_own_commits(self) -> bool:
        """After a data_version move: whether every commit since the last poll was this process's (the write
        counter moved, and only through values our transactions took). A writer that does not count (another
        tool, an older version) moves data_version alone: that is another's."""
        assert self._sqlite is not None
        seq = OwnWrites.read_counter(self._sqlite)
        last, self._seq = self._seq, seq
        if seq is None or last is None or seq <= last:
            return False
        return self._db.own_writes.all_own(last + 1, seq)

    def _reopen_pg(self) -> None:
        try:
            self._pg.close()
        except Exception:  # noqa: BLE001 - already broken
            pass
        try:
            self._pg = _listen(self._db)
        except Exception as exc:  # noqa: BLE001 - the server is away; the next poll tries again
            log.debug("cannot listen for ledger changes: %s", exc)

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._pg is not None:
            try:
                self._pg.close()
            finally:
                self._pg = None


def _listen(db: "Database") -> Any:
    """A psycopg connection of its own, in autocommit, listening on CHANNEL."""
    import psycopg  # optional: only PostgreSQL ledgers need the driver (SQLite users may not have it)

    url = db.engine.url.set(drivername="postgresql")
    conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
    conn.execute(f"LISTEN {CHANNEL}")
    return conn
