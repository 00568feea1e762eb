"""The labels and compare dashboards in Voila + headless Chromium, on the synced warehouse with every track's metadata
(their labels and artists), the audience of its three busiest tracks and six artists' followers and listeners fetched
from the local API: the top labels against SQL, the scope controls, the roster's label starred; tracks and artists
side by side against SQL, indexed to 100; the track page's "compare with" picker; bad links as one message."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from conftest import copy_db, local_client
from playwright.sync_api import expect

from soundcharts_lib.curation import roster
from soundcharts_lib.db import make_engine
from soundcharts_lib.jobs.artists import ArtistDataProcessor
from soundcharts_lib.jobs.audience import AudienceDataProcessor
from soundcharts_lib.jobs.metadata import store_metadata
from soundcharts_lib.warehouse.compare_pages import unique_labels

from .conftest import PAGE_TIMEOUT_MS, cells, expect_rendered, screenshot, sql

pytestmark = pytest.mark.browser

DAYS = 14
BUSIEST = """SELECT t.uuid, t.name FROM chart_ranking_entry e JOIN track t ON t.id = e.track_id
             GROUP BY t.id ORDER BY COUNT(*) DESC, t.uuid LIMIT ?"""


@pytest.fixture(scope="module")
def labels_db(synced_sqlite_url, localapi, tmp_path_factory) -> str:
    """The synced warehouse plus every track's metadata, the audience of the 3 busiest tracks, 6 artists' followers
    and listeners, and the busiest track of the label holding the 3rd most entries on the roster."""
    url = copy_db(synced_sqlite_url, tmp_path_factory.mktemp("labels") / "labels.db")
    engine = make_engine(url)
    with local_client(localapi) as client:
        meta = store_metadata(client, engine, progress=False)
        AudienceDataProcessor(client, engine, progress=False).run(track_uuids=[u for u, _ in sql(url, BUSIEST, 3)])
        artists = ArtistDataProcessor(client, engine, progress=False).run(limit=6)
    assert meta.status == "success" and artists.status == "success", (meta.errors, artists.errors)
    third = top_labels(url)[2][0]
    uuid, = sql(url, """SELECT t.uuid FROM track t, json_each(t.labels) l JOIN chart_ranking_entry e
                        ON e.track_id = t.id WHERE l.value = ? GROUP BY t.id ORDER BY COUNT(*) DESC, t.uuid
                        LIMIT 1""", third)[0]
    roster.add(engine, "track", uuid, actor="test")
    engine.dispose()
    return url


def top_labels(db_url: str, platform: str | None = None) -> list[tuple[str, int, float]]:
    """(label, entries, share) over the last DAYS ranking dates of successful rankings, the test's own SQL: an
    entry counts in full for each of its track's labels and is split between them in the share (every label of
    the local catalog is spelled one way, and a track's labels differ)."""
    scope = "AND p.slug = ?" if platform else ""
    args = (platform,) * 2 if platform else ()
    window = f"""FROM chart_ranking_entry e JOIN chart_ranking r ON r.id = e.ranking_id JOIN chart c
                 ON c.id = r.chart_id JOIN platform p ON p.id = c.platform_id JOIN track t ON t.id = e.track_id
                 WHERE r.status = 'success' {scope} AND r.ranking_date > (
                     SELECT date(MAX(r2.ranking_date), '-{DAYS} days') FROM chart_ranking r2
                     JOIN chart c2 ON c2.id = r2.chart_id JOIN platform p2 ON p2.id = c2.platform_id
                     WHERE r2.status = 'success' {scope.replace('p.', 'p2.')})"""
    total, = sql(db_url, f"SELECT COUNT(*) {window}", *args)[0]
    rows = sql(db_url, f"""SELECT l.value, COUNT(*), SUM(1.0 / json_array_length(t.labels))
                           {window.replace('JOIN track t ON t.id = e.track_id',
                                           'JOIN track t ON t.id = e.track_id, json_each(t.labels) l')}
                           GROUP BY l.value""", *args)
    return sorted(((label, n, weight / total) for label, n, weight in rows), key=lambda r: (-r[2], -r[1], r[0]))


def test_top_labels_share_and_scope(voila, labels_db, page):
    page.goto(f"{voila(labels_db)}/voila/render/labels.ipynb?days={DAYS}")
    expect_rendered(page, ".top-labels tbody tr")
    expect(page.locator(".label-share .bqplot svg.svg-figure")).to_be_visible()
    expected = top_labels(labels_db)
    shown = cells(page, ".top-labels")
    assert [(row[1].replace("★ your roster", "").strip(), row[3], row[2]) for row in shown] == [
        (label, f"{n:,}", f"{share * 100:.1f}%") for label, n, share in expected]
    starred = [row[1] for row in shown if "★ your roster" in row[1]]
    assert starred and any(expected[2][0] in label for label in starred)  # the roster track's label
    legend = page.locator(".label-legend").inner_text()
    assert all(label in legend for label, _, _ in expected[:8]) and "No label stored" in legend
    screenshot(page, "labels")

    page.locator(".labels-platform select").select_option(label="Deezer")
    expect(page.locator(".permalink a")).to_have_attribute("href", f"labels.ipynb?platform=deezer&days={DAYS}")
    expect_rendered(page, ".top-labels tbody tr")
    deezer = top_labels(labels_db, "deezer")
    expect(page.locator(".top-labels tbody tr")).to_have_count(len(deezer))
    assert [row[3] for row in cells(page, ".top-labels")] == [f"{n:,}" for _, n, _ in deezer]
    charts = [name.replace("\xa0", " ") for name in page.locator(".labels-chart select option").all_inner_texts()]
    assert charts[0] == "All charts" and all("deezer" in name.lower() for name in charts[1:])


@pytest.mark.parametrize("start, where, scope", [
    ("overview.ipynb", ".top-platforms", {}),
    ("platform.ipynb?slug=deezer", ".platform-summary", {"platform": ["deezer"]}),
    ("chart.ipynb?slug=spotify-top-200-us-daily", ".chart-summary", {"chart": ["spotify-top-200-us-daily"]}),
])
def test_the_overview_platform_and_chart_pages_lead_to_their_labels_share(voila, labels_db, page, start, where,
                                                                           scope):
    page.goto(f"{voila(labels_db)}/voila/render/{start}")
    expect_rendered(page, f"{where} a.labels-link")
    href = page.locator(f"{where} a.labels-link").get_attribute("href")
    assert urlparse(href).path == "labels.ipynb" and parse_qs(urlparse(href).query) == scope
    page.locator(f"{where} a.labels-link").click()
    page.wait_for_url("**/labels.ipynb**")
    expect_rendered(page, ".top-labels tbody tr")
    if "platform" in scope:
        expect(page.locator(".labels-platform select option:checked")).to_have_text("Deezer")
    if "chart" in scope:
        name = sql(labels_db, "SELECT name FROM chart WHERE slug = ?", scope["chart"][0])[0][0]
        expect(page.locator(".labels-chart select option:checked")).to_have_text(name)


@pytest.mark.parametrize("query, words", [
    ("days=999", "days must be a whole number from 1 to 365, got '999'"),
    ("platform=Deezer!", "platform must be a code of lowercase letters"),
    ("chart=spotify-top-200-us-daily&platform=deezer", "is a chart of 'spotify', not of 'deezer'"),
])
def test_a_bad_labels_link_is_one_message(voila, labels_db, page, query, words):
    page.goto(f"{voila(labels_db)}/voila/render/labels.ipynb?{query}")
    expect(page.locator(".error-state, .notfound-state")).to_contain_text(words, timeout=60_000)
    assert "Traceback" not in page.inner_text("body")


def chart_entries(db_url: str, uuid: str) -> int:
    return sql(db_url, """SELECT COUNT(*) FROM chart_ranking_entry e JOIN chart_ranking r ON r.id = e.ranking_id
                          JOIN track t ON t.id = e.track_id WHERE t.uuid = ? AND r.status = 'success'""", uuid)[0][0]


def test_tracks_side_by_side(voila, labels_db, page):
    tracks = sql(labels_db, BUSIEST, 3)
    page.goto(f"{voila(labels_db)}/voila/render/compare.ipynb?tracks={','.join(u for u, _ in tracks)}")
    expect_rendered(page, ".compare-figures tbody tr")
    head = page.eval_on_selector_all(".compare-figures thead th", "cells => cells.map(c => c.textContent.trim())")
    assert head == ["", *[name for _, name in tracks]]
    figures = {row[0]: row[1:] for row in cells(page, ".compare-figures")}
    assert figures["Chart entries"] == [f"{chart_entries(labels_db, u):,}" for u, _ in tracks]
    platforms = sql(labels_db, """SELECT COUNT(DISTINCT a.platform_id) FROM track_audience a JOIN track t
                                  ON t.id = a.track_id WHERE t.uuid IN (?, ?, ?)""", *[u for u, _ in tracks])[0][0]
    expect(page.locator(".compare-audience .lm-TabBar-tab")).to_have_count(platforms)
    expect(page.locator(".compare-audience .bqplot path.line").first).to_be_visible()
    assert page.locator(".compare-charts tbody tr").count() >= 1
    screenshot(page, "compare-tracks")
    page.get_by_role("button", name="Indexed to 100").click()  # from a snapshot page: live (the page loads again)
    expect(page.locator(".compare-audience")).to_contain_text("100 = each one's last value on or before",
                                                              timeout=PAGE_TIMEOUT_MS)
    expect(page.locator(".compare-audience .bqplot path.line").first).to_be_visible()
    expect_rendered(page, ".compare-figures")


def test_artists_side_by_side_with_their_followers_and_listeners(voila, labels_db, page):
    artists = sql(labels_db, """SELECT a.uuid, a.name FROM artist a JOIN artist_audience f ON f.artist_id = a.id
                                GROUP BY a.id ORDER BY COUNT(*) DESC, a.uuid LIMIT 2""")
    page.goto(f"{voila(labels_db)}/voila/render/compare.ipynb?artists={artists[0][0]}&artists={artists[1][0]}"
              "&mode=indexed")
    expect_rendered(page, ".compare-figures tbody tr")
    tabs = page.locator(".compare-audience .lm-TabBar-tab").all_inner_texts()
    assert "spotify · followers" in tabs and "spotify · listeners" in tabs
    latest = {uuid: sql(labels_db, """SELECT f.followers FROM artist_audience f JOIN artist a ON a.id = f.artist_id
                                      JOIN platform p ON p.id = f.platform_id WHERE a.uuid = ? AND p.slug = 'spotify'
                                      ORDER BY f.date DESC LIMIT 1""", uuid)[0][0] for uuid, _ in artists}
    figures = {row[0]: row[1:] for row in cells(page, ".compare-figures")}
    assert figures["spotify followers"] == [f"{latest[u]:,}" for u, _ in artists]
    assert [a.get_attribute("href") for a in page.locator(".compare-items a").all()] == [
        f"artist.ipynb?uuid={u}" for u, _ in artists]
    screenshot(page, "compare-artists")


def test_unknown_items_are_named_and_left_out(voila, labels_db, page):
    (known, name), = sql(labels_db, BUSIEST, 1)
    unknown = "00000000-0000-4000-8000-00000000abcd"
    page.goto(f"{voila(labels_db)}/voila/render/compare.ipynb?tracks={known},{unknown}")
    expect_rendered(page, ".compare-figures")
    expect(page.locator(".compare-unknown")).to_have_text(f"Not stored, left out: {unknown}")
    expect(page.locator(".compare-summary")).to_contain_text(name)


@pytest.mark.parametrize("query, words", [
    ("tracks=" + ",".join(f"00000000-0000-4000-8000-00000000000{i}" for i in range(7)),
     "at most 6 tracks can be compared; the link has 7: leave out 00000000-0000-4000-8000-000000000006"),
    ("tracks=abc,<b>x</b>", "tracks must be SoundCharts UUIDs; not one: 'abc', '<b>x</b>'"),
    ("artists=00000000-0000-4000-8000-000000000001&tracks=00000000-0000-4000-8000-000000000002",
     "give tracks or artists to compare, not both"),
    ("", "the link has nothing to compare"),
    ("tracks=00000000-0000-4000-8000-00000000abcd", "no track is stored for 00000000-0000-4000-8000-00000000abcd"),
])
def test_a_bad_compare_link_is_one_message(voila, labels_db, page, query, words):
    page.goto(f"{voila(labels_db)}/voila/render/compare.ipynb?{query}")
    expect(page.locator(".error-state, .notfound-state")).to_contain_text(words, timeout=60_000)
    assert "Traceback" not in page.inner_text("body") and page.evaluate("window.__pwned") is None


def test_the_track_pages_picker_opens_the_comparison(voila, labels_db, page):
    (uuid, name), = sql(labels_db, BUSIEST, 1)
    page.goto(f"{voila(labels_db)}/voila/render/track.ipynb?uuid={uuid}")
    expect_rendered(page, ".compare-picker select")
    options = page.locator(".compare-picker option")
    assert options.count() >= 5
    other = options.nth(1).get_attribute("value")
    page.locator(".compare-picker select").select_option(other)
    page.locator(".compare-picker button").click()
    page.wait_for_url("**/compare.ipynb?**")
    assert parse_qs(urlparse(page.url).query)["tracks"] == [uuid, other]
    expect_rendered(page, ".compare-figures tbody tr")
    other_name, = sql(labels_db, "SELECT name FROM track WHERE uuid = ?", other)[0]
    head = page.eval_on_selector_all(".compare-figures thead th", "cells => cells.map(c => c.textContent.trim())")
    assert head[1:] == unique_labels([name, other_name])
