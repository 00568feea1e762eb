"""ArtistDataProcessor against the local API server, on SQLite and PostgreSQL: what is stored equals what the server
serves (read back over HTTP here, without the client), gaps stay gaps, a second run asks only the overlap, an artist
the API does not know is recorded and the rest fetched, the roster and the most charted artists come first."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import text

from soundcharts_lib.api.client import SoundchartsClient
from soundcharts_lib.curation import roster
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.jobs.artists import EMPTY_RECHECK_DAYS, ArtistDataProcessor
from soundcharts_lib.jobs.audience import OVERLAP_DAYS
from soundcharts_lib.jobs.metadata import store_metadata
from soundcharts_lib.jobs.sync import ChartSync
from soundcharts_lib.localapi import LocalApiConfig, running
from soundcharts_lib.vocab import today_utc

CHART = "spotify-top-200-global-daily"
HEADERS = {"x-app-id": "soundcharts", "x-api-key": "soundcharts"}
PATHS = {"followers": "/api/v2/artist/{uuid}/audience/{platform}",
         "listeners": "/api/v2/artist/{uuid}/streaming/{platform}/listening"}
VALUE = {"followers": "followerCount", "listeners": "value"}
TABLES = {"followers": ("artist_audience", "followers"), "listeners": ("artist_listeners", "value")}
GHOST = "00000000-0000-4000-8000-00000000abcd"  # an artist the API does not know


# -- the server, read over HTTP without the client ----------------------------------------------------------------

def get(base: str, path: str, params: dict | None = None) -> requests.Response:
    return requests.get(base + path, params=params, headers=HEADERS, timeout=30)


def platform_lists(base: str) -> dict[str, list[str]]:
    """``{"followers": social codes, "listeners": streaming codes}`` as the referential lists them."""
    return {series: [p["code"] for p in get(base, f"/api/v2/referential/platforms/{kind}").json()["items"]]
            for series, kind in (("followers", "social"), ("listeners", "streaming"))}


def served(base: str, uuid: str, series: str, platform: str, lo: date, hi: date) -> dict[date, int | None]:
    """The days the server sends for ``lo``..``hi`` (None: a day sent without a value); {} for a 404."""
    path, params, out = PATHS[series].format(uuid=uuid, platform=platform), \
        {"startDate": lo.isoformat(), "endDate": hi.isoformat(), "offset": 0, "limit": 100}, {}
    while path:
        resp = get(base, path, params)
        if resp.status_code == 404:
            return {}
        resp.raise_for_status()
        body = resp.json()
        out.update({date.fromisoformat(item["date"][:10]): item.get(VALUE[series]) for item in body["items"]})
        path, params = body["page"]["next"], None
    return out


def quota_used(base: str) -> int:
    """Billed calls so far (``/api/v2/team/usage`` is free)."""
    return get(base, "/api/v2/team/usage").json()["object"]["quota"]["used"]


# -- the database, read with plain SQL ------------------------------------------------------------------------------

def rows(engine, sql: str, **params) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def stored(engine, uuid: str, series: str, platform: str) -> dict[date, int]:
    table, column = TABLES[series]
    return {as_date(d): v for d, v in rows(
        engine, f"SELECT s.date, s.{column} FROM {table} s JOIN artist a ON a.id = s.artist_id "
                "JOIN platform p ON p.id = s.platform_id WHERE a.uuid = :u AND p.slug = :p", u=uuid, p=platform)}


def stored_keys(engine) -> set[tuple[str, str, str]]:
    """(artist uuid, series, platform) of every stored series."""
    return {(u, series, p) for series, (table, _) in TABLES.items() for u, p in rows(
        engine, f"SELECT DISTINCT a.uuid, p.slug FROM {table} s JOIN artist a ON a.id = s.artist_id "
                "JOIN platform p ON p.id = s.platform_id")}


def snapshot(engine) -> list[tuple]:
    return sorted((table, *r) for table, column in TABLES.values()
                  for r in rows(engine, f"SELECT id, artist_id, platform_id, date, {column}, fetched_at FROM {table}"))


def warehouse(engine, client, tracks: int = 10) -> list[str]:
    """Two days of one chart and the metadata of its first ``tracks`` tracks: their artists' UUIDs."""
    assert ChartSync(client, engine, progress=False).run(charts=[CHART], backfill_days=2).status == "success"
    uuids = [u for u, in rows(engine, "SELECT uuid FROM track ORDER BY id")][:tracks]
    assert store_metadata(client, engine, uuids, progress=False).status == "success"
    return [u for u, in rows(engine, "SELECT uuid FROM artist ORDER BY uuid")]


# -- the client, noting every URL it asked ---------------------------------------------------------------------------

@pytest.fixture
def calls() -> list:
    return []


@pytest.fixture
def client(localapi, calls):
    session = requests.Session()
    session.hooks["response"].append(lambda resp, *args, **kwargs: calls.append(resp.url))
    with SoundchartsClient(localapi.base_url, "soundcharts", "soundcharts", session=session,
                           rate_limit_per_minute=600_000) as c:
        yield c
    session.close()


def processor(client, engine, **kw) -> ArtistDataProcessor:
    return ArtistDataProcessor(client, engine, progress=False, **kw)


def series_asked(calls: list[str]) -> dict[tuple[str, str, str], list[tuple[date, date]]]:
    """``{(uuid, series, platform): [(startDate, endDate), ...]}`` of the series requests."""
    out: dict = {}
    for url in calls:
        parts = urlsplit(url)
        segments = parts.path.split("/")  # "", api, v2, artist, uuid, audience|streaming, platform[, listening]
        if parts.path.startswith("/api/v2/artist/") and segments[5] in ("audience", "streaming"):
            series = "followers" if segments[5] == "audience" else "listeners"
            q = parse_qs(parts.query)
            out.setdefault((segments[4], series, segments[6]), []).append(
                (date.fromisoformat(q["startDate"][0]), date.fromisoformat(q["endDate"][0])))
    return out


def metadata_asked(calls: list[str]) -> list[list[str]]:
    """The UUIDs of each metadata request (a batch or one)."""
    return [urlsplit(u).path.rsplit("/", 1)[1].split(",") for u in calls
            if urlsplit(u).path.startswith("/api/v2.9/artist/")]


# -- tests -----------------------------------------------------------------------------------------------------------

def test_what_is_stored_is_what_the_server_serves_and_gaps_stay_gaps(localapi, client, engine):
    artists = warehouse(engine, client)
    assert len(artists) >= 8
    result = processor(client, engine).run()
    assert result.status == "success" and result.artists == len(artists) and result.metadata == len(artists)
    today, lists = today_utc(), platform_lists(localapi.base_url)
    points = gaps = nulls = series_with_data = 0
    for uuid in artists:
        for series, platforms in lists.items():
            for platform in platforms:
                sent = served(localapi.base_url, uuid, series, platform, today - timedelta(days=89), today)
                want = {d: v for d, v in sent.items() if v is not None}
                assert stored(engine, uuid, series, platform) == want, (uuid, series, platform)
                days = sorted(want)
                points, nulls, series_with_data = points + len(want), nulls + len(sent) - len(want), \
                    series_with_data + bool(want)
                gaps += sum((b - a).days - 1 for a, b in zip(days, days[1:], strict=False))
    assert result.points == points > 1000 and result.gaps == gaps > 0 and nulls > 0
    assert result.fetches == len(artists) * sum(map(len, lists.values()))
    assert result.empty == result.fetches - series_with_data
    checks = rows(engine, "SELECT COUNT(*), SUM(CASE WHEN had_data THEN 1 ELSE 0 END) FROM series_check "
                          "WHERE subject = 'artist'")
    assert checks == [(result.fetches, series_with_data)]


def test_the_metadata_is_what_the_server_serves(localapi, client, engine):
    artists = warehouse(engine, client, tracks=6)
    processor(client, engine).run(platforms=["spotify"])
    for uuid in artists:
        obj = get(localapi.base_url, f"/api/v2.9/artist/{uuid}").json()["object"]
        genres = set()
        for g in obj.get("genres") or []:
            genres |= {g} if isinstance(g, str) else {g.get("root"), *(g.get("sub") or [])}
        row = rows(engine, "SELECT name, country_code, career_stage, growth_level, artist_type, image_url, "
                           "metadata_fetched_at, metadata_error, genres FROM artist WHERE uuid = :u", u=uuid)[0]
        assert row[:6] == (obj["name"], obj.get("countryCode") or None, obj.get("careerStage") or None,
                           obj.get("growthLevel") or None, obj.get("type") or None, obj.get("imageUrl") or None)
        assert row[6] is not None and row[7] is None
        stored_genres = row[8] if isinstance(row[8], list) else json.loads(row[8])
        assert set(stored_genres) == genres - {None, ""}


def test_a_second_run_asks_only_the_overlap_and_force_the_whole_window(localapi, client, calls, engine):
    artists = warehouse(engine, client)
    first = processor(client, engine).run()
    today, with_data = today_utc(), stored_keys(engine)
    last = {key: max(stored(engine, *key)) for key in with_data}
    before = snapshot(engine)
    calls.clear()
    second = processor(client, engine).run()
    asked = series_asked(calls)
    assert set(asked) == with_data  # the series without data are not asked again for a week
    assert asked == {key: [(last[key] - timedelta(days=OVERLAP_DAYS), today)] for key in with_data}
    assert sorted(u for batch in metadata_asked(calls) for u in batch) == sorted(artists)
    assert len(calls) == 2 + math.ceil(len(artists) / 10) + len(with_data)  # + the two platform lists
    assert second.fetches == len(with_data) and second.not_asked == first.fetches - len(with_data)
    assert snapshot(engine) == before  # the same days again: nothing rewritten

    calls.clear()
    forced = processor(client, engine).run(force=True)
    assert forced.fetches == first.fetches and forced.not_asked == 0
    windows = series_asked(calls)
    assert len(windows) == first.fetches and set(map(tuple, windows.values())) == {((today - timedelta(89), today),)}
    assert snapshot(engine) == before


def test_an_artist_the_api_does_not_know_is_recorded_and_the_rest_fetched(localapi, client, calls, engine):
    artists = warehouse(engine, client, tracks=4)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO artist (uuid, name) VALUES (:u, 'Ghost')"), {"u": GHOST})
        conn.execute(text("UPDATE artist SET metadata_error = 'not known to the API (404)' WHERE uuid = :u"),
                     {"u": artists[0]})
    result = processor(client, engine).run(platforms=["spotify"])
    assert result.status == "success" and result.unknown == 1 and result.metadata == len(artists)
    assert rows(engine, "SELECT metadata_error, metadata_fetched_at FROM artist WHERE uuid = :u", u=GHOST) == \
        [("not known to the API (404)", None)]
    assert rows(engine, "SELECT COUNT(*) FROM artist WHERE metadata_error IS NOT NULL") == [(1,)]  # cleared
    assert {uuid for uuid, _, _ in series_asked(calls)} == set(artists)
    assert rows(engine, "SELECT COUNT(*) FROM series_check c JOIN artist a ON a.id = c.subject_id "
                        "WHERE a.uuid = :u", u=GHOST) == [(0,)]
    assert {u for u, _, _ in stored_keys(engine)} == set(artists)

    named = processor(client, engine).run(artist_uuids=[GHOST, artists[1]], platforms=["spotify"])
    assert named.status == "success" and named.unknown == 1 and named.metadata == 1
    runs = rows(engine, "SELECT COUNT(*) FROM sync_run WHERE kind = 'fetch_artists'")
    with pytest.raises(ConfigError, match="no artist 00000000-0000-4000-8000-00000000abce is stored, and the API"):
        processor(client, engine).run(artist_uuids=[artists[1], GHOST[:-1] + "e"])
    assert rows(engine, "SELECT COUNT(*) FROM sync_run WHERE kind = 'fetch_artists'") == runs


def test_the_roster_first_then_the_most_charted_never_checked_then_the_stalest(localapi, client, calls, engine):
    warehouse(engine, client)
    charted = rows(engine, "SELECT a.uuid, COUNT(*) FROM artist a JOIN track_artist ta ON ta.artist_id = a.id "
                           "JOIN chart_ranking_entry e ON e.track_id = ta.track_id GROUP BY a.uuid")
    ranked = [u for u, _ in sorted(charted, key=lambda r: (-r[1], r[0]))]
    followed = ranked[-1]  # the least charted, followed
    roster.add(engine, "artist", followed, actor="test")
    processor(client, engine).run(limit=3, platforms=["spotify"])
    assert [u for batch in metadata_asked(calls) for u in batch] == [followed, *ranked[:2]]
    calls.clear()
    processor(client, engine).run(limit=3, platforms=["spotify"])  # the roster again, then the never checked
    assert [u for batch in metadata_asked(calls) for u in batch] == [followed, *ranked[2:4]]

    track = rows(engine, "SELECT t.uuid FROM track t JOIN track_artist ta ON ta.track_id = t.id "
                         "JOIN artist a ON a.id = ta.artist_id WHERE a.uuid = :u", u=ranked[5])[0][0]
    credited = {u for u, in rows(engine, "SELECT a.uuid FROM artist a JOIN track_artist ta ON ta.artist_id = a.id "
                                         "JOIN track t ON t.id = ta.track_id WHERE t.uuid = :u", u=track)}
    roster.add(engine, "track", track, actor="test")  # its artists are the roster's too
    calls.clear()
    result = processor(client, engine).run(roster_only=True, platforms=["spotify"])
    assert result.artists == len(credited | {followed}) >= 2
    assert sorted(u for batch in metadata_asked(calls) for u in batch) == sorted(credited | {followed})


def test_a_followed_artist_not_stored_is_stored_from_the_api_and_fetched(localapi, client, engine):
    warehouse(engine, client, tracks=2)
    known = {u for u, in rows(engine, "SELECT uuid FROM artist")}
    newcomer = next(p for uuid, p in sorted(localapi.catalog.profiles.items())
                    if uuid not in known and "spotify" in p.accounts)
    roster.add(engine, "artist", newcomer.uuid, actor="test")
    roster.add(engine, "artist", GHOST, actor="test")
    result = processor(client, engine).run(roster_only=True, platforms=["spotify"])
    assert result.status == "success" and result.artists == 1 and result.unknown == 1
    assert result.skipped == [f"{GHOST}: on the roster, not known to the API (404)"]
    name = get(localapi.base_url, f"/api/v2.9/artist/{newcomer.uuid}").json()["object"]["name"]
    assert rows(engine, "SELECT name FROM artist WHERE uuid = :u", u=newcomer.uuid) == [(name,)]
    today = today_utc()
    want = {d: v for d, v in served(localapi.base_url, newcomer.uuid, "followers", "spotify",
                                    today - timedelta(days=89), today).items() if v is not None}
    assert want and stored(engine, newcomer.uuid, "followers", "spotify") == want


def test_platforms_choose_the_series_and_an_unknown_one_is_refused(localapi, client, calls, engine):
    artists = warehouse(engine, client, tracks=3)
    processor(client, engine).run(platforms=["pandora", "instagram"])
    assert {(series, platform) for _, series, platform in series_asked(calls)} == \
        {("listeners", "pandora"), ("followers", "instagram")}
    assert {u for u, _, _ in series_asked(calls)} == set(artists)
    for bad in ("airplay", "nosuchplatform"):
        with pytest.raises(ConfigError, match=f"{bad}: no artist followers or listeners on this platform"):
            processor(client, engine).run(platforms=["spotify", bad])
    assert rows(engine, "SELECT COUNT(*) FROM sync_run WHERE kind = 'fetch_artists'") == [(1,)]


def test_a_series_without_data_is_asked_again_after_a_week(localapi, client, calls, engine):
    warehouse(engine, client, tracks=3)
    processor(client, engine).run(platforms=["deezer"])  # listening: the server has none on deezer
    assert rows(engine, "SELECT DISTINCT had_data FROM series_check") in ([(False,)], [(0,)])
    count = len(series_asked(calls))
    calls.clear()
    assert processor(client, engine).run(platforms=["deezer"]).not_asked == count and series_asked(calls) == {}
    with engine.begin() as conn:
        conn.execute(text("UPDATE series_check SET checked_at = :t"),
                     {"t": datetime.now(UTC).replace(tzinfo=None) - timedelta(days=EMPTY_RECHECK_DAYS, hours=1)})
    assert processor(client, engine).run(platforms=["deezer"]).fetches == count == len(series_asked(calls))


def test_quota_exhaustion_stops_the_run_and_keeps_each_series_whole(engine):
    with running(LocalApiConfig(seed=7)) as srv, \
            SoundchartsClient(srv.base_url, "soundcharts", "soundcharts", cache=None) as c:
        warehouse(engine, c, tracks=4)
    with running(LocalApiConfig(seed=7, quota=12)) as srv, \
            SoundchartsClient(srv.base_url, "soundcharts", "soundcharts", cache=None) as c:
        result = ArtistDataProcessor(c, engine, progress=False, workers=1).run(platforms=["spotify", "youtube"])
    assert result.status == "partial" and result.errors[-1].startswith("quota exhausted")
    checked = rows(engine, "SELECT COUNT(*) FROM series_check")[0][0]
    assert 1 <= result.fetches == checked < 12
    assert rows(engine, "SELECT status, counts FROM sync_run WHERE kind = 'fetch_artists'")[0][0] == "partial"
