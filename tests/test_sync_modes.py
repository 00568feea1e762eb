"""Backfill vs single-day syncs, track metadata, archive pruning."""

import os
import time
from datetime import timedelta

from conftest import local_client
from sqlalchemy import text

from soundcharts_lib.db import make_engine, upgrade
from soundcharts_lib.maintenance import prune_archives
from soundcharts_lib.metadata import fetch_metadata
from soundcharts_lib.sync import ChartSync, today_utc

RANKING_ROWS = (
    "select c.slug, r.ranking_date, r.date_raw, r.status, r.entry_count, e.position, t.uuid, e.old_position, "
    "e.position_evolution, e.entry_state, e.entry_date, e.rank_date, e.time_on_chart, e.time_on_chart_unit, e.metric "
    "from chart_ranking_entry e join chart_ranking r on r.id = e.ranking_id join chart c on c.id = r.chart_id "
    "join track t on t.id = e.track_id order by c.slug, r.ranking_date, e.position")


def _rows(engine, sql):
    with engine.connect() as conn:
        return [tuple(str(v) for v in row) for row in conn.execute(text(sql))]


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


def test_fetch_metadata_stores_artists_identifiers_and_is_idempotent(localapi, engine):
    with local_client(localapi) as client:
        ChartSync(client, engine, progress=False).run(platforms=["spotify"], charts=None)
        with engine.connect() as conn:
            n_tracks = conn.execute(text("select count(*) from track")).scalar_one()
        first = fetch_metadata(client, engine, progress=False)
        assert first["status"] == "success" and first["stored"] == n_tracks
        dump = {t: _rows(engine, f"select * from {t} order by 1, 2")
                for t in ("artist", "track_artist", "track_platform_identifier")}
        again = fetch_metadata(client, engine, progress=False)  # missing only: nothing left to fetch
        assert again["tracks"] == 0
        fetch_metadata(client, engine, missing_only=False, progress=False)
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
