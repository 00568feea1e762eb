"""Chart-entry lift on a small known warehouse: entries, audience windows (interpolation, identifiers, statuses),
the per-track summary with its bootstrap interval, the day-by-day profile, what to fetch."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import insert

from soundcharts_lib.db.models import Chart, ChartRanking, ChartRankingEntry, Platform, Track, TrackAudience
from soundcharts_lib.warehouse import lift

TODAY = date(2026, 3, 20)
U = {i: f"0000000{i}-0000-0000-0000-000000000000" for i in range(1, 10)}


def day(month: int, d: int) -> date:
    return date(2026, month, d)


def series(start: date, values: list[int], skip: tuple[date, ...] = ()) -> dict[date, int]:
    return {start + timedelta(days=k): v for k, v in enumerate(values) if start + timedelta(days=k) not in skip}


@pytest.fixture
def db(engine):
    """Chart ``c1`` (US) and ``c2`` (global); entries (before=after=3 days in the tests):
    track 1 enters c1 on 03-05 (API entryDate) and c2 on 03-12; track 2 is ``new`` on c1 on 03-10 (no entryDate);
    track 3 enters c1 on 03-09 with a flat audience; track 4 enters c2 on 03-12 with days missing; track 6 enters
    c1 on 03-08 without audience; track 9 is on c1 since its history began (01-01), track 5 on c2 (02-01)."""
    with engine.begin() as conn:
        conn.execute(insert(Platform).values(id=1, slug="spotify", name="Spotify", supports_charts=True,
                                             supports_audience=True))
        conn.execute(insert(Track), [{"id": i, "uuid": u, "name": f"Song {i}", "credit_name": "Band"}
                                     for i, u in U.items()])
        conn.execute(insert(Chart), [
            {"id": 1, "slug": "c1", "name": "Chart One", "platform_id": 1, "country_code": "US"},
            {"id": 2, "slug": "c2", "name": "Chart Two", "platform_id": 1, "country_code": None}])
        conn.execute(insert(ChartRanking), [{"id": 1, "chart_id": 1, "ranking_date": day(3, 10), "date_raw": "x"},
                                            {"id": 2, "chart_id": 2, "ranking_date": day(3, 12), "date_raw": "x"},
                                            {"id": 3, "chart_id": 1, "ranking_date": day(1, 1), "date_raw": "x"}])
        entry = {"entry_state": "up", "entry_date": None}
        conn.execute(insert(ChartRankingEntry), [entry | e for e in (
            {"ranking_id": 3, "track_id": 9, "position": 1, "entry_date": day(1, 1), "entry_state": "new"},
            {"ranking_id": 1, "track_id": 9, "position": 1, "entry_date": day(1, 1)},
            {"ranking_id": 1, "track_id": 1, "position": 2, "entry_date": day(3, 5)},
            {"ranking_id": 1, "track_id": 2, "position": 3, "entry_state": "new"},
            {"ranking_id": 1, "track_id": 3, "position": 4, "entry_date": day(3, 9)},
            {"ranking_id": 1, "track_id": 6, "position": 5, "entry_date": day(3, 8)},
            {"ranking_id": 1, "track_id": 7, "position": 6},  # no entry date, not new: no entry known
            {"ranking_id": 2, "track_id": 1, "position": 1, "entry_date": day(3, 12)},
            {"ranking_id": 2, "track_id": 4, "position": 2, "entry_date": day(3, 12)},
            {"ranking_id": 2, "track_id": 5, "position": 3, "entry_date": day(2, 1)})])
        # track 1, id "a": +10 a day to 03-04, +20 to 03-11, then +40; 03-03 missing (interpolated)
        a = [1000 + 10 * k for k in range(4)] + [1030 + 20 * k for k in range(1, 8)] + [1170 + 40 * k
                                                                                        for k in range(1, 9)]
        # id "b" only from 03-06 (+5 a day): in c2's window, not in c1's
        points = [(1, "a", series(day(3, 1), a, skip=(day(3, 3),))), (1, "b", series(day(3, 6), [500 + 5 * k for k in
                                                                                                 range(14)])),
                  (2, "c", series(day(3, 8), [100 + k for k in range(12)])),
                  (3, "d", series(day(3, 1), [700] * 19)),
                  (4, "e", series(day(3, 1), [100 + 3 * k for k in range(19)],
                                  skip=tuple(day(3, d) for d in range(9, 14))))]
        conn.execute(insert(TrackAudience), [{"track_id": t, "platform_id": 1, "platform_identifier": ident,
                                              "date": d, "audience_value": v}
                                             for t, ident, values in points for d, v in values.items()])
    return engine


def test_entry_events(db):
    events = lift.entry_events(db)
    assert events.columns.tolist() == lift.EVENT_COLUMNS
    assert events[["uuid", "chart", "entry_date"]].values.tolist() == [
        [U[1], "c1", day(3, 5)], [U[6], "c1", day(3, 8)], [U[3], "c1", day(3, 9)], [U[2], "c1", day(3, 10)],
        [U[1], "c2", day(3, 12)], [U[4], "c2", day(3, 12)]]
    assert events.loc[0, ["name", "artist", "chart_name"]].tolist() == ["Song 1", "Band", "Chart One"]
    assert lift.entry_events(db, charts=["c2"])["uuid"].tolist() == [U[1], U[4]]
    assert lift.entry_events(db, country="global")["chart"].unique().tolist() == ["c2"]
    assert lift.entry_events(db, country="us")["chart"].unique().tolist() == ["c1"]
    assert lift.entry_events(db, chart_platform="deezer").empty
    assert lift.entry_events(db, since=day(3, 9), until=day(3, 10))["uuid"].tolist() == [U[3], U[2]]


def test_entry_lift_rates_and_statuses(db):
    events = lift.entry_events(db)
    out = lift.entry_lift(db, events, "spotify", before_days=3, after_days=3, today=TODAY)
    got = {(r.uuid, r.chart): r for r in out.itertuples()}
    one = got[(U[1], "c1")]
    assert (one.status, one.before_per_day, one.after_per_day, one.lift_pct) == ("ok", 10.0, 20.0, 100.0)
    assert one.daily == [10.0, 10.0, 10.0, 20.0, 20.0, 20.0]  # 03-03 interpolated
    two = got[(U[1], "c2")]  # ids "a" (+20 -> +40) and "b" (+5) summed
    assert (two.status, two.before_per_day, two.after_per_day, two.lift_pct) == ("ok", 25.0, 45.0, 80.0)
    assert got[(U[2], "c1")].status == "no audience before"
    assert got[(U[3], "c1")].status == "no growth" and got[(U[3], "c1")].before_per_day == 0
    assert got[(U[4], "c2")].status == "gaps"
    assert got[(U[6], "c1")].status == "no audience"
    early = lift.entry_lift(db, events, "spotify", before_days=3, after_days=3, today=day(3, 13))
    assert early.set_index(["uuid", "chart"]).loc[(U[1], "c2"), "status"] == "too recent"
    assert lift.entry_lift(db, events, "youtube", today=TODAY)["status"].unique().tolist() == ["no audience"]
    assert lift.entry_lift(db, events.iloc[0:0], "spotify").empty


def test_short_gaps_only_are_interpolated(db, monkeypatch):
    events = lift.entry_events(db, charts=["c2"])
    monkeypatch.setattr(lift, "MAX_GAP_DAYS", 6)  # days 03-09..03-13 missing: 6 days between stored days
    out = lift.entry_lift(db, events, "spotify", before_days=3, after_days=3, today=TODAY)
    assert out.set_index("uuid").loc[U[4], "status"] == "ok"


def test_summary_and_profile_on_the_warehouse(db):
    out = lift.entry_lift(db, lift.entry_events(db), "spotify", before_days=3, after_days=3, today=TODAY)
    summary = lift.lift_summary(out)
    assert summary["tracks"] == 1 and summary["entries"] == 2
    assert summary["lift_pct"] == pytest.approx((math.sqrt(2.0 * 1.8) - 1) * 100, abs=0.01)  # one track, two entries
    assert summary["ci_low_pct"] is None and summary["share_faster_pct"] == 100.0
    assert summary["excluded"] == {"no audience before": 1, "no growth": 1, "gaps": 1, "no audience": 1}
    profile = lift.lift_profile(out, before_days=3)
    assert profile["offset"].tolist() == [-3, -2, -1, 0, 1, 2] and profile["tracks"].unique().tolist() == [1]
    # entry 1: 10 a day before -> 100, 20 after -> 200; entry 2: 25 -> 100, 45 -> 180; averaged per track
    assert profile["index"].tolist() == [100.0, 100.0, 100.0, 190.0, 190.0, 190.0]


def frame(rows: list[tuple[str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame({"uuid": [r[0] for r in rows], "before_per_day": [r[1] for r in rows],
                         "after_per_day": [r[2] for r in rows], "status": "ok"})


def test_summary_bootstrap_interval():
    rng = np.random.default_rng(3)
    ratios = np.exp(rng.normal(np.log(1.3), 0.4, size=60))
    rows = [(f"t{i}", 100.0, 100.0 * r) for i, r in enumerate(ratios)]
    summary = lift.lift_summary(frame(rows), resamples=4000, seed=1)
    mean = (math.exp(np.log(ratios).mean()) - 1) * 100
    assert summary["tracks"] == 60 and summary["lift_pct"] == pytest.approx(mean, abs=0.01)
    assert summary["ci_low_pct"] < summary["lift_pct"] < summary["ci_high_pct"]
    se = np.log(ratios).std(ddof=1) / math.sqrt(60)  # the percentile interval is close to the normal one here
    assert summary["ci_low_pct"] == pytest.approx((math.exp(np.log(ratios).mean() - 1.96 * se) - 1) * 100, abs=2.5)
    assert summary == lift.lift_summary(frame(rows), resamples=4000, seed=1)  # seeded: the same every time
    wider = lift.lift_summary(frame(rows), confidence=0.99, resamples=4000, seed=1)
    assert wider["ci_low_pct"] < summary["ci_low_pct"] and wider["ci_high_pct"] > summary["ci_high_pct"]
    assert summary["share_faster_pct"] == round(float((ratios > 1).mean()) * 100, 1)


def test_summary_counts_each_track_once():
    # track a: two entries (x4, x1) -> geometric mean x2; track b: one entry x2 -> both x2: lift 100 %
    summary = lift.lift_summary(frame([("a", 10, 40), ("a", 10, 10), ("b", 5, 10)]))
    assert (summary["tracks"], summary["entries"], summary["lift_pct"]) == (2, 3, 100.0)
    assert summary["ci_low_pct"] == summary["ci_high_pct"] == 100.0


def test_describe():
    summary = lift.lift_summary(frame([("a", 10, 40), ("b", 10, 11), ("c", 10, 9)]), resamples=500)
    text = lift.describe(summary, 7, 7)
    assert text.startswith("Over 3 tracks (3 chart entries), the audience grew 58.2% faster per day in the 7 days "
                           "from a chart entry than in the 7 days before it (95% confidence interval: ")
    assert text.endswith("; 67% of the tracks grew faster after.")
    one = lift.describe(lift.lift_summary(frame([("a", 10, 5)])), 3, 3)
    assert one == ("Over 1 tracks (1 chart entries), the audience grew 50.0% slower per day in the 3 days from a "
                   "chart entry than in the 3 days before it (one track: no confidence interval).")
    assert lift.describe(lift.lift_summary(frame([]).assign(status=pd.Series(dtype=str)))) == (
        "No chart entry has audience stored on both sides yet.")


def test_summary_without_data():
    empty = lift.lift_summary(frame([]).assign(status=pd.Series(dtype=str)))
    assert empty["tracks"] == 0 and empty["lift_pct"] is None and empty["excluded"] == {}
    assert lift.lift_profile(frame([])).empty


def test_what_to_fetch(db):
    out = lift.entry_lift(db, lift.entry_events(db), "spotify", before_days=3, after_days=3, today=TODAY)
    missing = lift.missing_audience(out, before_days=3, after_days=3)
    assert missing == {"platform": "spotify", "track_uuids": [U[6], U[4]], "start": day(3, 1),
                       "end": day(3, 17)}
    assert lift.fetch_command(missing, limit=1) == (f"soundcharts fetch-audience --platform spotify --start-date "
                                                    f"2026-03-01 --end-date 2026-03-17 --track-uuid {U[6]}")
    assert lift.missing_audience(out[out["status"] == "ok"]) is None
