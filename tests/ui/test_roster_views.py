"""The viewer pages' data with the "my roster" filter, the recent alerts and a track's notes
(soundcharts_lib.warehouse.viewer_pages) on a synced database, checked against plain SQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import copy_db, sql

from soundcharts_lib.curation import alerts, annotations, roster
from soundcharts_lib.db import make_engine
from soundcharts_lib.jobs.sync import today_utc
from soundcharts_lib.ui.overview import build_overview
from soundcharts_lib.warehouse import viewer_pages as viewer_data
from ui.test_ui import html_of

CHART = "spotify-top-200-global-daily"


@pytest.fixture(scope="module")
def followed(synced_sqlite_url, tmp_path_factory):
    """A copy of the synced database with a top-10 rule evaluated, following: a track that entered the top 10, two
    tracks of the chart's latest ranking (positions 3 and 40), the most-charted track and the artist of the #1."""
    url = copy_db(synced_sqlite_url, tmp_path_factory.mktemp("followed") / "followed.db")
    engine = make_engine(url)
    alerts.add_rule(engine, "top10", "top_entry", {"n": 10, "chart": CHART}, actor="test")
    alerts.add_rule(engine, "stale", "chart_stale", actor="test")
    alerts.evaluate(engine)
    entered = alerts.recent_alerts(engine).query("rule == 'top10'")["details"].iloc[-1]["track_uuid"]
    roster.add(engine, "track", entered, actor="test")
    latest = """SELECT t.uuid FROM chart_ranking_entry e JOIN chart_ranking r ON r.id = e.ranking_id
                JOIN chart c ON c.id = r.chart_id JOIN track t ON t.id = e.track_id WHERE c.slug = ? AND e.position = ?
                AND r.ranking_date = (SELECT MAX(ranking_date) FROM chart_ranking WHERE chart_id = c.id)"""
    for position in (3, 40):
        roster.add(engine, "track", sql(url, latest, CHART, position)[0][0], actor="test")
    top = sql(url, "SELECT t.uuid FROM chart_ranking_entry e JOIN track t ON t.id = e.track_id GROUP BY t.id "
                 "ORDER BY COUNT(*) DESC, t.uuid LIMIT 1")[0][0]
    roster.add(engine, "track", top, actor="test")
    artist = sql(url, "SELECT a.uuid FROM artist a JOIN track_artist ta ON ta.artist_id = a.id JOIN track t "
                    "ON t.id = ta.track_id WHERE t.uuid = ? LIMIT 1", sql(url, latest, CHART, 1)[0][0])
    if artist:
        roster.add(engine, "artist", artist[0][0], actor="test")
    yield engine, url
    engine.dispose()


def roster_uuids(url: str) -> set[str]:
    return {u for (u,) in sql(url, """
        SELECT t.uuid FROM track t JOIN watch_item w ON w.kind = 'track' AND w.uuid = t.uuid
        UNION SELECT t.uuid FROM track t JOIN track_artist ta ON ta.track_id = t.id JOIN artist a ON a.id = ta.artist_id
        JOIN watch_item w ON w.kind = 'artist' AND w.uuid = a.uuid""")}


def test_overview_keeps_the_roster_top_tracks_and_alerts(followed):
    engine, url = followed
    today = today_utc()
    mine = roster_uuids(url)
    whole = viewer_data.overview(engine)
    assert whole["roster"] is False and len(whole["tracks"]) == 10 and len(whole["alerts"])
    data = viewer_data.overview(engine, mine=True)
    expected = [u for (u,) in sql(url, """
        SELECT t.uuid FROM chart_ranking_entry e JOIN chart_ranking r ON r.id = e.ranking_id
        JOIN track t ON t.id = e.track_id WHERE r.status = 'success' AND r.ranking_date BETWEEN ? AND ?
        GROUP BY t.id ORDER BY COUNT(*) DESC, t.name, t.uuid""", (today - timedelta(days=29)).isoformat(),
        today.isoformat()) if u in mine][:10]
    assert data["roster"] is True and data["tracks"]["uuid"].tolist() == expected and len(expected) >= 3
    assert data["tracks"].index.tolist() == list(range(len(expected)))  # ranks restart at 1
    about = [d.get("track_uuid") for d in data["alerts"]["details"]]
    assert about and set(about) <= mine
    assert sorted(about) == sorted(d["track_uuid"] for d in whole["alerts"]["details"]
                                   if d.get("track_uuid") in mine)


def test_a_roster_without_any_alert_gets_its_overview(synced_sqlite_url, tmp_path):
    """A fresh install with a roster and no alert rule (the demo's): the roster's view has no alert, not an error."""
    url = copy_db(synced_sqlite_url, tmp_path / "quiet.db")
    engine = make_engine(url)
    top = sql(url, "SELECT t.uuid FROM chart_ranking_entry e JOIN track t ON t.id = e.track_id GROUP BY t.id "
                   "ORDER BY COUNT(*) DESC, t.uuid LIMIT 1")[0][0]
    roster.add(engine, "track", top, actor="test")
    data = viewer_data.overview(engine, mine=True)
    engine.dispose()
    assert data["alerts"].empty and "details" in data["alerts"].columns
    assert data["tracks"]["uuid"].tolist() == [top]
    shown = html_of(build_overview(data))
    assert "No alert about your roster in the last 7 days" in shown and "Traceback" not in shown


def test_chart_page_keeps_roster_entries_at_their_positions(followed):
    engine, url = followed
    whole, data = viewer_data.chart_page(engine, CHART), viewer_data.chart_page(engine, CHART, mine=True)
    mine = roster_uuids(url)
    expected = whole["ranking"][whole["ranking"]["uuid"].isin(mine)]
    assert data["ranking"][["position", "uuid"]].values.tolist() == expected[["position", "uuid"]].values.tolist()
    assert {3, 40} <= set(data["ranking"]["position"])
    for key in ("climbers", "fallers", "new_entries", "dropouts"):
        assert set(data[key]["uuid"]) == set(whole[key]["uuid"]) & mine, key
    assert data["dates"] == whole["dates"] and data["roster"] is True


def test_platform_page_lists_the_roster_top_tracks(followed):
    engine, url = followed
    data = viewer_data.platform_page(engine, "spotify", mine=True)
    today = today_utc()
    expected = [u for (u,) in sql(url, """
        SELECT t.uuid FROM chart_ranking_entry e JOIN chart_ranking r ON r.id = e.ranking_id
        JOIN chart c ON c.id = r.chart_id JOIN platform p ON p.id = c.platform_id JOIN track t ON t.id = e.track_id
        WHERE p.slug = 'spotify' AND r.status = 'success' AND r.ranking_date BETWEEN ? AND ?
        GROUP BY t.id ORDER BY COUNT(*) DESC, MIN(e.position), t.name, t.uuid""",
        (today - timedelta(days=29)).isoformat(), today.isoformat()) if u in roster_uuids(url)][:20]
    assert data["tracks"]["uuid"].tolist() == expected and expected
    assert len(viewer_data.platform_page(engine, "spotify")["tracks"]) == 20


def test_track_page_has_its_notes_and_roster_state(followed):
    engine, url = followed
    followed_uuid = sql(url, "SELECT uuid FROM watch_item WHERE kind = 'track' ORDER BY id LIMIT 1")[0][0]
    other = sql(url, "SELECT uuid FROM track WHERE uuid NOT IN (SELECT uuid FROM watch_item) AND id NOT IN "
                   "(SELECT track_id FROM track_artist) LIMIT 1")[0][0]
    note = annotations.add(engine, followed_uuid, date(2026, 1, 2), "Single out", kind="release", actor="test")
    data = viewer_data.track_page(engine, followed_uuid)
    assert data["notes"][["id", "kind", "text"]].values.tolist() == [[note, "release", "Single out"]]
    assert data["follow"]["track"] is True and data["follow"]["roster"] is True
    assert viewer_data.track_page(engine, other)["follow"] == {"roster": True, "track": False, "artists": []}
    annotations.remove(engine, note, actor="test")
