"""The dashboard pages' queries (platform, chart, track, system status) on a hand-made warehouse (SQLite + PostgreSQL),
and the quota forecast."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import insert

from soundcharts_lib.db import rollup
from soundcharts_lib.db.models import (
    Artist,
    Chart,
    ChartRanking,
    ChartRankingEntry,
    Platform,
    SyncRun,
    Track,
    TrackArtist,
    TrackAudience,
    TrackPlatformIdentifier,
)
from soundcharts_lib.warehouse import analytics, audience_series, health, quota, track_positions, trends

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 12, 0)
U = [f"00000000-0000-4000-8000-00000000000{i}" for i in range(5)]  # U[1]..U[4] are tracks 1..4


def rows(*dicts: dict) -> list[dict]:
    """Rows with the same keys (missing ones None), as a multi-row insert needs."""
    keys = {k for row in dicts for k in row}
    return [{k: row.get(k) for k in keys} for row in dicts]


def values(frame: pd.DataFrame) -> list[list]:
    """Rows as lists, missing values as None."""
    return frame.astype(object).where(frame.notna(), None).values.tolist()


def d(days_ago: int) -> date:
    return TODAY - timedelta(days=days_ago)


# chart id -> {days ago: [track ids by position]}
RANKINGS = {
    1: {2: [1, 2, 3], 1: [2, 1, 3], 0: [1, 3, 4]},  # sp-global: t2 drops out today, t4 is new, t1 and t3 climb
    2: {12: [1, 2], 11: [1, 2], 10: [2, 1]},        # sp-us: stale (last ranking 10 days ago)
    3: {0: [2, 1]},                                  # dz-fr: failing, one ranking today
}


@pytest.fixture
def db(engine):
    with engine.begin() as conn:
        conn.execute(insert(Platform), [
            {"id": 1, "slug": "spotify", "name": "Spotify", "supports_charts": True, "supports_audience": True},
            {"id": 2, "slug": "deezer", "name": "Deezer", "supports_charts": True, "supports_audience": False}])
        conn.execute(insert(Chart), rows(
            {"id": 1, "slug": "sp-global", "name": "Spotify Global", "platform_id": 1, "frequency": "daily",
             "is_active": True, "last_ranking_date": d(0), "consecutive_failures": 0, "metric_type": "streams"},
            {"id": 2, "slug": "sp-us", "name": "Spotify US", "platform_id": 1, "frequency": "daily",
             "country_code": "US", "country_name": "United States", "is_active": True, "last_ranking_date": d(10),
             "consecutive_failures": 0},
            {"id": 3, "slug": "dz-fr", "name": "Deezer France", "platform_id": 2, "frequency": "daily",
             "country_code": "FR", "is_active": True, "last_ranking_date": d(0), "consecutive_failures": 2,
             "last_error": "HTTP 500 on /chart"},
            {"id": 4, "slug": "sp-old", "name": "Spotify Old", "platform_id": 1, "frequency": "daily",
             "is_active": False, "consecutive_failures": 5}))
        conn.execute(insert(Track), [{"id": i, "uuid": U[i], "name": f"Song {i}", "credit_name": f"Artist {i}"}
                                     for i in range(1, 5)])
        rid = 0
        for chart_id, days in RANKINGS.items():
            for ago, tracks in days.items():
                rid += 1
                conn.execute(insert(ChartRanking), [{"id": rid, "chart_id": chart_id, "ranking_date": d(ago),
                                                     "date_raw": str(d(ago)), "status": "success",
                                                     "fetched_at": NOW - timedelta(days=ago), "entry_count": 3}])
                conn.execute(insert(ChartRankingEntry), [
                    {"ranking_id": rid, "ranking_date": d(ago), "track_id": t, "position": p, "metric": 1000 - p}
                    for p, t in enumerate(tracks, start=1)])
        conn.execute(insert(ChartRanking), [{"id": 99, "chart_id": 3, "ranking_date": d(1), "date_raw": str(d(1)),
                                             "status": "failed", "fetched_at": NOW - timedelta(hours=1),
                                             "entry_count": 0}])
        conn.execute(insert(SyncRun), rows(
            {"kind": "sync_charts", "trigger": "cron", "status": "success", "started_at": NOW - timedelta(days=3),
             "finished_at": NOW - timedelta(days=3) + timedelta(seconds=30), "quota_remaining": 1000},
            {"kind": "fetch_audience", "trigger": "cron", "status": "failed", "started_at": NOW - timedelta(hours=30),
             "quota_remaining": 950, "errors": ["quota exhausted"]},
            {"kind": "sync_charts", "trigger": "cli", "status": "partial", "started_at": NOW - timedelta(hours=2),
             "finished_at": NOW - timedelta(hours=2) + timedelta(seconds=5), "quota_remaining": 900,
             "errors": ["dz-fr: HTTP 500", "more"]}))
        conn.execute(insert(Artist), [{"id": 1, "uuid": "a-1", "name": "First"}, {"id": 2, "uuid": "a-2",
                                                                                   "name": "Second"}])
        conn.execute(insert(TrackArtist), [{"track_id": 1, "artist_id": 2, "position": 1},
                                           {"track_id": 1, "artist_id": 1, "position": 0}])
        conn.execute(insert(TrackPlatformIdentifier), rows(
            {"track_id": 1, "platform_code": "spotify", "identifier": "zzz", "is_default": True},
            {"track_id": 1, "platform_code": "spotify", "identifier": "aaa", "is_default": False},
            {"track_id": 1, "platform_code": "deezer", "identifier": "42", "url": "https://deezer.example/42"}))
        conn.execute(insert(TrackAudience), [
            {"track_id": 1, "platform_id": 1, "platform_identifier": "zzz", "date": d(ago),
             "audience_value": 1000 + 10 * (30 - ago)} for ago in range(30)])
    return engine


def test_platform_page_counts_stored_and_failed_rankings_and_its_top_tracks(db):
    page = analytics.platform_page(db, "deezer", today=TODAY)
    assert page["platform"]["name"] == "Deezer" and page["platform"]["supports_audience"] is False
    assert list(page["charts"]["slug"]) == ["dz-fr"]
    per_day = page["per_day"].set_index("date")
    assert len(per_day) == 30 and per_day.loc[d(0)].tolist() == [1, 0] and per_day.loc[d(1)].tolist() == [0, 1]
    assert int(per_day["stored"].sum()) == 1
    tracks = page["tracks"]
    assert tracks[["uuid", "appearances", "best_position", "charts"]].values.tolist() == [[U[2], 1, 1, 1],
                                                                                        [U[1], 1, 2, 1]]


@pytest.mark.parametrize("source", ["entries", "rollup"])
def test_platform_top_tracks_spans_its_charts_within_the_window(db, source):
    if source == "rollup":
        assert rollup.refresh(db, today=TODAY) and rollup.is_current(db.connect(), TODAY, 30, 1)
    tracks = analytics.platform_top_tracks(db, "spotify", days=30, today=TODAY)
    # sp-global (3 days) + sp-us (3 days): t1 6 times, best 1, on 2 charts
    assert tracks[["uuid", "appearances", "best_position", "charts"]].values.tolist() == [
        [U[1], 6, 1, 2], [U[2], 5, 1, 2], [U[3], 3, 2, 1], [U[4], 1, 3, 1]]
    assert analytics.platform_top_tracks(db, "spotify", days=3, today=TODAY)["appearances"].tolist() == [3, 3, 2, 1]
    assert analytics.platform_top_tracks(db, "spotify", days=30, today=TODAY, limit=2)["uuid"].tolist() == U[1:3]
    assert analytics.platform_top_tracks(db, "spotify", days=30, today=TODAY, limit=None).equals(tracks)
    # overall: t1 7 times (+ dz-fr), t2 6, t3 3, t4 1
    assert analytics.top_tracks(db, 30, TODAY)[["uuid", "appearances"]].values.tolist() == [
        [U[1], 7], [U[2], 6], [U[3], 3], [U[4], 1]]


def test_unknown_entities_raise_one_line_lookup_errors(db):
    for call, name in ((lambda: analytics.platform_page(db, "nope"), "platform"),
                       (lambda: analytics.chart_page(db, "nope"), "chart"),
                       (lambda: analytics.track_page(db, U[0]), "track")):
        with pytest.raises(analytics.UnknownEntity, match=f"no {name} .* is stored"):
            call()
    with pytest.raises(analytics.UnknownEntity, match="no audience platform 'deezer'"):
        analytics.track_audience(db, U[1], ["deezer"])


def test_chart_page_defaults_to_the_latest_ranking_with_its_trends_and_movers(db):
    page = analytics.chart_page(db, "sp-global")
    assert page["chart"]["platform_name"] == "Spotify" and page["dates"] == [d(2), d(1), d(0)]
    assert page["date"] == d(0) and page["stored"]
    pd.testing.assert_frame_equal(page["ranking"], trends.chart_trends(db, "sp-global"))
    assert values(page["ranking"][["position", "uuid", "previous_position", "status"]]) == [
        [1, U[1], 2, "UP"], [2, U[3], 3, "UP"], [3, U[4], None, "NEW"]]
    assert page["climbers"]["uuid"].tolist() == [U[1], U[3]] and page["fallers"].empty
    assert page["new_entries"]["uuid"].tolist() == [U[4]]
    assert page["dropouts"][["uuid", "previous_position"]].values.tolist() == [[U[2], 1]]


def test_chart_page_of_an_older_or_missing_date(db):
    older = analytics.chart_page(db, "sp-global", d(1))
    assert older["stored"] and older["ranking"]["uuid"].tolist() == [U[2], U[1], U[3]]
    missing = analytics.chart_page(db, "sp-global", d(5))
    assert missing["date"] == d(5) and not missing["stored"] and missing["ranking"].empty
    assert missing["dropouts"].empty and list(missing["dropouts"].columns) == ["uuid", "name", "artist",
                                                                                "previous_position", "source"]
    never = analytics.chart_page(db, "sp-old")
    assert never["dates"] == [] and never["date"] is None and not never["stored"]
    assert analytics.chart_dates(db, "dz-fr") == [d(0)]  # the failed ranking is not a stored date


def test_track_details_with_artists_in_credit_order_and_identifiers(db):
    track = analytics.track_details(db, U[1])
    assert track["name"] == "Song 1" and "id" not in track
    assert [a["name"] for a in track["artists"]] == ["First", "Second"]
    assert track["identifiers"][["platform", "identifier"]].values.tolist() == [
        ["deezer", "42"], ["spotify", "zzz"], ["spotify", "aaa"]]


def test_track_history_per_chart_and_where_it_charts_now(db):
    history = analytics.track_chart_history(db, U[1])
    assert history[["chart", "date", "position"]].values.tolist() == [
        ["dz-fr", d(0), 2], ["sp-global", d(2), 1], ["sp-global", d(1), 2], ["sp-global", d(0), 1],
        ["sp-us", d(12), 1], ["sp-us", d(11), 1], ["sp-us", d(10), 2]]
    charts = analytics.track_charts(db, U[1])
    assert charts[["chart", "first_date", "last_date", "appearances", "peak_position", "last_position"]] \
        .values.tolist() == [["sp-global", d(2), d(0), 3, 1, 1], ["sp-us", d(12), d(10), 3, 1, 2],
                             ["dz-fr", d(0), d(0), 1, 2, 2]]
    now = analytics.track_charting_now(db, U[1])  # sp-us's latest ranking (10 days ago) counts as its latest
    assert now[["chart", "position", "date"]].values.tolist() == [["sp-global", 1, d(0)], ["dz-fr", 2, d(0)],
                                                                  ["sp-us", 2, d(10)]]
    assert analytics.track_charting_now(db, U[2])["chart"].tolist() == ["dz-fr", "sp-us"]
    assert analytics.track_charts(db, U[0]).empty and analytics.track_chart_history(db, U[0]).empty
    assert list(analytics.track_charts(db, U[0])) == analytics.TRACK_CHART_COLUMNS
    never = "00000000-0000-4000-8000-00000000dead"  # a track never stored: no entry of any track is its
    assert analytics.track_chart_history(db, never).empty and analytics.track_charts(db, never).empty


def test_track_charts_agree_with_its_history_and_a_page_may_hold_its_top_charts_only(db):
    with db.begin() as conn:  # a failed ranking's entries count nowhere, even when they are the latest
        conn.execute(insert(ChartRanking), [{"id": 98, "chart_id": 2, "ranking_date": d(5), "date_raw": str(d(5)),
                                             "status": "failed", "fetched_at": NOW, "entry_count": 1}])
        conn.execute(insert(ChartRankingEntry), [{"ranking_id": 98, "ranking_date": d(5), "track_id": 1,
                                                  "position": 1}])
    history = analytics.track_chart_history(db, U[1])
    expected = {chart: [len(rows), rows["position"].min(), rows["date"].min(), rows["date"].max(),
                        rows.loc[rows["date"] == rows["date"].max(), "position"].min()]
                for chart, rows in history.groupby("chart")}
    charts = analytics.track_charts(db, U[1])
    assert {r.chart: [r.appearances, r.peak_position, r.first_date, r.last_date, r.last_position]
            for r in charts.itertuples()} == expected
    assert charts.loc[charts["chart"] == "sp-us", "last_date"].item() == d(10)
    page = analytics.track_page(db, U[1], history_charts=1)
    assert page["charts"].equals(charts) and page["history"]["chart"].unique().tolist() == ["sp-global"]
    assert page["now"].equals(analytics.track_charting_now(db, U[1])) and len(page["now"])
    assert values(page["history"]) == values(history[history["chart"] == "sp-global"])
    assert values(analytics.track_page(db, U[1], history_charts=3)["history"]) == values(history)
    with_ids = analytics.track_charts(db, U[1], ids=True)
    assert with_ids[analytics.TRACK_CHART_COLUMNS].equals(charts)
    now = analytics.track_charting_now(db, U[1])["chart"].tolist()
    assert sorted(with_ids.loc[with_ids["charting_now"] == 1, "chart"]) == sorted(now) and now
    for shown in (["sp-us"], ["sp-global", "dz-fr"], ["sp-us", "sp-global", "dz-fr"]):  # read from their months only
        rows = with_ids[with_ids["chart"].isin(shown)]
        assert track_positions.chart_span(rows) == (min(rows["first_date"]), max(rows["last_date"]))
        assert values(analytics.positions_on(db, U[1], rows)) == values(history[history["chart"].isin(shown)])
    assert analytics.positions_on(db, U[1], with_ids.head(0)).empty
    assert track_positions.chart_span(with_ids.head(0)) is None


def test_a_track_twice_on_its_last_ranking_is_at_its_best_position_there(db):
    with db.begin() as conn:  # track 1 also at position 3 of dz-fr's ranking of today (id 7), after position 2
        conn.execute(insert(ChartRankingEntry), [{"ranking_id": 7, "ranking_date": d(0), "track_id": 1,
                                                  "position": 3}])
    charts = analytics.track_charts(db, U[1]).set_index("chart")
    assert charts.loc["dz-fr", ["appearances", "peak_position", "last_position"]].tolist() == [2, 2, 2]
    assert charts.loc["sp-us", ["peak_position", "last_position"]].tolist() == [1, 2]  # its best was earlier


def test_track_audience_range_limit_and_growth(db):
    audience = analytics.track_audience(db, U[1], start=d(9), limit=5)
    assert audience["available"] == ["spotify"] and audience["platforms"] == ["spotify"]
    series = audience["series"]["spotify"]
    assert series["date"].tolist() == [d(4), d(3), d(2), d(1), d(0)]
    assert series["value"].tolist() == [1260, 1270, 1280, 1290, 1300] and series["daily_change"].tolist() == [10] * 5
    assert audience["wide"]["spotify"].tolist() == [1260, 1270, 1280, 1290, 1300]
    growth = audience["growth"]["spotify"]  # over the whole history up to the end, not just the range shown
    assert growth[7]["units"] == 70 and growth[28]["units"] == 280 and growth[90]["units"] is None
    table = audience_series.growth_table(audience["growth"])
    assert values(table[["platform", "days", "units"]]) == [
        ["spotify", 7, 70], ["spotify", 28, 280], ["spotify", 90, None]]
    ended = analytics.track_audience(db, U[1], end=d(10))
    assert ended["series"]["spotify"]["date"].iloc[-1] == d(10) and ended["growth"]["spotify"][7]["units"] == 70
    assert analytics.track_audience(db, U[2])["available"] == [] and analytics.track_audience(db, U[1], [])[
        "series"] == {}


def test_track_page_bundles_everything(db):
    page = analytics.track_page(db, U[1], limit=3)
    assert set(page) == {"track", "history", "charts", "now", "audience"}
    assert len(page["audience"]["series"]["spotify"]) == 3 and len(page["history"]) == 7


def test_charts_needing_attention_are_active_failing_or_stale(db):
    bad = health.charts_needing_attention(db, TODAY)
    assert bad[["slug", "consecutive_failures", "stale"]].values.tolist() == [["dz-fr", 2, False],
                                                                              ["sp-us", 0, True]]


def test_system_status_counts_failures_of_the_last_24_hours(db):
    status = health.system_status(db, NOW)
    assert status["failures_24h"] == {"runs": 1, "rankings": 1}
    assert status["failed_runs"][["kind", "status", "error"]].values.tolist() == [
        ["sync_charts", "partial", "dz-fr: HTTP 500"]]
    assert status["runs"][["kind", "status"]].values.tolist() == [["fetch_audience", "failed"],
                                                                  ["sync_charts", "partial"]]
    quota = status["quota"]
    span = (timedelta(days=3) - timedelta(hours=2)).total_seconds() / 86400
    burn = 100 / span
    days_left = (datetime(2026, 4, 1) - NOW).total_seconds() / 86400
    assert quota["remaining"] == 900 and quota["points"] == 3
    assert quota["burn_per_day"] == round(burn, 1) and quota["forecast"] == round(900 - burn * days_left)
    assert quota["forecast"] > 0 and quota["exhausted_on"] is None


def test_overview_adds_attention_and_status(db):
    data = analytics.overview(db, TODAY, NOW)
    assert data["attention"]["slug"].tolist() == ["dz-fr", "sp-us"] and data["status"]["quota"]["remaining"] == 900


@pytest.mark.parametrize(("points", "burn", "forecast"), [
    ([], None, None),
    ([(NOW - timedelta(days=1), 500)], None, None),                                   # one point: unknown
    ([(NOW - timedelta(days=2), 500), (NOW - timedelta(days=2), 400)], None, None),   # no time between them
    ([(NOW - timedelta(days=20), 9000), (NOW - timedelta(days=2), 500)], None, None),  # only one in the window
    ([(NOW - timedelta(days=2), 500), (NOW - timedelta(days=1), 400)], 100.0, None),
    ([(NOW - timedelta(days=3), 100), (NOW - timedelta(days=2), 5000), (NOW, 4800)], 100.0, None),  # a top-up
    ([(NOW - timedelta(days=2), 500), (NOW, 500)], 0.0, 500),
])
def test_forecast_quota(points, burn, forecast):
    out = quota.forecast_quota(points, NOW)
    days_left = (datetime(2026, 4, 1) - NOW).total_seconds() / 86400
    assert out["days_left"] == round(days_left, 2)
    assert out["burn_per_day"] == burn
    if burn is None:
        assert out["forecast"] is None
    else:
        assert out["forecast"] == (forecast if forecast is not None else round(points[-1][1] - burn * days_left))
    assert out["remaining"] == (points[-1][1] if points else None)


def test_forecast_quota_says_when_it_runs_out_before_month_end():
    out = quota.forecast_quota([(NOW - timedelta(days=2), 3000), (NOW, 1000)], NOW)
    assert out["burn_per_day"] == 1000.0 and out["forecast"] < 0 and out["exhausted_on"] == date(2026, 3, 11)


def test_forecast_quota_in_december_counts_to_new_year():
    out = quota.forecast_quota([(datetime(2026, 12, 30), 100), (datetime(2026, 12, 31), 90)],
                                   datetime(2026, 12, 31))
    assert out["days_left"] == 1.0 and out["forecast"] == 80 and out["exhausted_on"] is None
