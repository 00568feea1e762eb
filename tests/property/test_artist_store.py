"""Any followers, listening or artist body the contract allows is stored as it was sent: a day without a value (null
or absent) is no row, never a zero; storing the same again rewrites nothing; the check says whether there was data;
metadata's ``""`` is NULL, and a value no column can hold is refused before anything is written."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from conftest import OUTPUT
from hypothesis import given, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase
from sqlalchemy import text

from soundcharts_lib.api import payloads_artist as pa
from soundcharts_lib.db import make_engine, upgrade
from soundcharts_lib.db import store_artists as store
from soundcharts_lib.errors import PayloadError

from .contract_artist_reach import artist_bodies, follower_bodies, listening_bodies

pytestmark = pytest.mark.slow  # hypothesis: many bodies a test

set_hypothesis_home_dir(OUTPUT / "hypothesis")
SETTINGS = settings(max_examples=150, deadline=None,
                    database=DirectoryBasedExampleDatabase(OUTPUT / "hypothesis" / "examples"))
LENGTHS = {"countryCode": 8, "careerStage": 64, "growthLevel": 64, "type": 64, "imageUrl": 1000, "name": 500,
           "slug": 255, "appUrl": 1000}
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('artist-store') / 'store.db'}")
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO platform (id, slug, name, supports_charts, supports_audience) "
                          "VALUES (1, 'spotify', 'Spotify', 0, 0)"))
    yield engine
    engine.dispose()


def new_artist(engine) -> int:
    n = next(_ids)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO artist (id, uuid, name) VALUES (:i, :u, 'Someone')"),
                     {"i": n, "u": f"00000000-0000-4000-8000-{n:012d}"})
    return n


def sent(body: dict, key: str) -> dict[date, int]:
    """The body's days with a value: calendar day as written, null or absent left out."""
    return {date.fromisoformat(item["date"][:10]): item[key] for item in body["items"] if item.get(key) is not None}


def kept(engine, series: str, artist: int) -> list[tuple]:
    table, column = store.SERIES[series]
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            f"SELECT date, {column}, fetched_at FROM {table.name} WHERE artist_id = :a ORDER BY date"), {"a": artist})]


def check_stores_as_sent(engine, series: str, record, want: dict[date, int]) -> None:
    artist = new_artist(engine)
    points = store.series_points(record)
    assert points == want
    assert store.store_series(engine, artist, 1, series, points) == len(want)
    first = kept(engine, series, artist)
    assert {date.fromisoformat(d): v for d, v, _ in first} == want
    store.store_series(engine, artist, 1, series, points)
    assert kept(engine, series, artist) == first  # nothing rewritten, not even fetched_at
    with engine.connect() as conn:
        had = conn.execute(text("SELECT had_data FROM series_check WHERE subject = 'artist' AND subject_id = :a "
                                "AND series = :s"), {"a": artist, "s": series}).scalar_one()
    assert bool(had) == bool(want)


@SETTINGS
@given(body=follower_bodies())
def test_followers_are_stored_as_sent(db, body):
    check_stores_as_sent(db, "followers", pa.parse_artist_followers(body), sent(body, "followerCount"))


@SETTINGS
@given(body=listening_bodies())
def test_listening_is_stored_as_sent(db, body):
    check_stores_as_sent(db, "listeners", pa.parse_artist_listening(body), sent(body, "value"))


def test_a_value_beyond_64_bits_is_refused_before_any_write(db):
    artist = new_artist(db)
    with pytest.raises(PayloadError, match="does not fit in 64 bits"):
        store.store_series(db, artist, 1, "followers", {date(2026, 1, 1): 7, date(2026, 1, 2): 2 ** 63})
    assert kept(db, "followers", artist) == []
    with db.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM series_check WHERE subject_id = :a"),
                            {"a": artist}).scalar_one() == 0


@SETTINGS
@given(body=artist_bodies())
def test_metadata_is_stored_as_sent_or_refused_whole(db, body):
    obj, artist = body["object"], new_artist(db)
    profile = pa.parse_artist(body)
    too_long = [k for k, n in LENGTHS.items() if isinstance(obj.get(k), str) and len(obj[k]) > n]
    query = text("SELECT name, country_code, career_stage, growth_level, artist_type, image_url, metadata_fetched_at "
                 "FROM artist WHERE id = :a")
    if too_long:
        with pytest.raises(PayloadError, match="cannot be stored"):
            store.store_profile(db, artist, profile)
        with db.connect() as conn:
            assert tuple(conn.execute(query, {"a": artist}).one()) == ("Someone", *[None] * 6)
        return
    store.store_profile(db, artist, profile)
    with db.connect() as conn:
        row = tuple(conn.execute(query, {"a": artist}).one())
    assert row[:6] == (obj["name"], *(obj.get(k) or None for k in ("countryCode", "careerStage", "growthLevel",
                                                                   "type", "imageUrl")))
    assert row[6] is not None
