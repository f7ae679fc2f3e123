"""Ledger: a write counter every writer of this app bumps in its write transaction, so an open window can tell
its own commits from another process's (SQLite's data_version moves for both; each of the window's own
writes was already announced in-process, and the watch refreshed every view a second time after it).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 03:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table('write_seq',
                            sa.Column('id', sa.Integer(), nullable=False),
                            sa.Column('seq', sa.BigInteger(), nullable=False),
                            sa.PrimaryKeyConstraint('id', name=op.f('pk_write_seq')))
    op.bulk_insert(table, [{"id": 1, "seq": 0}])


def downgrade() -> None:
    op.drop_table('write_seq')
