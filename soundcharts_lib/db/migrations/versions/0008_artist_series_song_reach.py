"""The extension endpoints' tables: an artist's metadata columns, followers (artist_audience) and monthly listeners
(artist_listeners); a song's chart entries everywhere (track_chart_reach), popularity (track_popularity) and
playlists (playlist_snapshot); when each series was last asked for (series_check); the digest and its deliveries

New tables and nullable columns only: nothing existing is rewritten.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('digest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('summary', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('period_start', 'period_end', name='uq_digest_period')
    )
    op.create_table('artist_audience',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('artist_id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('followers', sa.BigInteger(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['artist_id'], ['artist.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('artist_id', 'platform_id', 'date', name='uq_artist_audience_point')
    )
    op.create_table('artist_listeners',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('artist_id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['artist_id'], ['artist.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('artist_id', 'platform_id', 'date', name='uq_artist_listeners_point')
    )
    op.create_table('digest_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=320), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['digest_id'], ['digest.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('digest_id', 'target', name='uq_digest_delivery')
    )
    with op.batch_alter_table('digest_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_digest_delivery_unsent', ['sent_at'], unique=False)

    op.create_table('playlist_snapshot',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('fetched_on', sa.Date(), nullable=False),
    sa.Column('playlist_uuid', sa.String(length=64), nullable=False),
    sa.Column('playlist_name', sa.String(length=500), nullable=True),
    sa.Column('playlist_type', sa.String(length=64), nullable=True),
    sa.Column('country_code', sa.String(length=8), nullable=True),
    sa.Column('subscribers', sa.BigInteger(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('peak_position', sa.Integer(), nullable=True),
    sa.Column('entry_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], ),
    sa.ForeignKeyConstraint(['track_id'], ['track.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('track_id', 'platform_id', 'fetched_on', 'playlist_uuid', name='uq_playlist_snapshot')
    )
    op.create_table('series_check',
    sa.Column('subject', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('series', sa.String(length=16), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=False),
    sa.Column('had_data', sa.Boolean(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], ),
    sa.PrimaryKeyConstraint('subject', 'subject_id', 'platform_id', 'series')
    )
    op.create_table('track_chart_reach',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('fetched_on', sa.Date(), nullable=False),
    sa.Column('chart_slug', sa.String(length=255), nullable=False),
    sa.Column('chart_name', sa.String(length=500), nullable=True),
    sa.Column('chart_type', sa.String(length=100), nullable=True),
    sa.Column('country_code', sa.String(length=8), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('position_evolution', sa.Integer(), nullable=True),
    sa.Column('peak_position', sa.Integer(), nullable=True),
    sa.Column('peak_date', sa.Date(), nullable=True),
    sa.Column('entry_state', sa.String(length=32), nullable=True),
    sa.Column('rank_date', sa.Date(), nullable=True),
    sa.Column('time_on_chart', sa.Integer(), nullable=True),
    sa.Column('time_on_chart_unit', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], ),
    sa.ForeignKeyConstraint(['track_id'], ['track.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('track_id', 'platform_id', 'fetched_on', 'chart_slug', name='uq_track_chart_reach')
    )
    op.create_table('track_popularity',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], ),
    sa.ForeignKeyConstraint(['track_id'], ['track.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('track_id', 'platform_id', 'date', name='uq_track_popularity_point')
    )
    with op.batch_alter_table('artist', schema=None) as batch_op:
        batch_op.add_column(sa.Column('country_code', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('genres', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('career_stage', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('growth_level', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('artist_type', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('metadata_fetched_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('metadata_error', sa.String(length=500), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('artist', schema=None) as batch_op:
        batch_op.drop_column('metadata_error')
        batch_op.drop_column('metadata_fetched_at')
        batch_op.drop_column('artist_type')
        batch_op.drop_column('growth_level')
        batch_op.drop_column('career_stage')
        batch_op.drop_column('genres')
        batch_op.drop_column('country_code')

    op.drop_table('track_popularity')
    op.drop_table('track_chart_reach')
    op.drop_table('series_check')
    op.drop_table('playlist_snapshot')
    with op.batch_alter_table('digest_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_digest_delivery_unsent')

    op.drop_table('digest_delivery')
    op.drop_table('artist_listeners')
    op.drop_table('artist_audience')
    op.drop_table('digest')
