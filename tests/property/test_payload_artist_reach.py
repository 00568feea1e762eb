"""Any artist or song-reach body the contract allows parses, and each record says what the body said: ``""`` and null
read as None, the calendar day as written, identifiers as text, genres roots then subs, null values as missing
points. Anything else a server might send is refused with a PayloadError, never another exception."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import OUTPUT
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase

from soundcharts_lib.api import payloads_artist as pa
from soundcharts_lib.api import payloads_reach as pr
from soundcharts_lib.errors import PayloadError

from .contract_artist_reach import (
    COUNTERS,
    artist_bodies,
    artist_song_bodies,
    chart_entry_bodies,
    follower_bodies,
    listening_bodies,
    playlist_bodies,
    popularity_bodies,
    related_artists,
)

pytestmark = pytest.mark.slow  # hypothesis: many bodies a test

set_hypothesis_home_dir(OUTPUT / "hypothesis")
SETTINGS = settings(max_examples=200, deadline=None,
                    database=DirectoryBasedExampleDatabase(OUTPUT / "hypothesis" / "examples"))


def known(value):
    """What a record holds for an optional text: None for null, "" and an absent key."""
    return value if value not in (None, "") else None


def day(value) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def flat_genres(genres) -> list[str]:
    roots = [g if isinstance(g, str) else g["root"] for g in genres or []]
    subs = [s for g in genres or [] if isinstance(g, dict) for s in g["sub"] or []]
    return list(dict.fromkeys(x for x in roots + subs if x))


@SETTINGS
@given(body=artist_bodies())
def test_any_artist_metadata(body):
    obj = body["object"]
    artist = pa.parse_artist(body)
    assert (artist.uuid, artist.name) == (obj["uuid"], obj["name"])
    for key, attr in (("slug", "slug"), ("appUrl", "app_url"), ("imageUrl", "image_url"),
                      ("countryCode", "country_code"), ("webUrl", "web_url"), ("biography", "biography"),
                      ("isni", "isni"), ("ipi", "ipi"), ("gender", "gender"), ("type", "type"),
                      ("careerStage", "career_stage"), ("growthLevel", "growth_level"), ("cityName", "city_name")):
        assert getattr(artist, attr) == known(obj.get(key)), key
    assert artist.birth_date == day(obj.get("birthDate"))
    assert artist.genres == flat_genres(obj.get("genres"))
    assert pa.parse_artists(body) == [artist]


@SETTINGS
@given(related=related_artists())
def test_either_related_shape_names_the_same_artist(related):
    artist = pa.related_artist({"items": [], "related": related} if related is not None else {"items": []})
    if related is None:
        assert artist is None
    else:
        assert artist.uuid == related.get("artist", related)["uuid"]


@SETTINGS
@given(body=artist_song_bodies())
def test_any_artist_songs_page(body):
    songs = pa.parse_artist_songs(body)
    assert [s.uuid for s in songs] == [i["uuid"] for i in body["items"]]
    assert [s.release_date for s in songs] == [day(i.get("releaseDate")) for i in body["items"]]
    assert [s.credit_name for s in songs] == [known(i.get("creditName")) for i in body["items"]]


@SETTINGS
@given(body=follower_bodies())
def test_any_followers_page(body):
    series = pa.parse_artist_followers(body)
    assert [d.date_raw for d in series.days] == [i["date"] for i in body["items"]]  # body order, every day kept
    for got, item in zip(series.days, body["items"], strict=True):
        assert got.date == day(item["date"])
        assert [got.follower_count, got.like_count, got.following_count, got.post_count, got.view_count] == [
            item.get(k) for k in COUNTERS]
    assert (series.artist is None) == (not body.get("related"))


@SETTINGS
@given(body=listening_bodies())
def test_any_listening_page(body):
    series = pa.parse_artist_listening(body)
    assert [(d.date, d.value) for d in series.days] == [(day(i["date"]), i["value"]) for i in body["items"]
                                                        if i["value"] is not None]


@SETTINGS
@given(with_song=st.booleans(), data=st.data())
def test_any_chart_entries_page(with_song, data):
    body = data.draw(chart_entry_bodies(with_song))
    entries = pa.parse_artist_chart_entries(body) if with_song else pr.parse_song_chart_entries(body)
    assert len(entries) == len(body["items"])
    for entry, item in zip(entries, body["items"], strict=True):
        assert entry.position == item["position"] and entry.chart.slug == item["chart"]["slug"]
        assert entry.current == item.get("current") and entry.old_position == item.get("oldPosition")
        assert entry.peak_date == day(item.get("peakDate")) and entry.entry_date == day(item.get("entryDate"))
        assert entry.entry_state == known(item.get("entryState"))
        song = item.get("song") if with_song else body.get("related")
        assert (entry.song.uuid if entry.song else None) == (song["uuid"] if song else None)


@SETTINGS
@given(body=popularity_bodies())
def test_any_popularity_page_in_either_item_shape(body):
    expected = []
    for item in body["items"]:
        if "plots" in item:
            expected += [(day(item["date"]), str(p["identifier"]), p["value"]) for p in item["plots"]
                         if p["value"] is not None]
        elif item["value"] is not None:
            expected.append((day(item["date"]), None, item["value"]))
    assert [(p.date, p.identifier, p.value) for p in pr.parse_popularity(body)] == expected


@SETTINGS
@given(body=playlist_bodies())
def test_any_playlists_page(body):
    entries = pr.parse_playlist_entries(body)
    for entry, item in zip(entries, body["items"], strict=True):
        playlist = item["playlist"]
        ident = playlist.get("identifier")
        assert entry.playlist.identifier == (None if ident in (None, "") else str(ident))
        assert entry.playlist.country_code == known(playlist.get("countryCode"))
        assert entry.playlist.latest_subscriber_count == playlist.get("latestSubscriberCount")
        assert entry.exit_date == day(item.get("exitDate")) and entry.position == item["position"]


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                               st.sampled_from(["object", "items", "related", "artist", "uuid", "name", "date",
                                                "value", "plots", "identifier", "chart", "song", "slug", "platform",
                                                "position", "playlist", "genres", "root", "sub", "birthDate"]),
                               inner, max_size=5), max_leaves=25)
PARSERS = [pa.parse_artist, pa.parse_artists, pa.parse_artist_songs, pa.parse_artist_followers,
           pa.parse_artist_listening, pa.parse_artist_chart_entries, pr.parse_song_chart_entries, pr.parse_popularity,
           pr.parse_playlist_entries]


@pytest.mark.parametrize("parse", PARSERS, ids=[p.__name__ for p in PARSERS])
@settings(max_examples=300, deadline=None, database=SETTINGS.database)
@given(body=json_values)
def test_any_other_body_is_parsed_or_refused_with_a_payload_error(parse, body):
    try:
        parse(body)
    except PayloadError as exc:
        assert "\n" not in str(exc)
