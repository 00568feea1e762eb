"""Artist records (contract sections 7.1-7.6): metadata, songs, followers, listening series and chart entries.

Same rules as :mod:`soundcharts_lib.api.payloads`. Both ``genres`` shapes are read (names, or ``{root, sub}`` objects
flattened like a song's), and both ``related`` shapes: the artist itself (songs, chart entries) or
``{artist, platform, lastCrawlDate}`` (followers, listening). Only ``uuid`` and ``name`` of an artist are required.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from soundcharts_lib.api.payloads import (
    Artist,
    _artist,
    _genres,
    _items,
    _obj,
    _opt_date,
    _opt_int,
    _opt_str,
    _Record,
    _req_date,
    _req_int,
    _req_str,
    _song_ref,
)
from soundcharts_lib.api.payloads_reach import ChartEntry, chart_entry


class ArtistProfile(_Record):
    uuid: str
    slug: str | None = None
    name: str
    app_url: str | None = None
    image_url: str | None = None
    country_code: str | None = None      # "" (unknown) -> None
    web_url: str | None = None
    genres: list[str] = []               # roots, then sub-genres, without duplicates
    biography: str | None = None
    isni: str | None = None
    ipi: str | None = None
    gender: str | None = None
    type: str | None = None
    birth_date: dt.date | None = None
    career_stage: str | None = None
    growth_level: str | None = None
    city_name: str | None = None


class ArtistSong(_Record):
    uuid: str
    name: str
    credit_name: str | None = None
    release_date: dt.date | None = None
    image_url: str | None = None


class FollowersDay(_Record):
    """An account's running totals on one day (snapshots, not daily deltas; they can go down)."""
    date: dt.date
    date_raw: str
    follower_count: int | None = None
    like_count: int | None = None
    following_count: int | None = None
    post_count: int | None = None
    view_count: int | None = None


class ListeningDay(_Record):
    """One listening value: monthly listeners (a gauge) or views/plays (totals), as the platform defines it."""
    date: dt.date
    date_raw: str
    value: int


class _ArtistSeries(_Record):
    artist: Artist | None = None         # what ``related`` says (absent from some bodies)
    platform: str | None = None
    last_crawl_date: dt.date | None = None


class ArtistFollowers(_ArtistSeries):
    days: list[FollowersDay] = []


class ArtistListening(_ArtistSeries):
    days: list[ListeningDay] = []


def _profile(obj: Any, path: str) -> ArtistProfile:
    artist = _obj(obj, path)
    return ArtistProfile(
        uuid=_req_str(artist, "uuid", path),
        slug=_opt_str(artist, "slug", path),
        name=_req_str(artist, "name", path),
        app_url=_opt_str(artist, "appUrl", path),
        image_url=_opt_str(artist, "imageUrl", path),
        country_code=_opt_str(artist, "countryCode", path),
        web_url=_opt_str(artist, "webUrl", path),
        genres=_genres(artist, path),
        biography=_opt_str(artist, "biography", path),
        isni=_opt_str(artist, "isni", path),
        ipi=_opt_str(artist, "ipi", path),
        gender=_opt_str(artist, "gender", path),
        type=_opt_str(artist, "type", path),
        birth_date=_opt_date(artist, "birthDate", path),
        career_stage=_opt_str(artist, "careerStage", path),
        growth_level=_opt_str(artist, "growthLevel", path),
        city_name=_opt_str(artist, "cityName", path),
    )


def parse_artist(body: Any) -> ArtistProfile:
    """7.1 / 7.2: ``{"type": "artist", "object": {...}}``."""
    return _profile(_obj(body, "body").get("object"), "object")


def parse_artists(body: Any) -> list[ArtistProfile]:
    """The batch variant of 7.1, whose body is not documented: a collection (``items``), a list under ``object``,
    or the single-object body (what one uuid gets)."""
    found = _obj(body, "body")
    if "items" in found:
        return [_profile(item, f"items[{i}]") for i, item in enumerate(_items(body))]
    objects = found.get("object")
    if isinstance(objects, list):
        return [_profile(item, f"object[{i}]") for i, item in enumerate(objects)]
    return [parse_artist(body)]


def _related(body: Any) -> dict:
    related = _obj(body, "body").get("related")
    return {} if related is None else _obj(related, "related")


def related_artist(body: Any) -> Artist | None:
    """The artist a collection is about, from either ``related`` shape; None when the body names none."""
    related = _related(body)
    if "artist" in related:
        nested = related["artist"]
        return None if nested is None else _artist(nested, "related.artist")
    return _artist(related, "related") if related else None


def parse_artist_songs(body: Any) -> list[ArtistSong]:
    """7.3, one page."""
    out = []
    for i, raw in enumerate(_items(body)):
        path = f"items[{i}]"
        item = _obj(raw, path)
        out.append(ArtistSong(
            uuid=_req_str(item, "uuid", path),
            name=_req_str(item, "name", path),
            credit_name=_opt_str(item, "creditName", path),
            release_date=_opt_date(item, "releaseDate", path),
            image_url=_opt_str(item, "imageUrl", path),
        ))
    return out


def _series(body: Any) -> dict[str, Any]:
    related = _related(body)
    return {"artist": related_artist(body), "platform": _opt_str(related, "platform", "related"),
            "last_crawl_date": _opt_date(related, "lastCrawlDate", "related")}


def parse_artist_followers(body: Any) -> ArtistFollowers:
    """7.4, one page: one day per item in body order; a day keeps its null counters as None."""
    days = []
    for i, raw in enumerate(_items(body)):
        path = f"items[{i}]"
        item = _obj(raw, path)
        day, date_raw = _req_date(item, "date", path)
        days.append(FollowersDay(
            date=day, date_raw=date_raw,
            follower_count=_opt_int(item, "followerCount", path),
            like_count=_opt_int(item, "likeCount", path),
            following_count=_opt_int(item, "followingCount", path),
            post_count=_opt_int(item, "postCount", path),
            view_count=_opt_int(item, "viewCount", path),
        ))
    return ArtistFollowers(days=days, **_series(body))


def parse_artist_listening(body: Any) -> ArtistListening:
    """7.5, one page, in body order; an item whose value is null is skipped (a missing data point)."""
    days = []
    for i, raw in enumerate(_items(body)):
        path = f"items[{i}]"
        item = _obj(raw, path)
        day, date_raw = _req_date(item, "date", path)
        if item.get("value") is not None:
            days.append(ListeningDay(date=day, date_raw=date_raw, value=_req_int(item, "value", path)))
    return ArtistListening(days=days, **_series(body))


def parse_artist_chart_entries(body: Any) -> list[ChartEntry]:
    """7.6, one page: each entry names its song."""
    return [chart_entry(raw, f"items[{i}]", _song_ref(_obj(raw, f"items[{i}]").get("song"), f"items[{i}].song"))
            for i, raw in enumerate(_items(body))]
