"""Two chart syncs and one audience fetch at once on one database, as processes (SQLite and PostgreSQL).

The syncs are the cron job (``run-job sync_charts``) and a manual ``sync-charts`` over the same charts and
days, so they race for every ranking; ``fetch-audience`` runs beside them on tracks of those charts. The sync
job is started twice at once: its lock must let one run and refuse the other (exit 3). Nothing may fail,
nothing may be stored twice, and the database must equal what the same work stores one step after the other.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from conftest import FAST, local_client
from sqlalchemy import select

from reliability.test_faults import PLATFORMS
from reliability.test_snapshot import differences, fresh_database, migrated, row_count, snapshot
from soundcharts_lib.db.models import SyncRun
from soundcharts_lib.jobs.audience import AudienceDataProcessor
from soundcharts_lib.jobs.sync import ChartSync
from soundcharts_lib.localapi import LocalApiConfig, running

pytestmark = pytest.mark.slow  # whole syncs at once

DAYS = 5
LATENCY_MS = 20  # keeps the three runs overlapping
TROUBLE = ("database is locked", "deadlock", "Traceback", "UNIQUE constraint", "duplicate key")


def run_all(commands: dict[str, list[str]], srv, db_url: str, tmp_path) -> dict[str, tuple[int, str, float]]:
    """Start every ``soundcharts`` command at once; ``{name: (exit code, output, seconds to exit)}``."""
    env = dict(os.environ, SOUNDCHARTS_API_URL=srv.base_url, SOUNDCHARTS_APP_ID="soundcharts",
               SOUNDCHARTS_API_KEY="soundcharts", SOUNDCHARTS_DB_URL=db_url, SOUNDCHARTS_CACHE_BACKEND="none",
               SOUNDCHARTS_RATE_LIMIT=str(FAST), SOUNDCHARTS_RUNS_DIR=str(tmp_path / "runs"))
    started = time.monotonic()
    procs = {name: subprocess.Popen([sys.executable, "-m", "soundcharts_lib.cli", *args], env=env,
                                    stdout=(tmp_path / f"{name}.out").open("w"), stderr=subprocess.STDOUT)
             for name, args in commands.items()}
    ended: dict[str, float] = {}
    while len(ended) < len(procs):
        assert time.monotonic() - started < 300, "the runs did not end"
        now = time.monotonic() - started
        ended.update({n: now for n, p in procs.items() if n not in ended and p.poll() is not None})
        time.sleep(0.05)
    return {n: (p.returncode, (tmp_path / f"{n}.out").read_text(), ended[n]) for n, p in procs.items()}


def charting_songs(srv, n: int) -> list[str]:
    """``n`` songs of today's Deezer global chart that have Spotify audience."""
    slug = next(s for s, c in srv.catalog.charts.items() if c.platform == "deezer" and c.country_code is None)
    entries = srv.catalog.ranking(slug, srv.catalog.today)
    return [e.song.uuid for e in entries if e.song.identifiers_on("spotify")][:n]


def test_two_chart_syncs_and_an_audience_fetch_at_once(db_url, tmp_path):
    with running(LocalApiConfig(seed=7, latency_ms=LATENCY_MS)) as srv:  # today's catalog: jobs count back
        uuids = charting_songs(srv, 4)
        with (fresh_database(db_url, tmp_path, "one_by_one") as ref_url, migrated(ref_url) as ref,
              local_client(srv) as client):
            ChartSync(client, ref, progress=False).run(platforms=PLATFORMS, backfill_days=DAYS)
            AudienceDataProcessor(client, ref, progress=False).run(track_uuids=uuids, platforms=["spotify"])
            expected = snapshot(ref)

        with migrated(db_url) as engine:
            job = ["run-job", "sync_charts", "--trigger", "cron", "-p", "platforms", ",".join(PLATFORMS),
                   "-p", "backfill_days", str(DAYS)]
            manual = ["sync-charts", "--backfill-days", str(DAYS), "-q"]
            manual += [arg for platform in PLATFORMS for arg in ("--platform", platform)]
            audience = ["fetch-audience", "--platform", "spotify", "-q"]
            audience += [arg for uuid in uuids for arg in ("--track-uuid", uuid)]
            commands = {"job": job, "job_again": job, "manual": manual, "audience": audience}
            done = run_all(commands, srv, db_url, tmp_path)
            with engine.connect() as conn:
                finished = conn.execute(select(SyncRun.kind, SyncRun.trigger, SyncRun.status)).all()
            got = snapshot(engine)

    assert sorted(done[n][0] for n in ("job", "job_again")) == [0, 3], done
    locked = next(d for n, d in done.items() if n.startswith("job") and d[0] == 3)
    ran = next(d for n, d in done.items() if n.startswith("job") and d[0] == 0)
    assert len(locked[1].strip().splitlines()) == 1 and "already running" in locked[1] and locked[2] < ran[2]
    for name, (code, output, _) in done.items():
        assert code in (0, 3), (name, output[-1500:])
        assert not [t for t in TROUBLE if t in output], (name, output[-1500:])
    assert sorted(finished) == sorted([("sync_charts", "cron", "success"), ("sync_charts", "cli", "success"),
                                       ("fetch_audience", "cli", "success")])
    assert differences(got, expected) == {}
    times = ", ".join(f"{n} {d[2]:.1f}s" for n, d in done.items())
    print(f"processes: 4 (2 chart syncs, 1 audience fetch, 1 refused by the job lock), ended after: {times}; "
          f"failures: 0, duplicates: 0, rows equal to one-by-one: yes ({row_count(expected)} rows)")
