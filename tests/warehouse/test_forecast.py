"""The audience forecast: sane on any growing series (hypothesis), exact where the answer is known (a steady
increase, with or without missing days, a fall, a constant series, values near 2^63), a reason instead of a forecast
under 28 stored days, identifiers summed per date as the track page reads them (SQLite and PostgreSQL), and the
benchmark's quick mode over the local catalog."""

from __future__ import annotations

import math
import sys
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from conftest import OUTPUT
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase
from sqlalchemy import insert

from soundcharts_lib.db.tables import AUD, P, T
from soundcharts_lib.warehouse.audience_series import NotStored
from soundcharts_lib.warehouse.forecast import HORIZON, MIN_POINTS, forecast_series, track_forecast

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))

set_hypothesis_home_dir(OUTPUT / "hypothesis")
SETTINGS = settings(max_examples=60, deadline=None,
                    database=DirectoryBasedExampleDatabase(OUTPUT / "hypothesis" / "examples"))
START = date(2026, 1, 1)
UUID = "7a6b5c4d-1111-4222-8333-944455556666"


def series(values, *, missing=(), start: date = START) -> pd.DataFrame:
    """A stored series: day i holds values[i], except the days in ``missing``."""
    days = [i for i in range(len(values)) if i not in set(missing)]
    return pd.DataFrame({"date": [start + timedelta(days=i) for i in days], "value": [values[i] for i in days]})


def steady(days: int, first: int, step: int) -> list[int]:
    return [first + step * i for i in range(days)]


def assert_sane(made, frame: pd.DataFrame) -> None:
    """A forecast a page can draw: 28 days after the last stored one, finite, the point never below the last value
    nor decreasing, inside a band that never narrows and never goes below the last value."""
    assert made.ok, made.reason
    last = frame["date"].iloc[-1]
    assert made.last_date == last and made.last_value == int(frame["value"].iloc[-1])
    assert list(made.dates) == [last + timedelta(days=h) for h in range(1, HORIZON + 1)]
    assert len(made.point) == len(made.lower) == len(made.upper) == HORIZON
    assert all(math.isfinite(v) for v in made.point + made.lower + made.upper)
    assert made.lower[0] >= made.last_value
    for h in range(HORIZON):
        assert made.lower[h] <= made.point[h] <= made.upper[h]
        if h:
            assert made.point[h] >= made.point[h - 1] and made.lower[h] >= made.lower[h - 1]
            assert made.upper[h] >= made.upper[h - 1]
    held = frame[frame["date"] > last - timedelta(days=28)]
    if (held["value"] == 0).all():  # a percentage of nothing
        assert made.backtest_mape is None
    else:
        assert made.backtest_mape is not None and 0 <= made.backtest_mape < math.inf
    assert made.points_used == len(frame) and made.method.startswith("damped-trend exponential smoothing")


@st.composite
def growing(draw):
    """A running total that never goes down: 56-240 days, increases from 0 to 10^9, some days missing."""
    days = draw(st.integers(56, 240))
    increases = draw(st.lists(st.integers(0, 10 ** 9), min_size=days - 1, max_size=days - 1))
    values = [draw(st.integers(0, 10 ** 12))]
    for step in increases:
        values.append(values[-1] + step)
    missing = draw(st.sets(st.integers(1, days - 2), max_size=days // 10))
    return series(values, missing=missing)


@SETTINGS
@given(growing())
def test_any_growing_series_gets_a_sane_forecast(frame):
    before = (frame["date"] <= frame["date"].iloc[-1] - timedelta(days=28)).sum()
    made = forecast_series(frame, "spotify")
    if before < MIN_POINTS:  # missing days can leave too few before the held-out weeks
        assert not made.ok and made.dates == () and "before the last 4 weeks" in made.reason
        return
    assert_sane(made, frame)
    assert made.platform == "spotify"
    biggest = frame["value"].diff().max()  # the forecast does not run away: within 100 times the fastest day
    assert made.point[-1] - made.last_value <= 100 * HORIZON * max(biggest, 1)


@SETTINGS
@given(st.integers(0, MIN_POINTS - 1), st.integers(0, 10 ** 12))
def test_fewer_than_28_stored_days_give_a_reason_not_a_forecast(days, first):
    made = forecast_series(series(steady(days, first, 1000)), "deezer")
    assert not made.ok and made.dates == () and made.point == () and made.backtest_mape is None
    assert made.reason == ("no audience stored" if days == 0 else
                           f"only {days} stored days; a forecast needs at least {MIN_POINTS}")
    assert made.points_used == days


def test_28_days_but_not_before_the_held_out_weeks_give_a_reason():
    made = forecast_series(series(steady(50, 10, 5)))
    assert made.reason == "only 22 stored days before the last 4 weeks; a forecast needs 28 there to be backtested"
    assert forecast_series(series(steady(56, 10, 5))).ok


@SETTINGS
@given(st.integers(56, 300), st.integers(0, 10 ** 12), st.integers(1, 10 ** 9), st.data())
def test_a_steady_increase_is_forecast_exactly_with_or_without_missing_days(days, first, step, data):
    """Missing days are not zero growth: the increase across a gap is spread over its days, so a steady series with
    gaps forecasts the same steady increase, and the backtest is exact."""
    missing = data.draw(st.sets(st.integers(1, days - 2), max_size=days // 5))
    frame = series(steady(days, first, step), missing=missing)
    made = forecast_series(frame)
    if not made.ok:
        assert "before the last 4 weeks" in made.reason
        return
    assert_sane(made, frame)
    for h, point in enumerate(made.point, 1):
        assert point == pytest.approx(made.last_value + h * step, rel=1e-9, abs=1e-3 * step)
    assert made.lower == pytest.approx(made.point) and made.upper == pytest.approx(made.point)
    assert made.backtest_mape == pytest.approx(0, abs=1e-6) and made.growth_mape == pytest.approx(0, abs=1e-4)


def test_a_constant_series_stays_constant():
    frame = series([4_200] * 90)
    made = forecast_series(frame)
    assert_sane(made, frame)
    assert made.point == made.lower == made.upper == (4_200.0,) * HORIZON
    assert made.backtest_mape == 0 and made.growth_mape is None  # no growth to measure against


def test_values_near_the_largest_bigint_stay_finite_and_exact():
    first = 2 ** 63 - 1 - 120 * 10 ** 15
    frame = series(steady(100, first, 10 ** 15))
    made = forecast_series(frame)
    assert_sane(made, frame)
    assert made.point[-1] == pytest.approx(made.last_value + HORIZON * 10 ** 15, rel=1e-12)


@pytest.mark.parametrize("fall_at", [40, 75, 95])  # before the held-out weeks, inside them, near the end
def test_a_fall_is_a_level_shift_not_listening(fall_at):
    """An identifier that stops reporting drops the summed total: the forecast goes on from the last value at the
    usual pace, its band never below it."""
    values = [v - (3_000_000 if i >= fall_at else 0) for i, v in enumerate(steady(100, 5_000_000, 20_000))]
    frame = series(values)
    made = forecast_series(frame)
    assert_sane(made, frame)
    assert made.point[0] == pytest.approx(values[-1] + 20_000) and made.point[-1] == pytest.approx(
        values[-1] + HORIZON * 20_000)


def test_a_jump_is_a_level_shift_too():
    values = [v + (9_000_000 if i >= 60 else 0) for i, v in enumerate(steady(100, 1_000, 20_000))]
    made = forecast_series(series(values))
    assert made.point[-1] == pytest.approx(values[-1] + HORIZON * 20_000)


def test_a_fading_hit_forecasts_its_fading_and_the_band_holds_the_truth():
    """Listening that halves every 30 days: the forecast's growth over the next 4 weeks is within 10 % of the
    truth's (a damped trend under-extrapolates a steady fading a little), a third of the error of repeating the last
    increase, and the truth is inside the band."""
    rate = [100_000 * 0.5 ** (i / 30) for i in range(150)]
    values = [int(sum(rate[:i + 1])) for i in range(150)]
    made = forecast_series(series(values[:122]))
    truth = [values[121 + h] - values[121] for h in range(1, HORIZON + 1)]
    growth = [p - made.last_value for p in made.point]
    assert growth[-1] == pytest.approx(truth[-1], rel=0.1)
    assert abs(growth[-1] - truth[-1]) < abs(rate[121] * HORIZON - truth[-1]) / 3
    assert all(lo <= values[121 + h] <= hi for h, (lo, hi) in enumerate(zip(made.lower, made.upper, strict=True), 1))


def _store(engine, rows: list[tuple[str, str, date, int]]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(P), [{"slug": "spotify", "name": "Spotify", "supports_audience": True},
                                 {"slug": "shazam", "name": "Shazam", "supports_audience": True}])
        conn.execute(insert(T).values(uuid=UUID, name="A song"))
        ids = dict(conn.exec_driver_sql("SELECT slug, id FROM platform").all())
        track = conn.exec_driver_sql("SELECT id FROM track").scalar_one()
        conn.execute(insert(AUD), [{"track_id": track, "platform_id": ids[p], "platform_identifier": ident,
                                    "date": day, "audience_value": value} for p, ident, day, value in rows])


def test_a_stored_track_is_forecast_per_platform_with_its_identifiers_summed(engine):
    days = 90
    rows = [("spotify", "a", START + timedelta(days=i), 1_000_000 + 3_000 * i) for i in range(days)]
    rows += [("spotify", "b", START + timedelta(days=i), 50_000 + 1_000 * i) for i in range(days) if i != 40]
    rows += [("shazam", "s", START + timedelta(days=i), 10 + i) for i in range(20)]
    _store(engine, rows)
    made = track_forecast(engine, UUID)
    assert set(made) == {"spotify", "shazam"}
    spotify = made["spotify"]
    assert spotify.ok and spotify.last_value == 1_000_000 + 3_000 * 89 + 50_000 + 1_000 * 89
    assert spotify.points_used == days and spotify.dates[0] == START + timedelta(days=days)
    # day 40 holds only identifier a: a fall and a jump back, both level shifts; the pace is the sum's
    assert spotify.point[-1] == pytest.approx(spotify.last_value + HORIZON * 4_000)
    assert made["shazam"].reason == "only 20 stored days; a forecast needs at least 28"
    ended = track_forecast(engine, UUID, ["spotify"], end=START + timedelta(days=59))["spotify"]
    assert ended.last_date == START + timedelta(days=59) and ended.points_used == 60
    with pytest.raises(NotStored):
        track_forecast(engine, "00000000-0000-4000-8000-000000000000")


@pytest.mark.slow
def test_the_benchmark_quick_mode_judges_the_local_catalog(tmp_path):
    import bench_forecast

    url = f"sqlite:///{tmp_path / 'forecast.db'}"
    bench_forecast.build(url, tracks=6, days=100)
    figures = bench_forecast.measure(url)
    lines = bench_forecast.report(figures)
    print("\n".join(lines))
    judged = sum(len(p.mape) for p in figures.values())
    held = sum(p.held for p in figures.values())
    assert judged > 5 and held > 20 * judged
    assert next(line for line in lines if line.startswith("all ")) and 0 <= sum(
        p.inside for p in figures.values()) / held <= 1
