"""The read side's frame helpers: dates from day numbers (a table shared by a process's pages) and integer columns
packed per group by PostgreSQL (one text value per group), each checked against plain Python."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Integer, column, select, values

from soundcharts_lib.db import frames, make_engine

FIRST, LAST = date(1, 1, 1).toordinal() - 1, date(9999, 12, 31).toordinal() - 1  # day numbers of any stored date
NEAR = date(2026, 12, 6).toordinal() - 1


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.one_of(st.integers(NEAR - 4000, NEAR + 400), st.integers(FIRST, LAST)), max_size=40),
                min_size=1, max_size=6))
def test_dates_of_any_day_numbers_in_any_order_of_calls_are_those_days(calls):
    """Calls extend the shared table to either side, or make a far-away day's dates on their own (a hostile date in
    year 1 or 9999 next to today's must not build a table of 3.6 million dates)."""
    for numbers in calls:
        got = frames.dates_of(np.array(numbers, dtype=np.int64))
        assert got.dtype == object and got.tolist() == [date.fromordinal(n + 1) for n in numbers]
    first, table = frames._DAYS
    assert len(table) <= frames.SPAN
    assert all(table[i] == date.fromordinal(first + i + 1) for i in range(0, len(table), max(1, len(table) // 50)))


def test_dates_of_a_slice_is_independent_of_later_calls():
    before = frames.dates_of(np.array([NEAR, NEAR + 1], dtype=np.int64))
    frames.dates_of(np.array([NEAR - 900, NEAR + 900], dtype=np.int64))  # the table is replaced, not changed
    assert before.tolist() == [date(2026, 12, 6), date(2026, 12, 7)]


@pytest.mark.postgres
def test_packed_columns_come_back_as_the_rows_of_each_group(pg_url):
    """Integers at both ends of 64 bits, zero and negatives, in groups of one row to many: each group's rows come
    back whole, in one packed value per group, with the group's key."""
    extremes = [-(2 ** 63), 2 ** 63 - 1, 0, -1, 7]
    rows = [(key, n, extremes[(key + n) % len(extremes)] if n % 3 else n * 1_000_003)
            for key in (1, 2, 5) for n in range(key * 40)]
    data = values(column("k", Integer), column("a", BigInteger), column("b", BigInteger), name="t").data(rows)
    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            q = select(data.c.k, frames.packed(data.c.a, data.c.b)).group_by(data.c.k)
            packed = conn.execute(q).cursor.fetchall()
    finally:
        engine.dispose()
    assert len(packed) == 3 and all(isinstance(text, str) for _, text in packed)
    got = frames.unpacked(packed, 2)
    assert got.dtype == np.int64 and got.shape == (len(rows), 3)
    assert sorted(map(tuple, got.tolist())) == sorted(rows)
    assert frames.unpacked([], 2).shape == (0, 3)
