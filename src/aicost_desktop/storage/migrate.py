"""Schema migrations: Alembic upgrade to head on start, after a backup copy of the SQLite file."""

from __future__ import annotations

import logging
import shutil
from datetime import datetime, timezone
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

log = logging.getLogger("aicost.storage")
MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, backup_dir: Path | None = None) -> bool:
    """Bring the schema to head; returns True when something was migrated."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return False
    db_file = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    if current is not None and db_file and db_file != ":memory:" and Path(db_file).exists() and backup_dir:
        # A schema change is the one moment a bug could lose history: keep a copy first.
        backup_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        target = backup_dir / f"{Path(db_file).stem}-{current}-{stamp}.sqlite3"
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copy2(db_file, target)
        log.info("backed up %s to %s before migrating %s -> %s", db_file, target, current, head)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return True
