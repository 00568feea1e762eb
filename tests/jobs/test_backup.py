"""Backup and restore through the CLI: restored data equals the original row for row (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest
from cli.test_maintenance_cli import one_line_error, soundcharts
from conftest import _fresh_pg_database, local_client
from db_states import pg_reader
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url

from jobs.test_maintenance import filled  # noqa: F401  (fixture: a chart, its tracks and their audience)
from soundcharts_lib.db import make_engine, upgrade
from soundcharts_lib.db.models import Base, SyncRun
from soundcharts_lib.db.runs import start_run
from soundcharts_lib.db.schema import NotReady
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.jobs.backup import restore, write_backup
from soundcharts_lib.jobs.maintenance import cleanup
from soundcharts_lib.jobs.metadata import store_metadata

FILLED = ("platform", "chart", "chart_ranking", "chart_ranking_entry", "track", "artist", "track_artist",
          "track_platform_identifier", "track_audience", "sync_run", "audit_event", "alembic_version")


def table_rows(engine) -> dict[str, list[tuple]]:
    """Every row of every table (and the schema revision), in primary-key order."""
    with engine.connect() as conn:
        out = {t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
               for t in Base.metadata.sorted_tables}
        out["alembic_version"] = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    return out


@pytest.fixture
def everything(filled, localapi):  # noqa: F811
    """``filled`` plus metadata (artists, identifiers) and an audit event: no table left empty."""
    with filled.connect() as conn:
        uuids = conn.execute(text("SELECT uuid FROM track ORDER BY id LIMIT 3")).scalars().all()
    with local_client(localapi) as client:
        assert store_metadata(client, filled, uuids, progress=False).status == "success"
    cleanup(filled, {"audit": 3650})
    rows = table_rows(filled)
    assert all(rows[name] for name in FILLED), [name for name in FILLED if not rows[name]]
    return filled


@pytest.fixture
def second_url(db_url, tmp_path):
    """An empty database of the same kind as ``db_url`` to restore into."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    url, drop = _fresh_pg_database()
    yield url
    drop()


@pytest.mark.slow
def test_backup_then_restore_into_an_empty_database_gives_the_same_rows(everything, db_url, second_url, tmp_path):
    original = table_rows(everything)
    dump = tmp_path / ("backup.db" if db_url.startswith("sqlite") else "backup.dump")
    res = soundcharts("maintenance", "backup", "--to", str(dump), env={"SOUNDCHARTS_DB_URL": db_url})
    assert res.returncode == 0 and res.stdout.startswith(f"backup written: {dump}"), res.stderr
    assert not list(tmp_path.glob("*.partial"))

    res = soundcharts("maintenance", "restore", "--from", str(dump), env={"SOUNDCHARTS_DB_URL": second_url})
    assert res.returncode == 0, res.stderr
    revision = original["alembic_version"][0][0]
    assert f"at revision {revision}: " in res.stdout
    assert f"{len(original['chart_ranking_entry'])} chart_ranking_entry" in res.stdout
    assert make_url(second_url).password is None or make_url(second_url).password not in res.stdout
    restored = make_engine(second_url)
    try:
        assert table_rows(restored) == original
        run_id = start_run(restored, "sync_charts", "cli", {})  # ids continue after the restored ones
        assert run_id > max(r[0] for r in original["sync_run"])

        refused = soundcharts("maintenance", "restore", "--from", str(dump), env={"SOUNDCHARTS_DB_URL": second_url})
        one_line_error(refused, 2, "already has")
        forced = soundcharts("maintenance", "restore", "--from", str(dump), "--force",
                             env={"SOUNDCHARTS_DB_URL": second_url})
        assert forced.returncode == 0, forced.stderr
        assert table_rows(restored) == original  # the run added after the backup is gone again
    finally:
        restored.dispose()


def test_the_sqlite_backup_is_online_consistent_and_self_contained(tmp_path):
    db, dump = tmp_path / "live.db", tmp_path / "copy.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    start_run(engine, "sync_charts", "cli", {})
    with engine.connect() as writer:  # a job in the middle of a write transaction
        writer.execute(insert(SyncRun.__table__).values(kind="uncommitted", trigger="cli", status="running"))
        res = soundcharts("maintenance", "backup", "--to", str(dump), env={"SOUNDCHARTS_DB_URL": f"sqlite:///{db}"},
                          timeout=60)
        writer.rollback()
    engine.dispose()
    assert res.returncode == 0, res.stderr
    with closing(sqlite3.connect(dump)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT kind FROM sync_run").fetchall() == [("sync_charts",)]
    assert not (tmp_path / "copy.db-wal").exists()


@pytest.mark.slow
def test_backup_and_restore_refuse_what_an_operator_would_regret(tmp_path):
    db, dump = tmp_path / "a.db", tmp_path / "a-backup.db"
    url = f"sqlite:///{db}"
    with pytest.raises(NotReady, match="database file not found"):
        write_backup(url, dump)
    upgrade(make_engine(url))
    write_backup(url, dump)
    one_line_error(soundcharts("maintenance", "backup", "--to", str(dump), env={"SOUNDCHARTS_DB_URL": url}),
                   2, "already exists")
    assert write_backup(url, dump, force=True).path == dump
    with pytest.raises(ConfigError, match="database itself"):
        write_backup(url, db, force=True)
    with pytest.raises(ConfigError, match="is a folder"):
        write_backup(url, tmp_path, force=True)

    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a backup")
    other = tmp_path / "other.sqlite"
    with closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE x (a)")
    empty = f"sqlite:///{tmp_path / 'new.db'}"
    one_line_error(soundcharts("maintenance", "restore", "--from", str(text_file),
                               env={"SOUNDCHARTS_DB_URL": empty}), 2, "neither")
    for source, words in ((tmp_path / "nope.db", "not found"), (other, "not a soundcharts one")):
        with pytest.raises(ConfigError, match=words):
            restore(empty, source)


@pytest.mark.postgres
def test_a_backup_of_the_other_kind_is_refused(pg_url, tmp_path):
    sqlite_dump = tmp_path / "s.db"
    env = {"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 's-src.db'}"}
    assert soundcharts("init-db", env=env).returncode == 0
    assert soundcharts("maintenance", "backup", "--to", str(sqlite_dump), env=env).returncode == 0
    one_line_error(soundcharts("maintenance", "restore", "--from", str(sqlite_dump),
                               env={"SOUNDCHARTS_DB_URL": pg_url}), 2, "is a sqlite backup")


@pytest.mark.postgres
def test_pg_dump_failure_is_one_line_and_never_shows_the_password(pg_url, tmp_path):
    """A role that may read the schema's revision but not the data: the database passes the check, pg_dump fails."""
    upgrade(make_engine(pg_url))
    with pg_reader(pg_url, on=("TABLE alembic_version",)) as url:
        res = soundcharts("maintenance", "backup", "--to", str(tmp_path / "x.dump"), env={"SOUNDCHARTS_DB_URL": url})
    one_line_error(res, 1, "pg_dump failed: query failed: ERROR:  permission denied for")
    assert make_url(url).password not in res.stdout + res.stderr
    assert not list(tmp_path.iterdir())


def test_an_unreachable_database_is_one_line_and_never_shows_the_password(tmp_path):
    url = "postgresql://postgres:CANARY-pg-pw-5521@127.0.0.1:9/nowhere"
    res = soundcharts("maintenance", "backup", "--to", str(tmp_path / "x.dump"), env={"SOUNDCHARTS_DB_URL": url})
    one_line_error(res, 2, "database: connection failed: connection to server")
    assert "CANARY-pg-pw-5521" not in res.stdout + res.stderr
    assert not list(tmp_path.iterdir())
