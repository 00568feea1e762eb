"""The Airflow DAG (scheduled/airflow/) in its own virtualenv: it imports with the crontab's chain, and
`airflow dags test` leaves PostgreSQL with the same data as `soundcharts run-job` runs of the same jobs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import FAST, ROOT, _fresh_pg_database, local_client
from filelock import FileLock
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.slow  # airflow dags test runs

DAGS = ROOT / "scheduled" / "airflow"
CANARY = "CANARY-airflow-key-5e1d"  # the local API's key in the end-to-end test: never in a log or notebook
PLATFORMS = "spotify,apple-music"  # the end-to-end run's sync tasks (the first test checks the full list)
JOBS = [("sync_charts", "-p", "platforms", PLATFORMS), ("fetch_metadata",), ("fetch_artists", "-p", "limit", "200"),
        ("fetch_audience", "-p", "limit", "200"), ("fetch_reach", "-p", "roster", "true"), ("digest",),
        ("maintenance",)]

INSPECT = textwrap.dedent("""
    import importlib.util, json, sys
    from airflow.dag_processing.dagbag import DagBag
    bag = DagBag(dag_folder=sys.argv[1])
    dag = bag.dags.get("soundcharts")
    tasks = dag.tasks if dag else []
    print(json.dumps({
        "errors": {k: str(v) for k, v in bag.import_errors.items()},
        "dags": sorted(bag.dag_ids),
        "edges": {t.task_id: sorted(t.downstream_task_ids) for t in tasks},
        "retries": {t.task_id: [t.retries, t.retry_exponential_backoff] for t in tasks},
        "project_importable": importlib.util.find_spec("soundcharts_lib") is not None,
    }))
""")

HELD = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    import soundcharts_dag
    try:
        soundcharts_dag.run_job("maintenance")
    except Exception as exc:
        print(type(exc).__name__, exc)
""")

NATURAL = {  # what the jobs store, by natural keys (slugs, dates, UUIDs), never by surrogate ids
    "chart_platforms": "SELECT DISTINCT p.slug FROM chart c JOIN platform p ON p.id = c.platform_id",
    "rankings": "SELECT c.slug, r.ranking_date, r.status, r.entry_count FROM chart_ranking r "
                "JOIN chart c ON c.id = r.chart_id",
    "entries": "SELECT c.slug, r.ranking_date, e.position, t.uuid, e.old_position, e.position_evolution, "
               "e.entry_state, e.entry_date, e.time_on_chart, e.metric FROM chart_ranking_entry e "
               "JOIN chart_ranking r ON r.id = e.ranking_id JOIN chart c ON c.id = r.chart_id "
               "JOIN track t ON t.id = e.track_id",
    "tracks": "SELECT uuid, name, credit_name, isrc, release_date, duration, CAST(genres AS TEXT), "
              "metadata_fetched_at IS NOT NULL FROM track",
    "artists": "SELECT t.uuid, ta.position, a.uuid, a.name FROM track_artist ta "
               "JOIN track t ON t.id = ta.track_id JOIN artist a ON a.id = ta.artist_id",
    "identifiers": "SELECT t.uuid, i.platform_code, i.identifier, i.is_default "
                   "FROM track_platform_identifier i JOIN track t ON t.id = i.track_id",
    "audience": "SELECT t.uuid, p.slug, a.platform_identifier, a.date, a.audience_value "
                "FROM track_audience a JOIN track t ON t.id = a.track_id "
                "JOIN platform p ON p.id = a.platform_id",
    "artist_series": "SELECT a.uuid, p.slug, s.date, s.followers FROM artist_audience s "
                     "JOIN artist a ON a.id = s.artist_id JOIN platform p ON p.id = s.platform_id",
    "runs": "SELECT kind, status, notebook_path FROM sync_run",
}


def _run(cmd: list[str], env: dict, timeout: float) -> subprocess.CompletedProcess:
    """Airflow calls run in AIRFLOW_HOME, so that the project is not importable from the working directory."""
    return subprocess.run(cmd, env=env, cwd=env.get("AIRFLOW_HOME"), capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory) -> dict:
    """The environment of an Airflow CLI call: the isolated virtualenv (built once, then reused), a temp
    AIRFLOW_HOME with its SQLite metadata database migrated, the DAG folder, no examples."""
    built = _run([str(ROOT / "scripts" / "airflow-venv.sh")], dict(os.environ), timeout=590)
    assert built.returncode == 0, built.stderr[-3000:]
    venv = Path(built.stdout.strip().splitlines()[-1])
    env = dict(os.environ, AIRFLOW_HOME=str(tmp_path_factory.mktemp("airflow-home")),
               AIRFLOW__CORE__LOAD_EXAMPLES="False", AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
               PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
    migrated = _run(["airflow", "db", "migrate"], env, timeout=300)
    assert migrated.returncode == 0, migrated.stdout[-3000:] + migrated.stderr[-3000:]
    return env


def test_the_dag_imports_with_the_expected_tasks_and_edges(airflow_env, localapi):
    res = _run(["python", "-c", INSPECT, str(DAGS)], airflow_env, timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    found = json.loads(res.stdout.strip().splitlines()[-1])
    assert found["errors"] == {} and found["dags"] == ["soundcharts"]
    with local_client(localapi) as client:  # one parallel sync task per song-chart platform the API lists
        sync = {f"sync_charts.{p.code}" for p in client.chart_platforms()}
    assert found["edges"] == {**{t: ["fetch_metadata"] for t in sync}, "fetch_metadata": ["fetch_artists"],
                              "fetch_artists": ["fetch_audience"], "fetch_audience": ["fetch_reach"],
                              "fetch_reach": ["digest"], "digest": ["maintenance"], "maintenance": []}
    assert all(retries >= 3 and backoff >= 2 for retries, backoff in found["retries"].values())
    # isolation both ways: the DAG needs nothing of ours, and Airflow never reached the project's .venv
    assert found["project_importable"] is False
    assert _run([sys.executable, "-c", "import airflow"], dict(os.environ), timeout=60).returncode != 0


def test_a_job_whose_lock_is_held_fails_the_task_so_airflow_retries_it(airflow_env, tmp_path):
    runs = tmp_path / "runs"
    (runs / "locks").mkdir(parents=True)
    env = dict(airflow_env, SOUNDCHARTS_DB_URL=f"sqlite:///{tmp_path / 'x.db'}",
               SOUNDCHARTS_RUNS_DIR=str(runs))
    with FileLock(str(runs / "locks" / "maintenance.lock")):
        res = _run(["python", "-c", HELD, str(DAGS)], env, timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "AirflowException job maintenance is running elsewhere" in res.stdout
    assert not list(runs.rglob("*.ipynb"))


def test_maintenance_is_skipped_on_other_days(airflow_env, tmp_path):
    tuesday = (datetime.fromisoformat(_last_sunday()) - timedelta(days=5)).date().isoformat()
    env = dict(airflow_env, SOUNDCHARTS_RUNS_DIR=str(tmp_path / "runs"))
    res = _run(["airflow", "dags", "test", "soundcharts", tuesday, "--mark-success-pattern",
                r"sync_charts\..*|fetch_.*|digest"], env, timeout=300)  # the other tasks marked done, not run
    out = res.stdout + res.stderr
    assert res.returncode == 0 and "state=success" in out, out[-4000:]
    assert "maintenance runs on Sundays" in out and not (tmp_path / "runs").exists()


def _natural_rows(url: str) -> dict[str, set]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = {name: {tuple(r) for r in conn.execute(text(sql))} for name, sql in NATURAL.items()}
    engine.dispose()
    return rows


def _conn_json(**fields) -> str:
    return json.dumps({k: v for k, v in fields.items() if v is not None})


def _last_sunday() -> str:
    today = datetime.now(UTC).date()
    return (today - timedelta(days=(today.weekday() + 1) % 7)).isoformat()


@pytest.mark.postgres
def test_airflow_dags_test_stores_what_run_job_stores(airflow_env, pg_url, tmp_path):
    from soundcharts_lib.localapi import LocalApiConfig, running

    reference_url, drop = _fresh_pg_database()
    runs = tmp_path / "runs-airflow"
    with running(LocalApiConfig(seed=7, api_key=CANARY, history_days=30)) as srv:
        db = make_url(pg_url)
        dag_env = dict(  # credentials and the database only through Airflow connections
            airflow_env, SOUNDCHARTS_RUNS_DIR=str(runs), SOUNDCHARTS_CACHE_BACKEND="memory",
            SOUNDCHARTS_RATE_LIMIT=str(FAST), SOUNDCHARTS_AIRFLOW_PLATFORMS=PLATFORMS,
            AIRFLOW_CONN_SOUNDCHARTS_API=_conn_json(conn_type="generic", host=srv.base_url,
                                                    login="soundcharts", password=CANARY),
            AIRFLOW_CONN_SOUNDCHARTS_DB=_conn_json(conn_type="postgres", host=db.host, port=db.port,
                                                   schema=db.database, login=db.username,
                                                   password=db.password))
        cron_env = dict(os.environ, SOUNDCHARTS_API_URL=srv.base_url, SOUNDCHARTS_APP_ID="soundcharts",
                        SOUNDCHARTS_API_KEY=CANARY, SOUNDCHARTS_DB_URL=reference_url,
                        SOUNDCHARTS_RUNS_DIR=str(tmp_path / "runs-cron"), SOUNDCHARTS_CACHE_BACKEND="memory",
                        SOUNDCHARTS_RATE_LIMIT=str(FAST))
        cli = [sys.executable, "-m", "soundcharts_lib.cli", "run-job"]
        try:
            with ThreadPoolExecutor(1) as pool:  # the crontab's jobs meanwhile, into their own database
                reference = pool.submit(lambda: [_run([*cli, *job], cron_env, timeout=400) for job in JOBS])
                res = _run(["airflow", "dags", "test", "soundcharts", _last_sunday()], dag_env, timeout=500)
                for done in reference.result():
                    assert done.returncode == 0, done.stderr[-2000:]
            out = res.stdout + res.stderr
            assert res.returncode == 0 and "state=success" in out, out[-4000:]
            airflow_rows, cron_rows = _natural_rows(pg_url), _natural_rows(reference_url)
        finally:
            drop()

    for name in ("chart_platforms", "rankings", "entries", "tracks", "artists", "identifiers"):
        assert airflow_rows[name] == cron_rows[name], name
    assert airflow_rows["chart_platforms"] == {(p,) for p in PLATFORMS.split(",")}
    assert len(airflow_rows["rankings"]) > 5 and len(airflow_rows["entries"]) > 1000
    assert {t[-1] for t in airflow_rows["tracks"]} == {True}  # metadata ran after every sync
    # audience: the same 200 stalest tracks (ties broken by UUID) with the same series
    picked = [{r[0] for r in rows["audience"]} for rows in (airflow_rows, cron_rows)]
    assert len(picked[0]) == 200 and picked[0] == picked[1]
    assert airflow_rows["audience"] == cron_rows["audience"]
    assert airflow_rows["artist_series"] == cron_rows["artist_series"] and airflow_rows["artist_series"]

    # every task went through run-job: one SyncRun per job, linked to its notebook archived like run-job's
    kinds = sorted(kind for kind, status, _ in airflow_rows["runs"] if status == "success")
    assert kinds == sorted(["sync_charts"] * len(airflow_rows["chart_platforms"])
                           + ["fetch_metadata", "fetch_artists", "fetch_audience", "fetch_reach", "digest",
                              "maintenance"])
    archived = sorted(runs.rglob("*.ipynb"))
    assert {str(p) for p in archived} == {path for *_, path in airflow_rows["runs"]}
    for path in archived:  # runs/YYYY/MM/DD/NAME-HHMMSS.ipynb beside its log
        datetime.strptime("/".join(path.relative_to(runs).parts[:3]), "%Y/%m/%d")
        for kept in (path, path.with_suffix(".log")):
            assert CANARY not in kept.read_text(), kept
    task_logs = [p for p in (Path(airflow_env["AIRFLOW_HOME"]) / "logs").rglob("*") if p.is_file()]
    assert CANARY not in out and not [p for p in task_logs if CANARY in p.read_text(errors="replace")]
