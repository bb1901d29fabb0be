"""Key points, affected groups and how to comment on policies; campaign moments and infographics on posts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_points', sa.Text(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('affected', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('comment_how', sa.Text(), nullable=True))
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('infographics', sa.Text(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('moment', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('moment')
        batch_op.drop_column('infographics')
    with op.batch_alter_table('policies', schema=None) as batch_op:
        batch_op.drop_column('comment_how')
        batch_op.drop_column('affected')
        batch_op.drop_column('key_points')
