"""Parsers on saved response bodies (tests/data/*.json, composed from the API contract)."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pydantic
import pytest

from soundcharts_lib.api import payloads as p
from soundcharts_lib.errors import PayloadError

DATA = Path(__file__).parent.parent / "data"


def body(name: str):
    return json.loads((DATA / name).read_bytes())


def test_platforms_keep_hyphenated_codes():
    platforms = p.parse_platforms(body("platforms.json"))
    assert [x.code for x in platforms][:3] == ["spotify", "apple-music", "youtube-artist"]
    assert platforms[1].name == "Apple Music"
    assert p.page_next(body("platforms.json")) is None


def test_charts_pages_nulls_missing_fields_and_unicode():
    page1, page2 = body("charts_spotify_page1.json"), body("charts_spotify_page2.json")
    charts = p.parse_charts(page1) + p.parse_charts(page2)
    assert [c.slug for c in charts] == ["spotify-top-200-global", "spotify-top-50-ci", "spotify-city-tokyo",
                                        "spotify-viral-50-fr"]
    glob, ci, tokyo, viral = charts
    assert glob.country_code is None and glob.max_results == 200 and glob.frequency == "daily"
    assert ci.name == "Top 50 – Côte d’Ivoire" and ci.web_url is None  # webUrl absent
    assert tokyo.city_name == "東京" and tokyo.max_results is None and tokyo.web_url is None  # "" -> None
    assert viral.metric_type is None
    assert p.page_next(page1) == "/api/v2/chart/song/by-platform/spotify?limit=3&offset=3"
    assert p.page_next(page2) is None


def test_ranking_pages_new_reentry_position_zero_and_big_metric():
    first = p.parse_ranking(body("ranking_latest_page1.json"))
    second = p.parse_ranking(body("ranking_latest_page2.json"))
    assert first.chart.slug == "spotify-top-200-global"
    assert first.chart.metric_type == "streams" and first.chart.metric_description == "Daily streams"
    assert first.date == date(2025, 3, 14) and first.date_raw == "2025-03-14T00:00:00+00:00"
    top, apt, new = first.entries
    assert top.metric == 3_123_456_789 and isinstance(top.metric, int)  # > 2^31
    assert top.entry_date == date(2024, 8, 16)
    assert top.time_on_chart == 210 and top.time_on_chart_unit == "day"
    assert apt.song.credit_name == "ROSÉ & Bruno Mars" and apt.position_evolution == 3
    assert new.entry_state == "NEW" and new.old_position is None and new.position_evolution is None
    assert new.song.name == "Ça ira — 愛してる"
    assert new.song.credit_name is None and new.song.image_url is None
    reentry, sparse, gone = second.entries
    assert reentry.entry_state == "RE-ENTRY" and reentry.old_position == 0
    assert reentry.metric == 1_700_000  # integral float accepted
    assert sparse.position == 5 and sparse.metric is None and sparse.entry_date is None
    assert sparse.song.credit_name is None and sparse.time_on_chart_unit is None
    assert gone.position == 0 and gone.rank_date == date(2025, 3, 12) and gone.old_position == 180


def test_ranking_date_keeps_its_local_day():
    ranking = p.parse_ranking(body("ranking_local_offset.json"))
    assert ranking.date == date(2021, 7, 5)  # UTC would be 2021-07-04
    assert ranking.date_raw == "2021-07-05T00:00:00+02:00"
    assert ranking.chart.metric_type is None and ranking.chart.web_url is None
    assert ranking.entries[0].entry_date == date(2021, 6, 7)
    assert ranking.entries[0].position_evolution == -2 and ranking.entries[0].metric is None


def test_local_date_never_shifts_to_utc():
    assert p.local_date("2021-07-05T00:00:00+02:00") == date(2021, 7, 5)
    assert p.local_date("2021-01-01T23:30:00-05:00") == date(2021, 1, 1)
    assert p.local_date("2021-01-01") == date(2021, 1, 1)
    with pytest.raises(PayloadError, match="not a date"):
        p.local_date("yesterday")


def test_available_rankings_are_kept_verbatim():
    dates = p.parse_available_rankings(body("available_rankings.json"))
    assert dates == ["2025-03-14T00:00:00+00:00", "2025-03-07T00:00:00+00:00", "2021-07-05T00:00:00+02:00"]
    bad = body("available_rankings.json")
    bad["items"][1] = {"date": "2025-03-07"}
    with pytest.raises(PayloadError, match=r"items\[1\] is not a timestamp"):
        p.parse_available_rankings(bad)


def test_song_v225():
    song = p.parse_song(body("song_v225.json"))
    assert song.isrc == "USUM72409273" and song.isrc_country_code == "US"
    assert song.release_date == date(2024, 8, 16)  # +01:00 midnight keeps its day
    assert [a.slug for a in song.artists] == ["lady-gaga", "bruno-mars"]
    assert song.artists[1].app_url is None
    assert song.genres == ["pop", "r&b", "dance pop", "soft pop", "neo soul"]  # roots, then subs, unique
    assert song.labels == ["Interscope", "Atlantic"]
    assert song.composers == ["Stefani Germanotta", "Bruno Mars"] and song.producers == ["Andrew Watt"]
    assert song.duration == 251 and song.explicit is False and song.copyright.startswith("©")


def test_song_v225_with_nulls_and_unicode():
    song = p.parse_song(body("song_v225_nulls.json"))
    assert song.name == "Ünïcødé — デモ" and song.credit_name == "Ø"
    assert song.isrc is None and song.isrc_country_code is None and song.release_date is None
    assert song.genres == [] and song.labels == [] and song.artists == [] and song.composers == []
    assert song.copyright is None and song.duration is None and song.explicit is None


def test_song_legacy_v2_shape_is_adapted():
    song = p.parse_song(body("song_v2_legacy.json"))
    assert song.isrc == "USUM72409273" and song.isrc_country_code is None
    assert song.labels == ["Interscope"] and song.genres == []
    assert song.artists[0].name == "Lady Gaga"


def test_identifiers_several_per_platform_and_19_digit_ids():
    ids = p.parse_identifiers(body("identifiers.json"))
    spotify = [i for i in ids if i.platform_code == "spotify"]
    assert len(spotify) == 3 and [i.default for i in spotify] == [True, False, None]
    tiktok = next(i for i in ids if i.platform_code == "tiktok")
    assert tiktok.identifier == "7401234567890123456"  # bare JSON number, every digit kept
    deezer = next(i for i in ids if i.platform_code == "deezer")
    assert deezer.identifier == "3036185131"  # integral float
    isrc = ids[-1]
    assert isrc.platform_code == "isrc" and isrc.platform_name is None and isrc.url.startswith("https://")
    assert all(isinstance(i.identifier, str) for i in ids)


def test_audience_pages_multiple_plots_gaps_and_big_values():
    days = p.parse_audience(body("audience_page1.json")) + p.parse_audience(body("audience_page2.json"))
    assert [d.date for d in days] == [date(2021, 7, 5), date(2021, 7, 4), date(2021, 7, 2), date(2021, 7, 1),
                                      date(2021, 3, 28)]
    first = days[0]
    assert first.date_raw == "2021-07-05T00:00:00+02:00"
    assert [(pt.identifier, pt.value) for pt in first.plots] == [("2plbrEY59IikOBgBGLjaoe", 3_123_456_789),
                                                               ("7ne4VBA60CxGM75vw0EYad", 12_345)]
    assert all(pt.date == first.date for pt in first.plots)
    assert len(days[1].plots) == 1  # null value skipped...
    assert days[1].raw["plots"][1]["value"] is None  # ...but kept in raw
    assert days[2].plots[0].value == 3_110_000_000
    assert days[4].plots == []
    assert p.page_next(body("audience_page1.json")).endswith("offset=3&limit=3")


def test_records_are_frozen():
    platform = p.parse_platforms(body("platforms.json"))[0]
    with pytest.raises(pydantic.ValidationError):
        platform.code = "other"


RANKING = "ranking_latest_page1.json"
SONG = "song_v225.json"


@pytest.mark.parametrize(("name", "mutate", "message"), [
    (RANKING, lambda b: b["items"][2]["song"].pop("uuid"), r"items\[2\]\.song\.uuid missing"),
    (RANKING, lambda b: b["items"][1].pop("position"), r"items\[1\]\.position missing"),
    (RANKING, lambda b: b["items"][0].update(metric="lots"), r"items\[0\]\.metric is not an"),
    (RANKING, lambda b: b["items"][0].update(position=1.5), r"items\[0\]\.position is not"),
    (RANKING, lambda b: b["items"][0].update(song=None), r"items\[0\]\.song missing"),
    (RANKING, lambda b: b["related"].pop("date"), r"related\.date missing"),
    (RANKING, lambda b: b["related"]["chart"].pop("slug"), r"related\.chart\.slug missing"),
    (RANKING, lambda b: b.pop("items"), r"^items missing"),
    ("charts_spotify_page1.json", lambda b: b["items"][1].pop("platform"), r"items\[1\]\.platform missing"),
    ("charts_spotify_page1.json", lambda b: b["items"][0].update(maxResultsCount="many"),
     r"items\[0\]\.maxResultsCount is not an integer"),
    (SONG, lambda b: b["object"].pop("uuid"), r"object\.uuid missing"),
    (SONG, lambda b: b["object"]["artists"][1].pop("name"), r"object\.artists\[1\]\.name missing"),
    (SONG, lambda b: b["object"].update(releaseDate="soon"), r"object\.releaseDate is not a date"),
    (SONG, lambda b: b.update(object=None), r"^object missing"),
    ("identifiers.json", lambda b: b["items"][3].pop("identifier"), r"items\[3\]\.identifier missing"),
    ("identifiers.json", lambda b: b["items"][0].update(identifier=True), r"items\[0\]\.identifier is not"),
    ("audience_page1.json", lambda b: b["items"][0]["plots"][0].update(value="n/a"),
     r"items\[0\]\.plots\[0\]\.value is not an integer"),
    ("audience_page1.json", lambda b: b["items"][2].pop("date"), r"items\[2\]\.date missing"),
    ("platforms.json", lambda b: b["items"][4].pop("name"), r"items\[4\]\.name missing"),
])
def test_missing_or_invalid_required_field_names_it(name, mutate, message):
    parse = {"ranking": p.parse_ranking, "charts": p.parse_charts, "song": p.parse_song,
             "identifiers": p.parse_identifiers, "audience": p.parse_audience,
             "platforms": p.parse_platforms}[name.split("_")[0].split(".")[0]]
    broken = copy.deepcopy(body(name))
    mutate(broken)
    with pytest.raises(PayloadError, match=message) as info:
        parse(broken)
    assert info.value.field and info.value.field in str(info.value)


def test_body_that_is_not_an_object():
    with pytest.raises(PayloadError, match="body is not an object"):
        p.parse_platforms([1, 2])
    with pytest.raises(PayloadError, match="page.next is not a string"):
        p.page_next({"items": [], "page": {"next": 3}})


@pytest.mark.parametrize(("name", "key", "fragment"), [
    ("error_400.json", "validation", "Invalid platform"),
    ("error_401.json", "auth", "Not logged in"),
    ("error_403.json", "access", "not included in your plan"),
    ("error_404.json", "access", "Song not found"),
    ("error_405.json", "sandbox", "Sandbox only"),
    ("error_410.json", "blacklisted", "ISRC is blacklisted"),
    ("error_429_quota.json", "quota", "quota is exhausted"),
    ("error_429_ratelimit.json", "rate_limit", "maximum request count"),
    ("error_500.json", "server", "Internal server error"),
])
def test_error_bodies(name, key, fragment):
    got_key, message = p.parse_error_body((DATA / name).read_text(encoding="utf-8"))
    assert got_key == key and fragment in message


def test_error_body_that_is_not_json_gives_its_first_200_chars():
    html = "<html><body>" + "Bad Gateway " * 40 + "</body></html>"
    assert p.parse_error_body(html) == ("", html[:200])
    assert p.parse_error_body('{"message": "no envelope"}') == ("", '{"message": "no envelope"}')
