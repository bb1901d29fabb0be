"""A partial index for claims (due deliveries of one channel in the order they are taken); attempts by start time (rate limits).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_DUE_ONLY = sa.text("state IN ('queued', 'waiting')")


def upgrade() -> None:
    op.create_index('ix_deliveries_ready', 'deliveries',
                    ['channel', sa.text('coalesce(next_attempt_at, due_at)'), 'id'],
                    unique=False, sqlite_where=_DUE_ONLY, postgresql_where=_DUE_ONLY)
    op.create_index(op.f('ix_attempts_started_at'), 'attempts', ['started_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_attempts_started_at'), table_name='attempts')
    op.drop_index('ix_deliveries_ready', table_name='deliveries')
