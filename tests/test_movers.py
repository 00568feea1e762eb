"""Movers of a day across all charts: a small known warehouse, and agreement with the one-chart trends on a
synced one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import insert

from soundcharts_lib import movers, roster, trends
from soundcharts_lib.db import make_engine
from soundcharts_lib.db.models import Chart, ChartRanking, ChartRankingEntry, Platform, Track

D = date(2026, 3, 10)
U = {i: f"0000000{i}-1111-1111-1111-111111111111" for i in range(1, 8)}


def rows(frame, columns: list[str]) -> list[list]:
    """``frame[columns]`` as lists, NA as None."""
    part = frame[columns].astype(object)
    return part.where(part.notna(), None).values.tolist()


@pytest.fixture
def db(engine):
    """``daily`` ranks D-2, D-1, D; ``weekly`` ranks D-7 and D; ``new`` ranks D only; ``quiet`` ranks D-1 only."""
    with engine.begin() as conn:
        conn.execute(insert(Platform).values(id=1, slug="spotify", name="Spotify"))
        conn.execute(insert(Track), [{"id": i, "uuid": u, "name": f"Song {i}", "credit_name": None if i == 7
                                      else "Band"} for i, u in U.items()])
        conn.execute(insert(Chart), [{"id": i, "slug": s, "name": s.title(), "platform_id": 1,
                                      "country_code": "FR" if s == "weekly" else None}
                                     for i, s in enumerate(["daily", "weekly", "new", "quiet"], start=1)])
        for rid, (chart_id, day, positions, states) in enumerate([
            (1, D - timedelta(days=2), {1: 1, 2: 2, 3: 3, 4: 4}, {}),
            (1, D - timedelta(days=1), {1: 1, 2: 2, 4: 3, 5: 4}, {}),
            (1, D, {4: 1, 1: 2, 3: 3, 6: 4, 7: 5}, {7: "re-entry"}),
            (2, D - timedelta(days=7), {1: 1, 2: 2}, {}),
            (2, D, {2: 1, 1: 2}, {}),
            (3, D, {1: 1}, {}),
            (4, D - timedelta(days=1), {1: 1}, {}),
        ], start=1):
            conn.execute(insert(ChartRanking).values(id=rid, chart_id=chart_id, ranking_date=day, date_raw="x"))
            conn.execute(insert(ChartRankingEntry), [{"ranking_id": rid, "track_id": t, "position": p,
                                                      "entry_state": states.get(t)} for t, p in positions.items()])
        conn.execute(insert(ChartRanking).values(id=99, chart_id=1, ranking_date=D + timedelta(days=1), date_raw="x",
                                                 status="failed"))
    return engine


def test_day_movers(db):
    out = movers.day_movers(db)
    assert out["date"] == D and out["charts"] == 2  # "new" has no previous ranking; "quiet" none on D
    daily = out["moves"][out["moves"]["chart"] == "daily"]
    assert rows(daily, ["uuid", "position", "previous_position", "movement", "status"]) == [
        [U[4], 1, 3, 2, "UP"], [U[1], 2, 1, -1, "DOWN"], [U[3], 3, None, None, "RE-ENTRY"],
        [U[6], 4, None, None, "NEW"], [U[7], 5, None, None, "RE-ENTRY"]]  # 7: the API says re-entry
    assert out["climbers"][["chart", "uuid", "movement"]].values.tolist() == [["daily", U[4], 2],
                                                                             ["weekly", U[2], 1]]
    assert out["fallers"][["chart", "uuid", "movement"]].values.tolist() == [["daily", U[1], -1],
                                                                            ["weekly", U[1], -1]]
    assert out["new_entries"]["uuid"].tolist() == [U[3], U[6], U[7]]
    assert out["dropouts"][["chart", "uuid", "previous_position", "date"]].values.tolist() == [
        ["daily", U[2], 2, D], ["daily", U[5], 4, D]]
    assert out["new_entries"]["artist"].tolist() == ["Band", "Band", ""]
    assert out["moves"].columns.tolist() == movers.MOVE_COLUMNS


def test_an_earlier_day_and_limits(db):
    out = movers.day_movers(db, D - timedelta(days=1), limit=1)
    assert out["charts"] == 1 and out["moves"]["chart"].unique().tolist() == ["daily"]  # "quiet": no previous
    assert out["climbers"]["uuid"].tolist() == [U[4]] and out["fallers"].empty
    assert out["new_entries"]["uuid"].tolist() == [U[5]] and out["dropouts"]["uuid"].tolist() == [U[3]]


def test_a_day_without_rankings_and_an_empty_warehouse(db, tmp_path):
    out = movers.day_movers(db, D + timedelta(days=3))
    assert out["charts"] == 0 and all(out[k].empty for k in ("climbers", "fallers", "new_entries", "dropouts"))
    from soundcharts_lib.db import upgrade

    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    upgrade(empty)
    assert movers.day_movers(empty)["date"] is None and movers.day_movers(empty)["moves"].empty


def test_roster_filter(db):
    roster.add(db, "track", U[1])
    out = movers.day_movers(db, tracks=roster.track_ids_query())
    assert set(out["moves"]["uuid"]) == {U[1]} and out["dropouts"].empty
    assert out["fallers"]["uuid"].tolist() == [U[1], U[1]]


def test_ranking_pairs(db):
    with db.connect() as conn:
        pairs = movers.ranking_pairs(conn)
        one = movers.ranking_pairs(conn, chart="weekly", on=D - timedelta(days=1))
    assert rows(pairs, ["chart", "date", "current", "previous"]) == [
        ["daily", D, 3, 2], ["new", D, 6, None], ["quiet", D - timedelta(days=1), 7, None], ["weekly", D, 5, 4]]
    assert rows(one, ["chart", "date", "previous"]) == [
        ["weekly", D - timedelta(days=7), None]]


def test_agrees_with_one_chart_trends(synced_sqlite_url):
    engine = make_engine(synced_sqlite_url, read_only=True)
    out = movers.day_movers(engine)
    assert out["charts"] > 10
    checked = 0
    for slug in sorted(out["moves"]["chart"].unique())[:6]:
        mine = out["moves"][out["moves"]["chart"] == slug].set_index("uuid")
        theirs = trends.chart_trends(engine, slug, out["date"]).set_index("uuid")
        assert sorted(mine.index) == sorted(theirs.index)
        assert mine["movement"].astype(object).to_dict() == theirs["movement"].astype(object).to_dict()
        moved = theirs[theirs["status"].isin(["UP", "DOWN", "SAME"])]
        assert mine.loc[moved.index, "status"].to_dict() == moved["status"].to_dict()
        stored_new = theirs[theirs["status"] == "RE-ENTRY"].index  # back in stored history: back here too
        assert set(mine.loc[stored_new, "status"]) <= {"RE-ENTRY"}
        checked += len(mine)
    assert checked > 100
    engine.dispose()
