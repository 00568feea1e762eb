"""Trend fields: against an independent computation, against the API's own fields, and on scripted histories."""

from datetime import date, timedelta

import pandas as pd
import pytest
from conftest import local_client
from sqlalchemy import text

from soundcharts_lib.analytics import chart_dates
from soundcharts_lib.db import make_engine, store, upgrade
from soundcharts_lib.localapi import LocalApiConfig, running
from soundcharts_lib.payloads import ChartInfo, Ranking, RankingEntry, SongRef
from soundcharts_lib.sync import ChartSync
from soundcharts_lib.trends import chart_dropouts, chart_movers, chart_trends

CHART = ChartInfo(slug="scripted", name="Scripted", platform="spotify", type="top", frequency="daily",
                  country_code=None, country_name=None, city_name=None, max_results=3, web_url=None,
                  metric_type=None, metric_description=None)
D = [date(2026, 3, 1) + timedelta(days=i) for i in range(5)]


def _ranking(day, uuids):
    entries = [RankingEntry(song=SongRef(uuid=u, name=f"Song {u}", credit_name="X", image_url=None), position=i + 1,
                            position_evolution=None, metric=None, entry_state=None, entry_date=None, rank_date=None,
                            old_position=None, time_on_chart=None, time_on_chart_unit=None)
               for i, u in enumerate(uuids)]
    return Ranking(chart=CHART, date=day, date_raw=f"{day}T00:00:00+00:00", entries=entries)


@pytest.fixture
def scripted(engine):
    chart_id = store.upsert_charts(engine, [CHART])["scripted"]
    history = [["a", "b", "c"], ["b", "a", "c"], ["b", "c", "d"], ["a", "b", "d"], ["a", "b", "d"]]
    for day, uuids in zip(D, history, strict=True):
        store.store_ranking(engine, chart_id, _ranking(day, uuids))
    return engine


def test_scripted_history_reentry_streak_and_dropouts(scripted):
    t = chart_trends(scripted, "scripted", D[3]).set_index("uuid")
    assert t.loc["a", "status"] == "RE-ENTRY" and t.loc["a", "streak"] == 1 and t.loc["a", "on_chart"] == 3
    assert t.loc["a", "peak_position"] == 1 and t.loc["a", "peak_date"] == D[0]
    assert pd_na(t.loc["a", "previous_position"]) and pd_na(t.loc["a", "movement"])
    assert t.loc["b", "status"] == "DOWN" and t.loc["b", "movement"] == -1 and t.loc["b", "streak"] == 4
    assert t.loc["b", "peak_date"] == D[1] and t.loc["b", "previous_position"] == 1
    assert t.loc["d", "status"] == "SAME" and t.loc["d", "movement"] == 0 and t.loc["d", "on_chart"] == 2
    assert list(chart_dropouts(scripted, "scripted", D[3])["uuid"]) == ["c"]
    assert list(chart_dropouts(scripted, "scripted", D[2])["uuid"]) == ["a"]
    t0 = chart_trends(scripted, "scripted", D[0])
    assert set(t0["status"]) == {"NEW"} and chart_dropouts(scripted, "scripted", D[0]).empty
    latest = chart_trends(scripted, "scripted").set_index("uuid")  # default: the latest stored ranking
    assert latest.loc["a", "streak"] == 2 and latest.loc["a", "status"] == "SAME"
    movers = chart_movers(scripted, "scripted", D[2])
    assert list(movers["new_entries"]["uuid"]) == ["d"] and list(movers["climbers"]["uuid"]) == ["c"]
    assert chart_trends(scripted, "scripted", date(2020, 1, 1)).empty
    assert chart_trends(scripted, "no-such-chart").empty


def test_failed_rankings_gaps_peak_ties_and_an_empty_ranking(engine):
    """A failed ranking is no gap (only stored rankings count); a streak restarts after an absence; a peak reached
    twice dates from the first time; an empty stored ranking drops every track; a weekly chart counts weeks."""
    weekly = CHART.model_copy(update={"slug": "gaps", "frequency": "weekly"})
    chart_id = store.upsert_charts(engine, [weekly])["gaps"]
    w = [date(2026, 1, 5) + timedelta(weeks=i) for i in range(7)]
    history = {0: ["a", "b", "c"], 1: ["b", "a"], 3: ["c", "a", "b"], 4: ["a", "c", "b"], 5: ["a", "c"], 6: []}
    for i, uuids in history.items():
        store.store_ranking(engine, chart_id, _ranking(w[i], uuids).model_copy(update={"chart": weekly}))
    store.record_chart_failure(engine, chart_id, "HTTP 500", w[2], None)
    fields = ["position", "previous_position", "movement", "peak_position", "peak_date", "on_chart", "streak",
              "status"]

    def rows(day):
        t = chart_trends(engine, "gaps", day)
        assert set(t["on_chart_unit"]) <= {"week"}
        return {r.uuid: [None if pd_na(v) else v for v in r[1:]] for r in t[["uuid", *fields]].itertuples(index=False)}

    assert rows(w[3]) == {"c": [1, None, None, 1, w[3], 2, 1, "RE-ENTRY"],
                          "a": [2, 2, 0, 1, w[0], 3, 3, "SAME"],
                          "b": [3, 1, -2, 1, w[1], 3, 3, "DOWN"]}
    assert rows(w[5]) == {"a": [1, 1, 0, 1, w[0], 5, 5, "SAME"], "c": [2, 2, 0, 1, w[3], 4, 3, "SAME"]}
    assert rows(w[2]) == {}  # the failed date has no ranking
    assert list(chart_dropouts(engine, "gaps", w[5])["uuid"]) == ["b"]
    movers = chart_movers(engine, "gaps", w[4])
    assert list(movers["climbers"]["uuid"]) == ["a"] and list(movers["fallers"]["uuid"]) == ["c"]
    pd.testing.assert_frame_equal(movers["ranking"], chart_trends(engine, "gaps", w[4]))
    empty = chart_movers(engine, "gaps")  # the latest: stored with no entries
    assert empty["ranking"].empty and empty["new_entries"].empty
    assert empty["dropouts"][["uuid", "previous_position"]].values.tolist() == [["a", 1], ["c", 2]]


def pd_na(value) -> bool:
    return value is None or pd.isna(value)


def _independent(engine, slug, on):
    """Trend fields of the ranking of ``on`` recomputed in plain Python from the stored rows."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "select r.ranking_date, t.uuid, e.position from chart_ranking_entry e join chart_ranking r "
            "on r.id = e.ranking_id join chart c on c.id = r.chart_id join track t on t.id = e.track_id "
            "where c.slug = :s and r.status = 'success'"), {"s": slug}).all()
    rows = [(date.fromisoformat(str(r[0])), r[1], r[2]) for r in rows]
    dates = sorted({r[0] for r in rows if r[0] <= on})
    pos = {(r[0], r[1]): r[2] for r in rows if r[0] <= on}
    prev = dates[-2] if len(dates) > 1 else None
    out = {}
    for day, uuid in pos:
        if day != on:
            continue
        seen = [d for d in dates if (d, uuid) in pos]
        streak = 0
        for d in reversed(dates):
            if (d, uuid) not in pos:
                break
            streak += 1
        best = min(pos[(d, uuid)] for d in seen)
        previous = pos.get((prev, uuid))
        status = ("NEW" if len(seen) == 1 else "RE-ENTRY" if previous is None else "UP" if previous > pos[(on, uuid)]
                  else "DOWN" if previous < pos[(on, uuid)] else "SAME")
        out[uuid] = {"position": pos[(on, uuid)], "previous": previous, "on_chart": len(seen), "streak": streak,
                     "peak": best, "peak_date": min(d for d in seen if pos[(d, uuid)] == best), "status": status}
    return out


def test_trends_equal_an_independent_computation_and_the_apis_own_fields(tmp_path):
    """Sync a chart's whole history from a server with a short history, then compare its last rankings."""
    eng = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    upgrade(eng)
    with running(LocalApiConfig(seed=11, history_days=45)) as srv, \
            local_client(srv) as client:
        chart = next(c for p in client.chart_platforms() for c in client.charts_by_platform(p.code)
                     if (c.frequency or "").lower().startswith("d"))
        result = ChartSync(client, eng, progress=False).run(charts=[chart.slug], backfill_days=60)
        assert result.status == "success" and result.rankings_stored >= 40
        latest = client.ranking_latest(chart.slug)
    dates = chart_dates(eng, chart.slug)
    assert dates[-1] == latest.date
    statuses = set()
    for day in dates[-10:]:
        expected = _independent(eng, chart.slug, day)
        trends = chart_trends(eng, chart.slug, day)
        assert len(trends) == len(expected) > 0
        assert list(trends["position"]) == sorted(e["position"] for e in expected.values())
        for row in trends.itertuples():
            e = expected[row.uuid]
            previous = None if pd_na(row.previous_position) else row.previous_position
            assert previous == e["previous"]
            assert (None if pd_na(row.movement) else row.movement) == (None if previous is None
                                                                        else previous - row.position)
            assert (row.position, row.on_chart, row.streak, row.peak_position, row.peak_date, row.status) == \
                (e["position"], e["on_chart"], e["streak"], e["peak"], e["peak_date"], e["status"])
        statuses |= set(trends["status"])
    assert {"NEW", "RE-ENTRY", "UP", "DOWN"} <= statuses  # the history exercises every case
    trends = chart_trends(eng, chart.slug)
    assert len(trends) == len(latest.entries)
    api = {e.song.uuid: e for e in latest.entries}
    for row in trends.itertuples():  # the whole history is stored, so these must agree with the API's fields
        entry = api[row.uuid]
        assert row.on_chart == entry.time_on_chart
        assert (None if pd_na(row.previous_position) else row.previous_position) == \
            (entry.old_position if entry.entry_state not in ("new", "re-entry") else None)
        assert row.status == {"new": "NEW", "re-entry": "RE-ENTRY"}.get(entry.entry_state, row.status)
