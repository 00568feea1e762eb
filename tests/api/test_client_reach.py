"""A song's reach (contract 8.1-8.5) against a tiny real HTTP server replaying bodies written from the contract
(tests/data/reach_*.json): chart entries everywhere with ``currentOnly`` always sent, lookups by ISRC and platform id
(410 as Gone, 404 as NotFound, bad ISRCs and Spotify links refused before any request), popularity in both item
shapes and 90-day windows, current playlists paged with their filters."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from api.replay import DATA, saved
from soundcharts_lib.api.transport import date_windows
from soundcharts_lib.errors import BadRequest, Gone, NotFound, PayloadError, QuotaExhausted, ServerError
from soundcharts_lib.vocab import BadValue

S = "2ffc5f25-7d1b-11ea-a6e0-aa0b4b9f2c1e"
RANKS = f"/api/v2/song/{S}/charts/ranks/spotify"
BY_ISRC = "/api/v2.25/song/by-isrc/USAT22003158"
BY_SPOTIFY = "/api/v2.25/song/by-platform/spotify/7A9rdAz2M6AjRwOa34jxIP"
POPULARITY = f"/api/v2/song/{S}/popularity/spotify"
PLAYLISTS = f"/api/v2.20/song/{S}/playlist/current/spotify"


def body(name: str) -> dict:
    return json.loads((DATA / name).read_bytes())


def served(data: dict, status: int = 200) -> tuple[int, bytes, dict]:
    return status, json.dumps(data).encode(), {}


def queries(replay, path: str) -> list[dict[str, str]]:
    return [q for p, q, _ in replay.seen if p == path]


# --- 8.1 chart entries everywhere --------------------------------------------------------------------------------

def test_song_chart_entries_send_current_only_and_sort(replay, client):
    replay.routes[RANKS] = [saved("reach_chart_entries.json")]
    entries = client.song_chart_entries(S, "spotify")
    assert queries(replay, RANKS) == [{"currentOnly": "1", "sortBy": "position", "sortOrder": "asc", "offset": "0",
                                       "limit": "100"}]
    glob, past, city = entries
    assert all(e.song.uuid == S and e.song.name == "Dance Monkey" for e in entries)  # the related song
    assert glob.chart.country_code is None and glob.position == 118 and glob.position_evolution == -4
    assert (glob.peak_position, glob.peak_date) == (1, date(2019, 10, 17)) and glob.current is True
    assert glob.entry_state is None and glob.entry_date == date(2019, 7, 25) and glob.time_on_chart == 2060
    assert past.position == 0 and past.current is False and past.old_position == 50
    assert past.rank_date == date(2022, 1, 30) and past.chart.web_url is None
    assert city.chart.city_name == "Sydney" and city.peak_position is None and city.peak_date is None


def test_song_chart_entries_past_too_are_asked_with_0(replay, client):
    replay.routes[RANKS] = [saved("reach_chart_entries.json")]
    client.song_chart_entries(S, "spotify", current_only=False, sort_by="rankDate", sort_order="desc")
    assert queries(replay, RANKS)[0] == {"currentOnly": "0", "sortBy": "rankDate", "sortOrder": "desc",
                                         "offset": "0", "limit": "100"}


def test_song_chart_entries_without_related_have_no_song(replay, client):
    bare = body("reach_chart_entries.json")
    del bare["related"]
    replay.routes[RANKS] = [served(bare)]
    assert [e.song for e in client.song_chart_entries(S, "spotify")] == [None] * 3


def test_song_chart_entries_follow_page_next(replay, client):
    first, second = body("reach_chart_entries.json"), body("reach_chart_entries.json")
    first["items"], second["items"] = first["items"][:2], second["items"][2:]
    first["page"]["next"] = f"{RANKS}?sortOrder=asc&offset=2&currentOnly=1&limit=2&sortBy=position"
    replay.routes[RANKS] = [served(first), served(second)]
    assert [e.chart.slug for e in client.song_chart_entries(S, "spotify")] == [
        "global-28", "spotify-top-50-au-daily", "spotify-city-sydney"]
    assert queries(replay, RANKS)[1] == {"currentOnly": "1", "sortBy": "position", "sortOrder": "asc",
                                         "offset": "2", "limit": "2"}


def test_song_chart_entries_errors(replay, client):
    replay.routes[RANKS] = [saved("error_404.json", 404)]
    with pytest.raises(NotFound, match="Song not found"):
        client.song_chart_entries(S, "spotify")
    with pytest.raises(BadValue, match="sort_order must be one of asc, desc"):
        client.song_chart_entries(S, "spotify", sort_order="ascending")
    assert replay.hits(RANKS) == 1


# --- 8.2 / 8.3 lookups -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("isrc", ["USAT22003158", "usat22003158", "US-AT2-20-03158"])
def test_song_by_isrc_sends_12_uppercase_characters(replay, client, isrc):
    replay.routes[BY_ISRC] = [saved("reach_song_by_isrc.json")]
    song = client.song_by_isrc(isrc)
    assert song.uuid == S and song.isrc == "USAT22003158" and song.artists[0].slug == "tones-and-i"
    assert replay.seen[0][:2] == (BY_ISRC, {})


def test_song_by_spotify_link_is_the_same_song_with_another_isrc(replay, client):
    replay.routes[BY_SPOTIFY] = [saved("reach_song_by_spotify.json")]
    for given in ("7A9rdAz2M6AjRwOa34jxIP", "https://open.spotify.com/track/7A9rdAz2M6AjRwOa34jxIP?si=4c1e2f",
                  "spotify:track:7A9rdAz2M6AjRwOa34jxIP", "open.spotify.com/intl-fr/track/7A9rdAz2M6AjRwOa34jxIP"):
        song = client.song_by_platform("spotify", given)
        assert song.uuid == S and song.isrc == "USAT22003425"  # one representative ISRC, not the one asked
    assert replay.hits(BY_SPOTIFY) == 4


def test_song_by_platform_keeps_numeric_ids_as_text_and_encodes_them(replay, client):
    replay.routes["/api/v2.25/song/by-platform/deezer/3036185131"] = [saved("reach_song_by_isrc.json")]
    replay.routes["/api/v2.25/song/by-platform/youtube/watch%3Fv%3DkTJczUoc26U"] = [saved("reach_song_by_isrc.json")]
    assert client.song_by_platform("deezer", "3036185131").uuid == S
    assert client.song_by_platform("youtube", "watch?v=kTJczUoc26U").uuid == S


def test_song_by_isrc_legacy_body_with_a_plain_isrc(replay, client):
    replay.routes[BY_ISRC] = [saved("reach_song_by_isrc_v2_legacy.json")]
    song = client.song_by_isrc("USAT22003158")
    assert song.isrc == "USAT22003158" and song.labels == ["Bad Batch Records"] and song.genres == []


@pytest.mark.parametrize(("call", "path"), [
    (lambda c: c.song_by_isrc("USAT22003158"), BY_ISRC),
    (lambda c: c.song_by_platform("spotify", "7A9rdAz2M6AjRwOa34jxIP"), BY_SPOTIFY),
])
def test_blacklisted_isrc_is_gone_and_not_retried(replay, client, call, path):
    replay.routes[path] = [saved("error_410_isrc.json", 410)]
    with pytest.raises(Gone) as info:
        call(client)
    assert info.value.status == 410 and info.value.endpoint == path and not info.value.retryable
    assert info.value.api_message == "ISRC Blacklisted due to multiple tracks identified from DSP"
    assert str(info.value).count("\n") == 0 and replay.hits(path) == 1 and client.waits == []


@pytest.mark.parametrize(("call", "path"), [
    (lambda c: c.song_by_isrc("USAT22003158"), BY_ISRC),
    (lambda c: c.song_by_platform("spotify", "7A9rdAz2M6AjRwOa34jxIP"), BY_SPOTIFY),
])
def test_unknown_song_lookup_is_not_found(replay, client, call, path):
    replay.routes[path] = [saved("error_404.json", 404)]
    with pytest.raises(NotFound) as info:
        call(client)
    assert type(info.value) is NotFound and info.value.api_message == "Song not found"


def test_lookup_with_an_invalid_platform_code_is_a_bad_request(replay, client):
    path = "/api/v2.25/song/by-platform/napster/12345"
    replay.routes[path] = [saved("error_400.json", 400)]
    with pytest.raises(BadRequest):
        client.song_by_platform("napster", "12345")


@pytest.mark.parametrize("isrc", ["USAT2200315", "USAT220031588", "USAT2200315X", "U5AT22003158", "USAT22003158\n",
                                  " USAT22003158", "USAT-2200-3158", "ＵＳAT22003158", "", "US AT2 20 03158"])
def test_malformed_isrc_is_refused_before_any_request(replay, client, isrc):
    with pytest.raises(BadValue, match="not an ISRC") as info:
        client.song_by_isrc(isrc)
    assert "\n" not in str(info.value) and replay.seen == []


@pytest.mark.parametrize(("platform", "identifier", "fragment"), [
    ("spotify", "https://open.spotify.com/album/7A9rdAz2M6AjRwOa34jxIP", "not a Spotify track"),
    ("spotify", "https://open.spotify.com/track/7A9rdAz2M6AjRwOa34jx", "not a Spotify track"),
    ("spotify", "https://evil.example/track/7A9rdAz2M6AjRwOa34jxIP", "not a Spotify track"),
    ("spotify", "7A9rdAz2M6AjRwOa34jxIP\n", "not a Spotify track"),
    ("spotify", "7A9rdAz2M6AjRwOa34jx-P", "not a Spotify track"),
    ("deezer", "", "not a platform identifier"),
    ("deezer", "3036185131 ", "not a platform identifier"),
    ("deezer", "30361\x0085131", "not a platform identifier"),
    ("Apple Music", "1440841363", "not a slug"),
])
def test_malformed_platform_id_is_refused_before_any_request(replay, client, platform, identifier, fragment):
    with pytest.raises(BadValue, match=fragment) as info:
        client.song_by_platform(platform, identifier)
    assert "\n" not in str(info.value) and replay.seen == []


# --- 8.4 popularity ----------------------------------------------------------------------------------------------

def test_popularity_plots_shape(replay, client):
    replay.routes[POPULARITY] = [saved("reach_popularity_plots.json")]
    points = client.song_popularity(S, "spotify", "2025-03-01", "2025-03-14")
    assert queries(replay, POPULARITY) == [{"startDate": "2025-03-01", "endDate": "2025-03-14", "offset": "0",
                                            "limit": "100"}]
    assert [(p.date.day, p.identifier, p.value) for p in points] == [
        (2, "1rgnBhdG2JDFTbYkYRZAku", 0), (2, "7A9rdAz2M6AjRwOa34jxIP", 78),  # a real 0 kept; null skipped
        (8, "7A9rdAz2M6AjRwOa34jxIP", 77)]
    assert points[0].date_raw == "2025-03-02T00:00:00+01:00"


def test_popularity_flat_shape_has_no_identifier(replay, client):
    replay.routes[POPULARITY] = [saved("reach_popularity_flat.json")]
    points = client.song_popularity(S, "spotify", date(2021, 3, 29), date(2021, 4, 10))
    assert [(p.date, p.identifier, p.value) for p in points] == [
        (date(2021, 3, 29), None, 0), (date(2021, 4, 4), None, 63), (date(2021, 4, 10), None, 64)]


def test_popularity_over_90_days_in_windows_and_both_shapes_merged(replay, client):
    start, end = date(2025, 1, 1), date(2025, 4, 30)  # 120 days: 90 + 30
    flat = body("reach_popularity_flat.json")
    flat["items"].append({"date": "2025-03-02T00:00:00+01:00", "value": 70})
    replay.routes[POPULARITY] = [served(flat), saved("reach_popularity_plots.json")]
    points = client.song_popularity(S, "spotify", start, end)
    asked = [(date.fromisoformat(q["startDate"]), date.fromisoformat(q["endDate"])) for q in
             queries(replay, POPULARITY)]
    assert asked == date_windows(start, end) and all(hi - lo < timedelta(days=90) for lo, hi in asked)
    keys = [(p.date, p.identifier or "") for p in points]
    assert keys == sorted(keys) and len(keys) == len(set(keys)) == 3 + 1 + 3
    on_day = [p for p in points if p.date == date(2025, 3, 2)]
    assert [p.identifier for p in on_day] == [None, "1rgnBhdG2JDFTbYkYRZAku", "7A9rdAz2M6AjRwOa34jxIP"]


def test_popularity_item_with_neither_shape_names_it(replay, client):
    odd = body("reach_popularity_flat.json")
    odd["items"][1] = {"date": "2021-04-04T00:00:00+02:00", "popularity": 63}
    replay.routes[POPULARITY] = [served(odd)]
    with pytest.raises(PayloadError, match=r"items\[1\] has neither plots nor value") as info:
        client.song_popularity(S, "spotify", "2021-03-29", "2021-04-10")
    assert info.value.endpoint == POPULARITY


def test_popularity_on_a_platform_it_does_not_have(replay, client):
    path = f"/api/v2/song/{S}/popularity/youtube"
    replay.routes[path] = [saved("error_400.json", 400)]
    with pytest.raises(BadRequest, match="Invalid platform"):
        client.song_popularity(S, "youtube", "2025-03-01", "2025-03-14")


# --- 8.5 playlists -----------------------------------------------------------------------------------------------

def test_playlists_paged_with_every_nullable(replay, client):
    replay.routes[PLAYLISTS] = [saved("reach_playlists_page1.json"), saved("reach_playlists_page2.json")]
    entries = client.song_playlists(S, "spotify")
    first, second = queries(replay, PLAYLISTS)
    assert first == {"type": "all", "currentOnly": "1", "sortBy": "subscriberCount", "sortOrder": "desc",
                     "offset": "0", "limit": "100"}
    assert second == {**first, "offset": "2", "limit": "2"}
    top, local, odd = entries
    assert top.playlist.name == "Today's Top Hits" and top.playlist.country_code is None  # "" = global
    assert top.playlist.latest_subscriber_count == 34_512_345 and top.playlist.type == "editorial"
    assert top.playlist.latest_crawl_date == date(2025, 3, 14) and top.exit_date is None
    assert (top.position, top.peak_position, top.peak_position_date) == (12, 3, date(2019, 10, 18))
    assert local.playlist.country_code == "AU" and local.playlist.type is None  # older shape: no type, no image
    assert local.playlist.image_url is None and local.exit_date is None and local.entry_date == date(2019, 6, 7)
    assert odd.playlist.identifier == "1234567890123" and odd.playlist.name is None  # number -> text, "" -> None
    assert odd.playlist.latest_subscriber_count is None and odd.peak_position is None and odd.position_date is None


def test_playlists_filters_are_sent_as_the_api_spells_them(replay, client):
    replay.routes[PLAYLISTS] = [saved("reach_playlists_page2.json")]
    wanted = ["8C5B3A7E-1F0A-4D3B-9A1E-5F2B7C9D0E11", "8c5b3a7e-1f0a-4d3b-9a1e-5f2b7c9d0e12"]
    client.song_playlists(S, "spotify", current_only=False, playlist_type="editorial", country_code="au",
                          playlist_uuids=wanted, sort_by="entryDate", sort_order="asc")
    assert queries(replay, PLAYLISTS) == [{
        "type": "editorial", "currentOnly": "0", "countryCode": "AU",
        "playlistUuids": "8c5b3a7e-1f0a-4d3b-9a1e-5f2b7c9d0e11,8c5b3a7e-1f0a-4d3b-9a1e-5f2b7c9d0e12",
        "sortBy": "entryDate", "sortOrder": "asc", "offset": "0", "limit": "100"}]


@pytest.mark.parametrize(("kw", "fragment"), [
    ({"playlist_type": "personal"}, "playlist_type must be one of"),
    ({"sort_by": "followers"}, "sort_by must be one of"),
    ({"country_code": "AUS"}, "not a 2-letter country code"),
    ({"playlist_uuids": ["8c5b3a7e"]}, "not a SoundCharts UUID"),
])
def test_playlists_bad_options_are_refused_before_any_request(replay, client, kw, fragment):
    with pytest.raises(BadValue, match=fragment):
        client.iter_song_playlists(S, "spotify", **kw)
    assert replay.seen == []


def test_playlists_quota_and_server_errors(replay, client):
    replay.routes[PLAYLISTS] = [saved("reach_playlists_page1.json"), saved("error_429_quota.json", 429)]
    pages = client.iter_song_playlists(S, "spotify")
    assert next(pages).playlist.name == "Today's Top Hits"  # the first page is usable before the quota runs out
    with pytest.raises(QuotaExhausted):
        list(pages)
    replay.routes[PLAYLISTS] = [saved("error_500.json", 500)]
    with pytest.raises(ServerError):
        client.song_playlists(S, "spotify")
    assert replay.hits(PLAYLISTS) == 2 + 3  # a 500 is retried (max_retries=2), a quota 429 never


def test_playlist_entry_without_a_playlist_uuid_names_it(replay, client):
    broken = body("reach_playlists_page2.json")
    del broken["items"][0]["playlist"]["uuid"]
    replay.routes[PLAYLISTS] = [served(broken)]
    with pytest.raises(PayloadError, match=r"items\[0\]\.playlist\.uuid missing"):
        client.song_playlists(S, "spotify")
