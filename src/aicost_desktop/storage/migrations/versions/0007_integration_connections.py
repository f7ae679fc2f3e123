"""Integrations: one row per connected service (non-secret config; secrets stay in the keychain).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('integration_connections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('auth_method', sa.String(length=30), nullable=False),
    sa.Column('config', sa.Text(), nullable=False),
    sa.Column('secret_ref', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_message', sa.Text(), nullable=True),
    sa.Column('last_tested_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_connections')),
    sa.UniqueConstraint('name', name=op.f('uq_integration_connections_name'))
    )


def downgrade() -> None:
    op.drop_table('integration_connections')
