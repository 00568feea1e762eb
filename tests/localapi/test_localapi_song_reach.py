"""The local server's song-reach endpoints (contract 8.1-8.5) over loopback: chart entries everywhere that agree with
the served rankings, ISRC and platform-id lookups (404 free or billed, 410), both popularity shapes, current
playlists, errors, quota, and the untidy values."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from localapi_http import server_fixtures, session

from localapi.test_localapi import assert_error
from localapi.test_localapi_untidy import get, walk
from soundcharts_lib.localapi import LocalApiConfig, running

TODAY = dt.date(2025, 4, 15)
GHOST = "00000000-0000-0000-0000-000000000000"
CHART_PLATFORMS = ("spotify", "apple-music", "deezer", "youtube", "shazam", "tiktok", "soundcloud", "airplay")
RANK_KEYS = {"chart", "position", "positionEvolution", "peakPosition", "peakDate", "entryState", "entryDate",
             "rankDate", "oldPosition", "current", "timeOnChart", "timeOnChartUnit"}
CHART_KEYS = {"name", "type", "slug", "platform", "frequency", "countryCode", "countryName", "cityName",
              "maxResultsCount", "webUrl"}
SONG_KEYS = {"uuid", "name", "isrc", "iswcs", "creditName", "artists", "releaseDate", "copyright", "appUrl",
             "imageUrl", "duration", "explicit", "genres", "composers", "producers", "labels", "audio"}
PLAYLIST_KEYS = {"uuid", "name", "identifier", "platform", "countryCode", "latestCrawlDate", "latestTrackCount",
                 "latestSubscriberCount", "imageUrl", "type"}
PLACEMENT_KEYS = {"playlist", "position", "peakPosition", "entryDate", "exitDate", "positionDate", "peakPositionDate"}
BLACKLISTED = "ISRC Blacklisted due to multiple tracks identified from DSP"


srv, http = server_fixtures(LocalApiConfig(seed=7, today=TODAY, history_days=120))


def raw(http, srv, path, **params):
    return http.get(srv.base_url + path, params=params, timeout=30)


def used(http, srv) -> int:
    return get(http, srv, "/api/v2/team/usage")["object"]["quota"]["used"]


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text[:10])


def ranks(http, srv, uuid, platform, **params):
    return walk(http, srv, f"/api/v2/song/{uuid}/charts/ranks/{platform}", **params)


def reach(srv, song):
    return srv.catalog.lookups.reach[song.uuid]


# --- 8.1 chart entries everywhere ------------------------------------------------------------------

def test_every_song_of_a_latest_ranking_lists_that_chart_with_the_same_figures(srv, http):
    chart = srv.catalog.charts["tiktok-top-50-us-weekly"]
    served = [i for i in walk(http, srv, f"/api/v2.14/chart/song/{chart.slug}/ranking/latest") if i["position"]]
    assert len(served) == 50
    for item in served:
        mine = [e for e in ranks(http, srv, item["song"]["uuid"], "tiktok", currentOnly=1)
                if e["chart"]["slug"] == chart.slug]
        assert len(mine) == 1 and mine[0]["current"] is True
        for key in ("position", "positionEvolution", "entryState", "entryDate", "rankDate", "oldPosition",
                    "timeOnChart", "timeOnChartUnit"):
            assert mine[0][key] == item[key], key
        if "ranks-older" not in srv.catalog.lookups.reach[item["song"]["uuid"]].quirks:
            assert 1 <= mine[0]["peakPosition"] <= item["position"] and day(mine[0]["peakDate"]) <= TODAY


@pytest.mark.slow
def test_current_entries_on_every_platform_are_exactly_the_latest_rankings(srv, http):
    song = max(srv.catalog.song_list, key=lambda s: s.base + s.hype)
    for platform in CHART_PLATFORMS:
        charted = {c.slug for c in srv.catalog.charts.values() if c.platform == platform and any(
            i["song"]["uuid"] == song.uuid and i["position"]
            for i in walk(http, srv, f"/api/v2.14/chart/song/{c.slug}/ranking/latest"))}
        listed = {i["chart"]["slug"] for i in ranks(http, srv, song.uuid, platform)}  # currentOnly defaults to 1
        assert listed == charted, platform
        assert listed <= {i["chart"]["slug"] for i in ranks(http, srv, song.uuid, platform, currentOnly=0)}


@pytest.mark.slow
def test_past_entries_point_at_the_last_served_ranking_they_were_on(srv, http):
    checked = 0
    for song in (s for s in srv.catalog.song_list[:70] if "ranks-older" not in reach(srv, s).quirks):
        for item in ranks(http, srv, song.uuid, "spotify", currentOnly=0):
            chart = srv.catalog.charts[item["chart"]["slug"]]
            assert set(item) == RANK_KEYS and set(item["chart"]) == CHART_KEYS
            if item["current"] or day(item["rankDate"]) not in chart.dates:
                continue
            assert item["position"] == 0 and item["peakPosition"] <= item["oldPosition"]
            ranking = walk(http, srv, f"/api/v2.14/chart/song/{chart.slug}/ranking/{item['rankDate']}")
            assert [i["position"] for i in ranking if i["song"]["uuid"] == song.uuid][:1] == [item["oldPosition"]]
            later = chart.dates[chart.dates.index(day(item["rankDate"])) + 1:]
            after = walk(http, srv, f"/api/v2.14/chart/song/{chart.slug}/ranking/{later[-1]}")
            assert not any(i["song"]["uuid"] == song.uuid and i["position"] for i in after)
            checked += 1
    assert checked >= 5


def test_peak_is_the_best_served_position_or_earlier(srv, http):
    chart = srv.catalog.charts["youtube-top-songs-fr-weekly"]
    best: dict[str, tuple[int, str]] = {}
    for when in walk(http, srv, f"/api/v2/chart/song/{chart.slug}/available-rankings")[::-1]:
        for item in walk(http, srv, f"/api/v2.14/chart/song/{chart.slug}/ranking/{when}"):
            if item["position"] and item["position"] < best.get(item["song"]["uuid"], (999, ""))[0]:
                best[item["song"]["uuid"]] = (item["position"], when)
    tidy = [(uuid, peak) for uuid, peak in best.items() if "ranks-older" not in srv.catalog.lookups.reach[uuid].quirks]
    for uuid, (position, when) in tidy[:40]:
        entry = next(i for i in ranks(http, srv, uuid, "youtube", currentOnly=0) if i["chart"]["slug"] == chart.slug)
        assert entry["peakPosition"] <= position
        if entry["peakPosition"] == position and day(entry["peakDate"]) >= chart.dates[0]:
            assert entry["peakDate"] == when


def test_chart_entries_shape_sorting_paging_and_errors(srv, http):
    song = max((s for s in srv.catalog.song_list if "ranks-older" not in reach(srv, s).quirks),
               key=lambda s: min(sum(i.current == now for i in srv.catalog.ranks.of_song(s, "spotify"))
                                 for now in (True, False)))
    path = f"/api/v2/song/{song.uuid}/charts/ranks/spotify"
    body = get(http, srv, path, currentOnly=0, limit=2)
    assert set(body["related"]) == {"uuid", "name", "creditName", "imageUrl"}
    assert body["related"]["uuid"] == song.uuid and body["related"]["creditName"] == song.credit_name
    assert parse_qs(urlsplit(body["page"]["next"]).query) == {"currentOnly": ["0"], "offset": ["2"], "limit": ["2"]}
    every = walk(http, srv, path, currentOnly="0", limit=2)
    positions = [i["position"] or 10**6 for i in every]
    assert positions == sorted(positions) and any(i["position"] == 0 for i in every)
    assert any(i["current"] for i in every)
    assert all(i["current"] == (i["position"] > 0) for i in every)
    by_date = walk(http, srv, path, currentOnly=0, sortBy="rankDate", sortOrder="asc")
    assert [i["rankDate"] for i in by_date] == sorted(i["rankDate"] for i in every)
    desc = walk(http, srv, path, currentOnly="false", sortOrder="desc")
    assert [i["position"] or 10**6 for i in desc] == sorted(positions, reverse=True)
    assert_error(raw(http, srv, f"/api/v2/song/{GHOST}/charts/ranks/spotify"), 404, "Song not found")
    assert_error(raw(http, srv, f"/api/v2/song/{song.uuid}/charts/ranks/instagram"), 400, "Invalid request")
    for params in ({"currentOnly": "2"}, {"sortBy": "peakPosition"}, {"sortOrder": "random"}, {"limit": "x"}):
        assert_error(raw(http, srv, path, **params), 400)
    assert_error(raw(http, srv, f"/api/v2.25/song/{song.uuid}/charts/ranks/spotify"), 404, "No route")


def test_a_song_that_never_charted_has_no_entries(srv, http):
    song = srv.catalog.extra_songs[0]
    assert get(http, srv, f"/api/v2.25/song/{song.uuid}")["object"]["uuid"] == song.uuid
    for platform in CHART_PLATFORMS:
        body = get(http, srv, f"/api/v2/song/{song.uuid}/charts/ranks/{platform}", currentOnly=0)
        assert body["items"] == [] and body["page"]["total"] == 0


def test_untidy_chart_entries(srv, http):
    older = next(s for s in srv.catalog.song_list if "ranks-older" in reach(srv, s).quirks
                 and srv.catalog.ranks.of_song(s, "spotify"))
    body = get(http, srv, f"/api/v2/song/{older.uuid}/charts/ranks/spotify", currentOnly=0)
    assert set(body["related"]) == {"uuid", "name", "creditName"}
    assert body["items"] and all(set(i) == RANK_KEYS - {"peakPosition", "peakDate"} and "webUrl" not in i["chart"]
                                 for i in body["items"])
    items = [i for song in srv.catalog.song_list[:80] for platform in ("spotify", "youtube", "airplay")
             for i in ranks(http, srv, song.uuid, platform, currentOnly=0)]
    assert {i["timeOnChartUnit"] for i in items} >= {"day", "DOC", "week", "WOC"}
    assert "" in {i["entryState"] for i in items} and any(i["entryDate"].endswith("T12:00:00+00:00") for i in items)
    assert any(i["oldPosition"] is None for i in items) and any(i["positionEvolution"] is None for i in items)
    assert any(i["oldPosition"] == 0 and i["position"] for i in items)
    assert any(i["chart"]["countryCode"] == "" for i in items) and any(i["chart"]["cityName"] for i in items)


# --- 8.2 / 8.3 lookups -----------------------------------------------------------------------------

def test_by_isrc_answers_the_song_object_also_for_an_alternate_isrc(srv, http):
    song = next(s for s in srv.catalog.song_list if s.isrc and len(reach(srv, s).alt_isrcs) == 2
                and not reach(srv, s).blacklisted)
    expected = get(http, srv, f"/api/v2.25/song/{song.uuid}")
    assert get(http, srv, f"/api/v2.25/song/by-isrc/{song.isrc}") == expected
    assert set(expected["object"]) == SONG_KEYS and expected["type"] == "song"
    for alternate in reach(srv, song).alt_isrcs:
        body = get(http, srv, f"/api/v2.25/song/by-isrc/{alternate}")
        assert body["object"]["uuid"] == song.uuid and body["object"]["isrc"]["value"] == song.isrc != alternate
    spelled = f"{song.isrc[:2]}-{song.isrc[2:5]}-{song.isrc[5:7]}-{song.isrc[7:]}".lower()
    assert get(http, srv, f"/api/v2.25/song/by-isrc/{spelled}")["object"]["uuid"] == song.uuid
    legacy = get(http, srv, f"/api/v2/song/by-isrc/{song.isrc}")["object"]
    assert legacy["isrc"] == song.isrc and "genres" not in legacy


def test_by_isrc_410_and_billed_404(srv, http):
    blacklisted = next(s for s in srv.catalog.song_list if s.isrc in srv.catalog.lookups.blacklist)
    for isrc in (blacklisted.isrc, srv.catalog.lookups.orphans[0]):
        error = assert_error(raw(http, srv, f"/api/v2.25/song/by-isrc/{isrc}"), 410, BLACKLISTED)
        assert error["key"] and error["code"] == 410
    assert get(http, srv, f"/api/v2.25/song/{blacklisted.uuid}")["object"]["isrc"]["value"] == blacklisted.isrc
    before = used(http, srv)
    assert_error(raw(http, srv, "/api/v2.25/song/by-isrc/ZZZZZ0000000"), 404, "Song not found")
    assert_error(raw(http, srv, "/api/v2.25/song/by-isrc/not-an-isrc"), 404, "Song not found")
    assert used(http, srv) == before + 2


def test_by_platform_finds_every_id_and_its_404_is_free(srv, http):
    song = next(s for s in srv.catalog.song_list if len(s.identifiers) >= 6 and s.isrc not in
                srv.catalog.lookups.blacklist)
    expected = get(http, srv, f"/api/v2.25/song/{song.uuid}")
    for ident in song.identifiers:
        if ident.platform != "isrc":
            path = f"/api/v2.25/song/by-platform/{ident.platform}/{quote(ident.identifier, safe='')}"
            assert get(http, srv, path) == expected, ident.platform
    spotify = song.identifiers_on("spotify")[0].identifier
    assert get(http, srv, f"/api/v2/song/by-platform/spotify/{spotify}")["object"]["isrc"] == song.isrc
    quiet = next(s for s in srv.catalog.extra_songs if s.identifiers_on("spotify"))
    found = get(http, srv, f"/api/v2.25/song/by-platform/spotify/{quiet.identifiers_on('spotify')[0].identifier}")
    assert found["object"]["uuid"] == quiet.uuid
    before = used(http, srv)
    assert_error(raw(http, srv, "/api/v2.25/song/by-platform/spotify/0000000000000000000000"), 404, "Song not found")
    assert used(http, srv) == before
    assert_error(raw(http, srv, f"/api/v2.25/song/by-platform/myspace/{spotify}"), 400, "Invalid platform code")
    assert used(http, srv) == before + 1
    blacklisted = next(s for s in srv.catalog.song_list if s.isrc in srv.catalog.lookups.blacklist
                       and s.identifiers_on("spotify"))
    ident = blacklisted.identifiers_on("spotify")[0].identifier
    assert_error(raw(http, srv, f"/api/v2.25/song/by-platform/spotify/{ident}"), 410, BLACKLISTED)


# --- 8.4 popularity --------------------------------------------------------------------------------

def test_popularity_in_both_item_shapes(srv, http):
    flat = next(s for s in srv.catalog.extra_songs if "popularity-flat" in s.quirks
                and srv.catalog.series(s.uuid, "spotify", "popularity"))
    items = walk(http, srv, f"/api/v2/song/{flat.uuid}/popularity/spotify")
    assert items and all(set(i) == {"date", "value"} and 0 <= i["value"] <= 100 for i in items)
    plots = next(s for s in srv.catalog.extra_songs if "popularity-flat" not in s.quirks
                 and srv.catalog.series(s.uuid, "spotify", "popularity"))
    items = walk(http, srv, f"/api/v2/song/{plots.uuid}/popularity/spotify")
    assert items and all(set(i) == {"date", "plots"} for i in items)
    assert_error(raw(http, srv, f"/api/v2/song/{flat.uuid}/popularity/spotify", startDate="2025-01-01"), 400, "90")


# --- 8.5 playlists ---------------------------------------------------------------------------------

def placements(http, srv, song, platform="spotify", **params):
    return walk(http, srv, f"/api/v2.20/song/{song.uuid}/playlist/current/{platform}", **params)


@pytest.fixture(scope="module")
def hit(srv):
    return max(srv.catalog.song_list, key=lambda s: s.strength(TODAY.toordinal()) * bool(s.identifiers_on("spotify"))
               * ("no-exit-key" not in reach(srv, s).quirks))


def test_current_playlists_shape_and_dates(srv, http, hit):
    body = get(http, srv, f"/api/v2.20/song/{hit.uuid}/playlist/current/spotify", limit=5)
    assert body["related"] == {"uuid": hit.uuid, "name": hit.name, "creditName": hit.credit_name,
                               "imageUrl": hit.image_url}
    items = placements(http, srv, hit, limit=50)
    assert len(items) >= 50 and len(items) == body["page"]["total"]
    for item in items:
        assert set(item) == PLACEMENT_KEYS and set(item["playlist"]) == PLAYLIST_KEYS
        assert item["exitDate"] is None and item["positionDate"][:10] == item["playlist"]["latestCrawlDate"][:10]
        assert 1 <= item["peakPosition"] <= item["position"] <= item["playlist"]["latestTrackCount"]
        assert day(item["entryDate"]) <= day(item["peakPositionDate"]) <= day(item["positionDate"]) <= TODAY
        assert item["playlist"]["type"] in ("editorial", "algorithmic", "algotorial", "major", "charts",
                                            "curators_listeners", "radios", "this_is")
        assert item["playlist"]["latestCrawlDate"][19:] in ("+01:00", "+02:00")
    assert [i["position"] for i in items] == sorted(i["position"] for i in items)
    everything = placements(http, srv, hit, currentOnly=0)
    past = [i for i in everything if i["exitDate"]]
    assert past and len(everything) == len(items) + len(past)
    assert all(day(i["entryDate"]) <= day(i["positionDate"]) < day(i["exitDate"]) <= TODAY for i in past)


def test_playlist_filters_and_sorts(srv, http, hit):
    items = placements(http, srv, hit, currentOnly=0)
    editorial = placements(http, srv, hit, currentOnly=0, type="editorial")
    assert editorial and {i["playlist"]["uuid"] for i in editorial} == {
        i["playlist"]["uuid"] for i in items if i["playlist"]["type"] == "editorial"}
    place = next(i["playlist"]["countryCode"] for i in items if i["playlist"]["countryCode"])
    local = placements(http, srv, hit, currentOnly=0, countryCode=place.lower())
    assert local and all(i["playlist"]["countryCode"] == place for i in local)
    assert any(i["playlist"]["countryCode"] == "" for i in items)
    two = [i["playlist"]["uuid"] for i in items[:2]]
    assert {i["playlist"]["uuid"] for i in placements(http, srv, hit, currentOnly=0,
                                                      playlistUuids=",".join(two))} == set(two)
    fans = [i["playlist"]["latestSubscriberCount"] for i in placements(http, srv, hit, sortBy="subscriberCount",
                                                                       sortOrder="desc")]
    assert fans == sorted(fans, reverse=True)
    entered = [i["entryDate"] for i in placements(http, srv, hit, sortBy="entryDate")]
    assert entered == sorted(entered)
    matched = 0
    for song in srv.catalog.song_list[:150]:
        for item in placements(http, srv, song, currentOnly=0, type="this_is"):
            name = item["playlist"]["name"]
            assert item["playlist"]["type"] == "this_is"
            if name.startswith("This Is "):  # not renamed by the untidy catalog
                assert any(name.startswith(f"This Is {a.name}") for a in song.artists)
                matched += 1
    assert matched >= 3


def test_playlist_errors_legacy_and_empty(srv, http, hit):
    path = f"/api/v2.20/song/{hit.uuid}/playlist/current/spotify"
    for params in ({"type": "viral"}, {"currentOnly": "yes"}, {"countryCode": "FRA"}, {"sortBy": "name"},
                   {"sortOrder": "sideways"}):
        assert_error(raw(http, srv, path, **params), 400, "Invalid request")
    assert_error(raw(http, srv, f"/api/v2.20/song/{hit.uuid}/playlist/current/tiktok"), 400, "Invalid request")
    assert_error(raw(http, srv, f"/api/v2.20/song/{GHOST}/playlist/current/spotify"), 404, "Song not found")
    legacy = walk(http, srv, f"/api/v2/song/{hit.uuid}/playlist/current/spotify")
    assert legacy and all(set(i["playlist"]) == PLAYLIST_KEYS - {"imageUrl", "type"} for i in legacy)
    absent = next(s for s in srv.catalog.song_list if not s.identifiers_on("deezer"))
    assert get(http, srv, f"/api/v2.20/song/{absent.uuid}/playlist/current/deezer")["items"] == []


def test_untidy_playlists(srv, http):
    song = next(s for s in srv.catalog.song_list if "no-exit-key" in reach(srv, s).quirks
                and any(p.exit_date is None for p in srv.catalog.placements(s.uuid, "spotify")))
    items = placements(http, srv, song, currentOnly=0)
    assert any("exitDate" not in i for i in items) and all(i.get("exitDate") for i in items if "exitDate" in i)
    lists = [i["playlist"] for s in srv.catalog.song_list[:150]
             for i in placements(http, srv, s, "deezer", currentOnly=0)]
    assert any(p["imageUrl"] is None for p in lists) and any(p["latestSubscriberCount"] == 0 for p in lists)
    assert any("<" in p["name"] or '"' in p["name"] or len(p["name"]) == 300 or ord(max(p["name"])) > 0x590
               for p in lists)


# --- quota, tidy, determinism ----------------------------------------------------------------------

def test_reach_calls_are_billed_but_the_by_platform_404():
    with running(LocalApiConfig(seed=7, today=TODAY, history_days=60, quota=10)) as server, session() as http:
        song = next(s for s in server.catalog.song_list if s.isrc and s.identifiers_on("spotify"))
        orphan = server.catalog.lookups.orphans[0]
        paths = [f"/api/v2/song/{song.uuid}/charts/ranks/spotify", f"/api/v2.25/song/by-isrc/{song.isrc}",
                 "/api/v2.25/song/by-platform/spotify/none", f"/api/v2.25/song/by-isrc/{orphan}",
                 "/api/v2.25/song/by-isrc/ZZZZZ0000000", f"/api/v2/song/{song.uuid}/popularity/spotify",
                 f"/api/v2.20/song/{song.uuid}/playlist/current/spotify"]
        answers = [raw(http, server, path) for path in paths]
        assert [a.status_code for a in answers] == [200, 200, 404, 410, 404, 200, 200]
        assert [a.headers["x-quota-remaining"] for a in answers] == ["9", "8", "8", "7", "6", "5", "4"]


def test_tidy_reach_has_no_quirks_but_keeps_the_blacklist(http):
    with running(LocalApiConfig(seed=7, today=TODAY, history_days=60, tidy=True)) as tidy:
        lookups = tidy.catalog.lookups
        assert not any(r.quirks for r in lookups.reach.values())
        assert not any("popularity-flat" in s.quirks for s in tidy.catalog.extra_songs)
        assert_error(raw(http, tidy, f"/api/v2.25/song/by-isrc/{lookups.orphans[0]}"), 410, BLACKLISTED)
        song = next(s for s in tidy.catalog.song_list if tidy.catalog.ranks.of_song(s, "spotify"))
        items = walk(http, tidy, f"/api/v2/song/{song.uuid}/charts/ranks/spotify", currentOnly=0)
        assert all(set(i) == RANK_KEYS for i in items)


def _reach_bodies(config):
    with running(config) as server, session() as http:
        song = server.catalog.song_list[42]
        paths = [f"/api/v2/song/{song.uuid}/charts/ranks/spotify?currentOnly=0",
                 f"/api/v2.20/song/{song.uuid}/playlist/current/spotify?currentOnly=0",
                 f"/api/v2.25/song/by-isrc/{server.catalog.lookups.orphans[0]}"]
        return [raw(http, server, path).content for path in paths]


@pytest.mark.slow
def test_same_seed_same_reach_bodies():
    config = LocalApiConfig(seed=5, today=TODAY, history_days=60)
    first = _reach_bodies(config)
    assert first == _reach_bodies(LocalApiConfig(seed=5, today=TODAY, history_days=60))
    assert first != _reach_bodies(LocalApiConfig(seed=6, today=TODAY, history_days=60))
