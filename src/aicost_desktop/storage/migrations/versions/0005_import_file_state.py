"""Importers: per log file, how much was read (size, mtime, offset, probe hash), so a re-import reads only
appended bytes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 22:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('import_file_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('path', sa.String(length=1000), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('mtime_ns', sa.BigInteger(), nullable=False),
    sa.Column('offset', sa.BigInteger(), nullable=False),
    sa.Column('probe', sa.String(length=64), nullable=False),
    sa.Column('settings', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_file_state')),
    sa.UniqueConstraint('kind', 'path', name='uq_import_file_state_kind_path')
    )


def downgrade() -> None:
    op.drop_table('import_file_state')
