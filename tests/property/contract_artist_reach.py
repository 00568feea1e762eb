"""Hypothesis strategies for the artist and song-reach bodies of the contract (``shared/soundcharts-api.md`` sections
7-8): every nullable key set, null, ``""`` where the API says "unknown", or absent (keys the older spec lacks); both
genre shapes, both ``related`` shapes, both popularity item shapes; identifiers as text or as bare numbers; totals
past 2^31; timestamps with local offsets. Built on the strategies of :mod:`property.contract`."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

from .contract import (
    OFFSETS,
    STATES,
    UNITS,
    big,
    chart_objects,
    maybe_empty,
    odd_text,
    page,
    song_refs,
    stamp,
    urls,
    uuids,
)

ABSENT = object()  # a key left out of the body
SINCE = date(1950, 1, 1)


def maybe(values) -> st.SearchStrategy:
    """A value, null, or the key absent."""
    return st.one_of(st.just(ABSENT), st.none(), values)


def text_or_unknown() -> st.SearchStrategy:
    """Free text, ``""`` (unknown), null, or absent."""
    return maybe(maybe_empty)


def stamps_any() -> st.SearchStrategy:
    return st.builds(stamp, st.dates(SINCE, date(2030, 12, 31)), st.sampled_from(OFFSETS))


def with_keys(pairs: dict) -> dict:
    return {k: v for k, v in pairs.items() if v is not ABSENT}


genre_names = st.lists(maybe_empty, max_size=4)
genre_objects = st.lists(st.fixed_dictionaries({"root": st.one_of(st.none(), maybe_empty),
                                                "sub": st.one_of(st.none(), st.lists(st.one_of(st.none(), maybe_empty),
                                                                                     max_size=3))}), max_size=3)


@st.composite
def artist_refs(draw) -> dict:
    return with_keys({"uuid": draw(uuids), "slug": draw(maybe(st.just("some-artist"))), "name": draw(odd_text),
                      "appUrl": draw(maybe(urls)), "imageUrl": draw(maybe(urls))})


@st.composite
def artist_bodies(draw) -> dict:
    """7.1 / 7.2: the definition's keys, each maybe null, "" or absent; genres as names, objects, mixed or null."""
    genres = draw(st.one_of(st.just(ABSENT), st.none(), genre_names, genre_objects,
                            st.tuples(genre_names, genre_objects).map(lambda t: t[0] + t[1])))
    obj = {**draw(artist_refs()), **with_keys({
        "countryCode": draw(maybe(st.sampled_from(["", "US", "GB", "fr"]))), "webUrl": draw(maybe(urls)),
        "genres": genres, "biography": draw(text_or_unknown()),
        "isni": draw(maybe(st.from_regex(r"\A[0-9]{15}[0-9X]\Z"))),
        "ipi": draw(maybe(st.from_regex(r"\A[0-9]{9,11}\Z"))),
        "gender": draw(maybe(st.sampled_from(["", "male", "female"]))),
        "type": draw(maybe(st.sampled_from(["", "person", "group"]))), "birthDate": draw(maybe(stamps_any())),
        "careerStage": draw(text_or_unknown()), "growthLevel": draw(text_or_unknown()),
        "cityName": draw(text_or_unknown())})}
    return {"type": "artist", "object": obj, "errors": []}


@st.composite
def related_artists(draw) -> dict | None:
    """Either ``related`` shape: the artist itself, or ``{artist, platform, lastCrawlDate}``; or none at all."""
    artist = draw(artist_refs())
    return draw(st.sampled_from([artist, {"artist": artist, "platform": "spotify",
                                          "lastCrawlDate": stamp(date(2024, 1, 28), "+00:00")}, None]))


def collection(related, items: list) -> dict:
    body = {"items": items, "page": page(len(items)), "errors": []}
    if related is not None:
        body["related"] = related
    return body


@st.composite
def artist_song_bodies(draw) -> dict:
    items = draw(st.lists(st.builds(lambda u, n, c, r, i: with_keys({"uuid": u, "name": n, "creditName": c,
                                                                     "releaseDate": r, "imageUrl": i}),
                                    uuids, odd_text, text_or_unknown(), maybe(stamps_any()), maybe(urls)),
                          max_size=8))
    return collection(draw(related_artists()), items)


def day_series(draw, item) -> list[dict]:
    """Items on distinct days with gaps, in ascending or descending order."""
    days = sorted(draw(st.sets(st.integers(0, 200), max_size=30)))
    items = [item(stamp(date(2024, 7, 1) - timedelta(days=n), draw(st.sampled_from(OFFSETS)))) for n in days]
    return items if draw(st.booleans()) else items[::-1]


COUNTERS = ("followerCount", "likeCount", "followingCount", "postCount", "viewCount")


@st.composite
def follower_bodies(draw) -> dict:
    def item(when: str) -> dict:
        return {"date": when, **with_keys({k: draw(maybe(big)) for k in COUNTERS})}
    return collection(draw(related_artists()), day_series(draw, item))


@st.composite
def listening_bodies(draw) -> dict:
    return collection(draw(related_artists()), day_series(draw, lambda when: {"date": when,
                                                                             "value": draw(st.one_of(st.none(), big))}))


@st.composite
def chart_entry_items(draw, with_song: bool) -> dict:
    entered = draw(st.dates(date(2015, 1, 1), date(2025, 3, 14)))
    item = {"chart": draw(chart_objects(draw(st.from_regex(r"\A[a-z0-9][a-z0-9-]{2,30}\Z")), "spotify")),
            "position": draw(st.integers(0, 200)), **with_keys({
                "positionEvolution": draw(maybe(st.integers(-200, 200))),
                "peakPosition": draw(maybe(st.integers(1, 200))),
                "peakDate": draw(maybe(stamps_any())), "entryState": draw(maybe(st.sampled_from(STATES))),
                "entryDate": draw(maybe(st.sampled_from([stamp(entered, "+00:00"), f"{entered}T12:00:00+00:00"]))),
                "rankDate": draw(maybe(stamps_any())), "oldPosition": draw(maybe(st.integers(0, 200))),
                "current": draw(maybe(st.booleans())), "timeOnChart": draw(maybe(st.integers(0, 5000))),
                "timeOnChartUnit": draw(maybe(st.sampled_from((*UNITS, "DOC", "WOC"))))})}
    if with_song:
        item["song"] = draw(song_refs())
    return item


@st.composite
def chart_entry_bodies(draw, with_song: bool) -> dict:
    """7.6 (``with_song``: each item names its song, related = the artist) or 8.1 (related = the song)."""
    items = draw(st.lists(chart_entry_items(with_song), max_size=6))
    related = draw(related_artists()) if with_song else draw(st.one_of(st.none(), song_refs()))
    return collection(related, items)


@st.composite
def popularity_bodies(draw) -> dict:
    """8.4: each item ``{date, plots: [...]}`` or ``{date, value}``; values null, 0..100, identifiers maybe numbers."""
    ids = draw(st.lists(st.one_of(st.from_regex(r"\A[A-Za-z0-9]{22}\Z"), st.integers(10**18, 10**19 - 1)),
                        min_size=1, max_size=3, unique=True))
    value = st.one_of(st.none(), st.integers(0, 100))

    def item(when: str) -> dict:
        if draw(st.booleans()):
            return {"date": when, "plots": [{"identifier": i, "value": draw(value)} for i in ids
                                            if draw(st.integers(0, 3))]}
        return {"date": when, "value": draw(value)}
    return collection(None, day_series(draw, item))


@st.composite
def playlist_bodies(draw) -> dict:
    def item() -> dict:
        playlist = {"uuid": draw(uuids), **with_keys({
            "name": draw(text_or_unknown()),
            "identifier": draw(maybe(st.one_of(st.just(""), st.from_regex(r"\A[A-Za-z0-9]{22}\Z"),
                                               st.integers(0, 2**62)))),
            "platform": draw(maybe(st.just("spotify"))), "countryCode": draw(maybe(st.sampled_from(["", "US", "fr"]))),
            "latestCrawlDate": draw(maybe(stamps_any())), "latestTrackCount": draw(maybe(st.integers(0, 10_000))),
            "latestSubscriberCount": draw(maybe(big)), "imageUrl": draw(maybe(urls)),
            "type": draw(maybe(st.sampled_from(["editorial", "algorithmic", "this_is", ""])))})}
        return {"playlist": playlist, "position": draw(st.integers(1, 10_000)), **with_keys({
            k: draw(maybe(stamps_any())) for k in ("entryDate", "exitDate", "positionDate", "peakPositionDate")}),
            **with_keys({"peakPosition": draw(maybe(st.integers(1, 10_000)))})}
    return collection(draw(st.one_of(st.none(), song_refs())), [item() for _ in range(draw(st.integers(0, 6)))])
