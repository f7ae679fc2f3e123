"""PostgreSQL: every statement that writes a table a view shows notifies `aicost_ledger_changed`, so
open windows on other machines refresh within a poll (storage/change_watch.py). SQLite: nothing to do
(PRAGMA data_version already tells).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 06:20:00
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

CHANNEL = "aicost_ledger_changed"
# The tables of storage/change_watch.py's WATCHED_TABLES when this revision was written.
TABLES = ("usage_records", "accounts", "budgets", "subscriptions", "cost_alerts", "sync_state",
          "balance_snapshots", "price_overrides", "workspaces")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The payload is the table's name; one notification per statement (a 1,000-row page is one).
    op.execute(f"""
        CREATE OR REPLACE FUNCTION aicost_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
            RETURN NULL;
        END $$""")
    for table in TABLES:
        op.execute(f"CREATE TRIGGER aicost_notify_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                   f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION aicost_notify_change()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS aicost_notify_{table} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS aicost_notify_change()")
