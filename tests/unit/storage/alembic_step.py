"""Moving a test ledger to one migration revision with Alembic (what migrate.upgrade does, stopped there)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine

from aicost_desktop.storage import migrate


def migrate_to(engine: Engine, revision: str, *, down: bool = False) -> None:
    """Upgrade (or with `down`, downgrade) the ledger at `engine` to `revision`, in one transaction."""
    cfg = migrate.alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)
