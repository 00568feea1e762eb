"""`soundcharts maintenance …` as an operator runs it (real subprocesses), and the maintenance job notebook."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from conftest import local_client
from sqlalchemy import create_engine, text

from soundcharts_lib.db import make_engine, upgrade
from soundcharts_lib.db.models import utcnow
from soundcharts_lib.jobs.sync import ChartSync

pytestmark = pytest.mark.slow  # the maintenance job and syncs as processes

CHART = "spotify-top-200-fr-daily"


def soundcharts(*args, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """The real ``soundcharts`` command; its log file goes where ``env`` says (off unless given)."""
    full = dict(os.environ, SOUNDCHARTS_LOG_FILE="off")
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "soundcharts_lib.cli", *args], capture_output=True, text=True,
                          env=full, timeout=timeout)


def one_line_error(res: subprocess.CompletedProcess, code: int, words: str) -> None:
    assert res.returncode == code, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in res.stderr, res.stderr


def rows(db, sql):
    with create_engine(f"sqlite:///{db}").connect() as conn:
        return conn.execute(text(sql)).all()


@pytest.fixture
def synced(api_env, tmp_path):
    """A SQLite database with 4 days of one chart, synced from the local API; its env for the CLI."""
    db = tmp_path / "ops.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    with local_client(api_env) as client:
        assert ChartSync(client, engine, progress=False).run(charts=[CHART], backfill_days=4).status == "success"
    engine.dispose()
    return db, {"SOUNDCHARTS_DB_URL": f"sqlite:///{db}"}


def test_cleanup_dry_run_counts_then_cleanup_deletes_by_the_per_table_retention(synced):
    db, env = synced
    cutoff = utcnow().date() - timedelta(days=2)
    old = rows(db, f"select count(*), sum(entry_count) from chart_ranking where ranking_date < '{cutoff}'")[0]
    assert old[0] > 0

    dry = soundcharts("maintenance", "cleanup", "--older-than", "2", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith(f"would delete {old[0]} rankings, {old[1]} entries,")
    assert "rankings 2 days" in dry.stdout and "archives 2 days" in dry.stdout
    assert rows(db, f"select count(*) from chart_ranking where ranking_date < '{cutoff}'")[0][0] == old[0]

    env_days = dict(env, SOUNDCHARTS_RETENTION_RANKINGS_DAYS="2", SOUNDCHARTS_RETENTION_AUDIT_DAYS="30")
    res = soundcharts("maintenance", "cleanup", env=env_days)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"deleted {old[0]} rankings, {old[1]} entries, 0 audit")
    assert "audience all" in res.stdout and "runs all" in res.stdout
    assert rows(db, f"select count(*) from chart_ranking where ranking_date < '{cutoff}'")[0][0] == 0
    assert rows(db, "select count(*) from chart_ranking_entry e left join chart_ranking r on r.id = e.ranking_id "
                    "where r.id is null")[0][0] == 0
    assert rows(db, "select action from audit_event") == [("maintenance.cleanup",)]


def test_check_exits_1_on_a_defect_repair_marks_it_and_the_next_sync_refetches(synced):
    db, env = synced
    clean = soundcharts("maintenance", "check", env=env)
    assert clean.returncode == 0 and "no problems found" in clean.stdout, clean.stdout
    with create_engine(f"sqlite:///{db}").begin() as conn:
        conn.execute(text("delete from chart_ranking_entry where position > 190 and ranking_id = "
                          "(select min(id) from chart_ranking)"))

    res = soundcharts("maintenance", "check", env=env)
    assert res.returncode == 1
    assert "error: 1 rankings whose entry count disagrees with their entries" in res.stdout
    assert "190 of 200 entries" in res.stdout and "1 defects remain (--repair fixes what is safe)" in res.stdout

    fixed = soundcharts("maintenance", "check", "--repair", env=env)
    assert fixed.returncode == 0 and "(1 repaired)" in fixed.stdout and "no defects remain" in fixed.stdout
    assert rows(db, "select count(*) from chart_ranking where status = 'failed'")[0][0] == 1

    again = soundcharts("sync-charts", "--chart", CHART, "--backfill-days", "4", "--quiet", env=env)
    assert again.returncode == 0 and "1 rankings stored" in again.stdout, again.stdout
    assert soundcharts("maintenance", "check", env=env).returncode == 0
    assert rows(db, "select count(*) from chart_ranking_entry")[0][0] == \
           rows(db, "select sum(entry_count) from chart_ranking")[0][0]


@pytest.mark.parametrize("args, words", [
    (["maintenance"], "required"),
    (["maintenance", "cleanup", "--older-than", "0"], "at least 1"),
    (["maintenance", "cleanup", "--rankings-days", "soon"], "not a whole number"),
    (["maintenance", "vacuum"], "invalid choice"),
    (["maintenance", "backup"], "--to"),
    (["maintenance", "restore"], "--from"),
])
def test_bad_input_is_one_line_and_exit_2(args, words, tmp_path):
    one_line_error(soundcharts(*args, env={"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'x.db'}"}), 2, words)


def test_a_bad_retention_setting_is_one_line_and_exit_2(tmp_path):
    env = {"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'x.db'}", "SOUNDCHARTS_RETENTION_AUDIT_DAYS": "forever"}
    one_line_error(soundcharts("maintenance", "cleanup", env=env), 2, "SOUNDCHARTS_RETENTION_AUDIT_DAYS")


def test_the_maintenance_job_cleans_checks_backs_up_and_keeps_the_newest_backups(synced, tmp_path):
    db, env = synced
    backups = tmp_path / "backups"
    backups.mkdir()
    for stamp in ("20250101-000000", "20250102-000000"):
        (backups / f"soundcharts-{stamp}.db").write_bytes(b"old")
    res = soundcharts("run-job", "maintenance", "-p", "older_than", "2", "-p", "repair", "true",
                      "-p", "backup_dir", str(backups), "-p", "keep_backups", "2", env=env, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    kept = sorted(p.name for p in backups.iterdir())
    assert len(kept) == 2 and kept[0] == "soundcharts-20250102-000000.db" and kept[1] > kept[0]
    status, counts = rows(db, "select status, counts from sync_run where kind = 'maintenance'")[0]
    assert status == "success" and '"rankings": ' in counts and kept[1] in counts
    assert rows(db, "select count(*) from chart_ranking where ranking_date < "
                    f"'{utcnow().date() - timedelta(days=2)}'")[0][0] == 0
    restored = tmp_path / "restored.db"
    res = soundcharts("maintenance", "restore", "--from", str(backups / kept[1]),
                      env={"SOUNDCHARTS_DB_URL": f"sqlite:///{restored}"})
    assert res.returncode == 0 and "restored" in res.stdout, res.stderr
