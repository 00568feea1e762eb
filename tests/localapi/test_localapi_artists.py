"""The local server's artist endpoints (contract 7.1-7.6) over loopback: shapes, both genre shapes, paging, windows,
sparse and gappy series, chart entries that match the served rankings, errors, billing, and the untidy values."""

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
REF_KEYS = {"uuid", "slug", "name", "appUrl", "imageUrl"}
LATER_KEYS = {"webUrl", "careerStage", "growthLevel", "cityName"}
OLDER_KEYS = REF_KEYS | {"countryCode", "biography", "isni", "ipi", "gender", "type", "birthDate", "genres"}
COUNTERS = ("likeCount", "followerCount", "followingCount", "postCount", "viewCount")
RANK_KEYS = {"chart", "song", "position", "positionEvolution", "peakPosition", "peakDate", "entryState", "entryDate",
             "rankDate", "oldPosition", "current", "timeOnChart", "timeOnChartUnit"}
CHART_KEYS = {"name", "type", "slug", "platform", "frequency", "countryCode", "countryName", "cityName",
              "maxResultsCount", "webUrl"}


srv, http = server_fixtures(LocalApiConfig(seed=7, today=TODAY, history_days=150))


def raw(http, srv, path, **params):
    return http.get(srv.base_url + path, params=params, timeout=30)


def profiles(srv, predicate):
    found = [profile for profile in srv.catalog.profiles.values() if predicate(profile)]
    assert found, "the catalog should hold such an artist"
    return found


def used(http, srv) -> int:
    return get(http, srv, "/api/v2/team/usage")["object"]["quota"]["used"]


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text[:10])


# --- 7.1 / 7.2 metadata ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def objects(srv, http):
    """Every artist's v2.9 object, read over HTTP."""
    return {uuid: get(http, srv, f"/api/v2.9/artist/{uuid}") for uuid in srv.catalog.profiles}


def test_every_artist_credited_on_a_song_is_served(srv, objects):
    credited = {a.uuid for song in srv.catalog.songs.values() for a in song.artists}
    assert credited <= set(objects) and len(objects) > len(credited)  # plus artists without a chart song
    uncharted = [p for p in srv.catalog.profiles.values() if p.songs and all(s in srv.catalog.extra_songs
                                                                               for s, _ in p.songs)]
    assert len(uncharted) >= 20 and any(not p.songs for p in srv.catalog.profiles.values())


def test_metadata_keys_types_and_values(srv, objects):
    for uuid, body in objects.items():
        assert body["type"] == "artist" and body["errors"] == []
        obj, profile = body["object"], srv.catalog.profiles[uuid]
        assert set(obj) in (OLDER_KEYS | LATER_KEYS, OLDER_KEYS), uuid
        assert obj["uuid"] == uuid and obj["name"] == profile.artist.name and obj["slug"]
        assert obj["appUrl"].startswith("https://app.soundcharts.com/") and isinstance(obj["countryCode"], str)
        assert obj["countryCode"] == profile.country_code and len(obj["countryCode"]) in (0, 2)
        for key in ("imageUrl", "biography", "isni", "ipi", "gender", "type", "webUrl", "careerStage",
                    "growthLevel", "cityName"):
            assert obj.get(key) is None or isinstance(obj[key], str), key
        assert obj["birthDate"] is None or obj["birthDate"].endswith("T00:00:00+00:00")
        assert obj["isni"] is None or len(obj["isni"]) == 16
        genres = obj["genres"]
        assert all(isinstance(g, str) for g in genres) or all(set(g) == {"root", "sub"} for g in genres)
        roots = [g["root"] if isinstance(g, dict) else g for g in genres]
        assert set(roots) >= {root for root, _ in profile.genres}
    stages = {o["object"].get("careerStage") for o in objects.values()}
    assert {"Superstar", "Mainstream", "Developing", "Long-tail", None} <= stages
    growth = {o["object"].get("growthLevel") for o in objects.values()}
    assert {"Explosive", "Average growth", "Decline", None} <= growth


UNTIDY = {
    "countryCode ''": lambda o: o["countryCode"] == "",
    "genres as strings": lambda o: o["genres"] and isinstance(o["genres"][0], str),
    "genres as objects": lambda o: o["genres"] and isinstance(o["genres"][0], dict),
    "genres []": lambda o: o["genres"] == [],
    "biography ''": lambda o: o["biography"] == "", "biography null": lambda o: o["biography"] is None,
    "cityName ''": lambda o: o.get("cityName") == "", "cityName null": lambda o: "cityName" in o
    and o["cityName"] is None,
    "older key set": lambda o: "webUrl" not in o, "careerStage null": lambda o: "careerStage" in o
    and o["careerStage"] is None,
    "imageUrl null": lambda o: o["imageUrl"] is None, "isni null": lambda o: o["isni"] is None,
    "ipi null": lambda o: o["ipi"] is None, "birthDate null": lambda o: o["birthDate"] is None,
    "type null": lambda o: o["type"] is None, "gender null": lambda o: o["gender"] is None,
    "webUrl null": lambda o: "webUrl" in o and o["webUrl"] is None,
    "html name": lambda o: "<b>" in o["name"], "script name": lambda o: o["name"].startswith("<script>"),
}


@pytest.mark.parametrize("kind", UNTIDY)
def test_each_untidy_metadata_value_is_served(objects, kind):
    hits = [body for body in objects.values() if UNTIDY[kind](body["object"])]
    assert hits and len(hits) < len(objects), kind


def test_legacy_v2_artist_object(srv, http):
    profile = next(iter(srv.catalog.profiles.values()))
    obj = get(http, srv, f"/api/v2/artist/{profile.uuid}")["object"]
    assert set(obj) == REF_KEYS | {"countryCode"} and obj["uuid"] == profile.uuid


def test_batch_metadata_keeps_the_order_drops_unknown_and_bills_once(srv, http):
    some = list(srv.catalog.profiles)[3:6]
    before = used(http, srv)
    body = get(http, srv, f"/api/v2.9/artist/{some[2]},{GHOST},{some[0]},{some[1]}")
    assert [item["uuid"] for item in body["items"]] == [some[2], some[0], some[1]]
    assert body["page"]["total"] == 3 and used(http, srv) == before + 1  # one call, whatever the count
    assert body["items"][1] == get(http, srv, f"/api/v2.9/artist/{some[0]}")["object"]
    assert_error(raw(http, srv, "/api/v2.9/artist/" + ",".join(list(srv.catalog.profiles)[:11])), 400, "10")
    assert_error(raw(http, srv, f"/api/v2.9/artist/{GHOST},{GHOST[:-1]}1"), 404, "Artist not found")


def test_by_platform_id_isni_and_slashed_youtube_ids(srv, http):
    profile = profiles(srv, lambda p: any(code == "youtube-artist" for code, _ in p.identifiers))[0]
    expected = get(http, srv, f"/api/v2.9/artist/{profile.uuid}")
    for code, ident in profile.identifiers:
        assert ident.startswith("/g/11") if code == "youtube-artist" else "/" not in ident
        assert get(http, srv, f"/api/v2.9/artist/by-platform/{code}/{quote(ident, safe='')}") == expected, code
    slashed = next(ident for code, ident in profile.identifiers if code == "youtube-artist")
    assert get(http, srv, f"/api/v2.9/artist/by-platform/youtube-artist/{slashed}") == expected  # raw slashes
    isni = profiles(srv, lambda p: p.isni)[0]
    assert get(http, srv, f"/api/v2.9/artist/by-platform/isni/{isni.isni}")["object"]["uuid"] == isni.uuid


def test_by_platform_unknown_id_is_a_free_404_and_a_bad_code_a_billed_400(srv, http):
    before = used(http, srv)
    assert_error(raw(http, srv, "/api/v2.9/artist/by-platform/spotify/nobody"), 404,
                 "No artist found for this platform identifier")
    assert used(http, srv) == before
    assert_error(raw(http, srv, "/api/v2.9/artist/by-platform/myspace/nobody"), 400, "platform code")
    assert used(http, srv) == before + 1


def test_unknown_artist_and_wrong_versions_are_404(srv, http):
    for path in (f"/api/v2.9/artist/{GHOST}", f"/api/v2/artist/{GHOST}", f"/api/v2.21/artist/{GHOST}/songs",
                 f"/api/v2/artist/{GHOST}/audience/spotify", f"/api/v2/artist/{GHOST}/streaming/spotify/listening",
                 f"/api/v2/artist/{GHOST}/charts/song/ranks/spotify"):
        assert_error(raw(http, srv, path), 404, "Artist not found")
    uuid = next(iter(srv.catalog.profiles))
    for path in (f"/api/v2.9/artist/{uuid}/songs", f"/api/v2.21/artist/{uuid}", f"/api/v2.9/artist/{uuid}/audience/x"):
        assert_error(raw(http, srv, path), 404, "No route")


# --- 7.3 songs -------------------------------------------------------------------------------------

def test_songs_both_roles_paged_with_the_query_kept(srv, http):
    profile = max(srv.catalog.profiles.values(),
                  key=lambda p: (any(not main for _, main in p.songs), len(p.songs)))
    path = f"/api/v2.21/artist/{profile.uuid}/songs"
    first = get(http, srv, path, sortBy="releaseDate", sortOrder="desc", limit=3)
    assert first["related"] == {"uuid": profile.uuid, "slug": profile.artist.slug, "name": profile.artist.name,
                                "appUrl": profile.artist.app_url, "imageUrl": profile.artist.image_url}
    link = urlsplit(first["page"]["next"])
    assert link.path == path and parse_qs(link.query) == {"sortBy": ["releaseDate"], "sortOrder": ["desc"],
                                                          "offset": ["3"], "limit": ["3"]}
    items = walk(http, srv, path, sortBy="releaseDate", sortOrder="desc", limit=3)
    assert all(set(i) == {"uuid", "name", "creditName", "releaseDate"} for i in items)
    assert {i["uuid"] for i in items} == {s.uuid for s, _ in profile.songs} and len(items) == len(profile.songs)
    known = [i["releaseDate"][:10] for i in items if i["releaseDate"]]
    assert known == sorted(known, reverse=True) and items.index(next(i for i in items if i["releaseDate"])) == 0
    main = {i["uuid"] for i in walk(http, srv, path, mainPerformer=1)}
    featured = {i["uuid"] for i in walk(http, srv, path, mainPerformer=0)}
    assert featured and main and not main & featured and main | featured == {i["uuid"] for i in items}
    assert all(profile.artist.name in i["creditName"] or "<" in i["creditName"] for i in items)


def _latest(srv, song, platform, kind):
    points = srv.catalog.series(song, platform, kind)
    values = [value for _, value in points[0][1]] if points else [0]
    return max(values) if kind == "popularity" else sum(values)


@pytest.mark.parametrize("sort_by,platform,kind", [("spotifyStream", "spotify", "audience"),
                                                   ("shazamCount", "shazam", "audience"),
                                                   ("youtubeViews", "youtube", "audience"),
                                                   ("spotifyPopularity", "spotify", "popularity")])
def test_songs_sorted_by_audience_figures(srv, http, sort_by, platform, kind):
    profile = max(srv.catalog.profiles.values(), key=lambda p: len(p.songs))
    items = walk(http, srv, f"/api/v2.21/artist/{profile.uuid}/songs", sortBy=sort_by, sortOrder="desc")
    values = [_latest(srv, i["uuid"], platform, kind) for i in items]
    assert values == sorted(values, reverse=True) and values[0] > 0


def test_songs_by_name_score_legacy_and_errors(srv, http):
    profile = max(srv.catalog.profiles.values(), key=lambda p: len(p.songs))
    path = f"/api/v2.21/artist/{profile.uuid}/songs"
    names = [i["name"].casefold() for i in walk(http, srv, path)]  # default: name, ascending
    assert names == sorted(names)
    assert len(walk(http, srv, path, sortBy="soundchartsScore")) == len(names)
    legacy = walk(http, srv, f"/api/v2/artist/{profile.uuid}/songs")
    assert all(set(i) == {"uuid", "name", "creditName"} for i in legacy) and len(legacy) == len(names)
    for params in ({"sortBy": "plays"}, {"sortOrder": "up"}, {"mainPerformer": "yes"}, {"limit": 0}):
        assert_error(raw(http, srv, path, **params), 400)
    lonely = profiles(srv, lambda p: not p.songs)[0]
    assert get(http, srv, f"/api/v2.21/artist/{lonely.uuid}/songs")["items"] == []


# --- 7.4 followers ---------------------------------------------------------------------------------

def cadence(value: int) -> int:
    """Days between refreshes by follower count, as the contract reads (a big account: every day)."""
    return 15 if value < 10 else 7 if value < 150 else 5 if value < 500 else 3 if value < 5000 else 1


WINDOW = {"startDate": str(TODAY - dt.timedelta(days=90)), "endDate": str(TODAY)}


def followers(http, srv, profile, platform, **params):
    return walk(http, srv, f"/api/v2/artist/{profile.uuid}/audience/{platform}", **(params or WINDOW))


@pytest.fixture(scope="module")
def series(srv, http):
    """(profile, platform, items) of every account of 80 artists over 90 days, read over HTTP."""
    return [(p, platform, followers(http, srv, p, platform)) for p in list(srv.catalog.profiles.values())[::3]
            for platform in p.accounts]


def test_followers_shape_counters_and_related(srv, http):
    profile = profiles(srv, lambda p: {"spotify", "youtube", "instagram", "tiktok"} <= set(p.accounts)
                       and p.level > 1e6)[0]
    for platform, counters in (("spotify", {"followerCount"}), ("youtube", {"followerCount", "postCount",
                                                                           "viewCount"}),
                               ("tiktok", {"followerCount", "likeCount", "followingCount", "postCount"}),
                               ("instagram", {"followerCount", "followingCount", "postCount"})):
        body = get(http, srv, f"/api/v2/artist/{profile.uuid}/audience/{platform}", **WINDOW)
        assert body["related"]["artist"]["uuid"] == profile.uuid and set(body["related"]["artist"]) == REF_KEYS
        assert body["related"]["platform"] == platform
        items = walk(http, srv, f"/api/v2/artist/{profile.uuid}/audience/{platform}", **WINDOW)
        assert body["related"]["lastCrawlDate"][:10] == items[-1]["date"][:10]
        filled = [i for i in items if i["followerCount"] is not None]
        assert filled and all(set(i) == {"date", *COUNTERS} for i in items)
        assert all({k for k in COUNTERS if i[k] is not None} == counters for i in filled), platform


def test_followers_sampled_by_size_with_gaps_oldest_first(series):
    small = big = 0
    for _, _, items in series:
        days = [day(i["date"]) for i in items]
        assert days == sorted(set(days)) and all(TODAY - dt.timedelta(days=90) <= d <= TODAY for d in days)
        for before, after in zip(items, items[1:], strict=False):
            if before["followerCount"] is not None:
                assert (day(after["date"]) - day(before["date"])).days >= cadence(before["followerCount"])
        counts = [i["followerCount"] for i in items if i["followerCount"] is not None]
        small += bool(counts) and max(counts) < 10 and len(items) <= 7
        big += bool(counts) and min(counts) > 5000 and len(items) > 80
    assert small and big


def test_followers_are_running_totals_that_can_drop(series):
    grew = dropped = 0
    for _, _, items in series:
        counts = [i["followerCount"] for i in items if i["followerCount"] is not None]
        if len(counts) > 30:
            grew += counts[-1] >= counts[0]
            dropped += any(b < a for a, b in zip(counts, counts[1:], strict=False))
    assert grew > dropped > 0


def test_followers_untidy_nulls_runs_of_missing_days_and_paris_dates(series):
    assert any(i["followerCount"] is None and all(i[k] is None for k in COUNTERS) for *_, items in series
               for i in items)
    daily = [items for *_, items in series if items and all(i["followerCount"] is None or i["followerCount"] > 5000
                                                            for i in items)]
    assert any(any((day(b["date"]) - day(a["date"])).days >= 5 for a, b in zip(items, items[1:], strict=False))
               for items in daily)  # a run of missing days where a point is due every day
    offsets = {i["date"][19:] for p, _, items in series for i in items if "paris-dates" in p.quirks}
    assert offsets == {"+01:00", "+02:00"}
    assert {i["date"][10:] for p, _, items in series for i in items if "paris-dates" not in p.quirks} == \
        {"T00:00:00+00:00"}


def test_followers_windows_and_platform_errors(srv, http):
    profile = profiles(srv, lambda p: "spotify" in p.accounts and p.level > 1e6)[0]
    path = f"/api/v2/artist/{profile.uuid}/audience/spotify"
    default = walk(http, srv, path)
    assert default and day(default[0]["date"]) >= TODAY - dt.timedelta(days=30) and day(default[-1]["date"]) == TODAY
    assert_error(raw(http, srv, path, startDate="2025-01-01", endDate="2025-04-02"), 400, "90 days")
    assert_error(raw(http, srv, path, startDate="2025-04-10", endDate="2025-04-01"), 400, "after")
    assert_error(raw(http, srv, path, endDate="15/04/2025"), 400, "YYYY-MM-DD")
    assert_error(raw(http, srv, f"/api/v2/artist/{profile.uuid}/audience/apple-music"), 404, "not a social")
    assert_error(raw(http, srv, f"/api/v2/artist/{profile.uuid}/audience/myspace"), 400, "platform code")
    assert walk(http, srv, path, startDate="2024-01-01", endDate="2024-02-01") == []  # before the history


def test_no_account_is_empty_or_404(srv, http):
    quiet = profiles(srv, lambda p: "tiktok" not in p.accounts and "no-account-404" not in p.quirks)[0]
    body = get(http, srv, f"/api/v2/artist/{quiet.uuid}/audience/tiktok")
    assert body["items"] == [] and body["page"]["total"] == 0 and body["related"]["lastCrawlDate"] is None
    loud = profiles(srv, lambda p: "tiktok" not in p.accounts and "no-account-404" in p.quirks)[0]
    assert_error(raw(http, srv, f"/api/v2/artist/{loud.uuid}/audience/tiktok"), 404, "No social account found")


# --- 7.5 listening ---------------------------------------------------------------------------------

def test_monthly_listeners_go_up_and_down_views_only_up(srv, http):
    ups_and_downs = stale = 0
    for profile in profiles(srv, lambda p: "spotify" in p.listening and p.level > 1e5)[:25]:
        body = get(http, srv, f"/api/v2/artist/{profile.uuid}/streaming/spotify/listening", **WINDOW)
        assert set(body["related"]) == {"artist", "platform", "lastCrawlDate"}
        values = [i["value"] for i in walk(http, srv, f"/api/v2/artist/{profile.uuid}/streaming/spotify/listening",
                                           **WINDOW)]
        assert all(isinstance(v, int) and v >= 0 for v in values)
        pairs = list(zip(values, values[1:], strict=False))
        ups_and_downs += any(b > a for a, b in pairs) and any(b < a for a, b in pairs)
        stale += any(a == b for a, b in pairs)
    assert ups_and_downs >= 20 and stale
    viewed = profiles(srv, lambda p: "youtube" in p.listening)[0]
    items = walk(http, srv, f"/api/v2/artist/{viewed.uuid}/streaming/youtube/listening", **WINDOW)
    assert items and all(set(i) == {"date", "value"} for i in items)
    assert [i["value"] for i in items] == sorted(i["value"] for i in items)


def test_listening_sparse_for_small_artists_and_platform_rules(srv, http):
    small = profiles(srv, lambda p: "spotify" in p.listening and p.level < 20)[0]
    items = walk(http, srv, f"/api/v2/artist/{small.uuid}/streaming/spotify/listening", **WINDOW)
    assert items and all((day(b["date"]) - day(a["date"])).days >= 7 for a, b in zip(items, items[1:], strict=False))
    for platform in ("pandora", "audiomack"):
        profile = profiles(srv, lambda p, code=platform: code in p.listening)[0]
        assert walk(http, srv, f"/api/v2/artist/{profile.uuid}/streaming/{platform}/listening", **WINDOW)
    body = get(http, srv, f"/api/v2/artist/{small.uuid}/streaming/deezer/listening")
    assert body["items"] == [] and body["related"]["lastCrawlDate"] is None
    path = f"/api/v2/artist/{small.uuid}/streaming/instagram/listening"
    assert_error(raw(http, srv, path), 404, "not a streaming platform")
    listening = f"/api/v2/artist/{small.uuid}/streaming/spotify/listening"
    assert_error(raw(http, srv, listening, startDate="2024-12-01"), 400, "90 days")


# --- 7.6 chart entries -----------------------------------------------------------------------------

def _ranks(http, srv, profile, platform="spotify", **params):
    return walk(http, srv, f"/api/v2/artist/{profile.uuid}/charts/song/ranks/{platform}", **params)


def test_chart_entries_match_the_latest_served_rankings(srv, http):
    profile = max(srv.catalog.profiles.values(), key=lambda p: len(p.songs))
    mine = {song.uuid for song, _ in profile.songs}
    expected = {}
    for chart in (c for c in srv.catalog.charts.values() if c.platform == "spotify"):
        for item in walk(http, srv, f"/api/v2.14/chart/song/{chart.slug}/ranking/latest"):
            if item["song"]["uuid"] in mine and item["position"]:
                expected[(chart.slug, item["song"]["uuid"])] = item
    current = _ranks(http, srv, profile, currentOnly=1)
    assert expected and {(i["chart"]["slug"], i["song"]["uuid"]) for i in current} == set(expected)
    for item in current:
        served = expected[(item["chart"]["slug"], item["song"]["uuid"])]
        for key in ("position", "positionEvolution", "entryState", "entryDate", "rankDate", "oldPosition",
                    "timeOnChart", "timeOnChartUnit"):
            assert item[key] == served[key], key
        assert item["current"] is True and 1 <= item["peakPosition"] <= item["position"]
        assert day(item["peakDate"]) <= day(item["rankDate"]) and day(item["entryDate"]) <= day(item["peakDate"])
    assert [i["position"] for i in current] == sorted(i["position"] for i in current)


def test_past_entries_sorting_paging_and_errors(srv, http):
    profile = max(srv.catalog.profiles.values(), key=lambda p: len(p.songs))
    every = _ranks(http, srv, profile, currentOnly=0, limit=7)
    past = [i for i in every if not i["current"]]
    assert past and len(every) > len(_ranks(http, srv, profile, currentOnly=1))
    assert all(i["position"] == 0 and i["oldPosition"] and i["peakPosition"] <= i["oldPosition"] for i in past)
    assert every[-len(past):] == past  # position 0 sorts after every position
    assert all(set(i) == RANK_KEYS and set(i["chart"]) == CHART_KEYS for i in every)
    assert all(set(i["song"]) == {"uuid", "name", "creditName", "imageUrl"} for i in every)
    by_date = _ranks(http, srv, profile, currentOnly=0, sortBy="rankDate", sortOrder="desc")
    dates = [i["rankDate"] for i in by_date]
    assert dates == sorted(dates, reverse=True) and len(by_date) == len(every)
    path = f"/api/v2/artist/{profile.uuid}/charts/song/ranks/spotify"
    assert_error(raw(http, srv, f"/api/v2/artist/{profile.uuid}/charts/song/ranks/instagram"), 400,
                 "Invalid platform code provided")
    for params in ({"currentOnly": "maybe"}, {"sortBy": "peak"}, {"sortOrder": "down"}, {"offset": -1}):
        assert_error(raw(http, srv, path, **params), 400)


def test_chart_entries_in_the_older_shape_and_untidy_spellings(srv, http):
    older = profiles(srv, lambda p: "ranks-older" in p.quirks and any(
        srv.catalog.ranks.of_song(s, "spotify") for s, _ in p.songs))[0]
    items = _ranks(http, srv, older, currentOnly=0)
    assert items and all(set(i) == RANK_KEYS - {"peakPosition", "peakDate"} and "webUrl" not in i["chart"]
                         for i in items)
    items = [i for p in list(srv.catalog.profiles.values())[:60] for platform in ("spotify", "apple-music", "tiktok")
             for i in _ranks(http, srv, p, platform, currentOnly=0)]
    assert {i["timeOnChartUnit"] for i in items} >= {"day", "DOC", "week", "WOC"}
    assert {i["entryState"] for i in items} >= {"", "down", "up", "new"}
    assert any(i["entryDate"].endswith("T12:00:00+00:00") for i in items)
    assert any(i["positionEvolution"] is None for i in items) and any(i["oldPosition"] is None for i in items)
    assert any(i["chart"]["countryCode"] == "" for i in items) and any(i["song"]["imageUrl"] is None for i in items)


# --- quota, faults, tidy, determinism --------------------------------------------------------------

def test_every_artist_call_is_billed_but_the_free_404_and_faults_hit_them_too():
    with running(LocalApiConfig(seed=7, today=TODAY, history_days=60, quota=10)) as server, session() as http:
        profile = next(p for p in server.catalog.profiles.values() if "spotify" in p.accounts)
        paths = [f"/api/v2.9/artist/{profile.uuid}", f"/api/v2.21/artist/{profile.uuid}/songs",
                 f"/api/v2/artist/{profile.uuid}/audience/spotify",
                 f"/api/v2/artist/{profile.uuid}/streaming/spotify/listening",
                 f"/api/v2/artist/{profile.uuid}/charts/song/ranks/spotify", "/api/v2.9/artist/by-platform/spotify/x",
                 f"/api/v2/artist/{profile.uuid}/audience/myspace"]
        remaining = [raw(http, server, path).headers["x-quota-remaining"] for path in paths]
        assert remaining == ["9", "8", "7", "6", "5", "5", "4"]
    config = LocalApiConfig(seed=7, today=TODAY, history_days=60, fault_rate=1.0, fault_kinds=("5xx",))
    with running(config) as server, session() as http:
        failed = raw(http, server, f"/api/v2.9/artist/{next(iter(server.catalog.profiles))}")
        assert failed.status_code in (500, 502, 503, 504) and failed.json()["errors"][0]["code"] == failed.status_code


def test_tidy_artists_have_one_genre_shape_every_key_and_no_404_for_missing_accounts(http):
    with running(LocalApiConfig(seed=7, today=TODAY, history_days=60, tidy=True)) as tidy:
        assert not any(p.quirks for p in tidy.catalog.profiles.values())
        for uuid in list(tidy.catalog.profiles)[:80]:
            obj = get(http, tidy, f"/api/v2.9/artist/{uuid}")["object"]
            assert set(obj) == OLDER_KEYS | LATER_KEYS and all(isinstance(g, str) for g in obj["genres"])
        missing = next(p for p in tidy.catalog.profiles.values() if "tiktok" not in p.accounts)
        assert get(http, tidy, f"/api/v2/artist/{missing.uuid}/audience/tiktok")["items"] == []
        dates = {i["date"][10:] for p in list(tidy.catalog.profiles.values())[:20] for platform in p.accounts
                 for i in walk(http, tidy, f"/api/v2/artist/{p.uuid}/audience/{platform}")}
        assert dates == {"T00:00:00+00:00"}


def _artist_bodies(config):
    with running(config) as server, session() as http:
        uuid = list(server.catalog.profiles)[42]
        paths = [f"/api/v2.9/artist/{uuid}", f"/api/v2.21/artist/{uuid}/songs?sortBy=spotifyStream",
                 f"/api/v2/artist/{uuid}/audience/spotify", f"/api/v2/artist/{uuid}/streaming/spotify/listening",
                 f"/api/v2/artist/{uuid}/charts/song/ranks/spotify?currentOnly=0"]
        return [raw(http, server, path).content for path in paths]


@pytest.mark.slow
def test_same_seed_same_artist_bodies():
    config = LocalApiConfig(seed=5, today=TODAY, history_days=60)
    first = _artist_bodies(config)
    assert first == _artist_bodies(LocalApiConfig(seed=5, today=TODAY, history_days=60))
    assert first != _artist_bodies(LocalApiConfig(seed=6, today=TODAY, history_days=60))
