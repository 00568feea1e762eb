"""track_chart_rollup (a track's summary per chart), track_chart_rollup_chart (which rankings it holds) and
chart.rankings_version, bumped by triggers on every chart_ranking write (on PostgreSQL once per statement, for
the charts of the rows it wrote; on SQLite once per row)

Charts that hold rankings start at version 1 with no rollup rows, so their track pages read the entries (as before)
until the next sync's rollup refresh builds them: the upgrade itself reads no entry.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BUMP = "UPDATE chart SET rankings_version = rankings_version + 1 WHERE id = {row}.chart_id"
CHANGED = ("UPDATE chart SET rankings_version = rankings_version + 1 WHERE id IN "
           "(SELECT id FROM chart WHERE id IN ({rows}) ORDER BY id FOR NO KEY UPDATE)")
# PostgreSQL: once per statement, for the charts of the rows it wrote (transition tables), taken in id order as
# chart_rollup.lock_charts takes them (two writers of several charts never wait for each other crosswise). Bumped
# once per row, a statement writing thousands of rankings (a backfill, a retention cleanup) would leave as many dead
# versions of the chart rows in its transaction: 34 MB for 300 charts after 324,000 rankings, each page's
# stale-chart check a 9 ms scan.
PG_FUNCTION = f"""
CREATE FUNCTION chart_rankings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {CHANGED.format(rows='SELECT chart_id FROM new_rows')};
    ELSIF TG_OP = 'DELETE' THEN
        {CHANGED.format(rows='SELECT chart_id FROM old_rows')};
    ELSE
        {CHANGED.format(rows='SELECT chart_id FROM old_rows UNION SELECT chart_id FROM new_rows')};
    END IF;
    RETURN NULL;
END $$
"""
PG_TRIGGERS = {
    "chart_ranking_inserted": "INSERT ON chart_ranking REFERENCING NEW TABLE AS new_rows",
    "chart_ranking_updated": "UPDATE ON chart_ranking REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "chart_ranking_deleted": "DELETE ON chart_ranking REFERENCING OLD TABLE AS old_rows",
}
SQLITE_TRIGGERS = {
    "chart_ranking_inserted": f"AFTER INSERT ON chart_ranking BEGIN {BUMP.format(row='NEW')}; END",
    "chart_ranking_updated": f"AFTER UPDATE ON chart_ranking BEGIN {BUMP.format(row='OLD')}; "
                             f"{BUMP.format(row='NEW')} AND NEW.chart_id IS NOT OLD.chart_id; END",
    "chart_ranking_deleted": f"AFTER DELETE ON chart_ranking BEGIN {BUMP.format(row='OLD')}; END",
}


def upgrade() -> None:
    op.add_column('chart', sa.Column('rankings_version', sa.Integer(), server_default=sa.text('0'), nullable=False))
    op.execute("UPDATE chart SET rankings_version = 1 WHERE EXISTS "
               "(SELECT 1 FROM chart_ranking r WHERE r.chart_id = chart.id)")
    op.create_table(
        'track_chart_rollup',
        sa.Column('track_id', sa.Integer(), nullable=False),
        sa.Column('chart_id', sa.Integer(), nullable=False),
        sa.Column('first_date', sa.Date(), nullable=False),
        sa.Column('last_date', sa.Date(), nullable=False),
        sa.Column('appearances', sa.Integer(), nullable=False),
        sa.Column('peak_position', sa.Integer(), nullable=False),
        sa.Column('peak_date', sa.Date(), nullable=False),
        sa.Column('last_position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['chart_id'], ['chart.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('track_id', 'chart_id'),
    )
    op.create_index('ix_track_chart_rollup_chart', 'track_chart_rollup', ['chart_id'], unique=False)
    op.create_table(
        'track_chart_rollup_chart',
        sa.Column('chart_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('max_ranking_id', sa.Integer(), nullable=False),
        sa.Column('rankings', sa.Integer(), nullable=False),
        sa.Column('entries', sa.BigInteger(), nullable=False),
        sa.Column('ranking_ids', sa.BigInteger(), nullable=False),
        sa.Column('last_fetched_at', sa.DateTime(), nullable=True),
        sa.Column('refreshed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['chart_id'], ['chart.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('chart_id'),
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTION)
        for name, event in PG_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} AFTER {event} FOR EACH STATEMENT EXECUTE FUNCTION chart_rankings_changed()")
    else:
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name in PG_TRIGGERS:
            op.execute(f"DROP TRIGGER {name} ON chart_ranking")
        op.execute("DROP FUNCTION chart_rankings_changed()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table('track_chart_rollup_chart')
    op.drop_index('ix_track_chart_rollup_chart', table_name='track_chart_rollup')
    op.drop_table('track_chart_rollup')
    op.drop_column('chart', 'rankings_version')  # SQLite 3.35+ drops it in place (a copy would break its keys)
