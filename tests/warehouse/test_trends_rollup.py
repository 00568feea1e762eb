"""A chart's latest ranking reads its stored history (count, peak and its date, streak) from the track-chart rollup
and the chart's last rankings, not from each track's whole history on the chart: the figures must be exactly those
read from the entries, on any history (gaps, failed rankings, a track listed twice in a ranking, rankings stored out
of order, rollups refreshed part way), and a long history must not be read."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from conftest import OUTPUT, migrated_copies
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from sqlalchemy import event, text, update

from soundcharts_lib.api.payloads import ChartInfo, Ranking, RankingEntry, SongRef
from soundcharts_lib.db import chart_rollup, make_engine, store
from soundcharts_lib.db.tables import C
from soundcharts_lib.warehouse.trends import chart_trends

CHART = ChartInfo(slug="rolled", name="Rolled", platform="spotify", type="top", frequency="daily",
                  country_code=None, country_name=None, city_name=None, max_results=10, web_url=None,
                  metric_type=None, metric_description=None)
START = date(2026, 1, 1)
FIGURES = ["uuid", "position", "stored_count", "stored_peak_position", "stored_peak_date", "stored_streak"]


def _ranking(day: date, uuids: list[str]) -> Ranking:
    """A ranking without the API's trend fields, so its time on chart is the stored count."""
    return Ranking(chart=CHART, date=day, date_raw=f"{day}T00:00:00+00:00", entries=[
        RankingEntry(song=SongRef(uuid=u, name=f"Song {u}", credit_name="X", image_url=None), position=i + 1)
        for i, u in enumerate(uuids)])


def _figures(engine, on: date | None = None) -> pd.DataFrame:
    """The stored-history figures of the ranking of ``on`` (default: the latest; the stored count is shown as its
    time on chart)."""
    t = chart_trends(engine, CHART.slug, on)
    assert set(t["on_chart_from"]) <= {"stored"}
    return t.rename(columns={"on_chart": "stored_count"})[FIGURES].astype(object).reset_index(drop=True)


def _from_entries(engine, days: list[date | None]) -> list[pd.DataFrame]:
    """The same figures with the rollup left aside: the chart's version bumped, as any write of its rankings does."""
    with engine.begin() as conn:
        conn.execute(update(C).values(rankings_version=C.c.rankings_version + 1))
    try:
        with engine.connect() as conn:
            assert not chart_rollup.current(conn, [1])
        return [_figures(engine, on) for on in days]
    finally:
        with engine.begin() as conn:
            conn.execute(update(C).values(rankings_version=C.c.rankings_version - 1))


def _independent(stored: dict[int, list[str]], upto: int) -> dict[tuple[str, int], tuple]:
    """Per entry (track, position) of the stored ranking of day ``upto`` (``stored``: each stored ranking's tracks by
    position, per day), in plain Python over the rankings up to it: (count, peak, peak's first date, streak); a
    track listed twice in a ranking counts once there, at its best position."""
    order = [i for i in sorted(stored) if i <= upto]
    out = {}
    for position, uuid in enumerate(stored[upto], start=1):
        held = [i for i in order if uuid in stored[i]]
        best = {i: stored[i].index(uuid) + 1 for i in held}
        peak = min(best.values())
        streak = 0
        for i in reversed(order):
            if uuid not in stored[i]:
                break
            streak += 1
        out[uuid, position] = (len(held), peak, START + timedelta(days=min(i for i in held if best[i] == peak)),
                               streak)
    return out


def _check(engine, stored: dict[int, list[str]], days: list[int] | None = None) -> pd.DataFrame:
    """The figures of the rankings of ``days`` (default: the latest), with the rollup current (the latest from it,
    the others from the entries since each track's first date) equal those read from the entries alone and an
    independent count; returns the latest's."""
    days = days or [max(stored)]
    with engine.connect() as conn:
        assert chart_rollup.current(conn, [1]) == {1}
    rolled = [_figures(engine, START + timedelta(days=i)) for i in days]
    for mine, theirs, i in zip(rolled, _from_entries(engine, [START + timedelta(days=i) for i in days]), days,
                               strict=True):
        pd.testing.assert_frame_equal(mine, theirs)
        got = {(r.uuid, r.position): (r.stored_count, r.stored_peak_position, r.stored_peak_date, r.stored_streak)
               for r in mine.itertuples()}
        assert got == _independent(stored, i), f"the ranking of day {i}"
    return rolled[-1]


# -- any history ------------------------------------------------------------------------------------------------

@st.composite
def histories(draw):
    """Up to 45 daily rankings of up to 6 tracks (each there 4 times in 5, so long runs and gaps both occur; now and
    then listed twice), some failed; stored in any order, the rollup refreshed at some points on the way."""
    days = draw(st.integers(1, 45))
    tracks = "abcdef"
    rankings: dict[int, list[str] | None] = {}
    for i in range(days):
        if i and draw(st.integers(0, 9)) == 0:
            rankings[i] = None  # a failed fetch
            continue
        there = [t for t in tracks if draw(st.integers(0, 4)) > 0]
        order = draw(st.permutations(there))
        twice = draw(st.lists(st.sampled_from(tracks), max_size=1)) if there else []
        rankings[i] = list(order) + twice
    if rankings[days - 1] is None:
        rankings[days - 1] = ["a"]
    order = draw(st.permutations(range(days))) if draw(st.booleans()) else list(range(days))
    refresh_after = set(draw(st.lists(st.integers(0, days - 1), max_size=4)))
    return days, rankings, order, refresh_after


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """``fresh()`` -> an engine on a new, migrated SQLite database."""
    new = migrated_copies(tmp_path_factory.mktemp("rolled"))
    return lambda: make_engine(new())


@settings(max_examples=40, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate),
          database=DirectoryBasedExampleDatabase(OUTPUT / "hypothesis" / "examples"),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(history=histories())
def test_each_rankings_figures_with_the_rollup_current_equal_those_from_the_entries(fresh, history):
    days, rankings, order, refresh_after = history  # noqa: F841 (days: the drawn length)
    engine = fresh()
    store.upsert_charts(engine, [CHART])
    try:
        for n, i in enumerate(order):
            day = START + timedelta(days=i)
            if rankings[i] is None:
                store.record_chart_failure(engine, 1, "HTTP 500", day, None)
            else:
                store.store_ranking(engine, 1, _ranking(day, rankings[i]))
            if n in refresh_after:
                chart_rollup.refresh(engine)  # later rankings then add to the rows (earlier ones too)
        chart_rollup.refresh(engine)
        stored = {i: r for i, r in rankings.items() if r is not None}
        _check(engine, stored, sorted(stored))  # every stored ranking, the latest last
    finally:
        engine.dispose()


# -- a long history, on both databases -----------------------------------------------------------------------------

def test_a_long_history_is_read_from_the_rollup_and_the_last_rankings_only(engine):
    """200 daily rankings: "hit" on every one; "back" gone once (day 150) then back for 49 days, a streak longer
    than the first windows read; "twice" listed twice in each ranking; "new" on the last 3; a failed ranking on day
    100 (no gap). The figures equal those from the entries and an independent count, and no statement reads the
    entries before the last 128 rankings (the third window)."""
    store.upsert_charts(engine, [CHART])
    days, stored = 200, {}
    for i in range(days):
        day = START + timedelta(days=i)
        if i == 100:
            store.record_chart_failure(engine, 1, "HTTP 500", day, None)
            continue
        uuids = ["hit", "twice", *(["back"] if i != 150 else []), *(["new"] if i >= days - 3 else []),
                 f"once-{i}", "twice"]
        store.store_ranking(engine, 1, _ranking(day, uuids))
        stored[i] = uuids
        if i == 120:
            chart_rollup.refresh(engine)  # the last 79 rankings are added to the rows built here
    chart_rollup.refresh(engine)
    with engine.connect() as conn:
        earliest = conn.execute(text("SELECT ranking_date FROM chart_ranking WHERE status = 'success' "
                                     "ORDER BY ranking_date DESC LIMIT 1 OFFSET 127")).scalar_one()
    read: list[tuple[str, object]] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if "chart_ranking_entry" in statement:
            read.append((statement, parameters))
    event.listen(engine, "before_cursor_execute", seen)
    try:
        rolled = _figures(engine)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    figures = {r.uuid: (r.stored_count, r.stored_streak, r.stored_peak_position) for r in rolled.itertuples()}
    assert (rolled["uuid"] == "twice").sum() == 2  # listed twice: two entries, the same figures
    assert figures["hit"] == (199, 199, 1) and figures["back"] == (198, 49, 3) and figures["new"] == (3, 3, 4)
    assert figures["twice"] == (199, 199, 2)
    bounds = [p for _, params in read for p in (params.values() if isinstance(params, dict) else params)
              if isinstance(p, date | str) and str(p)[:4] == "2026"]
    assert bounds and min(str(b) for b in bounds) >= str(earliest)  # the windows' first dates only
    assert sum("BETWEEN" in s.upper() for s, _ in read) == 3  # windows of 8, 32 and 128 rankings for "back"
    _check(engine, stored)
    _check(engine, stored, [0, 99, 101, 150, 151, 198, 199])  # older rankings: from each track's first date


def test_an_older_ranking_and_a_stale_rollup_read_the_entries(engine):
    """Not the latest ranking, or the rollup not refreshed since a ranking was stored: the entries decide."""
    store.upsert_charts(engine, [CHART])
    for i, uuids in enumerate([["a", "b"], ["b", "a"], ["a"], ["a", "b"]]):
        store.store_ranking(engine, 1, _ranking(START + timedelta(days=i), uuids))
    chart_rollup.refresh(engine)
    older = chart_trends(engine, CHART.slug, START + timedelta(days=2)).set_index("uuid")
    assert older.loc["a", "stored_streak"] == 3 and older.loc["a", "on_chart"] == 3
    store.store_ranking(engine, 1, _ranking(START + timedelta(days=4), ["b"]))  # not rolled up yet
    with engine.connect() as conn:
        assert not chart_rollup.current(conn, [1])
    latest = chart_trends(engine, CHART.slug).set_index("uuid")
    assert latest.loc["b", "stored_streak"] == 2 and latest.loc["b", "on_chart"] == 4
    assert latest.loc["b", "stored_peak_position"] == 1
