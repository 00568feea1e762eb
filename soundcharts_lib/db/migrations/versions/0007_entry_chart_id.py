"""chart_ranking_entry.chart_id: the ranking's chart on each entry, backfilled; ix_entry_track by chart and date;
ix_ranking_success, ix_ranking_unsuccessful and ix_audience_series

A track's pages (its per-chart summary, the figure's history, where it charts now) and a chart's stored history
read one track's entries per chart and date from ``ix_entry_track`` (track_id, chart_id, ranking_date, position)
alone, with no join with the rankings: a year-long hit has tens of thousands of entries, and on PostgreSQL at tens of
millions of entries the planner merge-joined them with the whole ranking table. A chart's successful rankings by
date (a chart page reads them two or three times) and the few rankings that are not a success (their entries count
nowhere) come from partial indexes alone. A track's audience (years of daily points on several
platforms, identifiers summed per date) is read from ``ix_audience_series`` alone.

The backfill rewrites every entry once (on PostgreSQL the table doubles on disk until VACUUM); entries stored
without their ranking's date (by hand, before 0003's backfill held) get it too.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

SUCCESS = sa.text("status = 'success'")
UNSUCCESSFUL = sa.text("status <> 'success'")


def upgrade() -> None:
    bind = op.get_bind()
    # plain operations (no batch copy of the entries on SQLite; on a partitioned table PostgreSQL adds the column
    # and builds the index on every partition); the old index goes first so the backfill does not maintain it
    op.drop_index('ix_entry_track', table_name='chart_ranking_entry')
    op.add_column('chart_ranking_entry', sa.Column('chart_id', sa.Integer(), nullable=True))
    if bind.dialect.name == 'postgresql':
        op.execute("UPDATE chart_ranking_entry e SET chart_id = r.chart_id, ranking_date = r.ranking_date "
                   "FROM chart_ranking r WHERE r.id = e.ranking_id")
    else:
        op.execute("UPDATE chart_ranking_entry SET (chart_id, ranking_date) = "
                   "(SELECT r.chart_id, r.ranking_date FROM chart_ranking r WHERE r.id = chart_ranking_entry.ranking_id)")
    op.create_index('ix_entry_track', 'chart_ranking_entry', ['track_id', 'chart_id', 'ranking_date', 'position'],
                    unique=False)
    op.create_index('ix_ranking_success', 'chart_ranking', ['chart_id', 'ranking_date'], unique=False,
                    sqlite_where=SUCCESS, postgresql_where=SUCCESS)
    op.create_index('ix_audience_series', 'track_audience', ['track_id', 'platform_id', 'date', 'audience_value'],
                    unique=False)
    op.create_index('ix_ranking_unsuccessful', 'chart_ranking', ['chart_id', 'ranking_date'], unique=False,
                    sqlite_where=UNSUCCESSFUL, postgresql_where=UNSUCCESSFUL)


def downgrade() -> None:
    op.drop_index('ix_audience_series', table_name='track_audience')
    op.drop_index('ix_ranking_unsuccessful', table_name='chart_ranking')
    op.drop_index('ix_ranking_success', table_name='chart_ranking')
    op.drop_index('ix_entry_track', table_name='chart_ranking_entry')
    with op.batch_alter_table('chart_ranking_entry', schema=None) as batch_op:
        batch_op.drop_column('chart_id')
    op.create_index('ix_entry_track', 'chart_ranking_entry', ['track_id', 'ranking_id', 'position'], unique=False)
