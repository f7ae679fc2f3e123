"""Schema migrations: Alembic upgrade to head on start, after a backup copy of the SQLite file."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from aicost_desktop.domain.private_files import private_dir, private_file
from aicost_desktop.storage import sqlite_schema
from aicost_desktop.storage.revision import HEAD

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger("aicost.storage")
MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> "Config":
    from alembic.config import Config  # lazy: a ledger at head opens without Alembic

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory  # lazy: a ledger at head opens without Alembic

    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext  # lazy: a ledger at head opens without Alembic

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _raw_sqlite(conn: Connection) -> sqlite3.Connection:
    """The pysqlite connection under `conn`: a pragma sent through it runs outside SQLAlchemy's transaction."""
    # object: SQLAlchemy's DBAPIConnection protocol and sqlite3.Connection disagree on signatures, so mypy
    # would call the narrowed type impossible.
    raw: object = conn.connection.dbapi_connection
    if not isinstance(raw, sqlite3.Connection):
        raise TypeError(f"expected a sqlite3 connection, got {type(raw).__name__}")
    return raw


def upgrade(engine: Engine, backup_dir: Path | None = None, *, from_dump: bool = True) -> bool:
    """Bring the schema to head; returns True when something was migrated. An empty SQLite database gets the
    head schema from `sqlite_schema` (unless `from_dump` is False) instead of every migration in turn."""
    if _stored_revision(engine) == HEAD:
        return False
    if from_dump and engine.dialect.name == "sqlite" and _create_new_sqlite(engine):
        return True
    # lazy: only a migration loads Alembic (a ledger at head returned above without it)
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    current = current_revision(engine)
    head = script.get_current_head()
    if current == head:
        return False
    _refuse_unknown(script, current)  # before the backup: a newer ledger is not copied on every start
    db_file = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    if current is not None and db_file and db_file != ":memory:" and Path(db_file).exists() and backup_dir:
        # A schema change is the one moment a bug could lose history: keep a copy first.
        private_dir(backup_dir)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        target = backup_dir / f"{Path(db_file).stem}-{current}-{stamp}.sqlite3"
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        # The copy is as private as the ledger: created 0600, then filled (never readable in between).
        shutil.copyfile(db_file, private_file(target))
        log.info("backed up %s to %s before migrating %s -> %s", db_file, target, current, head)
    cfg = alembic_config()
    # Under the write lock (SQLite BEGIN IMMEDIATE, PostgreSQL advisory lock): processes starting at
    # once on a new or old ledger migrate one after another instead of failing with "database is locked".
    with engine.connect() as conn:
        conn.execution_options(sqlite_immediate=True)
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # A migration that rebuilds a table drops it: with foreign keys enforced that would run the
            # ON DELETE actions of every row referencing it. The pragma only changes outside a transaction.
            _raw_sqlite(conn).execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    from aicost_desktop.storage.db import PG_WRITE_LOCK  # cycle: storage.db -> migrate -> db

                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})")
                current = MigrationContext.configure(conn).get_current_revision()
                if current == head:  # another process migrated while we waited
                    return False
                _refuse_unknown(script, current)
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        finally:
            if sqlite:
                _raw_sqlite(conn).execute("PRAGMA foreign_keys=ON")
    return True


def _create_new_sqlite(engine: Engine) -> bool:
    with engine.connect() as conn:
        # The write lock first (BEGIN IMMEDIATE): of two processes creating one ledger, the second waits,
        # then finds the tables and goes on to the revision check below.
        conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            return sqlite_schema.create_if_empty(conn)


class NewerLedgerError(RuntimeError):
    """The ledger's schema revision is unknown here: a newer version of the app wrote it."""


def _refuse_unknown(script: Any, current: str | None) -> None:
    if current is None:
        return
    try:
        known = script.get_revision(current) is not None
    except Exception:  # alembic raises ResolutionError / CommandError subclasses for unknown ids
        known = False
    if not known:
        raise NewerLedgerError(f"this ledger was written by a newer AI Cost Tracker (revision {current}); "
                               "update the app")


def _stored_revision(engine: Engine) -> str | None:
    """The revision recorded in the ledger, read with one query (None for a new or foreign database)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:
        return None
    return rows[0][0] if len(rows) == 1 else None
