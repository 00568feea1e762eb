"""chart_ranking_dropout: a ranking's position-0 items (songs the API lists as no longer in the chart)

The entries keep UNIQUE (ranking, position) and ``entry_count`` counts them only; a ranking may carry any number of
position-0 items, so they get their own table, written and replaced with the ranking.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'chart_ranking_dropout',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ranking_id', sa.Integer(), nullable=False),
        sa.Column('track_id', sa.Integer(), nullable=False),
        sa.Column('old_position', sa.Integer(), nullable=True),
        sa.Column('position_evolution', sa.Integer(), nullable=True),
        sa.Column('entry_state', sa.String(length=32), nullable=True),
        sa.Column('entry_date', sa.Date(), nullable=True),
        sa.Column('rank_date', sa.Date(), nullable=True),
        sa.Column('time_on_chart', sa.Integer(), nullable=True),
        sa.Column('time_on_chart_unit', sa.String(length=16), nullable=True),
        sa.Column('metric', sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(['ranking_id'], ['chart_ranking.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['track_id'], ['track.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_dropout_ranking', 'chart_ranking_dropout', ['ranking_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_dropout_ranking', table_name='chart_ranking_dropout')
    op.drop_table('chart_ranking_dropout')
