"""The reach job (fetch-reach) against the local API server, on SQLite and PostgreSQL: what is stored equals what the
server serves, read here over plain HTTP; a day's snapshot is replaced whole; 404, 410 and a platform's 400 are
recorded on the series' check; the roster first, then the stalest."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from api.replay import Replay
from localapi_http import session
from sqlalchemy import func, insert, select, update

from soundcharts_lib.api.client import SoundchartsClient
from soundcharts_lib.curation import roster
from soundcharts_lib.db import store_reach
from soundcharts_lib.db.store_audience import ensure_track
from soundcharts_lib.db.tables import PL, POP, REACH, SCHK, TPI, P, T
from soundcharts_lib.errors import ConfigError, PayloadError
from soundcharts_lib.jobs.reach import POPULARITY_PLATFORMS, ReachParams, ReachProcessor, fetch_reach
from soundcharts_lib.vocab import BadValue, today_utc

# -- the server, read over HTTP (no client code) --------------------------------------------------------------------


def items(localapi, path: str, query: dict | None = None) -> list[dict] | None:
    """Every item of a collection, following ``page.next``; None when the server answers 400 (not on this
    platform)."""
    out, query = [], {"offset": 0, "limit": 100, **(query or {})}
    with session() as http:
        while True:
            resp = http.get(localapi.base_url + path, params=query, timeout=30)
            if resp.status_code == 400:
                return None
            assert resp.status_code == 200, (path, resp.status_code, resp.text[:200])
            body = resp.json()
            out += body["items"]
            if not body["page"]["next"] or not body["items"]:
                return out
            parts = urlsplit(body["page"]["next"])
            path, query = parts.path, dict(parse_qsl(parts.query))


def day(text: str | None) -> date | None:
    return None if not text else date.fromisoformat(text[:10])


def served_platforms(localapi, uuid: str) -> set[str]:
    """The song's platforms: those it has an identifier on."""
    return {i["platformCode"] for i in items(localapi, f"/api/v2/song/{uuid}/identifiers")} - {"isrc"}


def chart_platforms(localapi) -> set[str]:
    return {p["code"] for p in items(localapi, "/api/v2/chart/song/platforms")}


def served_charts(localapi, uuid: str, platform: str) -> dict[str, tuple]:
    """``{chart slug: (position, peak, peak date, rank date, country or None, chart name or None)}`` of the song's
    current entries."""
    found = items(localapi, f"/api/v2/song/{uuid}/charts/ranks/{platform}",
                  {"currentOnly": 1, "sortBy": "position", "sortOrder": "asc"})
    return {i["chart"]["slug"]: (i["position"], i.get("peakPosition"), day(i.get("peakDate")), day(i["rankDate"]),
                                 i["chart"]["countryCode"] or None, i["chart"]["name"] or None) for i in found}


def served_popularity(localapi, uuid: str, platform: str, start: date, end: date) -> dict[date, int]:
    """``{day: value}``: a day's most popular identifier (shape A), or its value (shape B)."""
    out = {}
    for i in items(localapi, f"/api/v2/song/{uuid}/popularity/{platform}",
                   {"startDate": start.isoformat(), "endDate": end.isoformat()}):
        values = [p["value"] for p in i["plots"]] if "plots" in i else [i["value"]]
        out[day(i["date"])] = max(values)
    return out


def served_playlists(localapi, uuid: str, platform: str) -> dict[str, tuple] | None:
    """``{playlist uuid: (position, followers, entry date, country or None, name)}`` of the song's current
    playlists; None on a platform without playlists."""
    found = items(localapi, f"/api/v2.20/song/{uuid}/playlist/current/{platform}", {"currentOnly": 1})
    if found is None:
        return None
    return {i["playlist"]["uuid"]: (i["position"], i["playlist"]["latestSubscriberCount"], day(i["entryDate"]),
                                    i["playlist"]["countryCode"] or None, i["playlist"]["name"] or None)
            for i in found}


# -- what is stored -------------------------------------------------------------------------------------------------

def ids(engine, uuid: str, platform: str) -> tuple[int, int | None]:
    """The stored track's id and the platform's."""
    with engine.connect() as conn:
        return (conn.execute(select(T.c.id).where(T.c.uuid == uuid)).scalar_one(),
                conn.execute(select(P.c.id).where(P.c.slug == platform)).scalar())


def _where(table, engine, uuid: str, platform: str):
    track_id, platform_id = ids(engine, uuid, platform)
    return table.c.track_id == track_id, table.c.platform_id == platform_id


def stored_charts(engine, uuid: str, platform: str, on: date) -> dict[str, tuple]:
    q = select(REACH.c.chart_slug, REACH.c.position, REACH.c.peak_position, REACH.c.peak_date, REACH.c.rank_date,
               REACH.c.country_code, REACH.c.chart_name).where(*_where(REACH, engine, uuid, platform),
                                                               REACH.c.fetched_on == on)
    with engine.connect() as conn:
        return {slug: tuple(rest) for slug, *rest in conn.execute(q)}


def stored_popularity(engine, uuid: str, platform: str) -> dict[date, int]:
    q = select(POP.c.date, POP.c.value).where(*_where(POP, engine, uuid, platform))
    with engine.connect() as conn:
        return dict(conn.execute(q).all())


def stored_playlists(engine, uuid: str, platform: str, on: date) -> dict[str, tuple]:
    q = select(PL.c.playlist_uuid, PL.c.position, PL.c.subscribers, PL.c.entry_date, PL.c.country_code,
               PL.c.playlist_name).where(*_where(PL, engine, uuid, platform), PL.c.fetched_on == on)
    with engine.connect() as conn:
        return {uuid: tuple(rest) for uuid, *rest in conn.execute(q)}


def checks(engine, uuid: str) -> dict[tuple[str, str], tuple[bool, str | None]]:
    """``{(platform, series): (had_data, error)}`` of the track's checks."""
    q = (select(P.c.slug, SCHK.c.series, SCHK.c.had_data, SCHK.c.error).join(P, P.c.id == SCHK.c.platform_id)
         .join(T, T.c.id == SCHK.c.subject_id).where(SCHK.c.subject == "track", T.c.uuid == uuid))
    with engine.connect() as conn:
        return {(slug, series): (bool(had), error) for slug, series, had, error in conn.execute(q)}


# -- songs of the local catalog -------------------------------------------------------------------------------------

def charting_hit(localapi):
    """A charting song now on charts of two platforms or more and on more than 100 Spotify playlists (two pages)."""
    catalog = localapi.catalog
    for song in catalog.song_list:
        mine = {i.platform for i in song.identifiers}
        now = {p for p in mine if any(item.current for item in catalog.ranks.of_song(song, p))}
        if len(now) >= 2 and "spotify" in mine and \
                sum(p.exit_date is None for p in catalog.placements(song.uuid, "spotify")) > 100:
            return song
    raise AssertionError("no charting hit in the catalog")


def charting_songs(localapi, n: int) -> list:
    """``n`` songs with a Spotify id that chart now on some Spotify chart."""
    catalog = localapi.catalog
    found = [s for s in catalog.song_list if s.identifiers_on("spotify")
             and any(item.current for item in catalog.ranks.of_song(s, "spotify"))]
    return found[:n]


@pytest.fixture
def client(localapi):
    with SoundchartsClient(localapi.base_url, "soundcharts", "soundcharts", rate_limit_per_minute=600_000) as c:
        yield c


def processor(client, engine) -> ReachProcessor:
    return ReachProcessor(client, engine, progress=False)


# -- tests ----------------------------------------------------------------------------------------------------------

def test_a_songs_reach_is_stored_as_the_server_serves_it(localapi, client, engine):
    song = charting_hit(localapi)
    today = today_utc()
    result = processor(client, engine).run(track_uuids=[song.uuid])
    assert result.status == "success" and result.metadata == 1, result.errors

    mine, charted = served_platforms(localapi, song.uuid), chart_platforms(localapi)
    expected_checks = {}
    for platform in sorted(mine & charted):
        served = served_charts(localapi, song.uuid, platform)
        assert stored_charts(engine, song.uuid, platform, today) == served, platform
        expected_checks[(platform, "charts")] = (bool(served), None)
    assert sum(len(served_charts(localapi, song.uuid, p)) for p in mine & charted) == result.chart_entries > 1
    for platform in sorted(mine & set(POPULARITY_PLATFORMS)):
        served = served_popularity(localapi, song.uuid, platform, today - timedelta(days=89), today)
        assert stored_popularity(engine, song.uuid, platform) == served and served, platform
        expected_checks[(platform, "popularity")] = (True, None)
    listed = 0
    for platform in sorted(mine):
        served = served_playlists(localapi, song.uuid, platform)
        if served is None:  # the server refuses the platform (400): recorded, nothing stored
            assert checks(engine, song.uuid)[(platform, "playlists")][1].startswith("HTTP 400: Invalid request")
            expected_checks[(platform, "playlists")] = checks(engine, song.uuid)[(platform, "playlists")]
            continue
        assert stored_playlists(engine, song.uuid, platform, today) == served, platform
        expected_checks[(platform, "playlists")] = (bool(served), None)
        listed += len(served)
    assert len(served_playlists(localapi, song.uuid, "spotify")) > 100 and result.playlists == listed
    assert checks(engine, song.uuid) == expected_checks


def test_popularity_served_as_date_and_value_is_stored_too(localapi, client, engine):
    """The contract's second item shape ({date, value}, no identifier): served for some songs."""
    today = today_utc()
    flat = next(s for s in localapi.catalog.extra_songs
                if "popularity-flat" in s.quirks and s.identifiers_on("spotify"))
    served = items(localapi, f"/api/v2/song/{flat.uuid}/popularity/spotify",
                   {"startDate": (today - timedelta(days=89)).isoformat(), "endDate": today.isoformat()})
    assert served and all("value" in i and "plots" not in i for i in served)
    result = processor(client, engine).run(track_uuids=[flat.uuid], platforms=["spotify"])
    assert result.status == "success" and result.popularity_days == len(served), result.errors
    assert stored_popularity(engine, flat.uuid, "spotify") == {day(i["date"]): i["value"] for i in served}


def test_a_second_run_the_same_day_replaces_the_snapshot_whole(localapi, client, engine):
    song = charting_songs(localapi, 1)[0]
    today = today_utc()
    assert processor(client, engine).run(track_uuids=[song.uuid], platforms=["spotify"]).status == "success"
    track_id, platform_id = ids(engine, song.uuid, "spotify")
    stale = {"track_id": track_id, "platform_id": platform_id, "chart_slug": "gone-chart", "position": 3}
    popular = stored_popularity(engine, song.uuid, "spotify")
    first_day, last_day = min(popular), max(popular)
    with engine.begin() as conn:  # what a run today must wipe, and what it must keep
        conn.execute(insert(REACH), [{**stale, "fetched_on": today}, {**stale, "fetched_on": today - timedelta(1)}])
        conn.execute(insert(PL), [{"track_id": track_id, "platform_id": platform_id, "fetched_on": today,
                                   "playlist_uuid": "gone-playlist", "position": 1}])
        conn.execute(update(POP).where(POP.c.track_id == track_id, POP.c.date == last_day).values(value=-1))
        conn.execute(POP.delete().where(POP.c.track_id == track_id, POP.c.date == first_day))

    result = processor(client, engine).run(track_uuids=[song.uuid], platforms=["spotify"])
    assert result.status == "success", result.errors
    assert stored_charts(engine, song.uuid, "spotify", today) == served_charts(localapi, song.uuid, "spotify")
    assert stored_playlists(engine, song.uuid, "spotify", today) == served_playlists(localapi, song.uuid, "spotify")
    assert set(stored_charts(engine, song.uuid, "spotify", today - timedelta(1))) == {"gone-chart"}  # history kept
    after = stored_popularity(engine, song.uuid, "spotify")
    assert after[last_day] == popular[last_day]  # the overlap rewrote the changed day
    assert first_day not in after  # incremental: a day before the overlap is not asked again, nor invented


def test_a_snapshot_the_table_cannot_hold_is_not_written_at_all(engine):
    today = today_utc()
    track_id = ensure_track(engine, "6f1c9a8e-0000-4000-8000-000000000001", "A song", None, None)
    platform_id = store_reach.reach_platform_ids(engine, ["spotify"])["spotify"]
    good = [{"chart_slug": "a", "chart_name": "A", "position": 1},
            {"chart_slug": "b", "chart_name": "B", "position": 2}]
    assert store_reach.replace_snapshot(engine, "charts", track_id, platform_id, today, good) == 2
    hostile = [{"chart_slug": "c", "chart_name": "C", "position": 1}, {"chart_slug": "d", "chart_name": "x" * 501,
                                                                      "position": 2}]
    with pytest.raises(PayloadError, match=r"items\[1\]\.chart_name is longer than 500 characters"):
        store_reach.replace_snapshot(engine, "charts", track_id, platform_id, today, hostile)
    with pytest.raises(PayloadError, match="does not fit in 32 bits"):
        store_reach.store_popularity(engine, track_id, platform_id, {today: 2 ** 40})
    with engine.connect() as conn:
        assert sorted(conn.execute(select(REACH.c.chart_slug).where(REACH.c.track_id == track_id)).scalars()) == \
            ["a", "b"]
        assert conn.execute(select(func.count()).select_from(POP)).scalar() == 0


def test_a_404_is_recorded_on_the_check_and_the_other_songs_go_on(localapi, client, engine):
    known = charting_songs(localapi, 1)[0]
    unknown = "00000000-0000-4000-8000-00000000dead"
    tid = ensure_track(engine, unknown, "Not in the API", None, None)
    with engine.begin() as conn:  # a stored song with a Spotify id and metadata, that the API no longer knows
        conn.execute(insert(TPI).values(track_id=tid, platform_code="spotify", identifier="x"))
        conn.execute(update(T).where(T.c.id == tid).values(metadata_fetched_at=T.c.first_seen_at))
    result = processor(client, engine).run(track_uuids=[unknown, known.uuid], platforms=["spotify"])
    assert result.status == "success" and result.tracks == 2 and result.failures == 0, result.errors
    recorded = checks(engine, unknown)
    assert set(recorded) == {("spotify", s) for s in ("charts", "popularity", "playlists")}
    assert all(had is False and error == "HTTP 404: Song not found" for had, error in recorded.values())
    assert len([m for m in result.skipped if m.startswith(unknown)]) == 3 and result.refused == 3
    assert stored_charts(engine, known.uuid, "spotify", today_utc()) == served_charts(localapi, known.uuid, "spotify")


@pytest.fixture
def replay():
    server = Replay()
    thread = threading.Thread(target=server.server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _error(status: int, message: str) -> tuple[int, bytes, dict]:
    return status, json.dumps({"errors": [{"key": "x", "code": status, "message": message}]}).encode(), {}


def _body(found: list) -> tuple[int, bytes, dict]:
    page = {"offset": 0, "limit": 100, "next": None, "previous": None, "total": len(found)}
    return 200, json.dumps({"items": found, "page": page, "errors": []}).encode(), {}


def test_a_410_and_a_platform_refused_are_recorded_and_what_was_stored_stays(replay, engine):
    uuid = "2ffc5f25-7d1b-11ea-a6e0-aa0b4b9f2c1e"
    tid = ensure_track(engine, uuid, "Dance Monkey", None, None)
    pid = store_reach.reach_platform_ids(engine, ["deezer"])["deezer"]
    with engine.begin() as conn:
        conn.execute(insert(TPI), [{"track_id": tid, "platform_code": code, "identifier": "1"}
                                   for code in ("deezer", "shazam")])
        conn.execute(update(T).where(T.c.id == tid).values(metadata_fetched_at=T.c.first_seen_at))
    earlier = today_utc() - timedelta(days=3)
    store_reach.replace_snapshot(engine, "charts", tid, pid, earlier, [{"chart_slug": "kept", "position": 4}])
    blacklisted = "ISRC Blacklisted due to multiple tracks identified from DSP"
    replay.routes = {
        "/api/v2/chart/song/platforms": [_body([{"code": "deezer", "name": "Deezer"},
                                                {"code": "shazam", "name": "Shazam"}])],
        f"/api/v2/song/{uuid}/charts/ranks/deezer": [_error(410, blacklisted)],
        f"/api/v2/song/{uuid}/charts/ranks/shazam": [_body([])],
        f"/api/v2/song/{uuid}/popularity/deezer": [_error(404, "Song not found")],
        f"/api/v2.20/song/{uuid}/playlist/current/deezer": [_error(400, "Invalid request")],
        f"/api/v2.20/song/{uuid}/playlist/current/shazam": [_error(400, "Invalid request")],
    }
    with SoundchartsClient(replay.base_url, "app", "key", max_retries=0) as client:
        result = processor(client, engine).run(track_uuids=[uuid])
    assert result.status == "success" and result.refused == 4 and result.fetches == 1, result.errors
    assert checks(engine, uuid) == {
        ("deezer", "charts"): (True, f"HTTP 410: {blacklisted}"),  # the last answer had data: it stays so
        ("deezer", "popularity"): (False, "HTTP 404: Song not found"),
        ("deezer", "playlists"): (False, "HTTP 400: Invalid request"),
        ("shazam", "charts"): (False, None),
        ("shazam", "playlists"): (False, "HTTP 400: Invalid request")}
    assert stored_charts(engine, uuid, "deezer", earlier) == {"kept": (4, None, None, None, None, None)}
    assert store_reach.refused_platforms(engine, days=7) == {("playlists", "deezer"), ("playlists", "shazam")}
    # the next run does not ask for playlists there again
    with SoundchartsClient(replay.base_url, "app", "key", max_retries=0) as client:
        processor(client, engine).run(track_uuids=[uuid])
    assert replay.hits(f"/api/v2.20/song/{uuid}/playlist/current/deezer") == 1
    assert replay.hits(f"/api/v2/song/{uuid}/charts/ranks/deezer") == 2


def test_the_roster_first_then_the_stalest_and_roster_only(localapi, client, engine):
    a, b, c = charting_songs(localapi, 3)
    # followed before it is stored: looked up and stored
    followed_later = next(s for s in localapi.catalog.extra_songs if s.identifiers_on("spotify"))
    for song in (a, b, c):
        ensure_track(engine, song.uuid, song.name, None, None)
    roster.add(engine, "track", c.uuid, actor="test")
    roster.add(engine, "track", followed_later.uuid, actor="test")
    run = processor(client, engine).run
    assert run(limit=2, platforms=["spotify"]).tracks == 2
    picked = {u for u in (a.uuid, b.uuid, c.uuid, followed_later.uuid) if checks(engine, u)}
    assert picked == {followed_later.uuid, c.uuid}  # the roster's, the one not stored yet included
    result = run(limit=1, platforms=["spotify"])  # the roster still first, then the never-asked
    assert result.tracks == 1
    only = run(roster_only=True, platforms=["spotify"])
    assert only.tracks == 2 and only.status == "success"
    run(limit=4, platforms=["spotify"])
    assert all(checks(engine, s.uuid) for s in (a, b))  # stale-first reached the rest


def test_bad_parameters_are_refused_before_any_request(localapi, api_settings):
    before = localapi.stats()["requests"]
    for bad, words in [({"track_uuid": "nope"}, "not a SoundCharts UUID"),
                       ({"track_uuid": "6f1c9a8e-0000-4000-8000-000000000001", "roster": True}, "exclude each other"),
                       ({"limit": 0}, "at least 1"), ({"platform": "Spotify!"}, "not a slug"),
                       ({"days": 3}, "has no parameter 'days'")]:
        with pytest.raises(BadValue, match=words):
            ReachParams.of(bad)
    with pytest.raises(ConfigError, match="limit applies to the stale-first selection"):
        fetch_reach(api_settings, {"track_uuid": "6f1c9a8e-0000-4000-8000-000000000001", "limit": 2})
    assert localapi.stats()["requests"] == before
