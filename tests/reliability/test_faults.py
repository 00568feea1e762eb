"""Chart sync and audience fetch against the local server with 30 % injected faults, on SQLite and PostgreSQL.

Faults: 5xx, timeouts, connection resets, malformed bodies and rate-limit 429s, seeded. The client gets a
short timeout, one retry and no patience for 429s, so failures do happen. Then a re-run without faults must
fetch only what is missing, and the database must equal a clean run's row for row.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from conftest import local_client
from sqlalchemy import select, text

from reliability.test_snapshot import (
    differences,
    fresh_database,
    migrated,
    partial_rankings,
    row_count,
    snapshot,
)
from soundcharts_lib.db import chart_rollup
from soundcharts_lib.db.models import Chart, ChartRanking, SyncRun, Track, TrackAudience
from soundcharts_lib.jobs.audience import OVERLAP_DAYS, AudienceDataProcessor
from soundcharts_lib.jobs.sync import ChartSync
from soundcharts_lib.localapi import LocalApiConfig, running

pytestmark = pytest.mark.slow  # whole syncs under faults, then reruns

TODAY = date(2025, 3, 14)
START = TODAY - timedelta(days=7)
PLATFORMS = ["deezer", "tiktok"]  # 4 daily charts of 100 and 4 weekly charts of 50
FAULTS = {"fault_rate": 0.3, "timeout_seconds": 0.4}
RANKING_PATH = re.compile(r"^/api/v2\.14/chart/song/([^/]+)/ranking/([^/]+)$")
AUDIENCE_PATH = re.compile(r"^/api/v2/song/([^/]+)/audience/([^/]+)$")


def server(**faults) -> LocalApiConfig:
    """The same catalog every time (seed and date fixed); faults only when given."""
    return LocalApiConfig(seed=7, today=TODAY, history_days=120, **faults)


def impatient_client(srv):
    """Short timeout, one retry, no waiting on a 429: faults become failures."""
    return local_client(srv, timeout=0.2, max_retries=1, backoff_base=0.01, max_ratelimit_wait=0)


def recording_client(srv, urls: list[str]):
    """A plain client whose session notes every URL it asks (the exchange itself is real)."""
    session = requests.Session()
    session.hooks["response"].append(lambda resp, *args, **kwargs: urls.append(resp.url))
    return local_client(srv, session=session)


def stored_rankings(engine) -> set[tuple[str, date]]:
    q = (select(Chart.slug, ChartRanking.ranking_date).join(Chart, Chart.id == ChartRanking.chart_id)
         .where(ChartRanking.status == "success"))
    with engine.connect() as conn:
        return {tuple(row) for row in conn.execute(q)}


def requested_rankings(urls: list[str]) -> list[tuple[str, date]]:
    """(chart, date) of every first page of a ranking asked for a date."""
    out = []
    for url in urls:
        parts = urlsplit(url)
        found = RANKING_PATH.match(parts.path)
        if found and parse_qs(parts.query).get("offset", ["0"]) == ["0"]:
            out.append((found.group(1), date.fromisoformat(unquote(found.group(2))[:10])))
    return out


def check_chart_failures_recorded(engine, result) -> int:
    """Every failure is on the run, and a chart's failure also on the chart or on its failed ranking row."""
    with engine.connect() as conn:
        run = conn.execute(select(SyncRun.__table__).where(SyncRun.id == result.run_id)).one()
        charts = dict(conn.execute(select(Chart.slug, Chart.last_error)).all())
        failed = set(conn.execute(select(Chart.slug, ChartRanking.error)
                                  .join(Chart, Chart.id == ChartRanking.chart_id)
                                  .where(ChartRanking.status == "failed")).all())
    assert (run.status, run.errors, run.counts["failures"]) == (result.status, result.errors, result.failures)
    for message in result.errors:
        slug, _, error = message.partition(": ")
        if slug in charts:
            assert charts[slug] == error or (slug, error) in failed, message
        else:
            assert message.startswith("discovery failed: "), message
    return len(result.errors)


def track_chart_rollup(engine) -> list[tuple]:
    """Each track's summary per chart as the pages read it, by natural keys; nothing stale."""
    with engine.connect() as conn:
        assert chart_rollup.stale(conn) == []
        return sorted(tuple(map(str, row)) for row in conn.execute(text(
            "select t.uuid, c.slug, r.first_date, r.last_date, r.appearances, r.peak_position, r.peak_date, "
            "r.last_position from track_chart_rollup r join track t on t.id = r.track_id "
            "join chart c on c.id = r.chart_id")))


@pytest.mark.parametrize("fault_seed", [4, 6])
def test_chart_sync_with_30_percent_faults_then_a_rerun_equals_a_clean_run(db_url, tmp_path, fault_seed):
    window = {"platforms": PLATFORMS, "start": START, "end": TODAY}
    with fresh_database(db_url, tmp_path, "clean") as clean_url, migrated(clean_url) as clean:
        with running(server()) as srv, local_client(srv) as client:
            assert ChartSync(client, clean, progress=False).run(**window).status == "success"
        expected, every_ranking, summaries = snapshot(clean), stored_rankings(clean), track_chart_rollup(clean)

    with migrated(db_url) as engine:
        with running(server(fault_seed=fault_seed, **FAULTS)) as srv, impatient_client(srv) as client:
            faulty = ChartSync(client, engine, progress=False).run(**window)
            stats = srv.stats()
        assert faulty.failures > 0 and stats["faults"] > 0
        recorded = check_chart_failures_recorded(engine, faulty)
        assert partial_rankings(engine) == []
        kept = stored_rankings(engine)

        urls: list[str] = []
        with running(server()) as srv, recording_client(srv, urls) as client:
            rerun = ChartSync(client, engine, progress=False).run(**window)
        assert rerun.status == "success", rerun.errors
        asked = requested_rankings(urls)
        assert sorted(asked) == sorted(every_ranking - kept)  # only what was missing, each once
        assert differences(snapshot(engine), expected) == {}
        assert track_chart_rollup(engine) == summaries  # failed attempts, then the rerun's rankings added
    print(f"faults injected: {stats['faults']} of {stats['requests']} requests, "
          f"failures recorded: {recorded}, rankings kept: {len(kept)}, "
          f"re-fetched: {len(asked)} of {len(every_ranking)}, rows equal: yes ({row_count(expected)} rows)")


def audience_songs(n: int) -> list[str]:
    """The first ``n`` catalog songs with audience on Spotify and on YouTube."""
    with running(server()) as srv:
        songs = srv.catalog.song_list
    return [s.uuid for s in songs if s.identifiers_on("spotify") and s.identifiers_on("youtube")][:n]


def audience_window(urls: list[str]) -> dict[tuple[str, str], date]:
    """startDate of every audience request, by (song, platform)."""
    out = {}
    for url in urls:
        parts = urlsplit(url)
        found = AUDIENCE_PATH.match(parts.path)
        if found:
            out[found.groups()] = date.fromisoformat(parse_qs(parts.query)["startDate"][0])
    return out


def stored_series(engine) -> dict[tuple[str, str], tuple[date, date]]:
    """First and last stored day of every (song, platform) series."""
    from soundcharts_lib.db.models import Platform

    q = (select(Track.uuid, Platform.slug, TrackAudience.date).join(Track, Track.id == TrackAudience.track_id)
         .join(Platform, Platform.id == TrackAudience.platform_id))
    out: dict[tuple[str, str], tuple[date, date]] = {}
    with engine.connect() as conn:
        for uuid, slug, day in conn.execute(q):
            first, last = out.get((uuid, slug), (day, day))
            out[(uuid, slug)] = (min(first, day), max(last, day))
    return out


@pytest.mark.parametrize("fault_seed", [2, 3])
def test_audience_fetch_with_30_percent_faults_then_a_rerun_equals_a_clean_run(db_url, tmp_path, fault_seed):
    uuids = audience_songs(10)
    window = {"track_uuids": uuids, "platforms": ["spotify", "youtube"], "start": TODAY - timedelta(days=59),
              "end": TODAY}
    with running(server()) as srv, local_client(srv) as client:
        supported = client.social_platforms()
    with fresh_database(db_url, tmp_path, "clean") as clean_url, migrated(clean_url) as clean:
        with running(server()) as srv, local_client(srv) as client:
            assert AudienceDataProcessor(client, clean, progress=False).run(**window).status == "success"
        expected = snapshot(clean)

    with migrated(db_url) as engine:
        with running(server(fault_seed=fault_seed, **FAULTS)) as srv, impatient_client(srv) as client:
            faulty = AudienceDataProcessor(client, engine, progress=False, supported=supported).run(**window)
            stats = srv.stats()
        assert faulty.failures > 0 and stats["faults"] > 0
        with engine.connect() as conn:
            run = conn.execute(select(SyncRun.__table__).where(SyncRun.id == faulty.run_id)).one()
        assert (run.status, run.errors) == (faulty.status, faulty.errors)
        assert len(faulty.errors) == faulty.failures
        kept = stored_series(engine)

        urls: list[str] = []
        with running(server()) as srv, recording_client(srv, urls) as client:
            rerun = AudienceDataProcessor(client, engine, progress=False).run(**window)
        assert rerun.status == "success", rerun.errors
        asked = audience_window(urls)
        assert set(asked) == {(u, p) for u in uuids for p in window["platforms"]}
        for series, start in asked.items():  # stored series: only the overlap again; failed ones: all of it
            first, last = kept.get(series, (None, None))
            whole = first is None or first > window["start"]  # nothing stored, or the API's data starts later
            assert start == (window["start"] if whole else last - timedelta(days=OVERLAP_DAYS)), series
        assert differences(snapshot(engine), expected) == {}
    print(f"faults injected: {stats['faults']} of {stats['requests']} requests, failures recorded: "
          f"{len(run.errors)}, series kept: {len(kept)} of {len(asked)}, "
          f"rows equal: yes ({row_count(expected)} rows)")
