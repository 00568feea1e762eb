"""The artist endpoints (contract 7.1-7.6) against a tiny real HTTP server replaying bodies written from the contract
(tests/data/artist_*.json): version segment per path, every nullable, both genre and ``related`` shapes, paging
through ``page.next``, 90-day windows, typed errors, and bad input refused before any request."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from api.replay import DATA, saved
from soundcharts_lib.api.transport import date_windows
from soundcharts_lib.errors import (
    BadRequest,
    NoPlatformData,
    NotFound,
    PayloadError,
    PlanError,
    QuotaExhausted,
)
from soundcharts_lib.vocab import BadValue

A = "11e83fdd-7a6c-1aa4-a8f2-0cc47a1a5b5e"
SONGS = f"/api/v2.21/artist/{A}/songs"
FOLLOWERS = f"/api/v2/artist/{A}/audience/spotify"
LISTENING = f"/api/v2/artist/{A}/streaming/spotify/listening"
RANKS = f"/api/v2/artist/{A}/charts/song/ranks/spotify"


def body(name: str) -> dict:
    return json.loads((DATA / name).read_bytes())


def served(data: dict, status: int = 200) -> tuple[int, bytes, dict]:
    return status, json.dumps(data).encode(), {}


def queries(replay, path: str) -> list[dict[str, str]]:
    return [q for p, q, _ in replay.seen if p == path]


# --- 7.1 / 7.2 metadata -----------------------------------------------------------------------------------------

def test_artist_v29_every_key_the_definition_lists(replay, client):
    replay.routes[f"/api/v2.9/artist/{A}"] = [saved("artist_v29.json")]
    artist = client.artist(A)
    assert replay.seen[0][:2] == (f"/api/v2.9/artist/{A}", {})  # v2.9, no query
    assert (artist.uuid, artist.slug, artist.name) == (A, "billie-eilish", "Billie Eilish")
    assert artist.country_code == "US" and artist.city_name == "Los Angeles"
    assert artist.genres == ["pop", "alternative"]  # names (the definition's shape)
    assert artist.birth_date == date(2001, 12, 18)  # +01:00 midnight keeps its day
    assert (artist.isni, artist.ipi, artist.gender, artist.type) == ("0000000468953418", "00731604584", "female",
                                                                     "person")
    assert (artist.career_stage, artist.growth_level) == ("Superstar", "Moderate")
    assert artist.web_url == "https://www.billieeilish.com" and artist.biography.startswith("Billie Eilish is")


def test_artist_genre_objects_and_empty_strings_for_unknown(replay, client):
    uuid = "11e81bcc-9c1c-ce38-b96b-a0369fe50400"
    replay.routes[f"/api/v2.9/artist/{uuid}"] = [saved("artist_v29_genre_objects.json")]
    artist = client.artist(uuid)
    assert artist.genres == ["hip hop", "electronic", "pop", "rap", "trap"]  # roots, then subs, once each
    assert artist.country_code is None and artist.biography is None  # "" = unknown
    assert artist.image_url is None and artist.web_url is None and artist.career_stage is None  # keys absent
    assert artist.birth_date == date(1990, 3, 29) and artist.type == "group"


def test_artist_with_every_nullable_null(replay, client):
    uuid = "11e81bcc-9c1c-ce38-b96b-a0369fe50401"
    replay.routes[f"/api/v2.9/artist/{uuid}"] = [saved("artist_v29_nulls.json")]
    artist = client.artist(uuid)
    assert artist.name == "Ünïcødé — アーティスト" and artist.genres == []
    assert artist.model_dump(exclude={"uuid", "name", "genres"}) == dict.fromkeys(
        artist.model_dump(exclude={"uuid", "name", "genres"}))


def test_artist_legacy_v2_body_parses_with_the_v29_keys_absent(replay, client):
    uuid = "11e81bcc-9c1c-ce38-b96b-a0369fe50402"
    replay.routes[f"/api/v2.9/artist/{uuid}"] = [saved("artist_v2_legacy.json")]
    artist = client.artist(uuid)
    assert artist.country_code == "GB" and artist.app_url.startswith("https: //")  # kept as the API wrote it
    assert artist.genres == [] and artist.birth_date is None and artist.biography is None


def test_artist_without_a_uuid_is_a_payload_error_naming_it(replay, client):
    broken = body("artist_v29.json")
    del broken["object"]["uuid"]
    replay.routes[f"/api/v2.9/artist/{A}"] = [served(broken)]
    with pytest.raises(PayloadError) as info:
        client.artist(A)
    assert str(info.value) == f"/api/v2.9/artist/{A}: object.uuid missing"


def test_artist_by_platform_percent_encodes_an_identifier_with_slashes(replay, client):
    path = "/api/v2.9/artist/by-platform/youtube-artist/%2Fg%2F11c75ypgws"
    replay.routes[path] = [saved("artist_v29.json")]
    assert client.artist_by_platform("youtube-artist", "/g/11c75ypgws").uuid == A
    assert replay.hits(path) == 1


@pytest.mark.parametrize(("call", "path", "name", "message"), [
    (lambda c: c.artist(A), f"/api/v2.9/artist/{A}", "error_404_artist.json", "Artist not found"),
    (lambda c: c.artist_by_platform("spotify", "0zOcE3mg9nS6l3yxt1Y0bK"),
     "/api/v2.9/artist/by-platform/spotify/0zOcE3mg9nS6l3yxt1Y0bK", "error_404_artist_by_platform.json",
     "No artist found for this platform identifier"),
])
def test_unknown_artist_is_not_found_and_not_retried(replay, client, call, path, name, message):
    replay.routes[path] = [saved(name, 404)]
    with pytest.raises(NotFound) as info:
        call(client)
    assert type(info.value) is NotFound and info.value.api_message == message and info.value.endpoint == path
    assert replay.hits(path) == 1


@pytest.mark.parametrize(("platform", "identifier", "fragment"), [
    ("Spotify", "0zOcE3mg9nS6l3yxt1Y0bK", "not a slug"),
    ("spotify/../x", "0zOcE3mg9nS6l3yxt1Y0bK", "not a slug"),
    ("spotify", "", "not a platform identifier"),
    ("spotify", " 0zOcE3mg9nS6l3yxt1Y0bK", "not a platform identifier"),
    ("spotify", "0zOcE3mg9nS6l3yxt1Y0bK\n", "not a platform identifier"),
    ("deezer", "1" * 256, "not a platform identifier"),
])
def test_artist_by_platform_refuses_bad_input_before_any_request(replay, client, platform, identifier, fragment):
    with pytest.raises(BadValue, match=fragment) as info:
        client.artist_by_platform(platform, identifier)
    assert "\n" not in str(info.value) and replay.seen == []


def test_artists_batch_ten_per_call_in_both_body_shapes(replay, client):
    uuids = [f"11e81bcc-9c1c-ce38-b96b-a0369fe504{n:02d}" for n in range(11)]
    first = "/api/v2.9/artist/" + ",".join(uuids[:10])  # commas as the contract writes them
    collection = {"items": [body("artist_v29.json")["object"], body("artist_v29_genre_objects.json")["object"]],
                  "page": {"offset": 0, "limit": 10, "next": None, "previous": None, "total": 2}, "errors": []}
    replay.routes[first] = [served(collection)]
    replay.routes[f"/api/v2.9/artist/{uuids[10]}"] = [saved("artist_v29_nulls.json")]  # one uuid: the single body
    found = client.artists(uuids + uuids[:3])  # repeats asked once
    assert [a.slug for a in found] == ["billie-eilish", "desh", None]
    assert [p for p, _, _ in replay.seen] == [first, f"/api/v2.9/artist/{uuids[10]}"]
    assert client.artists([]) == [] and len(replay.seen) == 2


# --- 7.3 songs ---------------------------------------------------------------------------------------------------

def test_songs_follow_page_next_with_the_sort_sent(replay, client):
    replay.routes[SONGS] = [saved("artist_songs_page1.json"), saved("artist_songs_page2.json")]
    songs = list(client.iter_artist_songs(A, sort_by="spotifyStream", sort_order="desc"))
    assert queries(replay, SONGS) == [
        {"sortBy": "spotifyStream", "sortOrder": "desc", "offset": "0", "limit": "100"},
        {"sortBy": "spotifyStream", "sortOrder": "desc", "offset": "3", "limit": "3"}]  # as page.next says
    assert [s.uuid[-2:] for s in songs] == ["01", "02", "03", "04", "05"]
    assert [s.name for s in songs].count("Bad Guy") == 3  # versions: same title, distinct uuids
    assert [s.release_date for s in songs] == [date(2018, 4, 19), None, date(2019, 3, 29), None, date(2019, 7, 11)]
    assert songs[1].credit_name == "Logic & Alessia Cara & Khalid"  # featured songs included
    assert songs[4].credit_name is None and songs[0].image_url is None


def test_songs_are_deduplicated_by_uuid_across_pages(replay, client):
    second = body("artist_songs_page2.json")
    second["items"].append(body("artist_songs_page1.json")["items"][0])
    replay.routes[SONGS] = [saved("artist_songs_page1.json"), served(second)]
    songs = list(client.iter_artist_songs(A))
    assert len(songs) == 5 and len({s.uuid for s in songs}) == 5
    assert queries(replay, SONGS)[0] == {"sortBy": "name", "sortOrder": "asc", "offset": "0", "limit": "100"}


@pytest.mark.parametrize(("main", "sent"), [(True, "1"), (False, "0"), (None, None)])
def test_songs_main_performer_is_sent_as_1_or_0_or_not_at_all(replay, client, main, sent):
    replay.routes[SONGS] = [saved("artist_songs_page2.json")]
    list(client.iter_artist_songs(A, main_performer=main))
    assert queries(replay, SONGS)[0].get("mainPerformer") == sent


@pytest.mark.parametrize("kw", [{"sort_by": "popularity"}, {"sort_by": "releasedate"}, {"sort_order": "up"}])
def test_songs_refuse_a_sort_the_api_does_not_have_before_any_request(replay, client, kw):
    with pytest.raises(BadValue, match="must be one of"):
        client.iter_artist_songs(A, **kw)
    assert replay.seen == []


def test_songs_quota_exhausted_on_page_two_stops_without_retry(replay, client):
    replay.routes[SONGS] = [saved("artist_songs_page1.json"), saved("error_429_quota.json", 429)]
    with pytest.raises(QuotaExhausted):
        list(client.iter_artist_songs(A))
    assert replay.hits(SONGS) == 2 and client.waits == []


def test_songs_rate_limited_then_served(replay, client):
    replay.routes[SONGS] = [saved("error_429_ratelimit.json", 429, **{"x-ratelimit-reset": "2"}),
                            saved("artist_songs_page2.json")]
    assert len(list(client.iter_artist_songs(A))) == 2
    assert client.waits == [pytest.approx(2.5, abs=0.05)]


def test_songs_not_in_plan(replay, client):
    replay.routes[SONGS] = [(403, b'{"errors": [{"key": "access", "code": 403, "message": "You are not authorized '
                                  b'to perform this operation"}]}', {})]
    with pytest.raises(PlanError, match="not authorized"):
        list(client.iter_artist_songs(A))


# --- 7.4 followers -----------------------------------------------------------------------------------------------

def test_followers_in_one_window_with_a_missing_day(replay, client):
    replay.routes[FOLLOWERS] = [saved("artist_followers_spotify.json")]
    series = client.artist_followers(A, "spotify", "2024-01-12", date(2024, 1, 28))
    assert queries(replay, FOLLOWERS) == [{"startDate": "2024-01-12", "endDate": "2024-01-28", "offset": "0",
                                           "limit": "100"}]
    assert series.artist.slug == "billie-eilish" and series.platform == "spotify"
    assert series.last_crawl_date == date(2024, 1, 28)
    days = [d.date for d in series.days]
    assert len(days) == 16 and date(2024, 1, 14) not in days and days == sorted(days)  # gap kept as a gap
    assert all(d.follower_count > 97_000_000 for d in series.days)
    assert all(d.like_count is d.following_count is d.post_count is d.view_count is None for d in series.days)


def test_followers_on_youtube_fill_other_counters_and_can_go_down(replay, client):
    path = f"/api/v2/artist/{A}/audience/youtube"
    replay.routes[path] = [saved("artist_followers_youtube.json")]
    series = client.artist_followers(A, "youtube", date(2021, 7, 1), date(2021, 7, 6))
    first, second, third = series.days
    assert first.view_count == 9_870_654_321 and first.post_count == 201  # past 2^31, an int
    assert second.follower_count < first.follower_count  # a running total, kept as sent
    assert third.post_count is None and third.date_raw == "2021-07-05T00:00:00+02:00"
    assert series.last_crawl_date == date(2021, 7, 6)


def test_followers_over_90_days_are_asked_in_windows_and_merged(replay, client):
    start, end = date(2024, 1, 1), date(2024, 7, 18)  # 200 days: 90 + 90 + 20
    youtube = body("artist_followers_youtube.json")
    replay.routes[FOLLOWERS] = [served(youtube), served(youtube), saved("artist_followers_spotify.json")]
    series = client.artist_followers(A, "spotify", start, end)
    asked = [(date.fromisoformat(q["startDate"]), date.fromisoformat(q["endDate"])) for q in
             queries(replay, FOLLOWERS)]
    assert asked == date_windows(start, end) and len(asked) == 3
    assert all(hi - lo < timedelta(days=90) for lo, hi in asked)
    assert all(b == a + timedelta(days=1) for (_, a), (b, _) in zip(asked, asked[1:], strict=False))  # no gap
    days = [d.date for d in series.days]
    assert days == sorted(set(days)) and len(days) == 3 + 16  # a day served twice is kept once
    assert series.platform == "spotify"  # related from the last page


def test_followers_start_after_end_is_refused_before_any_request(replay, client):
    with pytest.raises(ValueError, match="after end"):
        client.artist_followers(A, "spotify", "2024-02-01", "2024-01-01")
    assert replay.seen == []


@pytest.mark.parametrize(("name", "error"), [
    ("error_404_no_social_account.json", NoPlatformData),
    ("error_404_artist.json", NotFound),
])
def test_followers_404_says_whether_the_artist_or_only_the_account_is_missing(replay, client, name, error):
    replay.routes[FOLLOWERS] = [saved(name, 404)]
    with pytest.raises(NotFound) as info:
        client.artist_followers(A, "spotify", "2024-01-01", "2024-01-31")
    assert type(info.value) is error and info.value.status == 404 and info.value.endpoint == FOLLOWERS


def test_followers_empty_items_are_no_data_not_an_error(replay, client):
    empty = body("artist_followers_spotify.json")
    empty["items"], empty["page"]["total"] = [], 0
    replay.routes[FOLLOWERS] = [served(empty)]
    series = client.artist_followers(A, "spotify", "2024-01-01", "2024-01-31")
    assert series.days == [] and series.artist.uuid == A


def test_followers_flat_related_shape_is_read_too(replay, client):
    flat = body("artist_followers_spotify.json")
    flat["related"] = flat["related"]["artist"]
    replay.routes[FOLLOWERS] = [served(flat)]
    series = client.artist_followers(A, "spotify", "2024-01-12", "2024-01-28")
    assert series.artist.name == "Billie Eilish" and series.platform is None and len(series.days) == 16


# --- 7.5 listening -----------------------------------------------------------------------------------------------

def test_listeners_a_gauge_that_goes_down_with_a_gap_and_a_repeat(replay, client):
    replay.routes[LISTENING] = [saved("artist_listening_spotify.json")]
    series = client.artist_listeners(A, "spotify", "2024-01-12", "2024-01-28")
    by_day = {d.date.day: d.value for d in series.days}
    assert len(by_day) == 16 and 16 not in by_day
    assert by_day[19] == by_day[18] and by_day[28] < by_day[27]  # kept as sent: no differencing, no smoothing
    assert series.artist.uuid == A and series.last_crawl_date == date(2024, 1, 28)


def test_listeners_sparse_series_trusts_page_next_not_total(replay, client):
    replay.routes[LISTENING] = [saved("artist_listening_sparse.json")]
    series = client.artist_listeners(A, "spotify", "2021-04-12", "2021-06-03")
    assert [d.date for d in series.days][:2] == [date(2021, 4, 12), date(2021, 4, 18)] and len(series.days) == 6
    assert replay.hits(LISTENING) == 1  # total 15 but next null: no second page
    assert series.artist.slug == "tones-and-i"


def test_listeners_null_value_is_a_missing_point(replay, client):
    sparse = body("artist_listening_sparse.json")
    sparse["items"][2]["value"] = None
    replay.routes[LISTENING] = [served(sparse)]
    series = client.artist_listeners(A, "spotify", "2021-04-12", "2021-06-03")
    assert date(2021, 4, 24) not in [d.date for d in series.days] and len(series.days) == 5


def test_listeners_on_a_platform_without_that_series(replay, client):
    path = f"/api/v2/artist/{A}/streaming/apple-music/listening"
    replay.routes[path] = [saved("error_404_not_streaming.json", 404)]
    with pytest.raises(NoPlatformData, match="not a streaming platform"):
        client.artist_listeners(A, "apple-music", "2024-01-01", "2024-01-31")


# --- 7.6 chart entries -------------------------------------------------------------------------------------------

def test_chart_entries_current_and_past_over_two_pages(replay, client):
    replay.routes[RANKS] = [saved("artist_chart_entries_page1.json"), saved("artist_chart_entries_page2.json")]
    entries = client.artist_chart_entries(A, "spotify", current_only=False)
    first, second = queries(replay, RANKS)
    assert first == {"currentOnly": "0", "sortBy": "position", "sortOrder": "asc", "offset": "0", "limit": "100"}
    assert second == {**first, "offset": "2", "limit": "2"}
    top, new, gone = entries
    assert top.chart.slug == "global-28" and top.chart.country_code is None and top.song.name == "Bad Guy"
    assert (top.position, top.peak_position, top.peak_date) == (3, 1, date(2019, 8, 14))
    assert top.entry_state is None and top.time_on_chart_unit == "DOC" and top.current is True  # "" -> None
    assert top.entry_date == date(2019, 3, 29)  # T12:00:00+00:00
    assert new.chart.web_url is None and new.song.image_url is None  # absent keys
    assert new.peak_position is None and new.peak_date is None and new.position_evolution is None
    assert new.old_position is None and new.entry_state == "NEW"
    assert gone.position == 0 and gone.current is False and gone.old_position == 48
    assert gone.chart.city_name == "Paris" and gone.time_on_chart_unit == "WOC" and gone.song.credit_name is None


def test_chart_entries_send_current_only_1_by_default(replay, client):
    replay.routes[RANKS] = [saved("artist_chart_entries_page2.json")]
    client.artist_chart_entries(A, "spotify", sort_by="rankDate", sort_order="desc")
    assert queries(replay, RANKS) == [{"currentOnly": "1", "sortBy": "rankDate", "sortOrder": "desc",
                                       "offset": "0", "limit": "100"}]


def test_chart_entries_need_a_song_per_item(replay, client):
    broken = body("artist_chart_entries_page2.json")
    del broken["items"][0]["song"]
    replay.routes[RANKS] = [served(broken)]
    with pytest.raises(PayloadError) as info:
        client.artist_chart_entries(A, "spotify")
    assert info.value.endpoint == RANKS and info.value.field == "items[0].song"


def test_chart_entries_invalid_platform_code(replay, client):
    path = f"/api/v2/artist/{A}/charts/song/ranks/radio"
    replay.routes[path] = [saved("error_400_platform_code.json", 400)]
    with pytest.raises(BadRequest, match="Invalid platform code provided"):
        client.artist_chart_entries(A, "radio")
    with pytest.raises(BadValue, match="sort_by"):
        client.artist_chart_entries(A, "spotify", sort_by="peakPosition")
    assert replay.hits(path) == 1 and len(replay.seen) == 1
