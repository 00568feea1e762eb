"""`soundcharts fetch-audience` and the fetch_audience job notebook, as a user runs them (subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from soundcharts_lib.db import make_engine, upgrade
from soundcharts_lib.db.store_audience import ensure_track

pytestmark = pytest.mark.slow  # the audience job and commands as processes

CANARY = "CANARY-audience-key-51c7"


def soundcharts(*args: str, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "soundcharts_lib.cli", *args], capture_output=True,
                          text=True, env=dict(os.environ, **env), timeout=timeout)


def songs_on(localapi, platform: str, n: int) -> list:
    return [s for s in localapi.catalog.song_list if s.identifiers_on(platform)][:n]


def query(db, sql: str) -> list:
    with create_engine(f"sqlite:///{db}").connect() as conn:
        return conn.execute(text(sql)).all()


def test_one_track_on_one_platform(api_env, tmp_path):
    song = songs_on(api_env, "spotify", 1)[0]
    db = tmp_path / "a.db"
    res = soundcharts("fetch-audience", "--track-uuid", song.uuid, "--platform", "spotify", "--quiet",
                      env={"SOUNDCHARTS_DB_URL": f"sqlite:///{db}"})
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("success: 1 tracks, 1 track/platform series fetched")
    assert query(db, "select distinct p.slug from track_audience a join platform p on p.id = a.platform_id") \
        == [("spotify",)]
    assert query(db, "select kind, trigger, status from sync_run") == [("fetch_audience", "cli", "success")]


def test_stored_tracks_stalest_first_with_a_limit(api_env, tmp_path):
    db = tmp_path / "b.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    for song in songs_on(api_env, "spotify", 3):
        ensure_track(engine, song.uuid, song.name, song.credit_name, None)
    engine.dispose()
    env = {"SOUNDCHARTS_DB_URL": f"sqlite:///{db}"}
    res = soundcharts("fetch-audience", "--all-tracks", "--platform", "spotify", "--limit", "2", "-q",
                      env=env)
    assert res.returncode == 0, res.stderr
    assert query(db, "select count(distinct track_id) from track_audience") == [(2,)]
    res = soundcharts("fetch-audience", "--limit", "1", "-q", env=env)
    assert res.returncode == 0, res.stderr
    counts = json.loads(query(db, "select counts from sync_run order by id desc limit 1")[0][0])
    # the never-fetched track, on every audience platform
    assert counts["tracks"] == 1 and counts["fetches"] == 6
    assert query(db, "select count(distinct track_id) from track_audience") == [(3,)]


UUID = "2de8a947-170f-48ae-af3e-39e245f55687"


@pytest.mark.parametrize("args, words", [
    (["--track-uuid", "not-a-uuid"], "not a SoundCharts UUID"),
    (["--platform", "Spotify;drop"], "not a slug"),
    (["--platform", "deezer"], "deezer: no song audience"),
    (["--start-date", "2026-02-30"], "not a date"),
    (["--end-date", "yesterday"], "not a date"),
    (["--limit", "0"], "at least 1"),
    (["--limit", "ten"], "not a whole number"),
    (["--start-date", "2026-03-02", "--end-date", "2026-03-01"], "is after end date"),
    (["--start-date", "2999-01-01"], "is after today"),
    (["--track-uuid", UUID, "--all-tracks"], "not allowed with"),
    (["--track-uuid", UUID, "--limit", "3"], "limit applies"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(args, words, api_env, tmp_path):
    db = tmp_path / "never.db"
    res = soundcharts("fetch-audience", *args, env={"SOUNDCHARTS_DB_URL": f"sqlite:///{db}"})
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in res.stderr
    assert not db.exists()


def test_an_unreachable_api_is_one_line_and_never_shows_the_key(tmp_path):
    env = {"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'c.db'}", "SOUNDCHARTS_API_URL": "http://127.0.0.1:9",
           "SOUNDCHARTS_APP_ID": "a", "SOUNDCHARTS_API_KEY": CANARY, "SOUNDCHARTS_MAX_RETRIES": "0",
           "SOUNDCHARTS_CACHE_BACKEND": "memory"}
    res = soundcharts("fetch-audience", "--limit", "1", env=env)
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1
    assert CANARY not in res.stdout + res.stderr and "Traceback" not in res.stderr


def run_job(*args: str, env: dict) -> subprocess.CompletedProcess:
    return soundcharts("run-job", "fetch_audience", *args, env=env, timeout=600)


def test_the_job_notebook_takes_the_same_parameters(api_env, tmp_path):
    song = songs_on(api_env, "youtube", 1)[0]
    db = tmp_path / "job.db"
    res = run_job("-p", "track_uuid", song.uuid, "-p", "platform", "youtube", "-p", "force", "true",
                  env={"SOUNDCHARTS_DB_URL": f"sqlite:///{db}"})
    assert res.returncode == 0, res.stderr[-2000:]
    archived = sorted((tmp_path / "runs").rglob("fetch_audience-*.ipynb"))
    assert len(archived) == 1
    nb = archived[0].read_text()
    assert "success: 1 tracks" in nb and "soundcharts\"" not in nb  # no credentials injected
    run = query(db, "select kind, trigger, status, params, notebook_path from sync_run")[0]
    assert run[:3] == ("fetch_audience", "manual", "success") and run[4] == str(archived[0])
    params = json.loads(run[3])
    assert params["track_uuids"] == [song.uuid] and params["platforms"] == ["youtube"]
    assert params["force"] is True
    assert query(db, "select distinct p.slug from track_audience a join platform p on p.id = a.platform_id") \
        == [("youtube",)]


def test_a_bad_job_parameter_fails_the_job_before_anything_is_written(api_env, tmp_path):
    db = tmp_path / "never.db"
    res = run_job("-p", "platform", "deezer,apple-music", env={"SOUNDCHARTS_DB_URL": f"sqlite:///{db}"})
    assert res.returncode == 1 and "deezer: no song audience" in res.stderr
    res = run_job("-p", "start_date", "2026-13-01", env={"SOUNDCHARTS_DB_URL": f"sqlite:///{db}"})
    assert res.returncode == 1 and "start_date: not a date" in res.stderr
    # run-job migrates (or refuses) the database before its kernel starts; the job itself wrote nothing
    assert query(db, "select count(*) from sync_run")[0][0] == 0
    assert query(db, "select count(*) from track_audience")[0][0] == 0
