"""Roll-up: usage_daily holds usage_hourly summed per UTC date, so a year of local-day spend is a few
thousand daily cells plus the hours the zone's offset moves to a neighbouring day, not every hourly cell.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 00:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

DIMS = "dated, workspace_id, account_id, provider, model, source, project, currency, cost_role"
SUMS = ("rows", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "requests", "cost",
        "reported_cost", "computed_cost", "unpriced_rows")


def upgrade() -> None:
    op.create_table('usage_daily',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('dated', sa.Boolean(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('project', sa.String(length=200), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('cost_role', sa.String(length=10), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('input_tokens', sa.BigInteger(), nullable=False),
    sa.Column('output_tokens', sa.BigInteger(), nullable=False),
    sa.Column('cache_read_tokens', sa.BigInteger(), nullable=False),
    sa.Column('cache_write_tokens', sa.BigInteger(), nullable=False),
    sa.Column('requests', sa.BigInteger(), nullable=False),
    sa.Column('cost', sa.BigInteger(), nullable=False),
    sa.Column('reported_cost', sa.BigInteger(), nullable=True),
    sa.Column('computed_cost', sa.BigInteger(), nullable=True),
    sa.Column('unpriced_rows', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_daily'))
    )
    op.create_index('ix_usage_daily_day', 'usage_daily', ['day'], unique=False)
    # The existing ledger's cells: hour_start is 'YYYY-MM-DD HH:..' text on SQLite, a timestamp on PostgreSQL.
    day = "substr(hour_start, 1, 10)" if op.get_bind().dialect.name == "sqlite" else "CAST(hour_start AS DATE)"
    op.execute(f"INSERT INTO usage_daily (day, {DIMS}, {', '.join(SUMS)}) "
               f"SELECT {day}, {DIMS}, {', '.join(f'sum({c})' for c in SUMS)} FROM usage_hourly "
               f"GROUP BY {day}, {DIMS}")


def downgrade() -> None:
    op.drop_index('ix_usage_daily_day', table_name='usage_daily')
    op.drop_table('usage_daily')
