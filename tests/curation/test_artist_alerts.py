"""The artist alert kinds on a small known warehouse: ``artist_growth`` (followers or listeners up N % in D days)
and ``artist_entry`` (a roster artist's track enters a chart), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import insert

from curation.test_alerts import fired, rankings
from soundcharts_lib.curation import alerts, roster
from soundcharts_lib.db.models import Artist, Chart, Platform, Track, TrackArtist
from soundcharts_lib.db.models_reach import ArtistAudience, ArtistListeners
from soundcharts_lib.errors import ConfigError

D = date(2026, 3, 10)
ARTISTS = {i: f"{str(i) * 8}-0000-4000-8000-00000000000{i}" for i in range(1, 5)}
TRACKS = {i: f"{i}{i}{i}{i}{i}{i}{i}{i}-1111-4000-8000-000000000000" for i in range(1, 8)}


def day(n: int) -> date:
    return D - timedelta(days=n)


def series(conn, table, column: str, artist: int, platform: int, values: dict[date, int]) -> None:
    conn.execute(insert(table), [{"artist_id": artist, "platform_id": platform, "date": d, column: v}
                                 for d, v in values.items()])


@pytest.fixture
def db(engine):
    """Artists 1 (followed), 2 (featured on a followed track), 3 and 4 (neither). Chart ``hot``: tracks 1 and 2 of
    artist 1 on D-2, track 1 alone on D-1; on D track 1 again, track 2 back (RE-ENTRY), and new: track 3 (artist 1),
    track 4 (artist 3), track 6 (artist 2; its track 5, with artist 4, is followed). Followers and listeners around
    D-7 and D."""
    with engine.begin() as conn:
        conn.execute(insert(Platform), [{"id": 1, "slug": "spotify", "name": "Spotify", "supports_charts": True,
                                         "supports_audience": True},
                                        {"id": 2, "slug": "youtube", "name": "YouTube", "supports_charts": False,
                                         "supports_audience": False}])
        conn.execute(insert(Artist), [{"id": i, "uuid": u, "name": f"Artist {i}"} for i, u in ARTISTS.items()])
        conn.execute(insert(Track), [{"id": i, "uuid": u, "name": f"Song {i}", "credit_name": None}
                                     for i, u in TRACKS.items()])
        credits = {1: [1], 2: [1], 3: [1], 4: [3], 5: [4, 2], 6: [2], 7: [4]}
        conn.execute(insert(TrackArtist), [{"track_id": t, "artist_id": a, "position": p}
                                           for t, artists in credits.items() for p, a in enumerate(artists)])
        conn.execute(insert(Chart).values(id=1, slug="hot", name="Hot 100", platform_id=1, frequency="daily",
                                          last_ranking_date=D, is_active=True, consecutive_failures=0))
        rankings(conn, 1, {day(2): {1: 1, 2: 2}, day(1): {1: 1}, D: {1: 1, 2: 2, 3: 3, 4: 4, 6: 5}})
        series(conn, ArtistAudience, "followers", 1, 1, {day(8): 990, day(7): 1000, day(3): 1100, D: 1200})  # +20%
        series(conn, ArtistListeners, "value", 1, 1, {day(7): 500, D: 520})  # +4 %
        series(conn, ArtistAudience, "followers", 2, 2, {day(8): 100, day(2): 140, D: 150})  # D-7 missing: +50 %
        series(conn, ArtistAudience, "followers", 3, 1, {day(5): 10, D: 100})  # nothing 7 days before D
        series(conn, ArtistListeners, "value", 4, 1, {day(7): 1000, D: 900})  # down
    roster.add(engine, "artist", ARTISTS[1], actor="test")
    roster.add(engine, "track", TRACKS[5], actor="test")
    return engine


@pytest.mark.parametrize(("kind", "params", "message"), [
    ("artist_growth", {}, "artist_growth needs pct"),
    ("artist_growth", {"pct": 5, "series": "fans"}, "artist_growth series must be one of followers, listeners"),
    ("artist_growth", {"pct": 5, "series": "Followers!"}, "artist_growth series must be a slug"),
    ("artist_growth", {"pct": -1}, "artist_growth pct must be a number >= 0"),
    ("artist_entry", {"n": 0}, "artist_entry n must be a number >= 1"),
    ("artist_entry", {"pct": 5}, "artist_entry takes n, chart; not pct"),
])
def test_bad_artist_rules_are_one_line_errors(kind, params, message):
    with pytest.raises(ConfigError, match=message):
        alerts.check_params(kind, params)


def test_the_artist_kinds_get_their_defaults():
    assert alerts.check_params("artist_growth", {"pct": "10"}) == {"pct": 10.0, "days": 7}
    assert alerts.check_params("artist_growth", {"pct": 1, "series": "listeners", "platform": "spotify"}) == \
        {"pct": 1.0, "days": 7, "platform": "spotify", "series": "listeners"}
    assert alerts.check_params("artist_entry", None) == {}


def test_artist_growth_on_followers_and_listeners(db):
    alerts.add_rule(db, "grow", "artist_growth", {"pct": 10})
    alerts.add_rule(db, "listeners", "artist_growth", {"pct": 3, "series": "listeners"})
    alerts.add_rule(db, "mine", "artist_growth", {"pct": 10}, roster_only=True)
    alerts.add_rule(db, "youtube", "artist_growth", {"pct": 10, "platform": "youtube"})
    result = alerts.evaluate(db, today=D)
    assert result.errors == []
    assert fired(db, "grow") == [f"{ARTISTS[1]}:followers:spotify:{D}", f"{ARTISTS[2]}:followers:youtube:{D}"]
    assert fired(db, "listeners") == [f"{ARTISTS[1]}:listeners:spotify:{D}"]
    # artist 2 is credited on a followed track: on the roster too
    assert fired(db, "mine") == fired(db, "grow")
    assert fired(db, "youtube") == [f"{ARTISTS[2]}:followers:youtube:{D}"]
    first = next(f for f in result.fired if f["rule"] == "grow")
    assert first["subject"] == "spotify followers +20.0%: Artist 1"
    assert first["message"] == (f"Artist 1: spotify followers grew 20.0% in 7 days (1,000 on {day(7)} to 1,200 on "
                                f"{D}).")
    youtube = next(f for f in result.fired if f["rule"] == "youtube")
    assert youtube["message"].endswith(f"grew 50.0% in 7 days (100 on {day(8)} to 150 on {D}).")


def test_artist_growth_roster_only_leaves_out_the_artists_not_followed(db):
    roster.remove(db, "track", TRACKS[5], actor="test")
    alerts.add_rule(db, "mine", "artist_growth", {"pct": 10}, roster_only=True)
    alerts.evaluate(db, today=D)
    assert fired(db, "mine") == [f"{ARTISTS[1]}:followers:spotify:{D}"]


def test_artist_growth_cools_down_for_its_days_and_evaluating_again_fires_nothing(db):
    alerts.add_rule(db, "grow", "artist_growth", {"pct": 10, "series": "followers", "platform": "spotify"})
    assert len(alerts.evaluate(db, today=D).fired) == 1
    assert alerts.evaluate(db, today=D).fired == []
    with db.begin() as conn:  # still growing every day
        series(conn, ArtistAudience, "followers", 1, 1, {D + timedelta(days=n): 1200 + 100 * n for n in range(1, 8)})
    assert alerts.evaluate(db, today=D + timedelta(days=6)).fired == []
    again = alerts.evaluate(db, today=D + timedelta(days=7))
    assert [f["subject"] for f in again.fired] == ["spotify followers +58.3%: Artist 1"]


def test_artist_entry_fires_for_the_roster_artists_tracks_entering_a_chart(db):
    alerts.add_rule(db, "entries", "artist_entry")
    alerts.add_rule(db, "top 3", "artist_entry", {"n": 3})
    result = alerts.evaluate(db, today=D)
    assert result.errors == []
    # track 1 stayed, track 4 is by an artist not followed; 2 is back, 3 new (artist 1), 6 new (artist 2)
    assert fired(db, "entries") == [f"hot:{TRACKS[i]}:{D}" for i in (2, 3, 6)]
    assert fired(db, "top 3") == [f"hot:{TRACKS[i]}:{D}" for i in (2, 3)]
    said = {f["subject"]: f["message"] for f in result.fired if f["rule"] == "entries"}
    assert said == {"Artist 1: Song 2 back on Hot 100": f"Artist 1's Song 2 is back on Hot 100 at #2 on {D}.",
                    "Artist 1: Song 3 new on Hot 100": f"Artist 1's Song 3 is new on Hot 100 at #3 on {D}.",
                    "Artist 2: Song 6 new on Hot 100": f"Artist 2's Song 6 is new on Hot 100 at #5 on {D}."}
    assert alerts.evaluate(db, today=D).fired == []


def test_artist_entry_without_a_roster_fires_nothing(db):
    roster.remove(db, "artist", ARTISTS[1], actor="test")
    roster.remove(db, "track", TRACKS[5], actor="test")
    alerts.add_rule(db, "entries", "artist_entry")
    assert alerts.evaluate(db, today=D).fired == []
