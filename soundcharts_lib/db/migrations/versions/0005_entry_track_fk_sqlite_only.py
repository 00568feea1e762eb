"""chart_ranking_entry.track_id: no foreign key on PostgreSQL

Its per-row check (a locking lookup of the track for every entry COPY writes) was about a third of the time of
storing rankings. The store takes every entry's track id from the tracks it has just looked up or written in the
same transaction, and tracks are never deleted; ``soundcharts maintenance check`` reports entries whose track is
missing all the same (it checks every foreign key the models declare). SQLite keeps the constraint.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

NAME = 'chart_ranking_entry_track_id_fkey'


def _track_fks(bind) -> list[str]:
    """The entry -> track foreign keys (also when the table is partitioned: its partitions' copies go with it)."""
    return bind.execute(sa.text(
        "SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid = 'chart_ranking_entry'::regclass "
        "AND confrelid = 'track'::regclass")).scalars().all()


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        for name in _track_fks(bind):
            op.drop_constraint(name, 'chart_ranking_entry', type_='foreignkey')


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql' and not _track_fks(bind):
        op.create_foreign_key(NAME, 'chart_ranking_entry', 'track', ['track_id'], ['id'])
