"""warehouse.reach_pages on SQLite and PostgreSQL: what the track page reads of a song's reach equals what the local
API served (read here over plain HTTP) once fetch-reach stored it; each platform's latest snapshot, an empty answer
ending it; hostile rows shown as the page can; the exports read the same; each read a few statements."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from jobs.test_reach import (
    chart_platforms,
    charting_hit,
    served_charts,
    served_platforms,
    served_playlists,
    served_popularity,
)
from sqlalchemy import event, text

from soundcharts_lib.api.client import SoundchartsClient
from soundcharts_lib.db import store_reach
from soundcharts_lib.db.base import utcnow
from soundcharts_lib.db.store_audience import ensure_track
from soundcharts_lib.db.tables import PL, POP, REACH, SCHK
from soundcharts_lib.db.upsert import bulk_insert
from soundcharts_lib.jobs.reach import POPULARITY_PLATFORMS, ReachProcessor
from soundcharts_lib.vocab import today_utc
from soundcharts_lib.warehouse import exports, reach_pages
from soundcharts_lib.warehouse.analytics import UnknownEntity


@pytest.fixture
def hit(localapi, engine):
    """The charting hit's reach, fetched into the test database by the job."""
    song = charting_hit(localapi)
    with SoundchartsClient(localapi.base_url, "soundcharts", "soundcharts", rate_limit_per_minute=600_000) as client:
        result = ReachProcessor(client, engine, progress=False).run(track_uuids=[song.uuid])
    assert result.status == "success", result.errors
    return song


def test_where_it_charts_now_is_what_the_server_serves(localapi, engine, hit):
    today = today_utc()
    frame = reach_pages.charting_now(engine, hit.uuid)
    served = {(platform, slug): entry for platform in served_platforms(localapi, hit.uuid) & chart_platforms(localapi)
              for slug, entry in served_charts(localapi, hit.uuid, platform).items() if entry[0] > 0}
    assert len(served) > 1 and len(frame) == len(served)
    for row in frame.to_dict("records"):
        position, peak, peak_date, rank_date, country, name = served[(row["platform"], row["chart"])]
        assert (row["position"], None if pd.isna(row["peak_position"]) else row["peak_position"], row["peak_date"],
                row["rank_date"]) == (position, peak, peak_date, rank_date)
        assert row["country_code"] == country and row["is_global"] == (country is None)
        assert row["chart_name"] == (name or row["chart"]) and row["fetched_on"] == today
    assert frame["position"].is_monotonic_increasing
    assert frame.columns.tolist() == reach_pages.CHART_COLUMNS


def test_popularity_per_platform_is_what_the_server_serves(localapi, engine, hit):
    today = today_utc()
    found = reach_pages.popularity(engine, hit.uuid)
    mine = served_platforms(localapi, hit.uuid) & set(POPULARITY_PLATFORMS)
    assert set(found) == mine and mine
    for platform, frame in found.items():
        served = served_popularity(localapi, hit.uuid, platform, today - timedelta(days=89), today)
        assert dict(zip(frame["date"], frame["value"], strict=True)) == served
        assert frame["date"].is_monotonic_increasing
    week = reach_pages.popularity(engine, hit.uuid, ["spotify"], start=today - timedelta(days=6), end=today)
    assert set(week) == {"spotify"} and week["spotify"]["date"].min() >= today - timedelta(days=6)
    assert week["spotify"]["date"].tolist() == [d for d in found["spotify"]["date"] if d >= today - timedelta(6)]


def test_the_playlists_it_is_on_now_are_what_the_server_serves(localapi, engine, hit):
    served = {platform: found for platform in served_platforms(localapi, hit.uuid)
              if (found := served_playlists(localapi, hit.uuid, platform)) is not None}
    now = reach_pages.playlists_now(engine, hit.uuid)
    every = [(platform, uuid, *entry) for platform, found in served.items() for uuid, entry in found.items()]
    assert now["count"] == len(every) > 100
    assert now["followers"] == sum(entry[3] for entry in every if entry[3] is not None)
    per_platform = now["platforms"].set_index("platform")
    assert {p: int(per_platform.loc[p, "playlists"]) for p in per_platform.index} == \
        {p: len(found) for p, found in served.items() if found}
    top = now["top"]
    assert len(top) == reach_pages.TOP_PLAYLISTS and top.columns.tolist() == reach_pages.PLAYLIST_COLUMNS
    assert top["followers"].tolist() == sorted((e[3] for e in every), reverse=True)[:reach_pages.TOP_PLAYLISTS]
    for row in top.to_dict("records"):
        position, followers, entry_date, country, name = served[row["platform"]][row["playlist_uuid"]]
        assert (row["position"], row["followers"], row["entry_date"], row["country_code"]) == \
            (position, followers, entry_date, country)
        assert row["playlist"] == (name or row["playlist_uuid"])
    trend = reach_pages.playlist_trend(engine, hit.uuid)
    assert trend.set_index("platform")["playlists"].to_dict() == {p: len(f) for p, f in served.items() if f}


def test_the_latest_snapshot_per_platform_and_an_empty_answer_ending_it(localapi, engine, hit):
    today, yesterday = today_utc(), today_utc() - timedelta(days=1)
    tid = store_reach.track_ids(engine, [hit.uuid])[hit.uuid]
    before = reach_pages.playlists_now(engine, hit.uuid)
    kept, emptied = before["platforms"]["platform"][:2]  # two platforms with playlists today
    pids = store_reach.reach_platform_ids(engine, [kept, emptied])
    older = [{"playlist_uuid": f"old-{i}", "playlist_name": f"Old {i}", "subscribers": 10, "position": i}
             for i in range(1, 4)]
    for platform in (kept, emptied):  # an older day: history, not what it is on now
        store_reach.replace_snapshot(engine, "playlists", tid, pids[platform], yesterday, older)
    assert reach_pages.playlists_now(engine, hit.uuid)["count"] == before["count"]
    store_reach.replace_snapshot(engine, "playlists", tid, pids[emptied], today, [])  # today: on none there
    store_reach.record_refusal(engine, tid, pids[emptied], "playlists", "HTTP 404: Song not found")  # then refused
    now = reach_pages.playlists_now(engine, hit.uuid)
    assert emptied not in now["platforms"]["platform"].tolist() and emptied not in now["top"]["platform"].tolist()
    assert now["count"] == before["count"] - int(before["platforms"].set_index("platform").loc[emptied, "playlists"])
    trend = reach_pages.playlist_trend(engine, hit.uuid)
    ended = trend[trend["platform"] == emptied]
    assert ended[["fetched_on", "playlists", "followers"]].values.tolist() == [[yesterday, 3, 30], [today, 0, 0]]
    going = trend[trend["platform"] == kept]
    assert going["fetched_on"].tolist() == [yesterday, today] and going["playlists"].iloc[0] == 3

    charting = reach_pages.charting_now(engine, hit.uuid)
    left = charting["platform"].iloc[0]
    store_reach.replace_snapshot(engine, "charts", tid, store_reach.reach_platform_ids(engine, [left])[left], today,
                                 [])  # it left every chart there
    assert reach_pages.charting_now(engine, hit.uuid)["platform"].tolist() == \
        [p for p in charting["platform"] if p != left]


def test_hostile_rows_are_shown_as_the_page_can(engine):
    today = today_utc()
    uuid = "6f1c9a8e-0000-4000-8000-00000000beef"
    tid = ensure_track(engine, uuid, "Hostile", None, None)
    pid = store_reach.reach_platform_ids(engine, ["spotify"])["spotify"]
    store_reach.replace_snapshot(engine, "charts", tid, pid, today, [
        {"chart_slug": "no-country", "chart_name": None, "country_code": None, "position": 2},
        {"chart_slug": "blank-country", "chart_name": "", "country_code": "", "position": 1},
        {"chart_slug": "blank-name", "chart_name": "  ", "country_code": "FR", "position": 3, "peak_position": 1,
         "peak_date": date(2020, 2, 29)},
        {"chart_slug": "left", "chart_name": "Gone", "country_code": "US", "position": 0}])
    store_reach.replace_snapshot(engine, "playlists", tid, pid, today, [
        {"playlist_uuid": "p-unnamed", "playlist_name": "", "subscribers": None, "position": 4},
        {"playlist_uuid": "p-null", "playlist_name": None, "subscribers": 7, "position": 2},
        {"playlist_uuid": "p-big", "playlist_name": "<b>Big</b>", "subscribers": 90, "position": 1}])
    now = reach_pages.charting_now(engine, uuid)
    assert now[["chart", "chart_name", "country_code", "is_global"]].values.tolist() == [
        ["blank-country", "blank-country", None, True], ["no-country", "no-country", None, True],
        ["blank-name", "blank-name", "FR", False]]
    assert now["peak_date"].tolist() == [None, None, date(2020, 2, 29)]
    playlists = reach_pages.playlists_now(engine, uuid)
    assert (playlists["count"], playlists["followers"]) == (3, 97)
    assert [(r["playlist"], None if pd.isna(r["followers"]) else r["followers"])
            for r in playlists["top"].to_dict("records")] == [("<b>Big</b>", 90), ("p-null", 7), ("p-unnamed", None)]
    assert reach_pages.popularity(engine, uuid) == {}
    assert reach_pages.playlist_trend(engine, uuid)["playlists"].tolist() == [3]


def test_a_track_never_fetched_has_empty_reach_and_an_unknown_one_is_an_error(engine):
    uuid = "6f1c9a8e-0000-4000-8000-00000000cafe"
    ensure_track(engine, uuid, "Quiet", None, None)
    assert reach_pages.charting_now(engine, uuid).empty and reach_pages.popularity(engine, uuid) == {}
    assert reach_pages.playlists_now(engine, uuid)["count"] == 0 and reach_pages.playlist_trend(engine, uuid).empty
    for read in (reach_pages.charting_now, reach_pages.popularity, reach_pages.playlists_now,
                 reach_pages.playlist_trend):
        with pytest.raises(UnknownEntity, match="no track '00000000-0000-4000-8000-000000000000' is stored"):
            read(engine, "00000000-0000-4000-8000-000000000000")


def test_the_exports_read_what_the_page_reads(engine, hit):
    params = exports.Params(track_uuid=hit.uuid)
    popularity = exports.read_table(engine, "track-popularity", params)
    found = reach_pages.popularity(engine, hit.uuid)
    assert popularity.columns.tolist() == ["date", *found]
    for platform, frame in found.items():
        kept = popularity[["date", platform]].dropna()
        assert dict(zip(kept["date"], kept[platform].astype(int), strict=True)) == \
            dict(zip(frame["date"], frame["value"], strict=True))
    pd.testing.assert_frame_equal(exports.read_table(engine, "track-charting-everywhere", params),
                                  reach_pages.charting_now(engine, hit.uuid))
    playlists = exports.read_table(engine, "track-playlists", params)
    assert len(playlists) == reach_pages.playlists_now(engine, hit.uuid)["count"]
    assert exports.to_csv(playlists).count(b"\n") == len(playlists) + 1


def _seed(engine, uuid: str) -> None:
    """A year of daily snapshots for one track (40 charts, 150 playlists, popularity on 3 platforms) among 300
    other tracks with a month each."""
    today, now = today_utc(), utcnow()
    pids = list(store_reach.reach_platform_ids(engine, ["spotify", "deezer", "tidal"]).values())
    main = ensure_track(engine, uuid, "Busy", None, None)
    others = [ensure_track(engine, f"6f1c9a8e-0000-4000-8000-{n:012d}", f"T{n}", None, None) for n in range(300)]
    reach, playlists, popularity, checked = [], [], [], []
    for tid, days in [(main, 365), *((o, 30) for o in others)]:
        charts, lists = (40, 150) if tid == main else (5, 10)
        for d in range(days):
            on = today - timedelta(days=d)
            reach += [(tid, pids[c % 3], on, f"chart-{c}", f"Chart {c}", None if c % 4 else "US", c + 1)
                      for c in range(charts)]
            playlists += [(tid, pids[p % 3], on, f"pl-{p}", f"Playlist {p}", 1000 * p, p + 1) for p in range(lists)]
            popularity += [(tid, pid, on, 50, now) for pid in pids]
        checked += [("track", tid, pid, series, True) for pid in pids for series in ("charts", "playlists")]
    with engine.begin() as conn:
        bulk_insert(conn, REACH, ["track_id", "platform_id", "fetched_on", "chart_slug", "chart_name",
                                  "country_code", "position"], reach)
        bulk_insert(conn, PL, ["track_id", "platform_id", "fetched_on", "playlist_uuid", "playlist_name",
                               "subscribers", "position"], playlists)
        bulk_insert(conn, POP, ["track_id", "platform_id", "date", "value", "fetched_at"], popularity)
        conn.execute(SCHK.insert(), [dict(zip(["subject", "subject_id", "platform_id", "series", "had_data"], row,
                                              strict=True)) for row in checked])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))


def test_each_read_is_a_few_statements_however_long_the_history(engine):
    """A year of daily snapshots is read in a statement or two per read, never a statement per day or per row (the
    time each takes is measured by the dashboard benches, not here)."""
    uuid = "6f1c9a8e-0000-4000-8000-00000000b05e"
    _seed(engine, uuid)
    statements: list[str] = []

    def counted(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", counted)
    try:
        for read, rows in [(reach_pages.charting_now, 40), (reach_pages.popularity, 3), (reach_pages.playlists_now, 10),
                           (reach_pages.playlist_trend, 365 * 3)]:
            statements.clear()
            found = read(engine, uuid)
            assert len(found if not isinstance(found, dict) or "top" not in found else found["top"]) == rows
            assert 1 <= len(statements) <= 3, f"{read.__name__}: {len(statements)} statements"
    finally:
        event.remove(engine, "before_cursor_execute", counted)
