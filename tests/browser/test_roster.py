"""Roster, alerts and notes on the viewer dashboards in Voila + headless Chromium, checked against plain SQL: the
overview's recent alerts, the "My roster only" toggle and its ``?roster=1`` deep link on the overview, chart and
platform pages (tables and CSV), and a track's notes drawn on its charts with its roster state."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from conftest import copy_db
from playwright.sync_api import expect

from soundcharts_lib.curation import alerts, annotations, roster
from soundcharts_lib.db import make_engine
from soundcharts_lib.db.models import utcnow
from soundcharts_lib.jobs.sync import today_utc
from soundcharts_lib.ui.annotations import NOTE_COLOUR

from .conftest import PAGE_TIMEOUT_MS, cells, download_csv, expect_rendered, hrefs, screenshot, sql

pytestmark = pytest.mark.browser

RENDER = "/voila/render/"
CHART = "spotify-top-200-global-daily"
LATEST = """SELECT t.uuid FROM chart_ranking_entry e JOIN chart_ranking r ON r.id = e.ranking_id
            JOIN chart c ON c.id = r.chart_id JOIN track t ON t.id = e.track_id WHERE c.slug = ? AND e.position = ?
            AND r.ranking_date = (SELECT MAX(ranking_date) FROM chart_ranking WHERE chart_id = c.id
                                  AND status = 'success')"""
ROSTER_TRACKS = """SELECT t.uuid FROM track t JOIN watch_item w ON w.kind = 'track' AND w.uuid = t.uuid
    UNION SELECT t.uuid FROM track t JOIN track_artist ta ON ta.track_id = t.id JOIN artist a ON a.id = ta.artist_id
    JOIN watch_item w ON w.kind = 'artist' AND w.uuid = a.uuid"""


@pytest.fixture(scope="module")
def followed(dashboard_db, tmp_path_factory) -> dict:
    """A copy of the dashboard database with a top-10 rule evaluated (its alerts), a roster (a track that entered
    the top 10, the chart's #3 and #40, the most-charted track, the artist of the #1) and two notes on the
    most-charted track, on two of its ranking dates."""
    url = copy_db(dashboard_db, tmp_path_factory.mktemp("followed") / "followed.db")
    engine = make_engine(url)
    alerts.add_rule(engine, "top10", "top_entry", {"n": 10, "chart": CHART}, actor="test")
    alerts.evaluate(engine)
    entered = alerts.recent_alerts(engine)["details"].iloc[-1]["track_uuid"]
    top = sql(url, "SELECT t.uuid FROM chart_ranking_entry e JOIN track t ON t.id = e.track_id GROUP BY t.id "
                   "ORDER BY COUNT(*) DESC, t.uuid LIMIT 1")[0][0]
    for uuid in (entered, sql(url, LATEST, CHART, 3)[0][0], sql(url, LATEST, CHART, 40)[0][0], top):
        roster.add(engine, "track", uuid, actor="test")
    artist = sql(url, "SELECT a.uuid FROM artist a JOIN track_artist ta ON ta.artist_id = a.id JOIN track t "
                      "ON t.id = ta.track_id WHERE t.uuid = ? LIMIT 1", sql(url, LATEST, CHART, 1)[0][0])
    if artist:
        roster.add(engine, "artist", artist[0][0], actor="test")
    days = [datetime.fromisoformat(d).date() for (d,) in sql(
        url, "SELECT DISTINCT r.ranking_date FROM chart_ranking_entry e JOIN chart_ranking r ON r.id = e.ranking_id "
             "JOIN track t ON t.id = e.track_id WHERE t.uuid = ? ORDER BY 1", top)]
    annotations.add(engine, top, days[1], "Single <out> on every platform", kind="release", actor="test")
    annotations.add(engine, top, days[-2], "TV campaign", kind="campaign", actor="test")
    engine.dispose()
    return {"url": url, "top": top, "mine": {u for (u,) in sql(url, ROSTER_TRACKS)}}


NOTE_RGB = "rgb({}, {}, {})".format(*bytes.fromhex(NOTE_COLOUR[1:]))


def expected_alerts(url: str, mine: set[str] | None = None) -> list[list[str]]:
    rows = sql(url, """SELECT a.fired_at, r.name, r.kind, a.subject, a.details FROM alert a
                       JOIN alert_rule r ON r.id = a.rule_id WHERE a.fired_at >= ?
                       ORDER BY a.fired_at DESC, a.id DESC LIMIT 50""", str(utcnow() - timedelta(days=7)))
    out = []
    for fired, rule, kind, subject, details in rows:
        d = json.loads(details)
        if mine is None or d.get("track_uuid") in mine:
            out.append([datetime.fromisoformat(fired).strftime("%Y-%m-%d %H:%M UTC"), f"{rule} {kind}", subject,
                        d.get("track", ""), credit_shown(url, d.get("track_uuid"), d.get("artist") or ""),
                        d.get("chart_name", "")])
    return out


def credit_shown(url: str, track_uuid: str | None, credit: str) -> str:
    """The artist cell's text: the credit, then the track's stored artists it does not name (" · ", comma-separated)."""
    names = [n for (n,) in sql(url, "SELECT a.name FROM artist a JOIN track_artist ta ON ta.artist_id = a.id "
                                    "JOIN track t ON t.id = ta.track_id WHERE t.uuid = ? ORDER BY ta.position, a.name",
                               track_uuid)]
    rest = [n for n in names if n not in credit]
    return credit + (" · " if credit and rest else "") + ", ".join(rest)


def expected_top_tracks(url: str, mine: set[str]) -> list[tuple]:
    today = today_utc()
    rows = sql(url, """
        SELECT t.uuid, t.name, COALESCE(t.credit_name, ''), COUNT(*) AS appearances
        FROM chart_ranking_entry e JOIN chart_ranking r ON r.id = e.ranking_id JOIN track t ON t.id = e.track_id
        WHERE r.status = 'success' AND r.ranking_date BETWEEN ? AND ?
        GROUP BY t.id ORDER BY appearances DESC, t.name, t.uuid""",
               (today - timedelta(days=29)).isoformat(), today.isoformat())
    return [r for r in rows if r[0] in mine][:10]


def test_overview_alerts_and_the_roster_toggle(voila, followed, page):
    url, mine = followed["url"], followed["mine"]
    page.goto(voila(url) + RENDER + "overview.ipynb")
    expect_rendered(page, ".recent-alerts")
    shown = expected_alerts(url)
    assert len(shown) >= 2 and cells(page, ".recent-alerts") == shown
    details = [json.loads(d) for (d,) in sql(url, "SELECT details FROM alert ORDER BY fired_at DESC, id DESC")]
    assert hrefs(page, ".recent-alerts")[:2] == [f"track.ipynb?uuid={details[0]['track_uuid']}",
                                                  f"chart.ipynb?slug={CHART}&date={details[0]['date']}"]
    assert len(cells(page, ".top-tracks")) == 10
    screenshot(page, "overview-alerts")

    page.locator("button.roster-toggle").click()  # from a snapshot page: live (the page loads again)
    expect(page.locator(".top-tracks .sc-card-title")).to_have_text("Top tracks · 30 days · your roster",
                                                                    timeout=PAGE_TIMEOUT_MS)
    expect_rendered(page, ".top-tracks")
    tracks = expected_top_tracks(url, mine)
    assert len(tracks) >= 3
    assert cells(page, ".top-tracks") == [[str(i), name, artist, f"{n:,}"]
                                           for i, (_, name, artist, n) in enumerate(tracks, 1)]
    assert hrefs(page, ".top-tracks") == [f"track.ipynb?uuid={uuid}&roster=1" for uuid, *_ in tracks]  # kept on
    roster_alerts = expected_alerts(url, mine)
    assert roster_alerts and len(roster_alerts) < len(shown)
    assert cells(page, ".recent-alerts") == roster_alerts
    expect(page.locator(".roster-link a")).to_have_attribute("href", "?roster=1")
    name, rows = download_csv(page, ".top-tracks")
    assert name == "overview-tracks.csv" and [r["uuid"] for r in rows] == [t[0] for t in tracks]
    screenshot(page, "overview-roster")

    page.locator("button.roster-toggle").click()  # off again: every track
    expect(page.locator(".top-tracks .sc-card-title")).to_have_text("Top tracks · 30 days")
    expect(page.locator(".top-tracks tbody tr")).to_have_count(10)
    assert not any("roster" in href for href in hrefs(page, ".top-tracks"))


def test_roster_deep_links_on_the_overview_chart_and_platform(voila, followed, page):
    url, mine = followed["url"], followed["mine"]
    base = voila(url) + RENDER
    page.goto(base + "overview.ipynb?roster=1")
    expect_rendered(page, ".top-tracks")
    expect(page.locator("button.roster-toggle")).to_have_class(re.compile("mod-active"))
    assert [r[1] for r in cells(page, ".top-tracks")] == [t[1] for t in expected_top_tracks(url, mine)]

    page.goto(base + f"chart.ipynb?slug={CHART}&roster=1")
    expect_rendered(page, ".chart-ranking")
    ranking = sql(url, """SELECT e.position, t.uuid, t.name FROM chart_ranking_entry e
        JOIN chart_ranking r ON r.id = e.ranking_id JOIN chart c ON c.id = r.chart_id JOIN track t ON t.id = e.track_id
        WHERE c.slug = ? AND r.ranking_date = (SELECT MAX(ranking_date) FROM chart_ranking WHERE chart_id = c.id
        AND status = 'success') ORDER BY e.position""", CHART)
    kept = [(str(p), name) for p, uuid, name in ranking if uuid in mine]
    assert {"3", "40"} <= {p for p, _ in kept}
    assert [(r[0], r[3]) for r in cells(page, ".chart-ranking")] == kept
    movers = {href for css in (".climbers", ".fallers", ".new-entries", ".dropouts") for href in hrefs(page, css)}
    assert movers <= {f"track.ipynb?uuid={u}&roster=1" for u in mine}
    name, rows = download_csv(page, ".chart-ranking")
    assert [int(r["position"]) for r in rows] == [int(p) for p, _ in kept]
    screenshot(page, "chart-roster")
    page.locator("button.roster-toggle").click()  # it takes the page live: a kernel starts
    expect(page.locator(".chart-ranking tbody tr")).to_have_count(len(ranking), timeout=60_000)

    page.goto(base + "platform.ipynb?slug=spotify&roster=1")
    expect_rendered(page, ".platform-tracks")
    today = today_utc()
    tracks = [name for uuid, name in sql(url, """
        SELECT t.uuid, t.name FROM chart_ranking_entry e JOIN chart_ranking r ON r.id = e.ranking_id
        JOIN chart c ON c.id = r.chart_id JOIN platform p ON p.id = c.platform_id JOIN track t ON t.id = e.track_id
        WHERE p.slug = 'spotify' AND r.status = 'success' AND r.ranking_date BETWEEN ? AND ?
        GROUP BY t.id ORDER BY COUNT(*) DESC, MIN(e.position), t.name, t.uuid""",
        (today - timedelta(days=29)).isoformat(), today.isoformat()) if uuid in mine][:20]
    assert tracks and [r[1] for r in cells(page, ".platform-tracks")] == tracks
    screenshot(page, "platform-roster")


def test_track_notes_are_drawn_and_listed_with_the_roster_state(voila, followed, page):
    url, top = followed["url"], followed["top"]
    page.goto(voila(url) + RENDER + f"track.ipynb?uuid={top}")
    expect_rendered(page, ".audience-growth")
    expect(page.locator(".roster-state")).to_contain_text("in your roster")
    expect(page.locator(".roster-state")).to_contain_text("followed as a track")
    notes = sql(url, "SELECT n.date, n.kind, n.text FROM annotation n JOIN track t ON t.id = n.track_id "
                     "WHERE t.uuid = ? ORDER BY n.date", top)
    assert cells(page, ".track-notes") == [[d, kind, text] for d, kind, text in notes]
    for figure in (".chart-history", ".audience"):  # a dashed line per note, its kind on top
        expect(page.locator(f"{figure} .bqplot svg.svg-figure")).to_be_visible()
        expect(page.locator(f"{figure} text.label")).to_have_text([kind for _, kind, _ in notes])
        dashed = page.locator(f"{figure} path.line").evaluate_all(  # upright, in the notes' colour (a forecast is
            "paths => paths.filter(p => getComputedStyle(p).strokeDasharray !== 'none'"  # dashed too, and may share it)
            f" && getComputedStyle(p).stroke === '{NOTE_RGB}' && p.getBBox().width < 1).length")
        assert dashed == len(notes), figure
    assert page.evaluate("window.__pwned") is None
    screenshot(page, "track-notes")
