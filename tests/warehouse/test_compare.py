"""Tracks or artists side by side (SQLite + PostgreSQL): audience panels, shared charts, key figures, unknown items,
too many items, indexing to a date, an artist's series and chart history, and the picker's candidates."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import insert, select

from soundcharts_lib.db.models import (
    Artist,
    Chart,
    ChartRanking,
    ChartRankingEntry,
    Platform,
    Track,
    TrackArtist,
    TrackAudience,
)
from soundcharts_lib.db.models_reach import ArtistAudience, ArtistListeners
from soundcharts_lib.warehouse import artist_series, compare_pages, track_positions
from soundcharts_lib.warehouse.analytics import UnknownEntity
from soundcharts_lib.warehouse.audience_series import NotStored

D0 = date(2026, 3, 10)
T = {i: f"00000000-0000-4000-8000-0000000001{i:02d}" for i in range(1, 8)}
AR = {i: f"00000000-0000-4000-8000-0000000002{i:02d}" for i in range(1, 4)}
UNKNOWN = "00000000-0000-4000-8000-000000000999"
# (chart id, days before D0, status, track ids by position)
RANKINGS = [(1, 0, "success", [1, 2, 3]), (1, 1, "success", [2, 1]), (2, 0, "success", [3, 1]),
            (3, 0, "success", [4]), (2, 1, "failed", [3])]


def filled(*dicts: dict) -> list[dict]:
    """Rows with the same keys (missing ones None), as a multi-row insert needs."""
    keys = {k for row in dicts for k in row}
    return [{k: row.get(k) for k in keys} for row in dicts]


def d(ago: int) -> date:
    return D0 - timedelta(days=ago)


@pytest.fixture
def db(engine):
    with engine.begin() as conn:
        conn.execute(insert(Platform), [
            {"id": 1, "slug": "spotify", "name": "Spotify", "supports_audience": True},
            {"id": 2, "slug": "youtube", "name": "YouTube", "supports_audience": True},
            {"id": 3, "slug": "instagram", "name": "Instagram", "supports_audience": False},
            {"id": 4, "slug": "deezer", "name": "Deezer", "supports_audience": False}])
        conn.execute(insert(Chart), filled(
            {"id": 1, "slug": "sp-global", "name": "Spotify Global", "platform_id": 1, "last_ranking_date": D0},
            {"id": 2, "slug": "sp-us", "name": "Spotify US", "platform_id": 1, "country_code": "US",
             "last_ranking_date": D0},
            {"id": 3, "slug": "dz-fr", "name": "Deezer France", "platform_id": 4, "country_code": "FR",
             "last_ranking_date": D0}))
        conn.execute(insert(Track), filled(
            {"id": 1, "uuid": T[1], "name": "Song", "credit_name": "A1", "labels": ["Sub Pop", ""],
             "release_date": date(2025, 1, 3)},
            {"id": 2, "uuid": T[2], "name": "Song", "credit_name": "A1 & <b>x</b>", "labels": None},
            {"id": 3, "uuid": T[3], "name": "Other", "credit_name": "A2", "labels": "XL"},
            {"id": 4, "uuid": T[4], "name": "Fourth", "credit_name": None, "labels": []}))
        conn.execute(insert(Artist), [
            {"id": 1, "uuid": AR[1], "name": "A1", "country_code": "FR", "career_stage": "Developing",
             "genres": ["pop", 7, None]},
            {"id": 2, "uuid": AR[2], "name": "A2", "country_code": "", "career_stage": None, "genres": None},
            {"id": 3, "uuid": AR[3], "name": "A1", "country_code": None, "career_stage": None,
             "genres": None}])  # no tracks, no series; its name repeats another's
        conn.execute(insert(TrackArtist), [{"track_id": 1, "artist_id": 1}, {"track_id": 2, "artist_id": 1},
                                           {"track_id": 3, "artist_id": 2}])
        for rid, (chart, ago, status, tracks) in enumerate(RANKINGS, start=1):
            conn.execute(insert(ChartRanking), [{"id": rid, "chart_id": chart, "ranking_date": d(ago),
                                                 "date_raw": str(d(ago)), "status": status,
                                                 "entry_count": len(tracks)}])
            conn.execute(insert(ChartRankingEntry), [
                {"ranking_id": rid, "chart_id": chart, "ranking_date": d(ago), "track_id": t, "position": pos}
                for pos, t in enumerate(tracks, start=1)])
        audience = [(1, 1, 40, 100), (1, 1, 0, 180), (2, 1, 30, 50), (2, 1, 0, 60), (1, 2, 0, 9)]
        conn.execute(insert(TrackAudience), [
            {"track_id": t, "platform_id": p, "platform_identifier": "id", "date": d(ago), "audience_value": v}
            for t, p, ago, v in audience])
        conn.execute(insert(ArtistAudience), [
            {"artist_id": a, "platform_id": p, "date": d(ago), "followers": v}
            for a, p, ago, v in [(1, 1, 30, 1000), (1, 1, 2, 1500), (1, 1, 1, 1490), (1, 3, 0, 70),
                                 (2, 1, 0, 200)]])
        conn.execute(insert(ArtistListeners), [
            {"artist_id": a, "platform_id": 1, "date": d(ago), "value": v}
            for a, ago, v in [(1, 5, 900), (1, 3, 1200), (1, 2, 1100), (2, 1, 40)]])
    return engine


def test_tracks_side_by_side(db):
    data = compare_pages.compare(db, "tracks", [T[2], UNKNOWN, T[1]])
    assert data["unknown"] == [UNKNOWN]
    assert data["items"].values.tolist() == [[T[2], "Song", "Song"], [T[1], "Song", "Song (2)"]]
    assert list(data["panels"]) == [("audience", "spotify"), ("audience", "youtube")]  # most items first
    spotify = data["panels"][("audience", "spotify")]
    assert {label: frame["value"].tolist() for label, frame in spotify.items()} == {"Song": [50, 60],
                                                                                    "Song (2)": [100, 180]}
    assert list(data["panels"][("audience", "youtube")]) == ["Song (2)"]
    shared = data["shared"]
    assert shared.columns.tolist() == [*compare_pages.SHARED_COLUMNS, "Song", "Song (2)"]
    assert shared.astype(object).values.tolist() == [["sp-global", "Spotify Global", "spotify", None, 2, 4, 1, 1]]
    assert list(data["positions"]) == ["sp-global"]
    assert data["positions"]["sp-global"]["Song (2)"].values.tolist() == [[d(1), 2], [d(0), 1]]
    figures = {name: values for name, _, values in data["figures"]}
    assert figures["Artists"] == ["A1 & <b>x</b>", "A1"] and figures["Labels"] == ["", "Sub Pop"]
    assert figures["Released"] == [None, date(2025, 1, 3)]
    assert [figures[k] for k in ("Charts", "Chart entries", "Best position", "Charting now")] == [
        [1, 2], [2, 3], [1, 1], [1, 2]]
    assert figures["spotify audience"] == [60, 180] and figures["youtube audience"] == [None, 9]
    assert figures["spotify audience, 28 days"] == [20.0, 80.0]  # the base: the last value 28+ days before
    table = compare_pages.figures_frame(data)
    assert table.columns.tolist() == ["figure", "Song", "Song (2)"] and table["figure"].iloc[0] == "Artists"


def test_artists_side_by_side(db):
    data = compare_pages.compare(db, "artists", [AR[1], AR[2], AR[3]])
    assert data["unknown"] == [] and data["items"]["label"].tolist() == ["A1", "A2", "A1 (2)"]
    assert list(data["panels"]) == [("followers", "spotify"), ("listeners", "spotify"), ("followers", "instagram")]
    listeners = data["panels"][("listeners", "spotify")]["A1"]
    assert listeners["value"].tolist() == [900, 1200, 1100]
    assert listeners["daily_change"].isna().tolist() == [True, True, False]  # a gap stays a gap
    shared = data["shared"]
    assert shared[["chart", "items", "entries", "A1", "A2"]].astype(object).values.tolist() == [
        ["sp-global", 2, 3, 1, 3], ["sp-us", 2, 2, 2, 1]]  # best daily positions; not the failed ranking
    assert shared["A1 (2)"].isna().all()
    figures = {name: values for name, _, values in data["figures"]}
    assert figures["Tracks stored"] == [2, 1, 0] and figures["Chart entries"] == [5, 2, 0]
    assert figures["Genres"] == ["pop", "", ""] and figures["Country"] == ["FR", "", None]
    assert figures["Best position"] == [1, 1, None] and figures["Last on a chart"] == [D0, D0, None]
    assert figures["spotify followers"] == [1490, 200, None]
    assert figures["spotify followers, 28 days"] == [49.0, None, None]
    assert figures["spotify listeners"] == [1100, 40, None]


@pytest.mark.parametrize("kind, uuids, error, words", [
    ("tracks", [T[1], T[2], T[3], T[4], T[5], T[6], T[7]], compare_pages.CompareError,
     "at most 6 tracks can be compared, got 7"),
    ("albums", [T[1]], compare_pages.CompareError, "compare tracks or artists, not 'albums'"),
    ("tracks", [UNKNOWN, T[5]], UnknownEntity, f"no track is stored for {UNKNOWN}, {T[5]}"),
    ("artists", [T[1]], UnknownEntity, f"no artist is stored for {T[1]}"),
])
def test_what_cannot_be_compared_says_which(db, kind, uuids, error, words):
    with pytest.raises(error, match=words):
        compare_pages.compare(db, kind, uuids)


def test_items_without_series_or_shared_charts(db):
    data = compare_pages.compare(db, "tracks", [T[4]])
    assert data["panels"] == {} and data["shared"].empty and data["positions"] == {}
    assert data["shared"].columns.tolist() == [*compare_pages.SHARED_COLUMNS, "Fourth"]


def test_indexed_to_a_date():
    frame = pd.DataFrame({"date": [d(3), d(1), d(0)], "value": [50, 80, 0]})
    assert compare_pages.value_at(frame, d(2)) == 50 and compare_pages.value_at(frame, d(4)) is None
    assert compare_pages.indexed_to(frame, d(1))["indexed"].tolist() == [62.5, 100.0, 0.0]
    assert compare_pages.indexed_to(frame, d(4))["indexed"].isna().all()   # no value on or before the date
    assert compare_pages.indexed_to(frame, d(0))["indexed"].isna().all()   # a base of 0
    panels = {("audience", "spotify"): {"a": frame, "b": frame.iloc[1:]}, ("audience", "x"): {"a": frame.iloc[0:0]}}
    assert compare_pages.default_index_date(panels) == d(1) and compare_pages.default_index_date({}) is None


def test_an_artists_series_and_chart_history(db):
    info = artist_series.artist_info(db, AR[1])
    assert (info["name"], info["country_code"], info["career_stage"]) == ("A1", "FR", "Developing")
    assert artist_series.platforms(db, info["id"]) == {"followers": ["instagram", "spotify"],
                                                       "listeners": ["spotify"]}
    spotify = artist_series.series(db, info["id"], "followers", start=d(1), end=d(1))["spotify"]
    assert spotify.values.tolist() == [[d(1), 1490, -10]]  # the change from the day before the start
    empty = artist_series.series(db, info["id"], "listeners", "youtube")["youtube"]
    assert empty.empty and empty.columns.tolist() == ["date", "value", "daily_change"]
    history = artist_series.chart_history(db, artist_series.artist_info(db, AR[2])["id"])
    assert history[["date", "chart", "position", "entries"]].values.tolist() == [
        [d(0), "sp-global", 3, 1], [d(0), "sp-us", 1, 1]]  # the failed ranking of sp-us is left out
    with pytest.raises(NotStored, match=f"no artist {UNKNOWN}"):
        artist_series.artist_info(db, UNKNOWN)


def test_the_pickers_candidates(db):
    assert compare_pages.track_candidates(db, T[1]).values.tolist() == [[T[3], "Other", "A2"],
                                                                        [T[2], "Song", "A1 & <b>x</b>"]]
    assert compare_pages.track_candidates(db, T[4]).empty  # alone on its chart
    assert compare_pages.track_candidates(db, UNKNOWN).empty
    assert compare_pages.artist_candidates(db, AR[1]).values.tolist() == [[AR[2], "A2", ""]]
    assert compare_pages.artist_candidates(db, AR[3]).empty


def test_an_artists_tracks_and_the_top_artists(db):
    a1, a3 = (artist_series.artist_info(db, AR[i])["id"] for i in (1, 3))
    found = artist_series.tracks(db, a1)
    assert found.columns.tolist() == artist_series.TRACK_COLUMNS
    assert found.astype(object).values.tolist() == [[T[1], "Song", "A1", date(2025, 1, 3), 2, 3, 1, D0],
                                                     [T[2], "Song", "A1 & <b>x</b>", None, 1, 2, 1, D0]]
    assert artist_series.tracks(db, a3).empty
    assert artist_series.top_artists(db).values.tolist() == [[AR[1], "A1", 5, 2], [AR[2], "A2", 2, 1]]
    assert artist_series.top_artists(db, days=1, limit=1).values.tolist() == [[AR[1], "A1", 3, 2]]


def test_no_top_artists_without_rankings(engine):
    assert artist_series.top_artists(engine).empty


def test_a_track_s_window_is_its_last_entry_s_month_however_long_before_the_last_stored_day(db):
    """The picker's month ends on the track's last entry: found among the last stored days for a track charting now,
    in its whole history for one that stopped long before."""
    before = compare_pages.track_candidates(db, T[1]).values.tolist()
    later = D0 + timedelta(days=60)
    with db.begin() as conn:  # a later ranking on which only the fourth track charts
        conn.execute(insert(ChartRanking), [{"id": 99, "chart_id": 3, "ranking_date": later, "date_raw": str(later),
                                             "status": "success", "entry_count": 1}])
        conn.execute(insert(ChartRankingEntry), [{"ranking_id": 99, "chart_id": 3, "ranking_date": later,
                                                  "track_id": 4, "position": 1}])
    with db.connect() as conn:
        def busiest(n: int):
            return compare_pages._busiest(conn, lambda track: track.in_(select(Track.id).where(Track.uuid == T[n])),
                                          lambda: track_positions.counted(conn, T[n]))
        days = timedelta(days=compare_pages.CANDIDATE_DAYS - 1)
        assert busiest(1)[0] == (D0 - days, D0) and busiest(4) == ((later - days, later), [3])
        assert busiest(5) is None  # no such track: no entry
    assert compare_pages.track_candidates(db, T[1]).values.tolist() == before


def test_the_busiest_charts_of_a_track_s_last_month_equal_a_count_of_its_entries(db):
    """The picker's charts, read from the track-chart rollup (stale, then refreshed, then after more rankings), equal
    those counted from the entries of successful rankings: of the charts a track was on in the month to its last
    entry, those holding most of its entries, ties by chart id (the third track: one entry on each of its charts,
    its second on sp-us in a failed ranking)."""
    from soundcharts_lib.db import chart_rollup

    def counted(uuid: str):
        with db.connect() as conn:
            rows = conn.execute(select(ChartRankingEntry.chart_id, ChartRankingEntry.ranking_date)
                                .join(Track, Track.id == ChartRankingEntry.track_id)
                                .join(ChartRanking, ChartRanking.id == ChartRankingEntry.ranking_id)
                                .where(Track.uuid == uuid, ChartRanking.status == "success")).all()
        if not rows:
            return None
        last = max(pd.Timestamp(d).date() for _, d in rows)
        since = last - timedelta(days=compare_pages.CANDIDATE_DAYS - 1)
        per = {c: sum(1 for c2, _ in rows if c2 == c) for c, d in rows if pd.Timestamp(d).date() >= since}
        return (since, last), sorted(per, key=lambda c: (-per[c], c))[:compare_pages.CANDIDATE_CHARTS]

    def check():
        with db.connect() as conn:
            for uuid in T.values():
                mine = select(Track.id).where(Track.uuid == uuid)
                assert compare_pages._busiest(conn, lambda track, m=mine: track.in_(m),
                                              lambda u=uuid: track_positions.counted(conn, u)) == counted(uuid), uuid

    check()
    chart_rollup.refresh(db)
    check()
    with db.begin() as conn:  # older rankings on chart 3 make it the busiest of the first track's charts
        for i in range(1, 6):
            day = D0 - timedelta(days=40 + i)
            conn.execute(insert(ChartRanking), [{"id": 200 + i, "chart_id": 3, "ranking_date": day,
                                                 "date_raw": str(day), "status": "success", "entry_count": 1}])
            conn.execute(insert(ChartRankingEntry), [{"ranking_id": 200 + i, "chart_id": 3, "ranking_date": day,
                                                      "track_id": 1, "position": 1}])
        conn.execute(Chart.__table__.update().values(rankings_version=Chart.__table__.c.rankings_version + 1))
    check()
    chart_rollup.refresh(db)
    check()


def test_candidates_are_counted_on_each_busiest_chart_s_last_rankings(engine):
    """Counted over the chart's last ``CANDIDATE_RANKINGS`` successful rankings up to the track's last entry: earlier
    rankings of the month count for nothing, a failed ranking neither counts nor takes a place among the ten."""
    days = {ago: "success" for ago in range(14)} | {1: "failed"}  # 13 successful rankings, a failed one among them
    held = {5: range(14), 6: range(10, 14), 7: range(6, 11), 8: (1,), 9: range(0, 4)}  # days ago each track is there
    counted = sorted(ago for ago, status in days.items() if status == "success")[:compare_pages.CANDIDATE_RANKINGS]
    with engine.begin() as conn:
        conn.execute(insert(Platform), [{"id": 1, "slug": "spotify", "name": "Spotify"}])
        conn.execute(insert(Chart), [{"id": 1, "slug": "daily", "name": "Daily", "platform_id": 1}])
        conn.execute(insert(Track), [{"id": t, "uuid": f"00000000-0000-4000-8000-00000000030{t}", "name": f"T{t}"}
                                     for t in held])
        for rid, (ago, status) in enumerate(sorted(days.items()), start=1):
            conn.execute(insert(ChartRanking), [{"id": rid, "chart_id": 1, "ranking_date": d(ago),
                                                 "date_raw": str(d(ago)), "status": status}])
            there = [t for t, when in held.items() if ago in when]
            conn.execute(insert(ChartRankingEntry), [
                {"ranking_id": rid, "chart_id": 1, "ranking_date": d(ago), "track_id": t, "position": pos}
                for pos, t in enumerate(there, start=1)])
    expected = {t: sum(ago in when for ago in counted) for t, when in held.items() if t != 5}
    ranked = sorted((t for t in expected if expected[t]), key=lambda t: (-expected[t], t))
    assert [f"T{t}" for t in ranked] == ["T7", "T9", "T6"]  # over the month: T7, T6, T9; T8 in a failed one only
    found = compare_pages.track_candidates(engine, "00000000-0000-4000-8000-000000000305")
    assert found["name"].tolist() == [f"T{t}" for t in ranked]
