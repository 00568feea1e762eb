"""Audience coverage per platform and series with missing days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import insert

from soundcharts_lib.db.models import Platform, Track, TrackAudience
from soundcharts_lib.warehouse import quality

D = date(2026, 3, 10)
U1, U2 = "11111111-0000-0000-0000-000000000000", "22222222-0000-0000-0000-000000000000"


@pytest.fixture
def db(engine):
    """Track 1 on spotify ids a (D-9..D, D-5 and D-4 missing) and b (D-2..D); track 2 on youtube (D-20..D-10)."""
    with engine.begin() as conn:
        conn.execute(insert(Platform), [{"id": 1, "slug": "spotify", "name": "Spotify"},
                                        {"id": 2, "slug": "youtube", "name": "YouTube"}])
        conn.execute(insert(Track), [{"id": 1, "uuid": U1, "name": "One"}, {"id": 2, "uuid": U2, "name": "Two"}])
        points = ([(1, 1, "a", D - timedelta(days=n)) for n in range(10) if n not in (4, 5)]
                  + [(1, 1, "b", D - timedelta(days=n)) for n in range(3)]
                  + [(2, 2, "y", D - timedelta(days=n)) for n in range(10, 21) if n != 15])
        conn.execute(insert(TrackAudience), [{"track_id": t, "platform_id": p, "platform_identifier": i, "date": d,
                                              "audience_value": 100} for t, p, i, d in points])
    return engine


def test_coverage(db):
    out = quality.audience_coverage(db, today=D + timedelta(days=1))
    assert out.columns.tolist() == quality.COVERAGE_COLUMNS
    assert out.values.tolist() == [["spotify", 1, 2, 11, D - timedelta(days=9), D, 1],
                                   ["youtube", 1, 1, 10, D - timedelta(days=20), D - timedelta(days=10), 11]]


def test_gaps(db):
    out = quality.audience_gaps(db)
    assert out[["uuid", "platform", "identifier", "stored_days", "missing_days"]].values.tolist() == [
        [U1, "spotify", "a", 8, 2], [U2, "youtube", "y", 10, 1]]
    assert out.loc[0, ["first_date", "last_date"]].tolist() == [D - timedelta(days=9), D]
    assert len(quality.audience_gaps(db, limit=1)) == 1


def test_nothing_stored(engine):
    assert quality.audience_coverage(engine).empty and quality.audience_gaps(engine).empty
