"""track_top_rollup_window.charts_stamp: the charts' stamp (their count, ids, platforms and rankings versions summed
up) when a window was last found to match its rankings, so the overview and platform pages check one row per chart
instead of summing up a month of rankings on every visit

Nothing existing is rewritten: until the next sync's rollup refresh records the stamps, the pages sum up the
rankings as before.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('track_top_rollup_window', sa.Column('charts_stamp', sa.String(length=80), nullable=True))


def downgrade() -> None:
    op.drop_column('track_top_rollup_window', 'charts_stamp')  # SQLite 3.35+ drops it in place
