"""label_share_rollup (the labels page of a scope as last built, with what it was built from); track's
metadata_fetched_at indexed (its latest value stamps the labels a rollup read)

New table and index only: nothing existing is rewritten. The rollup fills as pages are read and after each sync.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'label_share_rollup',
        sa.Column('platform_id', sa.Integer(), nullable=False),
        sa.Column('chart_id', sa.Integer(), nullable=False),
        sa.Column('days', sa.Integer(), nullable=False),
        sa.Column('window_end', sa.Date(), nullable=False),
        sa.Column('rankings', sa.Integer(), nullable=False),
        sa.Column('entries', sa.BigInteger(), nullable=False),
        sa.Column('ranking_ids', sa.BigInteger(), nullable=False),
        sa.Column('last_fetched_at', sa.DateTime(), nullable=True),
        sa.Column('metadata_fetched_at', sa.DateTime(), nullable=True),
        sa.Column('page', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                  nullable=False),
        sa.Column('refreshed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('platform_id', 'chart_id', 'days'),
    )
    op.create_index('ix_track_metadata_fetched_at', 'track', ['metadata_fetched_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_track_metadata_fetched_at', table_name='track')
    op.drop_table('label_share_rollup')
