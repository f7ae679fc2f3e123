"""The migrated schema is the ORM's schema, and the reads that need an index get it."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from aicost_desktop.storage import migrate
from aicost_desktop.storage.db import Database
from aicost_desktop.storage.tables import UNPRICED_ROWS, Base, UsageRow


def test_head_constant_is_alembics_head() -> None:
    # upgrade() skips Alembic when the ledger is at migrate.HEAD: a new migration must bump it.
    assert migrate.HEAD == migrate.head_revision()


def test_migrations_build_exactly_the_orm_schema(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_unpriced_partial_index_exists_with_its_condition(db: Database) -> None:
    indexes = {ix["name"]: ix for ix in inspect(db.engine).get_indexes("usage_records")}
    assert indexes["ix_usage_records_unpriced"]["column_names"] == ["provider", "model"]
    # Partial on both backends (compare_metadata does not compare conditions; PostgreSQL's is only the
    # migration's, not the ORM's: tables.py says why).
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            ddl = conn.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'ix_usage_records_unpriced'"))
        else:
            ddl = conn.scalar(text("SELECT pg_get_indexdef('ix_usage_records_unpriced'::regclass)"))
    condition = " ".join(ddl.partition(" WHERE ")[2].replace("(", " ").replace(")", " ").split())
    assert condition.startswith("computed_cost IS NULL AND model IS NOT NULL"), ddl
    assert "cost_role" in condition and "subscription" in condition, ddl


def test_the_orm_schema_loads_no_postgresql_dialect() -> None:
    # Every CLI start imports the tables: on a SQLite ledger the PostgreSQL dialect (every driver's module and
    # ~50 ms) must not come with them.
    import subprocess
    import sys
    code = ("import sys, aicost_desktop.storage.ledger, aicost_desktop.storage.tables; "
            "print(sorted(m for m in sys.modules if m.startswith('sqlalchemy.dialects.postgresql')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_sqlite_reads_unpriced_rows_through_the_partial_index(sqlite_db: Database) -> None:
    # SQLite matches a partial index's WHERE terms literally: a reworded query condition scans the table.
    q = select(UsageRow.provider, UsageRow.model, func.count()).where(UNPRICED_ROWS).group_by(
        UsageRow.provider, UsageRow.model)
    with sqlite_db.session() as s:
        plan = " ".join(str(r[-1]) for r in s.execute(text("EXPLAIN QUERY PLAN " + str(q.compile(sqlite_db.engine)))))
    assert "ix_usage_records_unpriced" in plan
