"""Backfill vs single-day syncs, track metadata, archive pruning."""

import os
import time
from datetime import date, timedelta

import pytest
from conftest import local_client
from sqlalchemy import select, text

from soundcharts_lib.config import Settings
from soundcharts_lib.db import make_engine, upgrade
from soundcharts_lib.db.models import SyncRun
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.jobs.maintenance import prune_archives
from soundcharts_lib.jobs.metadata import store_metadata
from soundcharts_lib.jobs.sync import ChartSync, check_dates, sync_charts, today_utc

RANKING_ROWS = (
    "select c.slug, r.ranking_date, r.date_raw, r.status, r.entry_count, e.position, t.uuid, e.old_position, "
    "e.position_evolution, e.entry_state, e.entry_date, e.rank_date, e.time_on_chart, e.time_on_chart_unit, e.metric "
    "from chart_ranking_entry e join chart_ranking r on r.id = e.ranking_id join chart c on c.id = r.chart_id "
    "join track t on t.id = e.track_id order by c.slug, r.ranking_date, e.position")


def _rows(engine, sql):
    with engine.connect() as conn:
        return [tuple(str(v) for v in row) for row in conn.execute(text(sql))]


@pytest.mark.slow
def test_a_60_day_backfill_equals_60_single_day_syncs(localapi, tmp_path):
    a, b = (make_engine(f"sqlite:///{tmp_path / n}") for n in ("a.db", "b.db"))
    upgrade(a), upgrade(b)
    with local_client(localapi) as client:
        slug = next(c.slug for c in client.charts_by_platform("spotify")
                    if (c.frequency or "").lower().startswith("d"))
        ChartSync(client, a, progress=False).run(charts=[slug], backfill_days=60)
        sync_b = ChartSync(client, b, progress=False)
        for i in range(60):
            sync_b.run(charts=[slug], on_date=today_utc() - timedelta(days=i))
    rows_a, rows_b = _rows(a, RANKING_ROWS), _rows(b, RANKING_ROWS)
    with local_client(localapi) as client:
        served = {d[:10] for d in client.available_rankings(slug)
                  if d[:10] > str(today_utc() - timedelta(days=60))}
    assert {r[1] for r in rows_a} == served and len(served) >= 50
    assert rows_a == rows_b


@pytest.mark.slow
def test_store_metadata_stores_artists_identifiers_and_is_idempotent(localapi, engine):
    with local_client(localapi) as client:
        ChartSync(client, engine, progress=False).run(platforms=["spotify"], charts=None)
        with engine.connect() as conn:
            n_tracks = conn.execute(text("select count(*) from track")).scalar_one()
        first = store_metadata(client, engine, progress=False)
        assert first.status == "success" and first.stored == n_tracks
        dump = {t: _rows(engine, f"select * from {t} order by 1, 2")
                for t in ("artist", "track_artist", "track_platform_identifier")}
        again = store_metadata(client, engine, progress=False)  # missing only: nothing left to fetch
        assert again.tracks == 0
        store_metadata(client, engine, missing_only=False, progress=False)
        assert {t: _rows(engine, f"select * from {t} order by 1, 2") for t in dump} == dump
        uuid = _rows(engine, "select uuid from track order by id limit 1")[0][0]
        song = client.song(uuid)
        idents = client.song_identifiers(uuid)
    with engine.connect() as conn:
        stored_isrc = conn.execute(text("select isrc from track where uuid = :u"), {"u": uuid}).scalar_one()
        artists = conn.execute(text("select a.name from artist a join track_artist ta on ta.artist_id = a.id "
                                    "join track t on t.id = ta.track_id where t.uuid = :u order by ta.position"),
                               {"u": uuid}).scalars().all()
        stored_ids = conn.execute(text("select platform_code, identifier from track_platform_identifier i "
                                       "join track t on t.id = i.track_id where t.uuid = :u"), {"u": uuid}).all()
    assert stored_isrc == song.isrc and artists == [a.name for a in song.artists]
    assert sorted(tuple(r) for r in stored_ids) == sorted((i.platform_code, i.identifier) for i in idents)
    assert len(dump["artist"]) > 0 and len(dump["track_platform_identifier"]) >= n_tracks


def test_prune_archives_keeps_recent_runs_and_locks(tmp_path):
    old = tmp_path / "2025" / "01" / "02"
    new = tmp_path / "2026" / "11" / "20"
    (tmp_path / "locks").mkdir()
    (tmp_path / "locks" / "sync_charts.lock").write_text("")
    for folder in (old, new):
        folder.mkdir(parents=True)
        (folder / "sync_charts-010203.ipynb").write_text("{}")
        (folder / "sync_charts-010203.log").write_text("")
    past = time.time() - 100 * 86400
    for f in old.iterdir():
        os.utime(f, (past, past))
    removed = prune_archives(tmp_path, 90)
    assert len(removed) == 2 and not (tmp_path / "2025").exists()
    assert (new / "sync_charts-010203.ipynb").exists() and (tmp_path / "locks" / "sync_charts.lock").exists()


def test_a_date_without_ranking_is_named_in_the_summary(localapi, engine):
    """``--date D`` for charts that have no ranking on D: nothing stored, and the summary says for how many charts
    (here a weekly chart on a day it has none, a daily one on a day it has, and both 1,000 days back, before the
    served history)."""
    with local_client(localapi) as client:
        charts = client.charts_by_platform("spotify")
        daily = next(c.slug for c in charts if (c.frequency or "").lower().startswith("d"))
        weekly = next(c.slug for c in charts if (c.frequency or "").lower().startswith("w"))
        served = {slug: {raw[:10] for raw in client.available_rankings(slug)} for slug in (daily, weekly)}
        day = next(today_utc() - timedelta(days=i) for i in range(1, 8)
                   if str(today_utc() - timedelta(days=i)) in served[daily] - served[weekly])
        one = ChartSync(client, engine, progress=False).run(charts=[daily, weekly], on_date=day)
        old = today_utc() - timedelta(days=1000)
        assert not any(str(old) in dates for dates in served.values())
        both = ChartSync(client, engine, progress=False).run(charts=[daily, weekly], on_date=old)
    assert one.status == "success" and one.rankings_stored == 1 and one.no_ranking == 1
    assert one.summary().endswith(f"; no ranking on {day} for 1 chart")
    assert both.status == "success" and both.rankings_stored == 0 and both.no_ranking == 2
    assert both.summary().endswith(f"; no ranking on {old} for 2 charts")
    with engine.connect() as conn:
        recorded = conn.execute(select(SyncRun.counts).order_by(SyncRun.id)).scalars().all()
    assert [counts["no_ranking"] for counts in recorded] == [1, 2]
    print(both.summary())


def test_dates_asked_of_a_sync_are_checked_first():
    """Half a range, a reversed one, a date or a start after today: ``ConfigError`` before any call; the end of a
    range is capped at today (no set of days into the far future)."""
    today = today_utc()
    for on_date, start, end, words in [
        (None, today, None, "go together"), (None, today, today - timedelta(days=1), "is after --end-date"),
        (today + timedelta(days=1), None, None, "is after today"),
        (None, today + timedelta(days=1), today + timedelta(days=9), "is after today"),
    ]:
        with pytest.raises(ConfigError, match=words):
            check_dates(on_date, start, end, today)
    assert check_dates(None, today - timedelta(days=3), date(9999, 12, 31), today) == (today - timedelta(days=3), today)
    nothing = Settings.from_env({}, dotenv=False)  # no credentials: the dates are refused before they are needed
    with pytest.raises(ConfigError, match="is after today"):
        sync_charts(nothing, {"date": str(today + timedelta(days=1))})
    with pytest.raises(ConfigError, match="backfill_days: must be at most 36500"):
        sync_charts(nothing, {"backfill_days": 36_501})
