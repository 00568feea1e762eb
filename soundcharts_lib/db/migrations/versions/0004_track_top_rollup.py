"""track_top_rollup (+ its windows), backfilled; ix_entry_track covers ranking_id and position

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'track_top_rollup',
        sa.Column('window_end', sa.Date(), nullable=False),
        sa.Column('days', sa.Integer(), nullable=False),
        sa.Column('platform_id', sa.Integer(), nullable=False),
        sa.Column('track_id', sa.Integer(), nullable=False),
        sa.Column('appearances', sa.Integer(), nullable=False),
        sa.Column('best_position', sa.Integer(), nullable=False),
        sa.Column('charts', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['track_id'], ['track.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('window_end', 'days', 'platform_id', 'track_id'),
    )
    op.create_index('ix_top_rollup_appearances', 'track_top_rollup',
                    ['window_end', 'days', 'platform_id', 'appearances'], unique=False)
    op.create_table(
        'track_top_rollup_window',
        sa.Column('window_end', sa.Date(), nullable=False),
        sa.Column('days', sa.Integer(), nullable=False),
        sa.Column('platform_id', sa.Integer(), nullable=False),
        sa.Column('rankings', sa.Integer(), nullable=False),
        sa.Column('entries', sa.BigInteger(), nullable=False),
        sa.Column('ranking_ids', sa.BigInteger(), nullable=False),
        sa.Column('last_fetched_at', sa.DateTime(), nullable=True),
        sa.Column('refreshed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('window_end', 'days', 'platform_id'),
    )
    # plain index operations (no batch copy of the entries on SQLite; on a partitioned table PostgreSQL builds the
    # index on every partition)
    op.drop_index('ix_entry_track', table_name='chart_ranking_entry')
    op.create_index('ix_entry_track', 'chart_ranking_entry', ['track_id', 'ranking_id', 'position'], unique=False)

    from soundcharts_lib.db import rollup

    rollup.refresh_on(op.get_bind(), stamped=False)  # the charts have no rankings version yet (0010)


def downgrade() -> None:
    op.drop_index('ix_entry_track', table_name='chart_ranking_entry')
    op.create_index('ix_entry_track', 'chart_ranking_entry', ['track_id'], unique=False)
    op.drop_table('track_top_rollup_window')
    op.drop_index('ix_top_rollup_appearances', table_name='track_top_rollup')
    op.drop_table('track_top_rollup')
