"""Ids are never reused: SQLite tables whose ids users act on get AUTOINCREMENT (PostgreSQL's sequences
never hand out a number twice already), so a retried delete cannot remove a row added since.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 12:00:00
"""
import re

from alembic import op
from sqlalchemy import Connection


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# The tables whose ids a command or the window names (manual entries are usage_records rows).
TABLES = ('workspaces', 'accounts', 'usage_records', 'price_overrides', 'subscriptions', 'budgets',
          'cost_alerts')
_PK = re.compile(r',\s*CONSTRAINT (pk_\w+) PRIMARY KEY \(id\)')
_ID = re.compile(r'(\(\s*id INTEGER NOT NULL),')


def _rebuild(conn: Connection, table: str, autoincrement: bool) -> None:
    """SQLite's documented table rebuild: a new table from the old one's own CREATE statement (only the id
    column's primary key changes), rows copied with their ids, the old table dropped, indexes recreated
    from their own statements (a partial index keeps its WHERE word for word)."""
    sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (table,)).scalar_one()
    indexes = [s for (s,) in conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,))]
    if autoincrement:
        if 'AUTOINCREMENT' in sql:
            return
        pk = _PK.search(sql)
        if pk is None or not _ID.search(sql):
            raise RuntimeError(f'{table}: unexpected schema, cannot add AUTOINCREMENT: {sql}')
        new = _ID.sub(rf'\1 CONSTRAINT {pk.group(1)} PRIMARY KEY AUTOINCREMENT,', _PK.sub('', sql), count=1)
    else:
        m = re.search(r'id INTEGER NOT NULL CONSTRAINT (pk_\w+) PRIMARY KEY AUTOINCREMENT', sql)
        if m is None:
            return
        new = sql.replace(m.group(0), 'id INTEGER NOT NULL')
        new = new[:new.rindex(')')].rstrip() + f', \n\tCONSTRAINT {m.group(1)} PRIMARY KEY (id)\n)'
    tmp = f'_new_{table}'
    new = re.sub(rf'^CREATE TABLE "?{table}"? ', f'CREATE TABLE {tmp} ', new, count=1)
    conn.exec_driver_sql(new)
    conn.exec_driver_sql(f'INSERT INTO {tmp} SELECT * FROM {table}')
    conn.exec_driver_sql(f'DROP TABLE {table}')
    conn.exec_driver_sql(f'ALTER TABLE {tmp} RENAME TO {table}')
    for index in indexes:
        conn.exec_driver_sql(index)


def _run(autoincrement: bool) -> None:
    conn = op.get_bind()
    if conn.dialect.name != 'sqlite':
        return
    # Dropping a table with foreign keys enforced would run its ON DELETE CASCADE / SET NULL actions on
    # every referencing row: storage.migrate turns enforcement off around migrations; refuse without it.
    if conn.exec_driver_sql('PRAGMA foreign_keys').scalar():
        raise RuntimeError('migration 0006 rebuilds tables and must run with PRAGMA foreign_keys=OFF')
    for table in TABLES:
        _rebuild(conn, table, autoincrement)
    broken = conn.exec_driver_sql('PRAGMA foreign_key_check').fetchall()
    if broken:
        raise RuntimeError(f'foreign keys broken after rebuilding tables: {broken[:5]}')


def upgrade() -> None:
    _run(True)


def downgrade() -> None:
    _run(False)
