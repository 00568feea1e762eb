"""``soundcharts demo`` / ``make demo``: the local API, a 28-day sync into the default database, the tracks' metadata
and artists, a roster (the most-charted tracks, when none is followed yet), its songs' audience (the track page's
forecast) and reach, dashboards."""

from __future__ import annotations

import logging
import sys
from dataclasses import replace

from soundcharts_lib.config import Secret, Settings
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.web.processes import stop_on_signals, stop_started

DEMO_CREDENTIALS = {"app_id": "soundcharts", "api_key": Secret("soundcharts"), "client_id": ""}  # the local API's
DEMO_ROSTER = 5  # tracks followed when the roster is empty: the most charted of the synced days
DEMO_AUDIENCE = 20  # roster tracks whose audience the demo fetches


def seed_roster(db_url: str, days: int) -> tuple[int, list[str]]:
    """Follow the :data:`DEMO_ROSTER` most-charted tracks of the last ``days`` days unless something is followed
    already; how many were added, and the roster's stored tracks."""
    from soundcharts_lib.curation import roster
    from soundcharts_lib.db import make_engine
    from soundcharts_lib.warehouse.analytics import top_tracks

    engine = make_engine(db_url)
    try:
        added = 0
        if not roster.has_roster(engine):
            uuids = top_tracks(engine, days, limit=DEMO_ROSTER)["uuid"]
            added = sum(roster.add(engine, "track", uuid, actor="demo")["added"] for uuid in uuids)
        return added, list(roster.roster_track_uuids(engine))
    finally:
        engine.dispose()


def run_demo(settings: Settings, *, port: int = 8866, api_port: int = 8765, backfill_days: int = 28) -> int:
    """``settings`` with the local API and its credentials go to the sync's kernel and to Voila (through their
    environment). Ctrl-C, SIGTERM and SIGHUP stop everything it started, at any step: the sync's kernel, Voila and
    its kernels (:mod:`soundcharts_lib.web.processes`), the local API (a thread of this process)."""
    from soundcharts_lib.db import make_engine, upgrade
    from soundcharts_lib.jobs.runner import run_job
    from soundcharts_lib.localapi import LocalApiConfig, running
    from soundcharts_lib.web.launch import start_voila

    stop_on_signals()
    try:
        api = running(LocalApiConfig(port=api_port, seed=1))
        server = api.__enter__()
    except OSError as exc:
        raise ConfigError(f"cannot start the local API on 127.0.0.1:{api_port}: {exc.strerror}") from None
    try:
        settings = replace(settings, api_url=server.base_url, **DEMO_CREDENTIALS)
        print(f"1/3 local SoundCharts API on {server.base_url}", flush=True)
        rev = upgrade(make_engine(settings.db_url))
        print(f"2/3 database ready (revision {rev}); syncing {backfill_days} days of charts "
              f"with scheduled/sync_charts.ipynb ...", flush=True)
        echo = logging.StreamHandler(sys.stdout)  # the job's cell output (progress bars, summary) as it runs
        logging.getLogger("papermill").addHandler(echo)
        try:
            job = run_job("sync_charts", {"backfill_days": backfill_days}, settings=settings, trigger="cli")
            print(f"    sync done; executed notebook archived at {job.notebook}", flush=True)
            followed, mine = seed_roster(settings.db_url, backfill_days)
            print(f"    roster: {f'the {followed} most-charted tracks followed' if followed else 'kept as it is'}",
                  flush=True)
            if mine:  # 90 days of their audience: the track page draws a forecast from it
                params = {"track_uuid": ",".join(mine[:DEMO_AUDIENCE])}
                job = run_job("fetch_audience", params, settings=settings, trigger="cli")
                print(f"    the roster's audience done; executed notebook archived at {job.notebook}", flush=True)
            print("    the tracks' artists, then their metadata, followers and monthly listeners ...", flush=True)
            run_job("fetch_metadata", {}, settings=settings, trigger="cli")
            job = run_job("fetch_artists", {"limit": 200}, settings=settings, trigger="cli")
            print(f"    artists done; executed notebook archived at {job.notebook}", flush=True)
            job = run_job("fetch_reach", {"roster": True}, settings=settings, trigger="cli")
            print(f"    the roster's reach (charts everywhere, popularity, playlists) done; {job.notebook}", flush=True)
        finally:
            logging.getLogger("papermill").removeHandler(echo)
        voila = start_voila(port, env=settings.child_env())
        print(f"3/3 dashboards: http://127.0.0.1:{port}/voila/render/overview.ipynb  (Ctrl-C stops everything)",
              flush=True)
        return voila.wait()
    except KeyboardInterrupt:
        print("stopping ...", flush=True)
        return 0
    finally:
        stop_started()
        api.__exit__(None, None, None)
