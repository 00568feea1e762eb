"""chart_ranking_entry.ranking_date: the ranking's date on each entry (partition key on PostgreSQL)

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('chart_ranking_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ranking_date', sa.Date(), nullable=True))
    op.execute("UPDATE chart_ranking_entry SET ranking_date = "
               "(SELECT r.ranking_date FROM chart_ranking r WHERE r.id = chart_ranking_entry.ranking_id)")


def downgrade() -> None:
    with op.batch_alter_table('chart_ranking_entry', schema=None) as batch_op:
        batch_op.drop_column('ranking_date')
