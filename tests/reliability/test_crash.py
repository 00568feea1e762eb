"""``kill -9`` of ``soundcharts sync-charts`` at seeded random moments, on SQLite and PostgreSQL.

While the sync runs, another connection keeps checking that no ranking is ever visible without all its
entries; after the kill the same holds, the killed run reads "interrupted" (and is recorded so by a repair or
the next run), and a re-run brings the database to exactly what a clean run stores.
"""

from __future__ import annotations

import functools
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import FAST, local_client
from sqlalchemy import func, select, text

from reliability.test_faults import PLATFORMS, START, TODAY, server
from reliability.test_snapshot import (
    differences,
    fresh_database,
    migrated,
    partial_rankings,
    row_count,
    snapshot,
)
from soundcharts_lib.db.models import ChartRanking, SyncRun
from soundcharts_lib.jobs.sync import ChartSync
from soundcharts_lib.localapi import running
from soundcharts_lib.warehouse.health import last_runs

pytestmark = pytest.mark.slow  # kill -9 runs of a whole sync

LATENCY_MS = 30  # every request answers late, so the sync is caught in all its phases
REQUESTS = 55  # API requests of the whole sync


def kill_point(seed: int) -> tuple[int, float]:
    """Where to kill: once the server saw request N, plus up to two latencies (its answer being handled)."""
    rng = random.Random(seed)
    return rng.randint(1, REQUESTS - 3), rng.uniform(0, 2 * LATENCY_MS / 1000)


def sync_cli(srv, db_url: str) -> tuple[list[str], dict]:
    """The ``sync-charts`` command line and environment a user would run against ``srv``."""
    env = dict(os.environ, SOUNDCHARTS_API_URL=srv.base_url, SOUNDCHARTS_APP_ID="soundcharts",
               SOUNDCHARTS_API_KEY="soundcharts", SOUNDCHARTS_DB_URL=db_url, SOUNDCHARTS_CACHE_BACKEND="none",
               SOUNDCHARTS_RATE_LIMIT=str(FAST))
    args = [sys.executable, "-m", "soundcharts_lib.cli", "sync-charts", "--start-date", START.isoformat(),
            "--end-date", TODAY.isoformat(), "-q"]
    for platform in PLATFORMS:
        args += ["--platform", platform]
    return args, env


@functools.cache
def clean_snapshot(backend_url: str) -> dict:
    """What an uninterrupted sync stores (computed once per backend)."""
    with (fresh_database(backend_url, Path(tempfile.mkdtemp()), "clean") as url, migrated(url) as engine,
          running(server()) as srv, local_client(srv) as client):
        result = ChartSync(client, engine, progress=False).run(platforms=PLATFORMS, start=START, end=TODAY)
        assert result.status == "success"
        return snapshot(engine)


def counts(engine) -> tuple[int, int]:
    """(rankings stored, runs left "running")."""
    with engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(ChartRanking)).scalar_one(),
                conn.execute(select(func.count()).select_from(SyncRun).where(SyncRun.status == "running"))
                .scalar_one())


@pytest.mark.parametrize("seed", [3, 9, 6])  # kill points: requests 16, 30 and 51 of 55
def test_kill_9_mid_sync_never_shows_a_partial_ranking_and_a_rerun_equals_a_clean_run(db_url, seed):
    expected = clean_snapshot(db_url.split(":")[0])
    after_request, delay = kill_point(seed)
    with migrated(db_url) as engine, running(server(latency_ms=LATENCY_MS)) as srv:
        args, env = sync_cli(srv, db_url)
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        checks, deadline = 0, None
        while deadline is None or time.monotonic() < deadline:
            assert proc.poll() is None, "the sync ended before the kill"
            assert partial_rankings(engine) == [], "a partial ranking was visible during the sync"
            checks += 1
            if deadline is None and srv.stats()["requests"] >= after_request:
                deadline = time.monotonic() + delay
            time.sleep(0.005)
        proc.kill()  # SIGKILL: no finally, no rollback by the process itself
        proc.communicate()
        assert proc.returncode == -9
        assert partial_rankings(engine) == []
        if db_url.startswith("sqlite"):
            with engine.connect() as conn:
                assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        at_kill, running_runs = counts(engine)
        assert running_runs == 1  # nothing could record the killed run's end...
        assert last_runs(engine)["status"].tolist() == ["interrupted"]  # ...but health and the overview see it
        if seed == 3:  # recorded by a repair (otherwise by the next run, below)
            repair = subprocess.run([sys.executable, "-m", "soundcharts_lib.cli", "maintenance", "check", "--repair"],
                                    env=env, capture_output=True, text=True, timeout=120)
            assert "error: 1 runs recorded as running whose process is gone (1 repaired)" in repair.stdout, repair
            assert repair.returncode == 0 and counts(engine)[1] == 0

    with migrated(db_url) as engine, running(server()) as srv:  # the same catalog, served without the latency
        args, env = sync_cli(srv, db_url)
        rerun = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        assert partial_rankings(engine) == []
        assert differences(snapshot(engine), expected) == {}
        with engine.connect() as conn:
            assert conn.execute(select(SyncRun.status).order_by(SyncRun.id)).scalars().all() == ["interrupted",
                                                                                                  "success"]
    print(f"killed at request {after_request} + {delay * 1000:.0f} ms with {at_kill} rankings stored, "
          f"{checks} checks while running: no partial ranking; killed run shown and recorded interrupted; "
          f"after the re-run rows equal: yes "
          f"({row_count(expected)} rows)")
