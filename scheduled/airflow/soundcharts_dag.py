"""The scheduled job notebooks on Apache Airflow 3: a chart sync task per platform, then metadata for new
tracks, then artists, then audience, then the roster's reach, then its digest, then maintenance (Sundays). The
parameters are the crontab's.

Each task runs the project's own ``soundcharts run-job`` from the project's virtualenv, so the notebooks are
locked, archived under ``runs/YYYY/MM/DD/`` and recorded as a SyncRun exactly as under cron, and Airflow needs
nothing of the project importable. See README.md beside this file.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections import deque
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pendulum
from airflow.sdk import Connection, TaskGroup, dag, task
from airflow.sdk.exceptions import AirflowException, AirflowNotFoundException

log = logging.getLogger(__name__)

# The project checkout (with its .venv) on every worker: this file's grandparent, unless the file was copied.
PROJECT = Path(os.environ.get("SOUNDCHARTS_PROJECT") or Path(__file__).resolve().parents[2])
# The song-chart platforms of GET /api/v2/chart/song/platforms: one sync task each.
CHART_PLATFORMS = "spotify,apple-music,deezer,youtube,shazam,tiktok,soundcloud,airplay"
PLATFORMS = [p.strip() for p in os.environ.get("SOUNDCHARTS_AIRFLOW_PLATFORMS", CHART_PLATFORMS).split(",")]
# Platforms synced at once, sharing the API's per-minute rate limit; each holds the lock of its own platform
# (`run-job --lock-scope PLATFORM`).
SYNC_PARALLEL = 4
DEFAULT_RATE_LIMIT = 4500  # the project's default SOUNDCHARTS_RATE_LIMIT (calls per minute)
API_CONN_ID = "soundcharts_api"  # optional: host = API URL, login = app id, password = API key
DB_CONN_ID = "soundcharts_db"  # optional: the team's PostgreSQL (host, port, schema = database, login, pass)
EXIT_LOCKED = 3  # `soundcharts run-job`: another run of the job holds its lock

RETRIES = {"retries": 4, "retry_delay": timedelta(minutes=2), "retry_exponential_backoff": 2.0,
           "max_retry_delay": timedelta(minutes=30)}


def _connection(conn_id: str) -> Connection | None:
    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def job_env(rate_share: int = 1) -> dict[str, str]:
    """The worker's environment, with credentials and the database from the Airflow connections when defined.

    Read when the task runs and given to the job's process only: never a DAG parameter, template or log line.
    """
    env = dict(os.environ)
    api = _connection(API_CONN_ID)
    if api is not None:
        url = f"{api.host}:{api.port}" if api.host and api.port else api.host
        env.update({k: v for k, v in (("SOUNDCHARTS_API_URL", url), ("SOUNDCHARTS_APP_ID", api.login),
                                      ("SOUNDCHARTS_API_KEY", api.password)) if v})
    db = _connection(DB_CONN_ID)
    if db is not None:
        auth = quote(db.login or "", safe="") + (f":{quote(db.password, safe='')}" if db.password else "")
        env["SOUNDCHARTS_DB_URL"] = (f"postgresql://{auth + '@' if auth else ''}{db.host}:{db.port or 5432}/"
                                     f"{quote(db.schema or '', safe='')}")
    if rate_share > 1:
        total = int(env.get("SOUNDCHARTS_RATE_LIMIT") or DEFAULT_RATE_LIMIT)
        env["SOUNDCHARTS_RATE_LIMIT"] = str(max(1, total // rate_share))
    return env


def run_job(name: str, params: dict | None = None, *, rate_share: int = 1, lock_scope: str | None = None) -> str:
    """``soundcharts run-job NAME -p KEY VALUE ...``, output in the task log; returns the archived notebook.

    A failed, locked or misconfigured job raises, so Airflow retries it with exponential backoff.
    """
    command = [str(PROJECT / ".venv" / "bin" / "soundcharts"), "run-job", name, "--trigger", "airflow"]
    if lock_scope:
        command += ["--lock-scope", lock_scope]
    for key, value in (params or {}).items():
        command += ["-p", key, str(value)]
    if not Path(command[0]).is_file():
        raise AirflowException(f"{command[0]} not found: install the project on this worker or set "
                               "SOUNDCHARTS_PROJECT")
    log.info("running %s", " ".join(command[1:]))
    tail: deque[str] = deque(maxlen=5)
    with subprocess.Popen(command, cwd=PROJECT, env=job_env(rate_share), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as proc:
        for line in proc.stdout:
            log.info("%s", line.rstrip())
            tail.append(line.rstrip())
    if proc.returncode == EXIT_LOCKED:
        raise AirflowException(f"job {name} is running elsewhere (its lock is held); retried later")
    if proc.returncode:
        raise AirflowException(f"job {name} exited {proc.returncode}: {tail[-1] if tail else 'no output'}")
    return tail[-1].rpartition(": ")[2]  # "job NAME done: <archived notebook>"


def _sunday(context) -> bool:
    when = context["logical_date"] or context["dag_run"].run_after
    return when.weekday() == 6


@dag(dag_id="soundcharts", schedule="10 4 * * *", start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
     catchup=False, max_active_runs=1, max_active_tasks=SYNC_PARALLEL, default_args=RETRIES,
     tags=["soundcharts"], doc_md=__doc__)
def soundcharts():
    @task
    def sync_platform(platform: str) -> str:
        """The latest ranking of every chart of one platform."""
        return run_job("sync_charts", {"platforms": platform}, rate_share=min(SYNC_PARALLEL, len(PLATFORMS)),
                       lock_scope=platform)

    with TaskGroup("sync_charts", tooltip="the latest ranking of every chart, one task per platform") as sync:
        for platform in PLATFORMS:
            sync_platform.override(task_id=platform)(platform)

    @task
    def fetch_metadata() -> str:
        """Metadata of the tracks never fetched (the new ones)."""
        return run_job("fetch_metadata")

    @task
    def fetch_artists() -> str:
        """Metadata, followers and monthly listeners of 200 artists, the roster's first, then the stalest."""
        return run_job("fetch_artists", {"limit": 200})

    @task
    def fetch_audience() -> str:
        """Audience of the stalest 200 tracks on every audience platform."""
        return run_job("fetch_audience", {"limit": 200})

    @task
    def fetch_reach() -> str:
        """The roster's songs: chart entries everywhere, popularity and current playlists."""
        return run_job("fetch_reach", {"roster": True})

    @task
    def digest() -> str:
        """The roster's digest of yesterday, mailed and posted (recipients and webhook from the environment)."""
        return run_job("digest")

    @task.run_if(_sunday, skip_message="maintenance runs on Sundays")
    @task
    def maintenance() -> str:
        """Archive pruning and integrity checks."""
        return run_job("maintenance")

    sync >> fetch_metadata() >> fetch_artists() >> fetch_audience() >> fetch_reach() >> digest() >> maintenance()


soundcharts()
