"""Routing rules (alert trigger -> integration destinations) and scheduled reports.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_routes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=True),
    sa.Column('min_percent', sa.BigInteger(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['budget_id'], ['budgets.id'], name=op.f('fk_alert_routes_budget_id_budgets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_routes')),
    sa.UniqueConstraint('name', name=op.f('uq_alert_routes_name')),
    sqlite_autoincrement=True
    )
    op.create_table('route_destinations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('route_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['route_id'], ['alert_routes.id'], name=op.f('fk_route_destinations_route_id_alert_routes'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['connection_id'], ['integration_connections.id'],
                            name=op.f('fk_route_destinations_connection_id_integration_connections'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_route_destinations')),
    sqlite_autoincrement=True
    )
    op.create_table('report_schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('frequency', sa.String(length=10), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=True),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('group_by', sa.String(length=60), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_period', sa.String(length=10), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('last_status', sa.String(length=12), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_run_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['integration_connections.id'],
                            name=op.f('fk_report_schedules_connection_id_integration_connections'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_schedules')),
    sa.UniqueConstraint('name', name=op.f('uq_report_schedules_name')),
    sqlite_autoincrement=True
    )


def downgrade() -> None:
    op.drop_table('report_schedules')
    op.drop_table('route_destinations')
    op.drop_table('alert_routes')
