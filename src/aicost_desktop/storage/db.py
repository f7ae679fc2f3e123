"""Engine and session factory: SQLite (WAL, busy timeout, foreign keys) by default, PostgreSQL by URL."""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import CursorResult, Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from aicost_desktop.domain.errors import InputError, OperationError
from aicost_desktop.domain.private_files import private_dir, private_sqlite
from aicost_desktop.storage import migrate
from aicost_desktop.storage.own_writes import ANNOUNCED, OwnWrites
from aicost_desktop.storage.tables import Workspace

log = logging.getLogger("aicost.storage")
DEFAULT_WORKSPACE = "default"


# Serializes ledger writers across processes sharing one PostgreSQL database, so roll-up refreshes
# never interleave (an arbitrary constant, unique to this app).
PG_WRITE_LOCK = 7_346_001


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's implicit BEGIN is deferred,
    # and a deferred reader upgrading to writer fails at once with "database is locked").
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    """Create an engine for a SQLite or PostgreSQL URL; bad URLs are InputErrors naming --db."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
            db_file = engine.url.database
            if db_file and db_file != ":memory:" and not db_file.startswith("file:"):
                _private_ledger(Path(db_file))
        elif url.startswith("postgresql"):
            engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
        else:
            raise InputError("db", url, "unsupported database URL; use sqlite:///PATH or postgresql://...")
    except InputError:
        raise
    except ImportError:
        if not url.startswith("postgresql"):
            raise
        # The PostgreSQL driver is an optional extra (pip install 'aicost-desktop[postgres]'): say the one
        # command that adds it to this very interpreter.
        raise InputError("db", _redact(url), "the PostgreSQL driver is not installed; add it with: "
                                             f"{sys.executable} -m pip install 'psycopg[binary]>=3.1'") from None
    except Exception as exc:  # ArgumentError
        raise InputError("db", _redact(url), f"cannot use this database URL ({exc.__class__.__name__})") from None
    return engine


def _private_ledger(path: Path) -> None:
    """0600 before SQLite first writes the file (its -wal/-shm then get the same mode); an existing
    ledger and companions left readable by others are tightened. A path we cannot create is left for
    SQLite to report when the database is opened."""
    try:
        if not path.parent.exists():
            private_dir(path.parent)
        private_sqlite(path)
    except OSError as exc:
        log.debug("cannot prepare %s as a private file: %s", path, exc)


def _redact(url: str) -> str:
    """Hide a password in a URL before it reaches a message."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


class LedgerGoneError(OperationError):
    """The SQLite ledger file disappeared (or was swapped) under a running app."""


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


class Database:
    """One ledger database: engine, session factory, and the default workspace id."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._default_workspace_id: int | None = None
        db_file = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
        self.file = Path(db_file) if db_file and db_file != ":memory:" and not db_file.startswith("file:") else None
        self._file_id = _file_id(self.file) if self.file else None
        self.own_writes = OwnWrites()
        if engine.dialect.name == "postgresql":
            # On checkout, not connect: the migrations' pooled connections came before this listener.
            event.listen(engine, "checkout", self._note_backend)

    def _note_backend(self, dbapi_connection: Any, *_record: Any) -> None:
        """Remember each connection's server process: NOTIFY names it, and the change watch skips its own."""
        pid = getattr(getattr(dbapi_connection, "info", None), "backend_pid", None)
        if pid is not None:
            self.own_writes.pids.add(int(pid))

    def file_gone(self) -> bool:
        """True when the SQLite file was deleted or replaced since it was opened. Open connections
        would go on writing into the deleted file and new ones would create an empty ledger: both
        lose data silently, so sessions refuse to start instead (see check_file)."""
        return self.file is not None and self._file_id is not None and _file_id(self.file) != self._file_id

    def check_file(self) -> None:
        if self.file_gone():
            raise LedgerGoneError(f"the ledger file {self.file} was deleted or replaced while the app was "
                                  "running; nothing more is saved to it: restore the file, or restart to "
                                  "start a new ledger")

    @classmethod
    def open(cls, url: str, backup_dir: Path | None = None, migrate_schema: bool = True) -> "Database":
        engine = make_engine(url)
        try:
            if migrate_schema:
                migrate.upgrade(engine, backup_dir)
        except Exception as exc:
            engine.dispose()
            raise OperationError(f"cannot open database {_redact(url)}: {exc}") from exc
        db = cls(engine)
        db.default_workspace_id()
        return db

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        self.check_file()
        with self._sessions() as session:
            with session.begin():
                yield session

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """A writer's transaction: takes the write lock up front (SQLite BEGIN IMMEDIATE, PostgreSQL
        advisory lock) so concurrent writers queue instead of failing or deadlocking."""
        self.check_file()
        seq: int | None = None
        announced = False
        with self._sessions() as session:
            with session.begin():
                conn = session.connection(execution_options={"sqlite_immediate": True})
                if self.dialect == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})")
                raw = conn.connection.dbapi_connection if self.dialect == "sqlite" else None
                before = raw.total_changes if raw is not None else 0
                yield session
                # A transaction that changed something takes the next write counter value (own_writes says why);
                # one that changed nothing leaves the file, and other windows, alone. (Flushed first: the ORM's
                # pending changes are statements the commit would run.)
                if raw is not None:
                    session.flush()
                    if raw.total_changes > before:
                        seq = self.own_writes.bump(conn)
                        announced = bool(session.info.get(ANNOUNCED))
        if seq is not None and announced:
            self.own_writes.committed(seq)

    def default_workspace_id(self) -> int:
        if self._default_workspace_id is None:
            self._default_workspace_id = self.workspace_id(DEFAULT_WORKSPACE, create=True)
        return self._default_workspace_id

    def workspace_id(self, name: str, create: bool = False) -> int:
        with self.session() as s:
            ws_id = s.scalar(select(Workspace.id).where(Workspace.name == name))
        if ws_id is not None:
            return ws_id
        if not create:
            raise InputError("workspace", name, "no such workspace")
        # Created under the write lock: a read transaction that turns into a write fails at once
        # ("database is locked") when another process wrote meanwhile, e.g. on a first start.
        with self.write_session() as s:
            ws = s.scalar(select(Workspace).where(Workspace.name == name))
            if ws is None:
                ws = Workspace(name=name)
                s.add(ws)
                s.flush()
            return ws.id

    def dispose(self) -> None:
        self.engine.dispose()


def affected_rows(result: object) -> int:
    """Rows an UPDATE or DELETE without RETURNING touched. A session returns a CursorResult for those,
    but its execute() is typed as returning any Result (SQLAlchemy: a session cannot promise a cursor)."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"no row count on a {type(result).__name__}")
    return result.rowcount or 0
