"""Ledger: the (account, time) index holds only rows that have an account. Log, CSV and manual rows have
none, and entering each of them under NULL was a quarter of a first log import's write time (an
account's rows are still found through it: `account_id = ?` implies the condition on both backends).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 14:00:00
"""
from alembic import op
from sqlalchemy import text


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# Same text as aicost_desktop.storage.tables.HAS_ACCOUNT (a migration must not change when the model does).
WHERE = "account_id IS NOT NULL"


def upgrade() -> None:
    op.drop_index('ix_usage_records_account_bucket', table_name='usage_records')
    op.create_index('ix_usage_records_account_bucket', 'usage_records', ['account_id', 'bucket_start'], unique=False,
                    sqlite_where=text(WHERE), postgresql_where=text(WHERE))


def downgrade() -> None:
    op.drop_index('ix_usage_records_account_bucket', table_name='usage_records')
    op.create_index('ix_usage_records_account_bucket', 'usage_records', ['account_id', 'bucket_start'], unique=False)
