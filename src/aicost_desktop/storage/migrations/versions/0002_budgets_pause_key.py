"""Budgets: the provider key an exceeded budget pauses, and a log of pause/resume actions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('budgets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pause_account_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('pause_key_hash', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('key_paused_at', sa.DateTime(), nullable=True))
    op.create_table('budget_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('key_hash', sa.String(length=200), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['budget_id'], ['budgets.id'], name=op.f('fk_budget_actions_budget_id_budgets'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget_actions'))
    )


def downgrade() -> None:
    op.drop_table('budget_actions')
    with op.batch_alter_table('budgets', schema=None) as batch_op:
        batch_op.drop_column('key_paused_at')
        batch_op.drop_column('pause_key_hash')
        batch_op.drop_column('pause_account_id')
