"""The track page's reach area in Voila + headless Chromium: for a charting hit whose reach fetch-reach stored from
the local API, the world map's svg with its shaded countries, the global charts, the table of every chart it is on
now (as SQL reads it), popularity and playlists; for a song that never charted, an empty map and a sentence; no
error state on either page."""

from __future__ import annotations

import re

import pytest
from jobs.test_reach import charting_hit
from playwright.sync_api import expect

from soundcharts_lib.curation import roster
from soundcharts_lib.db.store_audience import ensure_track
from soundcharts_lib.ui.world_codes import WORLD_MAP_IDS

from .conftest import cells, expect_rendered, screenshot, sql

pytestmark = pytest.mark.browser

QUIET = "6f1c9a8e-0000-4000-8000-00000000a11e"
LAND = "rgb(229, 231, 235)"  # track_reach.LAND: a country without an entry


@pytest.fixture(scope="module")
def reach_db(dashboard_db, localapi, tmp_path_factory) -> tuple[str, str]:
    """The dashboard database plus the charting hit's reach (fetched by the job) and a song that never charted;
    its URL and the hit's UUID."""
    from conftest import copy_db, local_client

    from soundcharts_lib.db import make_engine
    from soundcharts_lib.jobs.reach import ReachProcessor

    url = copy_db(dashboard_db, tmp_path_factory.mktemp("reach") / "reach.db")
    song = charting_hit(localapi)
    engine = make_engine(url)
    with local_client(localapi) as client:
        result = ReachProcessor(client, engine, progress=False).run(track_uuids=[song.uuid])
    assert result.status == "success", result.errors
    ensure_track(engine, QUIET, "Never charted", None, None)
    roster.add(engine, "track", audience_track(url))  # a roster track with stored audience: its forecast
    engine.dispose()
    return url, song.uuid


def audience_track(url: str) -> str:
    return sql(url, "SELECT t.uuid FROM track_audience a JOIN track t ON t.id = a.track_id GROUP BY t.id "
                    "ORDER BY COUNT(DISTINCT a.date) DESC, t.uuid LIMIT 1")[0][0]


def test_a_charting_hit_shows_its_map_charts_popularity_and_playlists(voila, reach_db, page):
    url, uuid = reach_db
    page.goto(voila(url) + f"/voila/render/track.ipynb?uuid={uuid}")
    expect_rendered(page, ".reach-map-figure svg")
    now = sql(url, """
        SELECT r.position, COALESCE(NULLIF(TRIM(r.chart_name), ''), r.chart_slug), r.country_code
        FROM track_chart_reach r JOIN track t ON t.id = r.track_id
        WHERE t.uuid = ? AND r.position > 0 AND r.fetched_on = (
            SELECT MAX(s.fetched_on) FROM track_chart_reach s WHERE s.track_id = r.track_id
            AND s.platform_id = r.platform_id)""", uuid)
    shown = cells(page, ".reach-chart-table")
    assert len(now) > 1 and sorted((int(row[0]), row[1]) for row in shown) == sorted((p, n) for p, n, _ in now)
    countries = {c.upper() for _, _, c in now if c and c.strip()}
    assert countries and page.locator(".reach-map-figure svg path").count() > 150  # the world's shapes
    shaded = page.eval_on_selector_all(".reach-map-figure svg path:not(.event_layer)", f"""ps => ps.map((p, i) =>
        [i, getComputedStyle(p).fill]).filter(x => x[1].startsWith('rgb') && x[1] !== '{LAND}')""")
    on_map = {c for c in countries if c in WORLD_MAP_IDS}
    assert on_map and len(shaded) == len(on_map)
    page.locator(".reach-map-figure svg path:not(.event_layer)").nth(shaded[0][0]).hover(force=True)
    tip = page.locator(".bqplot_tooltip_div").filter(has_text=" #").first  # drawn at the page's end
    expect(tip).to_contain_text("#")
    entries = {(name, int(pos)) for name, pos in re.findall(r"(?:: |; )(.+?) \([\w-]+\) #(\d+)", tip.inner_text())}
    by_country: dict[str, set] = {}
    for pos, name, country in now:
        if country and country.strip():
            by_country.setdefault(country.upper(), set()).add((name, pos))
    assert entries in by_country.values()  # the hovered country's charts and positions, best first
    global_charts = [n for _, n, c in now if not (c and c.strip())]
    for name in global_charts:
        expect(page.locator(".reach-global-list")).to_contain_text(name)
    expect(page.locator(".reach-charts")).to_contain_text("as of ")
    expect(page.locator(".reach-popularity .bqplot svg.svg-figure")).to_be_visible()
    expect(page.locator(".reach-playlists .reach-playlist-table tbody tr").first).to_be_visible()
    count, = sql(url, """SELECT COUNT(*) FROM playlist_snapshot p JOIN track t ON t.id = p.track_id WHERE t.uuid = ?
                         AND p.fetched_on = (SELECT MAX(fetched_on) FROM playlist_snapshot q
                         WHERE q.track_id = p.track_id AND q.platform_id = p.platform_id)""", uuid)[0]
    expect(page.locator(".reach-playlist-kpis .sc-kpi").first).to_have_text(f"{count:,}")
    path = screenshot(page, "track-reach")
    page.locator(".reach-charts").screenshot(path=str(path.with_name("track-reach-map.png")))
    assert path.stat().st_size > 20_000


def test_a_song_that_never_charted_gets_an_empty_map_and_a_sentence(voila, reach_db, page):
    url, _ = reach_db
    page.goto(voila(url) + f"/voila/render/track.ipynb?uuid={QUIET}")
    expect_rendered(page, ".reach-map-figure svg")
    expect(page.locator(".reach-charts .empty-state")).to_contain_text("Not on any chart in the stored reach")
    expect(page.locator(".reach-popularity")).to_contain_text("No popularity stored for this track.")
    expect(page.locator(".reach-chart-table")).to_have_count(0)
    screenshot(page, "track-reach-never-charted")


def test_a_roster_track_shows_its_forecast_on_the_audience_figure(voila, reach_db, page):
    url, _ = reach_db
    uuid = audience_track(url)
    page.goto(voila(url) + f"/voila/render/track.ipynb?uuid={uuid}")
    expect_rendered(page, ".audience-growth")
    caption = page.locator(".audience .audience-forecast")
    expect(caption).to_contain_text("Forecast (roster track):")
    days, = sql(url, "SELECT COUNT(DISTINCT a.date) FROM track_audience a JOIN track t ON t.id = a.track_id "
                     "WHERE t.uuid = ?", uuid)[0]
    if days >= 56:  # 28 days to fit and 4 weeks held out
        expect(caption).to_contain_text("backtest error (last 4 weeks held out)")
        expect(page.locator(".audience .bqplot path.line[style*='stroke-dasharray']").first).to_be_attached()
    else:
        expect(caption).to_contain_text("no forecast (")
    page.locator(".audience").screenshot(path=str(screenshot(page, "track-forecast").with_name(
        "track-forecast-audience.png")))
