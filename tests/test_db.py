"""Schema, migrations and the bulk upsert, on SQLite and on the real PostgreSQL server."""

import pytest
from sqlalchemy import inspect, select, text

from soundcharts_lib.db import make_engine, upgrade
from soundcharts_lib.db.migrate import head
from soundcharts_lib.db.models import Track
from soundcharts_lib.db.upsert import id_map, upsert
from soundcharts_lib.errors import ConfigError

TABLES = {"platform", "chart", "chart_ranking", "chart_ranking_entry", "artist", "track", "track_artist",
          "track_platform_identifier", "track_audience", "sync_run", "audit_event", "audience_check", "watch_item",
          "alert_rule", "alert", "annotation"}


def test_migration_creates_every_table_and_is_safe_to_rerun(db_url):
    eng = make_engine(db_url)
    assert upgrade(eng) == head() == "0004"
    assert upgrade(eng) == head()
    insp = inspect(eng)
    assert set(insp.get_table_names()) >= TABLES
    uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints("chart_ranking")}
    assert ("chart_id", "ranking_date") in uniques
    entry_uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints("chart_ranking_entry")}
    assert ("ranking_id", "position") in entry_uniques
    indexes = {i["name"] for i in insp.get_indexes("chart_ranking_entry")}
    assert {"ix_entry_ranking_track", "ix_entry_track"} <= indexes
    eng.dispose()


def test_upsert_inserts_updates_only_changed_rows_and_maps_ids(engine):
    t = Track.__table__
    rows = [{"uuid": f"u{i}", "name": f"Song {i}", "credit_name": "A"} for i in range(1200)]
    with engine.begin() as conn:
        upsert(conn, t, rows, ["uuid"], update=["name", "credit_name"])
    with engine.begin() as conn:
        upsert(conn, t, rows, ["uuid"], update=["name", "credit_name"])  # identical: touches nothing
        changed = [dict(rows[5], name="Renamed")]
        upsert(conn, t, changed, ["uuid"], update=["name", "credit_name"])
        ids = id_map(conn, t, "uuid", [r["uuid"] for r in rows] + ["missing"])
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from track")).scalar_one() == 1200
        assert conn.execute(select(t.c.name).where(t.c.uuid == "u5")).scalar_one() == "Renamed"
    assert len(ids) == 1200 and "missing" not in ids


def test_bigint_values_survive(engine):
    with engine.begin() as conn:
        conn.execute(text("insert into platform (slug, name, supports_charts, supports_audience) "
                          "values ('spotify','Spotify', true, true)"))
        conn.execute(text("insert into track (uuid, name, first_seen_at) values ('t', 'x', '2026-01-01')"))
        conn.execute(text("insert into track_audience (track_id, platform_id, platform_identifier, date, "
                          "audience_value, fetched_at) values (1, 1, '1234567890123456789', '2026-01-01', "
                          ":v, '2026-01-01')"), {"v": 2**40 + 3})
    with engine.connect() as conn:
        row = conn.execute(text("select audience_value, platform_identifier from track_audience")).one()
    assert row == (2**40 + 3, "1234567890123456789")


@pytest.mark.parametrize("url, word", [
    ("not a url", "not a database URL"),
    ("mysql://u@h/db", "unsupported database"),
])
def test_bad_database_urls_are_config_errors(url, word):
    with pytest.raises(ConfigError, match=word):
        make_engine(url)


def test_read_only_sqlite_cannot_write(tmp_path):
    url = f"sqlite:///{tmp_path / 'ro.db'}"
    upgrade(make_engine(url))
    ro = make_engine(url, read_only=True)
    with pytest.raises(Exception, match="readonly|read-only"), ro.begin() as conn:
        conn.execute(text("insert into audit_event (at, actor, action, outcome) values ('2026-01-01','a','b','c')"))


def test_read_only_postgres_cannot_write(pg_url):
    upgrade(make_engine(pg_url))
    ro = make_engine(pg_url, read_only=True)
    with pytest.raises(Exception, match="read-only"), ro.begin() as conn:
        conn.execute(text("insert into audit_event (at, actor, action, outcome) values (now(),'a','b','c')"))
    ro.dispose()


def test_every_migration_downgrades_and_upgrades_again(db_url):
    from alembic import command

    from soundcharts_lib.db.migrate import alembic_config

    eng = make_engine(db_url)
    upgrade(eng)
    with eng.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert set(inspect(eng).get_table_names()) <= {"alembic_version"}
    assert upgrade(eng) == head()
    assert set(inspect(eng).get_table_names()) >= TABLES
    eng.dispose()


def test_models_and_migrations_agree(db_url):
    """Autogenerate finds nothing to add: the migrations create exactly what the models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from soundcharts_lib.db.models import Base

    eng = make_engine(db_url)
    upgrade(eng)
    with eng.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []
    eng.dispose()
