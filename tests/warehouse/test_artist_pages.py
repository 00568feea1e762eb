"""The artist page's data (SQLite + PostgreSQL): their tracks' chart presence (failed rankings left out, the best
position's first date, charting now), their charts and best daily positions, followers and listeners with growth
and gaps, their tracks' notes; an artist with nothing but a name; hostile values; the overview's top artists (rollup
and counted alike, the roster's); the artists credited on tracks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import insert

from soundcharts_lib.curation import annotations, roster
from soundcharts_lib.db import rollup
from soundcharts_lib.db.models import Artist, Chart, ChartRanking, ChartRankingEntry, Platform, Track, TrackArtist
from soundcharts_lib.db.models_reach import ArtistAudience, ArtistListeners
from soundcharts_lib.warehouse import artist_pages
from soundcharts_lib.warehouse.analytics import UnknownEntity
from warehouse.test_compare import filled

D0 = date(2026, 3, 10)
T = {i: f"00000000-0000-4000-8000-0000000003{i:02d}" for i in range(1, 6)}
AR = {i: f"00000000-0000-4000-8000-0000000004{i:02d}" for i in range(1, 5)}
UNKNOWN = "00000000-0000-4000-8000-000000000999"
HOSTILE = "<b>Robert'); DROP TABLE artist;--</b> & \"Co\""
# (chart id, days before D0, status, track ids by position)
RANKINGS = [(1, 3, "success", [1, 2, 3]), (1, 2, "success", [2, 1]), (1, 1, "success", [1]),
            (1, 0, "success", [3, 1]), (2, 0, "success", [2]), (2, 1, "failed", [1]), (3, 5, "success", [1])]


def d(ago: int) -> date:
    return D0 - timedelta(days=ago)


@pytest.fixture
def db(engine):
    return filled_warehouse(engine)


def filled_warehouse(engine):
    """``engine`` with three charts, five tracks, four artists (one with nothing but a name, one hostile), their
    followers and listeners and two notes."""
    with engine.begin() as conn:
        conn.execute(insert(Platform), [{"id": i, "slug": s, "name": s.title(), "supports_audience": True}
                                        for i, s in enumerate(("spotify", "youtube", "instagram", "deezer"), 1)])
        conn.execute(insert(Chart), filled(
            {"id": 1, "slug": "sp-global", "name": "Spotify Global", "platform_id": 1, "country_code": None,
             "last_ranking_date": d(0)},
            {"id": 2, "slug": "sp-us", "name": "Spotify US", "platform_id": 1, "country_code": "US",
             "last_ranking_date": d(0)},
            {"id": 3, "slug": "dz-fr", "name": "Deezer France", "platform_id": 4, "country_code": "FR",
             "last_ranking_date": d(5)}))
        conn.execute(insert(Track), filled(
            {"id": 1, "uuid": T[1], "name": "Song", "credit_name": "A1", "release_date": date(2025, 1, 3)},
            {"id": 2, "uuid": T[2], "name": "Duet", "credit_name": "A2 & A1", "release_date": None},
            {"id": 3, "uuid": T[3], "name": "Other", "credit_name": "A2", "release_date": None},
            {"id": 4, "uuid": T[4], "name": "Lonely", "credit_name": None, "release_date": None},
            {"id": 5, "uuid": T[5], "name": "Ghost", "credit_name": "Nobody stored", "release_date": None}))
        conn.execute(insert(Artist), filled(
            {"id": 1, "uuid": AR[1], "name": "A1", "country_code": "FR", "genres": ["pop", "electro"],
             "career_stage": "Developing", "image_url": "https://img.example/a1.jpg"},
            {"id": 2, "uuid": AR[2], "name": "A2", "country_code": "", "genres": None, "career_stage": None},
            {"id": 3, "uuid": AR[3], "name": "Only a name", "genres": None},
            {"id": 4, "uuid": AR[4], "name": HOSTILE, "country_code": "", "image_url": "", "genres": [None, 7, ""],
             "career_stage": "<i>x</i>"}))
        conn.execute(insert(TrackArtist), [
            {"track_id": 1, "artist_id": 1, "position": 0}, {"track_id": 2, "artist_id": 2, "position": 0},
            {"track_id": 2, "artist_id": 1, "position": 1}, {"track_id": 3, "artist_id": 2, "position": 0},
            {"track_id": 4, "artist_id": 1, "position": 0}, {"track_id": 4, "artist_id": 4, "position": 1}])
        for rid, (chart, ago, status, tracks) in enumerate(RANKINGS, start=1):
            conn.execute(insert(ChartRanking), [{"id": rid, "chart_id": chart, "ranking_date": d(ago),
                                                 "date_raw": str(d(ago)), "status": status,
                                                 "entry_count": len(tracks)}])
            conn.execute(insert(ChartRankingEntry), [
                {"ranking_id": rid, "chart_id": chart, "ranking_date": d(ago), "track_id": t, "position": pos}
                for pos, t in enumerate(tracks, start=1)])
        conn.execute(insert(ArtistAudience), [
            {"artist_id": a, "platform_id": p, "date": d(ago), "followers": v}
            for a, p, ago, v in [(1, 1, 30, 1000), (1, 1, 2, 1500), (1, 1, 1, 1490), (1, 3, 0, 70),
                                 (2, 1, 0, 200)]])
        conn.execute(insert(ArtistListeners), [
            {"artist_id": 1, "platform_id": 1, "date": d(ago), "value": v} for ago, v in [(5, 900), (3, 1200),
                                                                                          (2, 1100)]])
    annotations.add(engine, T[2], d(2), "playlist add", kind="playlist", actor="test")
    annotations.add(engine, T[5], d(1), "not theirs", actor="test")
    return engine


def test_an_artists_tracks_and_how_they_chart(db):
    data = artist_pages.artist_page(db, AR[1])
    assert data["artist"]["name"] == "A1" and data["artist"]["genres"] == ["pop", "electro"]
    tracks = data["tracks"]
    assert tracks.columns.tolist() == artist_pages.TRACK_COLUMNS
    assert tracks.astype(object).where(tracks.notna(), None).values.tolist() == [
        # the failed sp-us ranking's entry of Song is left out; its best, #1, first on dz-fr 5 days before
        [T[1], "Song", "A1", date(2025, 1, 3), 2, 5, 1, d(5), d(0), 2, 1],
        [T[2], "Duet", "A2 & A1", None, 2, 3, 1, d(2), d(0), 1, 1],
        [T[4], "Lonely", None, None, 0, 0, None, None, None, 0, None]]
    charts = data["charts"]
    assert charts.columns.tolist() == artist_pages.CHART_COLUMNS
    assert charts.astype(object).where(charts.notna(), None).values.tolist() == [
        ["sp-global", "Spotify Global", "spotify", None, 2, 6, 1, d(3), d(0)],
        ["dz-fr", "Deezer France", "deezer", "FR", 1, 1, 1, d(5), d(5)],
        ["sp-us", "Spotify US", "spotify", "US", 1, 1, 1, d(0), d(0)]]
    history = data["history"]
    assert history.columns.tolist() == artist_pages.HISTORY_COLUMNS
    by_chart = {chart: rows[["date", "position", "entries"]].values.tolist()
                for chart, rows in history.groupby("chart")}
    assert by_chart == {"sp-global": [[d(3), 1, 2], [d(2), 1, 2], [d(1), 1, 1], [d(0), 2, 1]],
                        "sp-us": [[d(0), 1, 1]], "dz-fr": [[d(5), 1, 1]]}
    assert artist_pages.chart_history(db, AR[1]).sort_values(["chart", "date"]).values.tolist() == \
        history.sort_values(["chart", "date"]).values.tolist()  # the download: every chart, the same rows
    assert data["since"] == d(5)
    assert data["notes"][["date", "kind", "text", "uuid", "name"]].values.tolist() == [
        [d(2), "playlist", "playlist add", T[2], "Duet"]]  # a note on another artist's track is not theirs
    assert data["compare"]["uuid"].tolist() == [AR[2]]


def test_followers_and_listeners_with_growth_and_gaps(db):
    data = artist_pages.artist_page(db, AR[1])
    followers, listeners = data["followers"], data["listeners"]
    assert list(followers["series"]) == ["instagram", "spotify"] and list(listeners["series"]) == ["spotify"]
    spotify = followers["series"]["spotify"]
    assert spotify.astype(object).where(spotify.notna(), None).values.tolist() == [
        [d(30), 1000, None], [d(2), 1500, None], [d(1), 1490, -10]]  # a change only after a stored day
    growth = followers["growth"]["spotify"]
    assert (growth[7]["from_date"], growth[7]["units"], growth[7]["pct"]) == (d(30), 490, 49.0)
    assert growth[90]["units"] is None  # the stored points do not reach back 90 days: not enough history
    change = listeners["series"]["spotify"]["daily_change"]  # listeners go up and down; a gap has no change
    assert change.astype(object).where(change.notna(), None).tolist() == [None, None, -100]
    assert listeners["growth"]["spotify"][7]["units"] is None
    wide = followers["wide"]
    assert wide.columns.tolist() == ["instagram", "spotify"] and wide.index.tolist() == [d(30), d(2), d(1), d(0)]
    assert wide["instagram"].isna().tolist() == [True, True, True, False]


def test_an_artist_with_nothing_but_a_name(db):
    data = artist_pages.artist_page(db, AR[3])
    assert data["artist"]["name"] == "Only a name" and data["artist"]["metadata_fetched_at"] is None
    for key, columns in (("tracks", artist_pages.TRACK_COLUMNS), ("charts", artist_pages.CHART_COLUMNS),
                         ("history", artist_pages.HISTORY_COLUMNS), ("notes", artist_pages.NOTE_COLUMNS)):
        assert data[key].empty and data[key].columns.tolist() == columns, key
    assert data["followers"]["series"] == {} and data["listeners"]["series"] == {}
    assert data["followers"]["wide"].empty and data["compare"].empty
    assert artist_pages.chart_history(db, AR[3]).empty


def test_hostile_values_come_back_as_stored(db):
    data = artist_pages.artist_page(db, AR[4])
    artist = data["artist"]
    assert (artist["name"], artist["country_code"], artist["image_url"], artist["genres"]) == (
        HOSTILE, "", "", [None, 7, ""])
    assert data["tracks"]["uuid"].tolist() == [T[4]] and data["tracks"]["entries"].tolist() == [0]


def test_an_unknown_artist_is_not_stored(db):
    for call in (artist_pages.artist_page, artist_pages.chart_history):
        with pytest.raises(UnknownEntity, match=f"no artist '{UNKNOWN}' is stored"):
            call(db, UNKNOWN)


def test_the_artists_credited_on_tracks(db):
    assert artist_pages.credits(db, [T[2], T[5], T[1], UNKNOWN, None]) == {
        T[1]: [{"uuid": AR[1], "name": "A1"}],
        T[2]: [{"uuid": AR[2], "name": "A2"}, {"uuid": AR[1], "name": "A1"}]}  # credit order; no artist: left out
    assert artist_pages.credits(db, []) == {}


def test_top_artists_from_the_rollup_and_counted_alike(db):
    counted = artist_pages.top_artists(db, today=D0)
    # A1: Song's 5 entries and Duet's 3; A2: Duet's 3 and Other's 2 (the failed ranking's entry is not counted)
    assert counted.values.tolist() == [[AR[1], "A1", 8, 2], [AR[2], "A2", 5, 2]]
    rollup.refresh(db, today=D0)
    with db.connect() as conn:
        assert rollup.is_current(conn, D0, 30)
    assert artist_pages.top_artists(db, today=D0).values.tolist() == counted.values.tolist()
    assert artist_pages.top_artists(db, today=D0, limit=1)["uuid"].tolist() == [AR[1]]
    assert artist_pages.top_artists(db, today=D0 + timedelta(days=40)).empty  # nothing in the window
    roster.add(db, "artist", AR[2], actor="test")
    assert artist_pages.top_artists(db, today=D0, mine=True)["uuid"].tolist() == [AR[2]]
