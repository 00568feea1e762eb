"""Audience analytics on a hand-made series (SQLite + PostgreSQL): sums, gaps, changes, growth, index."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert

from soundcharts_lib.db.models import Platform, Track, TrackAudience
from soundcharts_lib.warehouse import audience_series as s

D0 = date(2026, 1, 1)
UUID = "11111111-2222-4333-a444-555555555555"


def d(i: int) -> date:
    return D0 + timedelta(days=i)


def day(i: int) -> int:
    """``d(i)``'s day number, as the reads select it (``frames.day_number``)."""
    return d(i).toordinal() - 1


@pytest.fixture
def db(engine):
    """Spotify: id "a" on days 0-9 (1000 + 10 i) and id "b" from day 5 (100 + i), day 4 missing for both;
    YouTube: id "y" on days 2-9 (500 i); TikTok listed for audience without data; Deezer a chart platform."""
    with engine.begin() as conn:
        slugs = ("spotify", "youtube", "tiktok", "deezer")
        conn.execute(insert(Platform), [
            {"id": i + 1, "slug": slug, "name": slug.title(), "supports_audience": slug != "deezer",
             "supports_charts": slug == "deezer"} for i, slug in enumerate(slugs)])
        conn.execute(insert(Track), [
            {"id": 1, "uuid": UUID, "name": "Song", "credit_name": "Artist"},
            {"id": 2, "uuid": "99999999-2222-4333-a444-555555555555", "name": "Other", "credit_name": None}])
        rows = [(1, 1, "a", i, 1000 + 10 * i) for i in range(10) if i != 4]
        rows += [(1, 1, "b", i, 100 + i) for i in range(5, 10)]
        rows += [(1, 2, "y", i, 500 * i) for i in range(2, 10)]
        rows += [(2, 1, "z", i, 7) for i in range(10)]  # another track: never mixed in
        conn.execute(insert(TrackAudience), [
            {"track_id": t, "platform_id": p, "platform_identifier": ident, "date": d(i), "audience_value": v}
            for t, p, ident, i, v in rows])
    return engine


def spotify_value(i: int) -> int:
    return 1000 + 10 * i + (100 + i if i >= 5 else 0)


def test_identifiers_are_summed_per_date_and_missing_days_stay_missing(db):
    frame = s.audience_series(db, UUID, "spotify")
    assert list(frame.columns) == ["date", "value", "daily_change"]
    assert list(frame["date"]) == [d(i) for i in range(10) if i != 4]
    assert list(frame["value"]) == [spotify_value(i) for i in range(10) if i != 4]
    changes = list(frame["daily_change"])
    assert pd.isna(changes[0]) and changes[1:4] == [10, 10, 10]
    assert pd.isna(changes[4])           # day 5 follows a missing day 4: no invented change
    assert changes[5:] == [11, 11, 11, 11]


def test_one_identifier_can_be_chosen(db):
    frame = s.audience_series(db, UUID, "spotify", identifier="b")
    assert list(frame["value"]) == [105, 106, 107, 108, 109]
    assert s.identifiers(db, UUID, "spotify") == ["a", "b"]


def test_ranges_keep_the_change_of_their_first_day(db):
    frame = s.audience_series(db, UUID, "spotify", start=d(7), end=d(8))
    assert list(frame["date"]) == [d(7), d(8)]
    assert list(frame["daily_change"]) == [11, 11]
    assert s.audience_series(db, UUID, "spotify", start=d(20)).empty


def test_unknown_track_or_platform_is_not_stored_and_a_platform_without_data_is_empty(db):
    with pytest.raises(s.NotStored, match="no track"):
        s.audience_series(db, "00000000-0000-4000-a000-000000000000", "spotify")
    for slug in ("deezer", "nope"):
        with pytest.raises(s.NotStored, match="no audience platform"):
            s.audience_series(db, UUID, slug)
    assert s.audience_series(db, UUID, "tiktok").empty
    assert s.track_info(db, UUID) == {"id": 1, "uuid": UUID, "name": "Song", "credit_name": "Artist"}


def test_several_platforms_are_aligned_on_their_dates(db):
    series = s.audience_by_platform(db, UUID)
    assert sorted(series) == ["spotify", "youtube"] == s.audience_platforms(db, UUID)
    assert s.audience_platforms(db) == ["spotify", "tiktok", "youtube"]
    pd.testing.assert_frame_equal(series["spotify"], s.audience_series(db, UUID, "spotify"))
    wide = s.aligned(series)
    assert list(wide.index) == [d(i) for i in range(10)]   # day 4: YouTube only
    assert list(wide.columns) == ["spotify", "youtube"]
    assert pd.isna(wide.loc[d(4), "spotify"]) and wide.loc[d(4), "youtube"] == 2000
    assert pd.isna(wide.loc[d(1), "youtube"]) and wide.loc[d(9), "youtube"] == 4500
    changes = s.aligned(series, "daily_change")
    assert changes.loc[d(3), "youtube"] == 500
    assert s.audience_by_platform(db, UUID, ["tiktok"])["tiktok"].empty


def test_growth_in_units_and_percent_from_the_last_value_on_or_before_the_base_day(db):
    frame = s.audience_series(db, UUID, "spotify")
    g = s.growth(frame, days=(3, 5, 20))
    units = spotify_value(9) - spotify_value(6)
    assert g[3] == {"days": 3, "from_date": d(6), "to_date": d(9), "units": units,
                    "pct": round(units / spotify_value(6) * 100, 2)}
    assert g[5]["from_date"] == d(3)     # day 4 is missing: the day before stands in
    assert g[5]["units"] == spotify_value(9) - spotify_value(3)
    assert g[20]["units"] is None and g[20]["pct"] is None and g[20]["from_date"] is None
    assert sorted(s.growth(frame)) == [7, 28, 90]
    youtube = s.audience_series(db, UUID, "youtube")
    zero_base = s.growth(pd.DataFrame({"date": [d(0), d(1)], "value": [0, 5]}), days=(1,))
    assert zero_base[1]["units"] == 5 and zero_base[1]["pct"] is None
    assert s.growth(youtube.iloc[0:0])[7]["to_date"] is None


def test_indexed_to_100_from_each_platforms_first_value(db):
    wide = s.aligned(s.audience_by_platform(db, UUID))
    idx = s.indexed(wide)
    assert idx.loc[d(0), "spotify"] == 100 and pd.isna(idx.loc[d(0), "youtube"])
    assert idx.loc[d(2), "youtube"] == 100
    assert idx.loc[d(9), "youtube"] == pytest.approx(4500 / 1000 * 100)
    assert idx.loc[d(9), "spotify"] == pytest.approx(spotify_value(9) / 1000 * 100)
    flat = s.indexed(pd.DataFrame({"x": pd.array([0, 3], dtype="Int64")}))
    assert flat["x"].isna().all()


@given(st.lists(st.tuples(st.sampled_from([3, 1, 2]), st.integers(0, 12), st.integers(0, 2**40)), max_size=60),
       st.randoms(use_true_random=False))
def test_split_sums_each_platform_and_day_in_any_order_of_the_rows(points, rnd):
    """The driver's rows (day numbers) come in no order (the read leaves grouping and sorting to ``split``): each
    platform's frame holds its days ascending, each the sum of that day's rows, and a change only between consecutive
    days."""
    rows = [(pid, day(i), v) for pid, i, v in points]
    rnd.shuffle(rows)
    slugs = {1: "spotify", 2: "youtube", 3: "tiktok"}
    got = s.split(rows, slugs)
    assert set(got) == set(slugs.values())
    for pid, slug in slugs.items():
        sums: dict[int, int] = {}
        for p, i, v in points:
            if p == pid:
                sums[i] = sums.get(i, 0) + v
        days = sorted(sums)
        frame = got[slug]
        assert frame["date"].tolist() == [d(i) for i in days]
        assert frame["value"].tolist() == [sums[i] for i in days]
        changes = [None] + [sums[b] - sums[a] if b == a + 1 else None for a, b in zip(days, days[1:], strict=False)]
        assert [None if pd.isna(c) else int(c) for c in frame["daily_change"]] == changes[:len(days)]


def test_a_day_whose_identifiers_sum_past_64_bit_integers_is_a_one_line_error_never_a_wrapped_number(db):
    big = 2 ** 62 + 5
    near = s.split([(1, day(0), big), (1, day(0), 2 ** 61), (1, day(1), 9)], {1: "spotify"})["spotify"]
    assert near["value"].tolist() == [big + 2 ** 61, 9]  # near the limit, still exact
    with pytest.raises(s.OutOfRange, match=r"^the audience of spotify on 2026-01-01 sums its identifiers past 64-bit"):
        s.split([(1, day(1), 9), (1, day(0), big), (1, day(0), big)], {1: "spotify"})
    with db.begin() as conn:  # the other track: two identifiers on YouTube, stored values each within range
        conn.execute(insert(TrackAudience), [
            {"track_id": 2, "platform_id": 2, "platform_identifier": ident, "date": d(0), "audience_value": big}
            for ident in ("h1", "h2")])
    with pytest.raises(s.OutOfRange) as raised:
        s.audience_by_platform(db, "99999999-2222-4333-a444-555555555555")
    assert "\n" not in str(raised.value) and "64-bit" in str(raised.value)


@given(st.lists(st.tuples(st.booleans(), st.lists(st.tuples(st.integers(0, 40), st.integers(-5, 2**40)),
                                                 max_size=12, unique_by=lambda p: p[0])), min_size=1, max_size=4),
       st.lists(st.tuples(st.integers(0, 40), st.integers(0, 9)), min_size=1, max_size=12, unique_by=lambda p: p[0]))
def test_aligned_holds_each_platforms_values_on_the_union_of_their_dates(drawn, shared):
    """Platforms with the same days (fetched together) or each its own, any of them empty: one row per day of any,
    each platform's value on its days and NA on the others'."""
    series = {}
    for n, (same, points) in enumerate(drawn):
        points = sorted(shared if same else points)
        series[f"p{n}"] = pd.DataFrame({"date": [d(i) for i, _ in points], "value": [v for _, v in points]})
    wide = s.aligned(series)
    days = sorted({day for frame in series.values() for day in frame["date"]})
    assert wide.index.tolist() == days and list(wide) == list(series)
    for slug, frame in series.items():
        values = dict(zip(frame["date"], frame["value"], strict=True))
        assert [None if pd.isna(v) else int(v) for v in wide[slug]] == [values.get(day) for day in days]
