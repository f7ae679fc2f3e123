"""Per-rule quiet hours and rate limit, when a rule's match last changed, and the delivery log's note.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns: a plain ADD COLUMN on SQLite and PostgreSQL alike (no table rebuild).
    op.add_column('alert_routes', sa.Column('quiet_start', sa.String(length=5), nullable=True))
    op.add_column('alert_routes', sa.Column('quiet_end', sa.String(length=5), nullable=True))
    op.add_column('alert_routes', sa.Column('max_per_hour', sa.Integer(), nullable=True))
    op.add_column('alert_routes', sa.Column('edited_at', sa.DateTime(), nullable=True))
    op.add_column('alert_outbox', sa.Column('note', sa.Text(), nullable=True))


def downgrade() -> None:
    # DROP COLUMN: PostgreSQL, and SQLite since 3.35 (no rebuild, so AUTOINCREMENT and indexes stay).
    op.drop_column('alert_outbox', 'note')
    for column in ('edited_at', 'max_per_hour', 'quiet_end', 'quiet_start'):
        op.drop_column('alert_routes', column)
