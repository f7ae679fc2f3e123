"""Ledger: a partial index over unpriced rows only, so the Analytics dock lists unpriced models without
scanning a million priced rows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 09:00:00
"""
from alembic import op
from sqlalchemy import text


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Same text as aicost_desktop.storage.tables.UNPRICED_ROWS (a migration must not change when the model does).
WHERE = ("computed_cost IS NULL AND model IS NOT NULL AND source NOT IN ('manual', 'subscription') "
         "AND ((cost_role = 'spend' AND reported_cost IS NULL) OR cost_role = 'detail')")


def upgrade() -> None:
    op.create_index('ix_usage_records_unpriced', 'usage_records', ['provider', 'model'], unique=False,
                    sqlite_where=text(WHERE), postgresql_where=text(WHERE))


def downgrade() -> None:
    op.drop_index('ix_usage_records_unpriced', table_name='usage_records')
