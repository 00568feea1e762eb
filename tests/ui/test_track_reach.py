"""The track page's reach area built from hostile stored rows (inserted straight into track_chart_reach,
track_popularity and playlist_snapshot): a song on no chart gets an empty map and a sentence; null and blank
countries are global charts listed beside the map; blank names fall back to slugs and UUIDs; a playlist without a
follower count is counted and adds none; position 0 is no entry; the map shades the countries by best position."""

from __future__ import annotations

from datetime import date, timedelta

import bqplot as bq
import pandas as pd
import pytest
from sqlalchemy import insert

from soundcharts_lib.db import store_reach
from soundcharts_lib.db.base import utcnow
from soundcharts_lib.db.store_audience import ensure_track
from soundcharts_lib.db.tables import PL, POP, REACH
from soundcharts_lib.ui import track_reach
from soundcharts_lib.ui.figures import lines_chart
from soundcharts_lib.ui.world_codes import WORLD_MAP_IDS
from soundcharts_lib.warehouse import reach_pages
from soundcharts_lib.warehouse.analytics import UnknownEntity
from soundcharts_lib.warehouse.forecast import forecast_series
from soundcharts_lib.warehouse.reach_pages import track_reach as read_reach
from ui.test_ui import classes, html_of, marks

DAY = date(2026, 12, 3)
UUID = "6f1c9a8e-0000-4000-8000-0000000ea7c1"


def no_reach() -> dict:
    """What track_reach reads of a song whose reach was never fetched."""
    return {"charts": pd.DataFrame(columns=reach_pages.CHART_COLUMNS), "popularity": {},
            "playlists": {"count": 0, "followers": 0, "platforms": pd.DataFrame(columns=reach_pages.PLATFORM_COLUMNS),
                          "top": pd.DataFrame(columns=reach_pages.PLAYLIST_COLUMNS)},
            "trend": pd.DataFrame(columns=reach_pages.TREND_COLUMNS)}


def test_a_song_never_fetched_is_read_in_one_query_as_each_part_would_say_it(engine):
    ensure_track(engine, UUID, "Never fetched", None, None)
    fast = read_reach(engine, UUID)
    playlists = reach_pages.playlists_now(engine, UUID)
    assert fast["popularity"] == reach_pages.popularity(engine, UUID) == {}
    assert fast["playlists"]["count"] == playlists["count"] == 0
    assert fast["playlists"]["followers"] == playlists["followers"] == 0
    for got, read in ((fast["charts"], reach_pages.charting_now(engine, UUID)),
                      (fast["playlists"]["platforms"], playlists["platforms"]),
                      (fast["playlists"]["top"], playlists["top"]),
                      (fast["trend"], reach_pages.playlist_trend(engine, UUID))):
        assert got.empty and read.empty and got.columns.tolist() == read.columns.tolist()
    with pytest.raises(UnknownEntity):
        read_reach(engine, "00000000-0000-4000-8000-00000000dead")


def hostile(engine) -> dict:
    tid = ensure_track(engine, UUID, "Hostile", None, None)
    pids = store_reach.reach_platform_ids(engine, ["spotify", "deezer"])
    sp, dz = pids["spotify"], pids["deezer"]
    charts = [(sp, "top-fr", "Top France", "FR", 7, 2, date(2026, 11, 1)),
              (dz, "dz-fr", "", "FR", 3, None, None),          # blank name, the best French position
              (sp, "top-de", None, "DE", 40, None, None),
              (sp, "global-null", "Top <Global>", None, 12, 1, None),
              (dz, "global-blank", "Deezer World", "", 5, None, None),
              (sp, "top-sg", "Top Singapore", "SG", 9, None, None),  # no shape on the world map
              (sp, "left-us", "Top USA", "US", 0, None, None)]     # position 0: no longer in the chart
    playlists = [(sp, DAY - timedelta(days=1), "p-old", "Old", 100),
                 (sp, DAY, "p-big", "<b>Big</b>", 900), (sp, DAY, "p-blank", "", None),
                 (dz, DAY, "p-null", None, 50)]
    with engine.begin() as conn:
        conn.execute(insert(REACH), [
            {"track_id": tid, "platform_id": pid, "fetched_on": DAY, "chart_slug": slug, "chart_name": name,
             "country_code": country, "position": pos, "peak_position": peak, "peak_date": peak_on}
            for pid, slug, name, country, pos, peak, peak_on in charts])
        conn.execute(insert(PL), [
            {"track_id": tid, "platform_id": pid, "fetched_on": on, "playlist_uuid": uuid, "playlist_name": name,
             "subscribers": followers, "position": 1, "entry_date": date(2026, 10, 2)}
            for pid, on, uuid, name, followers in playlists])
        conn.execute(insert(POP), [{"track_id": tid, "platform_id": sp, "date": DAY - timedelta(days=d),
                                    "value": 60 + d, "fetched_at": utcnow()} for d in range(5)])
    return read_reach(engine, UUID)


def test_a_song_on_no_chart_gets_an_empty_map_and_a_sentence(engine):
    ensure_track(engine, UUID, "Never charted", None, None)
    body = track_reach.reach_cards(UUID, read_reach(engine, UUID))
    box = body[1]
    assert {"reach-charts", "empty-state"} <= classes(box)
    (world,) = marks(box, bq.Map)
    assert world.color == {} and f"soundcharts fetch-reach --track-uuid {UUID}" in html_of(box)
    rest = html_of(body[2])
    assert "No popularity stored for this track." in rest and "No playlists stored for this track." in rest
    assert track_reach.reach_cards(UUID, no_reach())[1].children  # the shape a page reads before any fetch


def test_hostile_rows_shade_the_map_list_global_charts_and_fill_the_tables(engine):
    reach = hostile(engine)
    head, charts, side = track_reach.reach_cards(UUID, reach)
    (world,) = marks(charts, bq.Map)
    assert world.color == {WORLD_MAP_IDS["FR"]: 3, WORLD_MAP_IDS["DE"]: 40}
    names = {g["id"]: g["properties"]["name"] for g in world.map_data["objects"]["subunits"]["geometries"]}
    assert names[WORLD_MAP_IDS["FR"]] == "France: dz-fr (deezer) #3; Top France (spotify) #7"
    assert names[WORLD_MAP_IDS["US"]] == "United States"  # position 0 is no entry; the shared map is not renamed
    assert track_reach.world_map(reach["charts"])[0].marks[0].map_data is not world.map_data
    kept = {g["id"]: g["properties"].get("name") for g in track_reach._world()["objects"]["subunits"]["geometries"]}
    assert kept[WORLD_MAP_IDS["FR"]] == "France"  # a page's tooltips never reach the map the next page starts from
    shown = html_of(charts)
    assert "Top &lt;Global&gt;" in shown and "Deezer World" in shown and "Also charting in SG" in shown
    assert "Top USA" not in shown and "as of 2026-12-03" in shown and "6 charts now (4 in a country)" in shown
    assert shown.count("<tr>") == 7  # the header and every chart it is on now
    assert {"reach-map-figure", "reach-global-list", "reach-chart-table"} <= classes(charts)
    more = html_of(side)
    assert "&lt;b&gt;Big&lt;/b&gt;" in more and "p-blank" in more and "Unnamed" not in more
    assert ">3<" in more and ">950<" in more  # three playlists now; the one without a count adds no followers
    assert "as of 2026-12-03" in more and "Stored popularity snapshots, as of 2026-12-03: spotify 60." in more
    figures = marks(side, bq.Lines)
    # popularity, then playlists per snapshot and platform (deezer: 1 today; spotify: 1 the day before, 2 today)
    assert [list(m.y) for m in figures] == [[64, 63, 62, 61, 60], [1], [1, 2]]


def test_a_darker_shade_is_a_better_position():
    charts = pd.DataFrame({"platform": ["spotify"] * 2, "platform_name": ["Spotify"] * 2, "chart": ["a", "b"],
                           "chart_name": ["A", "B"], "country_code": ["BR", "JP"], "is_global": [False, False],
                           "position": pd.array([1, 200], dtype="Int64"), "fetched_on": [DAY, DAY]})
    figure, unplaced = track_reach.world_map(charts)
    scale = figure.marks[0].scales["color"]
    assert unplaced == [] and (scale.min, scale.max) == (1, 200)
    assert scale.colors == [track_reach.DARK, track_reach.LIGHT]


def audience_of(days: int) -> pd.DataFrame:
    """A growing audience: ``days`` daily values ending on DAY."""
    return pd.DataFrame({"date": [DAY - timedelta(days=days - 1 - d) for d in range(days)],
                         "value": [1_000_000 + 5_000 * d + 37 * (d % 7) for d in range(days)]})


def test_a_forecast_is_drawn_dashed_with_its_band_and_backtest_error_or_says_why_not():
    series = {"spotify": audience_of(120), "deezer": audience_of(20)}
    forecasts = {slug: forecast_series(frame, slug) for slug, frame in series.items()}
    assert forecasts["spotify"].ok and not forecasts["deezer"].ok
    chart = track_reach.with_forecast(lines_chart(series, "value"), forecasts, "value", None)
    figure = chart.children[0]
    band, dashed = figure.marks[2:]
    made = forecasts["spotify"]
    assert band.fill == "between" and list(band.y[1]) == list(made.upper) and dashed.line_style == "dashed"
    assert dashed.y[0] == made.last_value and list(dashed.y[1:]) == list(made.point)
    assert figure.marks[0].scales["y"].max >= max(made.upper)  # the band fits
    caption = html_of(chart)
    assert f"backtest error (last 4 weeks held out) {made.backtest_mape:.1f} % of the audience" in caption
    assert f"<b>deezer</b>: no forecast ({forecasts['deezer'].reason})" in caption
    for mode, end in (("indexed", None), ("value", DAY)):  # a forecast continues stored values only
        plain = track_reach.with_forecast(lines_chart(series, "value"), forecasts, mode, end)
        assert len(plain.children[0].marks) == 2 and "audience-forecast" not in classes(plain)
