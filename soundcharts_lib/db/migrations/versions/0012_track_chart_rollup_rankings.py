"""track_chart_rollup.rankings: how many of a chart's stored rankings hold the track (its appearances count its
entries, and a ranking may list a track twice), so a chart page's latest ranking reads each track's count, peak
and streak from the rollup instead of each track's whole history on the chart

The rollup is emptied: every chart that holds rankings is then stale, so the pages read the entries (as before the
rollup) until the next sync's rollup refresh rebuilds it with the new column. The upgrade itself reads no entry.
The chart's index also holds the track: a chart page's tracks there are found by the index alone, even when the
planner's statistics (e.g. right after a rebuild) make it prefer that index to the primary key (44 ms with the chart
alone at 62.9M entries, 18,000 rows filtered, against 2 ms).

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM track_chart_rollup_chart")
    op.execute("DELETE FROM track_chart_rollup")
    op.add_column('track_chart_rollup', sa.Column('rankings', sa.Integer(), server_default=sa.text('0'),
                                                  nullable=False))
    op.drop_index('ix_track_chart_rollup_chart', table_name='track_chart_rollup')
    op.create_index('ix_track_chart_rollup_chart', 'track_chart_rollup', ['chart_id', 'track_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_track_chart_rollup_chart', table_name='track_chart_rollup')
    op.create_index('ix_track_chart_rollup_chart', 'track_chart_rollup', ['chart_id'], unique=False)
    op.drop_column('track_chart_rollup', 'rankings')  # SQLite 3.35+ drops it in place
