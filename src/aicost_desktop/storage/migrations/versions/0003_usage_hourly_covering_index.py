"""Roll-up: one covering index on usage_hourly (hour start, then every column reports read) replaces the
index on hour_start alone, so a year of local-day spend is read from the index without touching the table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 12:00:00
"""
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

COLUMNS = ['hour_start', 'dated', 'provider', 'currency', 'model', 'account_id', 'source', 'workspace_id',
           'project', 'cost', 'reported_cost', 'computed_cost', 'input_tokens', 'output_tokens',
           'cache_read_tokens', 'cache_write_tokens', 'requests', 'unpriced_rows']


def upgrade() -> None:
    with op.batch_alter_table('usage_hourly', schema=None) as batch_op:
        batch_op.create_index('ix_usage_hourly_covering', COLUMNS, unique=False)
        batch_op.drop_index('ix_usage_hourly_hour_start')


def downgrade() -> None:
    with op.batch_alter_table('usage_hourly', schema=None) as batch_op:
        batch_op.create_index('ix_usage_hourly_hour_start', ['hour_start'], unique=False)
        batch_op.drop_index('ix_usage_hourly_covering')
