"""`soundcharts fetch-artists` and the fetch_artists job notebook, as a user runs them (subprocesses), against the
local API: what `--limit 50` stores equals what the server serves (read back over HTTP), a second run costs only the
overlap (the quota the server says was used), bad input is one line and exit 2."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from conftest import local_client
from jobs.test_artists import GHOST, platform_lists, quota_used, rows, served, stored, stored_keys, warehouse
from sqlalchemy import create_engine

from soundcharts_lib.db import make_engine, upgrade
from soundcharts_lib.localapi import LocalApiConfig, running
from soundcharts_lib.vocab import today_utc

pytestmark = pytest.mark.slow  # the command and the job notebook as processes

UUID = "2de8a947-170f-48ae-af3e-39e245f55687"


def soundcharts(*args: str, env: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "soundcharts_lib.cli", *args], capture_output=True, text=True,
                          env=dict(os.environ, **env), timeout=timeout)


@pytest.fixture
def stocked(localapi, tmp_path):
    """A SQLite warehouse with 30 to 49 artists (two days of a chart, the metadata of its first tracks) and one
    the API does not know; its URL."""
    url = f"sqlite:///{tmp_path / 'artists.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with local_client(localapi) as client:
        artists = warehouse(engine, client, tracks=50)
    assert 30 <= len(artists) < 50
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO artist (uuid, name) VALUES (?, 'Ghost')", (GHOST,))
    engine.dispose()
    return url


def test_limit_50_stores_what_the_server_serves_and_a_second_run_costs_only_the_overlap(localapi, stocked, tmp_path):
    with running(LocalApiConfig(seed=7, quota=1_000_000)) as srv:  # the session's server's catalog, a quota kept
        env = {"SOUNDCHARTS_DB_URL": stocked, "SOUNDCHARTS_API_URL": srv.base_url, "SOUNDCHARTS_APP_ID": "soundcharts",
               "SOUNDCHARTS_API_KEY": "soundcharts", "SOUNDCHARTS_CACHE_BACKEND": "none",
               "SOUNDCHARTS_RUNS_DIR": str(tmp_path / "runs")}
        res = soundcharts("fetch-artists", "--limit", "50", "-q", env=env)
        first_cost = quota_used(srv.base_url)
        assert res.returncode == 0, res.stderr
        engine = create_engine(stocked)
        artists = [u for u, in rows(engine, "SELECT uuid FROM artist WHERE uuid != :g ORDER BY uuid", g=GHOST)]
        assert res.stdout.startswith(f"success: {len(artists) + 1} artists ({len(artists)} with metadata, 1 not known "
                                     "to the API)")
        today, lists = today_utc(), platform_lists(localapi.base_url)
        for uuid in artists:
            for series, platforms in lists.items():
                for platform in platforms:
                    sent = served(localapi.base_url, uuid, series, platform, today - timedelta(days=89), today)
                    assert stored(engine, uuid, series, platform) == {d: v for d, v in sent.items() if v is not None}
        assert rows(engine, "SELECT metadata_error FROM artist WHERE uuid = :g", g=GHOST) == \
            [("not known to the API (404)",)]
        # the platform lists, the metadata ten a call and the ghost alone, every series of every known artist
        metadata_calls = math.ceil((len(artists) + 1) / 10) + 1
        assert first_cost == 2 + metadata_calls + len(artists) * sum(map(len, lists.values()))

        before = rows(engine, "SELECT artist_id, platform_id, date, followers, fetched_at FROM artist_audience "
                              "ORDER BY 1, 2, 3")
        res = soundcharts("fetch-artists", "--limit", "50", "-q", env=env)
        assert res.returncode == 0, res.stderr
        # again: the series with data, each one call from its last stored day minus the overlap
        assert quota_used(srv.base_url) - first_cost == 2 + metadata_calls + len(stored_keys(engine))
        assert rows(engine, "SELECT artist_id, platform_id, date, followers, fetched_at FROM artist_audience "
                            "ORDER BY 1, 2, 3") == before
        counts = json.loads(rows(engine, "SELECT counts FROM sync_run ORDER BY id DESC LIMIT 1")[0][0])
        assert counts["fetches"] == len(stored_keys(engine)) and counts["failures"] == 0
        engine.dispose()


@pytest.mark.parametrize("args, words", [
    (["--artist-uuid", "not-a-uuid"], "not a SoundCharts UUID"),
    (["--platform", "Spotify;drop"], "not a slug"),
    (["--platform", "airplay"], "airplay: no artist followers or listeners on this platform"),
    (["--platform", "spotify", "--platform", "nosuchplatform"], "nosuchplatform: no artist followers"),
    (["--artist-uuid", UUID, "--roster"], "not allowed with"),
    (["--artist-uuid", UUID, "--limit", "3"], "limit applies to the stale-first selection, not to named artists"),
    (["--limit", "0"], "at least 1"),
    (["--start-date", "2026-02-30"], "not a date"),
    (["--start-date", "1999-12-31"], "before 2000-01-01"),
    (["--start-date", "2999-01-01"], "is after today"),
    (["--start-date", "2026-03-02", "--end-date", "2026-03-01"], "is after end date"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(args, words, api_env, tmp_path):
    db = tmp_path / "never.db"
    res = soundcharts("fetch-artists", *args, env={"SOUNDCHARTS_DB_URL": f"sqlite:///{db}"})
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in res.stderr
    assert not db.exists()


def test_an_artist_neither_stored_nor_known_is_exit_2_and_no_run(api_env, tmp_path):
    db = tmp_path / "a.db"
    res = soundcharts("fetch-artists", "--artist-uuid", GHOST, "-q", env={"SOUNDCHARTS_DB_URL": f"sqlite:///{db}"})
    assert res.returncode == 2 and res.stderr.strip() == (f"soundcharts fetch-artists: error: no artist {GHOST} is "
                                                          "stored, and the API does not know it (404)")
    engine = create_engine(f"sqlite:///{db}")
    assert rows(engine, "SELECT (SELECT COUNT(*) FROM sync_run), (SELECT COUNT(*) FROM artist)") == [(0, 0)]


def test_the_job_notebook_takes_the_same_parameters(api_env, tmp_path):
    profile = next(p for _, p in sorted(api_env.catalog.profiles.items()) if "spotify" in p.accounts)
    db = tmp_path / "job.db"
    res = soundcharts("run-job", "fetch_artists", "-p", "artist_uuid", profile.uuid, "-p", "platform", "spotify",
                      "-p", "force", "true", env={"SOUNDCHARTS_DB_URL": f"sqlite:///{db}"})
    assert res.returncode == 0, res.stderr[-2000:]
    archived = sorted((tmp_path / "runs").rglob("fetch_artists-*.ipynb"))
    assert len(archived) == 1
    notebook = archived[0].read_text()
    assert "success: 1 artists (1 with metadata" in notebook and "soundcharts\"" not in notebook  # no credentials
    engine = create_engine(f"sqlite:///{db}")
    run = rows(engine, "SELECT kind, \"trigger\", status, params, notebook_path FROM sync_run")[0]
    assert run[:3] == ("fetch_artists", "manual", "success") and run[4] == str(archived[0])
    params = json.loads(run[3])
    assert params["artist_uuids"] == [profile.uuid] and params["platforms"] == ["spotify"] and params["force"]
    assert rows(engine, "SELECT DISTINCT p.slug FROM artist_audience s JOIN platform p ON p.id = s.platform_id") == \
        [("spotify",)]
