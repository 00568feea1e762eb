"""Schema, migrations and the bulk upsert, on SQLite and on the real PostgreSQL server."""

import time
from datetime import date
from urllib.parse import quote

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

from soundcharts_lib.config import Settings
from soundcharts_lib.db import engine as engines
from soundcharts_lib.db import make_engine, upgrade
from soundcharts_lib.db.engine import sqlite_file
from soundcharts_lib.db.migrate import head
from soundcharts_lib.db.models import ChartRankingEntry, Track
from soundcharts_lib.db.upsert import id_map, upsert
from soundcharts_lib.errors import ConfigError

TABLES = {"platform", "chart", "chart_ranking", "chart_ranking_entry", "artist", "track", "track_artist",
          "track_platform_identifier", "track_audience", "sync_run", "audit_event", "audience_check", "watch_item",
          "alert_rule", "alert", "annotation", "artist_audience", "artist_listeners", "series_check",
          "track_chart_reach", "track_popularity", "playlist_snapshot", "digest", "digest_delivery",
          "label_share_rollup"}


def test_0008_goes_down_to_0007_and_up_again_with_the_artists_kept(db_url):
    """0008 only adds: an artist stored before it keeps its row (its new columns NULL), and down and up again work."""
    from alembic import command

    from soundcharts_lib.db.migrate import alembic_config

    eng = make_engine(db_url)
    upgrade(eng, "0007")
    with eng.begin() as conn:
        conn.execute(text("INSERT INTO artist (uuid, name) VALUES ('a-1', 'Before')"))
    assert upgrade(eng, "0008") == "0008"
    with eng.connect() as conn:
        assert conn.execute(text("SELECT name, country_code, genres FROM artist")).one() == ("Before", None, None)
    with eng.begin() as conn:
        command.downgrade(alembic_config(conn), "0007")
    assert "artist_audience" not in inspect(eng).get_table_names()
    assert "country_code" not in {c["name"] for c in inspect(eng).get_columns("artist")}
    assert upgrade(eng, "0008") == "0008"
    assert {"artist_audience", "digest_delivery"} <= set(inspect(eng).get_table_names())
    eng.dispose()


def test_migration_creates_every_table_and_is_safe_to_rerun(db_url):
    eng = make_engine(db_url)
    assert upgrade(eng) == head() == "0012"
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
    ("postgresql+asyncpg://u@h/db", "database driver not installed: No module named 'asyncpg'"),
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


def test_a_read_only_sqlite_file_keeps_read_only_whatever_its_name(tmp_path):
    """``#``, ``?``, ``%`` and spaces are quoted in the read-only URI: unquoted, SQLite would take ``#`` for the
    start of a fragment, drop ``mode=ro`` and open (or create) the file ``a``."""
    db = tmp_path / "a#b?c %41 d.db"
    with pytest.raises(ConfigError, match="is written %3F"):  # unquoted, SQLAlchemy would drop "?c %41 d.db"
        make_engine(f"sqlite:///{db}")
    upgrade(make_engine(f"sqlite:///{quote(str(db))}"))
    ro = make_engine(URL.create("sqlite", database=str(db)), read_only=True)
    with ro.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head()
    with pytest.raises(Exception, match="readonly"), ro.begin() as conn:
        conn.execute(text("insert into audit_event (at, actor, action, outcome) values ('2026-01-01','a','b','c')"))
    ro.dispose()
    assert {p.name for p in tmp_path.iterdir()} <= {db.name, f"{db.name}-wal", f"{db.name}-shm"}
    assert sqlite_file(ro.url) == db  # where the runs' lock files are looked for


def test_the_revisions_read_without_alembic_are_alembics():
    from alembic.script import ScriptDirectory

    from soundcharts_lib.db.migrate import alembic_config
    from soundcharts_lib.db.schema import known_revisions

    scripts = ScriptDirectory.from_config(alembic_config(None))
    assert known_revisions() == {r.revision: r.down_revision for r in scripts.walk_revisions()}
    assert head() == scripts.get_current_head()


def test_a_newer_release_database_is_refused_before_anything_is_written(db_url):
    from soundcharts_lib.db import engine_from_env
    from soundcharts_lib.db.schema import SchemaTooNew

    eng = make_engine(db_url)
    upgrade(eng)
    with eng.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    with pytest.raises(SchemaTooNew, match=r"^written by a newer soundcharts-workbench \(revision 0999\); upgrade$"):
        upgrade(eng)
    with pytest.raises(SchemaTooNew):
        engine_from_env(Settings.from_env({"SOUNDCHARTS_DB_URL": db_url}), read_only=True)
    with eng.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0999"
    eng.dispose()


def test_another_applications_database_is_never_migrated(db_url):
    from soundcharts_lib.db.schema import ForeignDatabase

    eng = make_engine(db_url)
    with eng.begin() as conn:
        conn.execute(text("CREATE TABLE customer (id INTEGER PRIMARY KEY)"))
    with pytest.raises(ForeignDatabase, match="not a soundcharts database"):
        upgrade(eng)
    assert inspect(eng).get_table_names() == ["customer"]
    if eng.dialect.name == "sqlite":  # not even switched to WAL
        with eng.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "delete"
    eng.dispose()


@pytest.mark.postgres
def test_read_only_postgres_cannot_write(pg_url):
    upgrade(make_engine(pg_url))
    ro = make_engine(pg_url, read_only=True)
    with pytest.raises(Exception, match="read-only"), ro.begin() as conn:
        conn.execute(text("insert into audit_event (at, actor, action, outcome) values (now(),'a','b','c')"))
    with ro.connect() as conn:  # a viewer's statements start no parallel workers, compile nothing (PG_VIEWER_OPTIONS)
        assert [conn.exec_driver_sql(f"SHOW {name}").scalar() for name in ("max_parallel_workers_per_gather", "jit")] \
            == ["0", "off"]
    with make_engine(pg_url).connect() as conn:  # a job's may (a rollup's rebuild reads whole tables)
        assert conn.exec_driver_sql("SHOW max_parallel_workers_per_gather").scalar() != "0"
    ro.dispose()


@pytest.mark.postgres
def test_a_viewers_statement_is_prepared_the_second_time_it_runs(pg_url):
    """A page read again is neither parsed nor planned again (``PG_PREPARE_AFTER``): the connection holds the
    statement prepared from its second run, not its sixth (psycopg's default)."""
    upgrade(make_engine(pg_url))
    ro = make_engine(pg_url, read_only=True)
    read = "SELECT count(*) FROM chart"
    with ro.connect() as conn:
        def prepared() -> int:
            return conn.execute(text("SELECT count(*) FROM pg_prepared_statements WHERE statement = :s"),
                                {"s": read}).scalar_one()
        conn.exec_driver_sql(read)
        assert prepared() == 0
        conn.exec_driver_sql(read)
        assert prepared() == 1
    ro.dispose()


@pytest.mark.postgres
def test_a_viewers_idle_connection_is_checked_and_a_busy_one_is_not(pg_url, monkeypatch):
    """A viewer's pool connection idle for ``PG_CHECK_IDLE_S`` is checked before use and replaced when the server
    closed it (a restart); one used a moment ago is not checked (no round trip between a page's reads)."""
    upgrade(make_engine(pg_url))
    admin, ro = make_engine(pg_url), make_engine(pg_url, read_only=True)

    def backend() -> int:
        with ro.connect() as conn:
            return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()

    def terminate(pid: int) -> None:
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
            while conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}).scalar():
                time.sleep(0.05)

    first = backend()
    terminate(first)
    time.sleep(engines.PG_CHECK_IDLE_S + 0.2)
    second = backend()  # checked, found dead, replaced: the read works
    assert second != first
    monkeypatch.setattr(engines, "PG_CHECK_IDLE_S", 3600)
    terminate(second)
    with pytest.raises(OperationalError):  # not checked: the read meets the closed connection
        backend()
    assert backend() not in (first, second)  # the pool replaced it
    ro.dispose()
    admin.dispose()


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

    from soundcharts_lib.db.migrate import declared_on
    from soundcharts_lib.db.models import Base

    eng = make_engine(db_url)
    upgrade(eng)

    with eng.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "include_object": declared_on(eng.dialect.name)})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    eng.dispose()


def test_entry_track_foreign_key_is_enforced_on_sqlite_only_and_orphans_are_reported_on_both(db_url):
    """PostgreSQL has no entry -> track foreign key (migration 0005: its per-row check was a third of storing
    rankings); ``maintenance check`` reports an entry whose track is missing there."""
    from sqlalchemy.exc import IntegrityError

    from soundcharts_lib.jobs.maintenance import check_database

    eng = make_engine(db_url)
    upgrade(eng)
    pg = eng.dialect.name == "postgresql"
    referred = {fk["referred_table"] for fk in inspect(eng).get_foreign_keys("chart_ranking_entry")}
    assert referred == ({"chart_ranking"} if pg else {"chart_ranking", "track"})
    with eng.begin() as conn:
        conn.execute(text("insert into platform (slug, name, supports_charts, supports_audience) "
                          "values ('spotify', 'Spotify', true, false)"))
        conn.execute(text("insert into chart (slug, name, platform_id, is_active, discovered_at, "
                          "consecutive_failures) values ('c', 'C', 1, true, '2026-01-01', 0)"))
        conn.execute(text("insert into chart_ranking (chart_id, ranking_date, date_raw, fetched_at, status, "
                          "entry_count) values (1, '2026-01-01', 'x', '2026-01-01', 'success', 1)"))
    orphan = text("insert into chart_ranking_entry (ranking_id, ranking_date, track_id, position) "
                  "values (1, '2026-01-01', 999, 1)")
    if not pg:
        with pytest.raises(IntegrityError, match="FOREIGN KEY"), eng.begin() as conn:
            conn.execute(orphan)
        with eng.connect() as conn:  # how one gets in anyway: another tool with foreign keys off
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.execute(orphan)
            conn.commit()
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
    else:
        with eng.begin() as conn:
            conn.execute(orphan)
    found = {f.problem: f for f in check_database(eng).findings}
    assert found["ranking entries whose track is missing"].count == 1
    assert found["ranking entries whose track is missing"].examples == ["missing track ids: 999"]
    eng.dispose()


def test_stored_entries_carry_dates_in_the_format_sqlalchemy_writes(engine):
    """Entries go in through the driver (ISO text on SQLite, binary COPY on PostgreSQL): their dates compare equal
    to the ranking's, written by SQLAlchemy, and read back as dates; storing again writes nothing."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
    from bench_store import build_rankings

    from soundcharts_lib.db import store

    charts, rankings = build_rankings(2_000)
    ids = store.upsert_charts(engine, charts)
    batch = [(ids[r.chart.slug], r) for r in rankings]
    assert store.store_rankings(engine, batch) == [200] * 10
    assert store.store_rankings(engine, batch) == [0] * 10
    with engine.connect() as conn:
        same = conn.execute(text("select count(*) from chart_ranking_entry e join chart_ranking r "
                                 "on r.id = e.ranking_id where e.ranking_date = r.ranking_date "
                                 "and e.rank_date = r.ranking_date and e.entry_date = '2024-01-01'")).scalar_one()
        first = conn.execute(select(ChartRankingEntry.ranking_date, ChartRankingEntry.entry_date)
                             .order_by(ChartRankingEntry.id).limit(1)).one()
    assert same == 2_000
    assert first == (rankings[0].date, date(2024, 1, 1))


def test_ensure_tracks_adds_new_tracks_updates_changed_ones_and_maps_every_uuid(engine):
    from soundcharts_lib.db.store import ensure_tracks

    t = Track.__table__
    tracks = [{"uuid": f"u{i}", "name": f"Song {i}", "credit_name": None if i % 2 else "A", "image_url": None}
              for i in range(1500)]
    with engine.begin() as conn:
        first = ensure_tracks(conn, tracks)
    with engine.begin() as conn:
        again = ensure_tracks(conn, [*tracks[:1499], dict(tracks[1499], name="Renamed", image_url="http://i"),
                                     {"uuid": "new", "name": "New", "credit_name": "B", "image_url": None}])
    with engine.connect() as conn:
        stored = {r.uuid: r for r in conn.execute(select(t.c.uuid, t.c.id, t.c.name, t.c.credit_name, t.c.image_url))}
    assert len(first) == 1500 and set(again) == set(first) | {"new"}
    assert all(again[u] == first[u] == stored[u].id for u in first) and again["new"] == stored["new"].id
    assert (stored["u1499"].name, stored["u1499"].image_url) == ("Renamed", "http://i")
    assert stored["u1"].credit_name is None and stored["u2"].credit_name == "A"
