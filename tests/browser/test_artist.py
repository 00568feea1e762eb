"""The artist dashboard in Voila + headless Chromium, checked against SQL: on the synced warehouse with every track's
metadata (their artists) and the followers and listeners of the busiest track's artists fetched from the local API:
who, their tracks, the positions figure, followers and listeners with their growth, a CSV download; the track page's
and the overview's artist links lead to it; an artist with nothing but a hostile name renders whole; an unknown or
malformed UUID says no such artist is stored."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
from conftest import copy_db, local_client
from playwright.sync_api import expect
from sqlalchemy.engine import make_url

from soundcharts_lib.curation import annotations
from soundcharts_lib.db import make_engine
from soundcharts_lib.jobs.artists import ArtistDataProcessor
from soundcharts_lib.jobs.metadata import store_metadata

from .conftest import PAYLOAD_ARTIST, artist_hrefs, cells, download_csv, expect_rendered, screenshot, sql
from .test_track import growth_text

pytestmark = pytest.mark.browser

BARE = "00000000-0000-4000-8000-00000000ba4e"  # an artist stored with nothing but a name
BUSIEST_ARTIST = """SELECT a.uuid, a.name FROM artist a JOIN track_artist ta ON ta.artist_id = a.id
                    JOIN chart_ranking_entry e ON e.track_id = ta.track_id JOIN chart_ranking r ON r.id = e.ranking_id
                    WHERE r.status = 'success' GROUP BY a.id ORDER BY COUNT(*) DESC, a.uuid LIMIT 1"""


@pytest.fixture(scope="module")
def artist_db(synced_sqlite_url, localapi, tmp_path_factory) -> str:
    """The synced warehouse plus every track's metadata (their artists), the followers and listeners of the busiest
    artist and of the busiest track's artists, a note on the busiest artist's busiest track, and an artist stored with
    nothing but a hostile name (no image, an empty country)."""
    url = copy_db(synced_sqlite_url, tmp_path_factory.mktemp("artist") / "artist.db")
    engine = make_engine(url)
    with local_client(localapi) as client:
        meta = store_metadata(client, engine, progress=False)
        busiest_track = sql(url, "SELECT t.uuid FROM chart_ranking_entry e JOIN track t ON t.id = e.track_id "
                                 "WHERE t.id IN (SELECT track_id FROM track_artist) "
                                 "GROUP BY t.id ORDER BY COUNT(*) DESC, t.uuid LIMIT 1")[0][0]
        wanted = [u for (u,) in sql(url, "SELECT a.uuid FROM artist a JOIN track_artist ta ON ta.artist_id = a.id "
                                         "JOIN track t ON t.id = ta.track_id WHERE t.uuid = ?", busiest_track)]
        artists = ArtistDataProcessor(client, engine, progress=False).run(
            artist_uuids=list(dict.fromkeys([sql(url, BUSIEST_ARTIST)[0][0], *wanted])))
    assert meta.status == "success" and artists.status == "success", (meta.errors, artists.errors)
    top_track, first_day = sql(url, """SELECT t.uuid, MIN(e.ranking_date) FROM chart_ranking_entry e
        JOIN track t ON t.id = e.track_id JOIN track_artist ta ON ta.track_id = t.id
        JOIN artist a ON a.id = ta.artist_id WHERE a.uuid = ? GROUP BY t.id ORDER BY COUNT(*) DESC, t.uuid LIMIT 1""",
                               sql(url, BUSIEST_ARTIST)[0][0])[0]
    annotations.add(engine, top_track, date.fromisoformat(first_day), "radio push", kind="campaign", actor="test")
    engine.dispose()
    conn = sqlite3.connect(make_url(url).database)
    conn.execute("INSERT INTO artist (uuid, name, image_url, country_code, genres) VALUES (?, ?, '', '', '[]')",
                 (BARE, PAYLOAD_ARTIST))
    conn.commit()
    conn.close()
    return url


def expected_tracks(db_url: str, uuid: str) -> list[tuple]:
    """name, charts, entries, best position of the artist's stored tracks, most entries first (successful
    rankings only)."""
    return sql(db_url, """
        SELECT t.name, COUNT(DISTINCT e.chart_id), COUNT(e.track_id), MIN(e.position)
        FROM track_artist ta JOIN artist a ON a.id = ta.artist_id JOIN track t ON t.id = ta.track_id
        LEFT JOIN chart_ranking_entry e ON e.track_id = t.id
             AND e.ranking_id IN (SELECT id FROM chart_ranking WHERE status = 'success')
        WHERE a.uuid = ? GROUP BY t.id ORDER BY COUNT(e.track_id) DESC, MIN(e.position) IS NULL, MIN(e.position)""",
               uuid)


def series_by_date(db_url: str, uuid: str, table: str, column: str) -> dict[str, dict[date, int]]:
    out: dict[str, dict[date, int]] = {}
    for slug, day, value in sql(db_url, f"""
            SELECT p.slug, s.date, s.{column} FROM {table} s JOIN artist a ON a.id = s.artist_id
            JOIN platform p ON p.id = s.platform_id WHERE a.uuid = ?""", uuid):
        out.setdefault(slug, {})[date.fromisoformat(day)] = value
    return dict(sorted(out.items()))


def growth_shown(values: dict[date, int], days: int) -> str:
    shown = growth_text(values, days)
    return "not enough history" if shown == "–" else shown


def test_artist_page_matches_sql(voila, artist_db, page):
    uuid, name = sql(artist_db, BUSIEST_ARTIST)[0]
    page.goto(f"{voila(artist_db)}/voila/render/artist.ipynb?uuid={uuid}")
    expect_rendered(page, ".artist-followers-growth")
    expect(page.locator(".artist-summary h2")).to_have_text(name)
    tracks = expected_tracks(artist_db, uuid)
    shown = cells(page, ".artist-tracks")
    assert [(row[0], row[3], row[4], row[5]) for row in shown] == [
        (n, str(charts), f"{entries:,}", "" if best is None else str(best)) for n, charts, entries, best in tracks]
    kpis = page.locator(".artist-kpis .sc-kpi").all_inner_texts()
    assert kpis[:2] == [str(len(tracks)), str(sum(1 for t in tracks if t[2]))]
    assert kpis[3] == f"{sum(t[2] for t in tracks):,}" and kpis[4] == str(min(t[3] for t in tracks if t[3]))
    charts = len(cells(page, ".artist-positions"))
    expect(page.locator(".artist-positions .bqplot path.line")).to_have_count(min(8, charts) + 1)  # + the note
    expect(page.locator(".artist-positions .bqplot")).to_contain_text("campaign")  # the note, drawn on
    for kind, table, column in (("followers", "artist_audience", "followers"),
                                ("listeners", "artist_listeners", "value")):
        stored = series_by_date(artist_db, uuid, table, column)
        assert stored, f"the local API served no {kind} for the busiest artist"
        assert cells(page, f".artist-{kind}-growth") == [
            [slug, f"{v[max(v)]:,}", max(v).isoformat(), min(v).isoformat(),
             *(growth_shown(v, n) for n in (7, 28, 90))] for slug, v in stored.items()]
        expect(page.locator(f".artist-{kind} .bqplot path.line").first).to_be_visible()
    screenshot(page, "artist")
    name_csv, rows = download_csv(page, ".artist-tracks")
    assert name_csv == "artist-tracks.csv" and [r["name"] for r in rows] == [t[0] for t in tracks]
    assert page.evaluate("window.__pwned") is None


def test_the_track_pages_artist_link_leads_to_the_artist_page(voila, artist_db, page):
    track = sql(artist_db, "SELECT t.uuid FROM chart_ranking_entry e JOIN track t ON t.id = e.track_id "
                           "WHERE t.id IN (SELECT track_id FROM track_artist) "  # some tracks have none
                           "GROUP BY t.id ORDER BY COUNT(*) DESC, t.uuid LIMIT 1")[0][0]
    artists = sql(artist_db, """SELECT a.uuid, a.name FROM artist a JOIN track_artist ta ON ta.artist_id = a.id
                                JOIN track t ON t.id = ta.track_id WHERE t.uuid = ? ORDER BY ta.position, a.name""",
                  track)
    page.goto(f"{voila(artist_db)}/voila/render/track.ipynb?uuid={track}&theme=dark")
    expect_rendered(page, ".track-summary a.artist-link")
    links = page.locator(".track-summary a.artist-link")
    assert [a.get_attribute("href") for a in links.all()] == [f"artist.ipynb?uuid={u}&theme=dark" for u, _ in artists]
    links.first.click()
    page.wait_for_url("**/artist.ipynb?**")
    expect_rendered(page, ".artist-followers-growth")
    expect(page.locator(".artist-summary h2")).to_have_text(artists[0][1])
    expect(page.locator(".sc-page.sc-dark")).to_have_count(1)  # the link kept the theme


def test_the_overviews_top_artists_lead_to_their_pages(voila, artist_db, page):
    page.goto(f"{voila(artist_db)}/voila/render/overview.ipynb")
    expect_rendered(page, ".top-artists tbody tr")
    uuid, name = sql(artist_db, BUSIEST_ARTIST)[0]
    first = cells(page, ".top-artists")[0]
    assert first[:2] == ["1", name]
    assert artist_hrefs(page, ".top-artists")[0] == f"artist.ipynb?uuid={uuid}"
    assert artist_hrefs(page, ".top-tracks")  # the top tracks' artists are links too
    screenshot(page, "overview-top-artists")
    page.locator(".top-artists a.artist-link").first.click()
    page.wait_for_url("**/artist.ipynb?**")
    expect_rendered(page, ".artist-tracks tbody tr")


def test_an_artist_with_nothing_but_a_name_renders_whole(voila, artist_db, page):
    page.goto(f"{voila(artist_db)}/voila/render/artist.ipynb?uuid={BARE}")
    expect_rendered(page, ".artist-listeners")
    expect(page.locator(".artist-summary h2")).to_have_text(PAYLOAD_ARTIST)  # as text, never markup
    expect(page.locator(".artist-placeholder")).to_be_visible()
    expect(page.locator(".artist-image")).to_have_count(0)
    expect(page.locator(".artist-tracks")).to_contain_text("No track of this artist is stored")
    expect(page.locator(".artist-followers")).to_contain_text(f"soundcharts fetch-artists --artist-uuid {BARE}")
    assert page.evaluate("window.__pwned") is None
    screenshot(page, "artist-bare")


@pytest.mark.parametrize("query, words", [
    ("uuid=00000000-0000-4000-8000-00000000abcd", "no artist '00000000-0000-4000-8000-00000000abcd' is stored"),
    ("uuid=%3Cb%3Enope", "no artist '<b>nope' is stored (not a SoundCharts UUID)"),
    ("", "the link has no uuid"),
])
def test_an_unknown_or_malformed_artist_is_one_message(voila, artist_db, page, query, words):
    page.goto(f"{voila(artist_db)}/voila/render/artist.ipynb?{query}")
    expect(page.locator(".notfound-state, .error-state")).to_contain_text(words, timeout=60_000)
    assert "Traceback" not in page.inner_text("body") and page.locator(".artist-summary").count() == 0
