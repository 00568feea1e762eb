"""Trend fields: against an independent computation, against the API's own fields, and on a scripted history."""

from datetime import date, timedelta

import pytest
from conftest import local_client
from sqlalchemy import text

from soundcharts_lib.db import make_engine, store, upgrade
from soundcharts_lib.localapi import LocalApiConfig, running
from soundcharts_lib.payloads import ChartInfo, Ranking, RankingEntry, SongRef
from soundcharts_lib.sync import ChartSync
from soundcharts_lib.trends import chart_dropouts, chart_movers, chart_trends, ranking_dates

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


def pd_na(value) -> bool:
    import pandas as pd

    return value is None or pd.isna(value)


def _independent(engine, slug):
    """Trend fields recomputed in plain Python from the stored rows."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "select r.ranking_date, t.uuid, e.position from chart_ranking_entry e join chart_ranking r "
            "on r.id = e.ranking_id join chart c on c.id = r.chart_id join track t on t.id = e.track_id "
            "where c.slug = :s and r.status = 'success'"), {"s": slug}).all()
    rows = [(date.fromisoformat(str(r[0])), r[1], r[2]) for r in rows]
    dates = sorted({r[0] for r in rows})
    pos = {(r[0], r[1]): r[2] for r in rows}
    last, prev = dates[-1], dates[-2]
    out = {}
    for day, uuid in pos:
        if day != last:
            continue
        seen = [d for d in dates if (d, uuid) in pos]
        streak = 0
        for d in reversed(dates):
            if (d, uuid) not in pos:
                break
            streak += 1
        best = min(pos[(d, uuid)] for d in seen)
        out[uuid] = {"previous": pos.get((prev, uuid)), "on_chart": len(seen), "streak": streak, "peak": best,
                     "peak_date": min(d for d in seen if pos[(d, uuid)] == best),
                     "new": len(seen) == 1}
    return out


def test_trends_equal_an_independent_computation_and_the_apis_own_fields(tmp_path):
    """Sync a chart's whole history from a server with a short history, then compare."""
    eng = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    upgrade(eng)
    with running(LocalApiConfig(seed=11, history_days=45)) as srv, \
            local_client(srv) as client:
        chart = next(c for p in client.chart_platforms() for c in client.charts_by_platform(p.code)
                     if (c.frequency or "").lower().startswith("d"))
        result = ChartSync(client, eng, progress=False).run(charts=[chart.slug], backfill_days=60)
        assert result.status == "success" and result.rankings_stored >= 40
        latest = client.ranking_latest(chart.slug)
    expected = _independent(eng, chart.slug)
    trends = chart_trends(eng, chart.slug)
    assert len(trends) == len(expected) == len(latest.entries)
    for row in trends.itertuples():
        e = expected[row.uuid]
        assert (None if pd_na(row.previous_position) else row.previous_position) == e["previous"]
        assert (row.on_chart, row.streak, row.peak_position, row.peak_date) == \
            (e["on_chart"], e["streak"], e["peak"], e["peak_date"])
        assert (row.status == "NEW") == e["new"]
    api = {e.song.uuid: e for e in latest.entries}
    assert ranking_dates(eng, chart.slug)[-1] == latest.date
    for row in trends.itertuples():  # the whole history is stored, so these must agree with the API's fields
        entry = api[row.uuid]
        assert row.on_chart == entry.time_on_chart
        assert (None if pd_na(row.previous_position) else row.previous_position) == \
            (entry.old_position if entry.entry_state not in ("new", "re-entry") else None)
        assert row.status == {"new": "NEW", "re-entry": "RE-ENTRY"}.get(entry.entry_state, row.status)
    statuses = set()
    for day in ranking_dates(eng, chart.slug)[-10:]:
        statuses |= set(chart_trends(eng, chart.slug, day)["status"])
    assert {"NEW", "RE-ENTRY", "UP", "DOWN"} <= statuses  # the history exercises every case
