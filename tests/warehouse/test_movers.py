"""Movers of a day across all charts: a small known warehouse (the API's fields first, stored history where it sent
none), and agreement with the one-chart trends on a synced one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import insert

from soundcharts_lib.curation import roster
from soundcharts_lib.db import make_engine
from soundcharts_lib.db.models import Chart, ChartRanking, ChartRankingDropout, ChartRankingEntry, Platform, Track
from soundcharts_lib.warehouse import movers, trends

D = date(2026, 3, 10)
U = {i: f"0000000{i}-1111-1111-1111-111111111111" for i in range(1, 8)}


def rows(frame, columns: list[str]) -> list[list]:
    """``frame[columns]`` as lists, NA as None."""
    part = frame[columns].astype(object)
    return part.where(part.notna(), None).values.tolist()


@pytest.fixture
def db(engine):
    """``daily`` ranks D-2, D-1, D (on D the API says track 7 is a re-entry and track 1 was #5); ``weekly`` ranks
    D-7 and D (on D the API lists track 3 as no longer in it, last at #9); ``new`` ranks D only; ``quiet`` ranks D-1
    only."""
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
            (1, D, {4: 1, 1: 2, 3: 3, 6: 4, 7: 5}, {7: "Re-Entry"}),
            (2, D - timedelta(days=7), {1: 1, 2: 2}, {}),
            (2, D, {2: 1, 1: 2}, {}),
            (3, D, {1: 1}, {}),
            (4, D - timedelta(days=1), {1: 1}, {}),
        ], start=1):
            conn.execute(insert(ChartRanking).values(id=rid, chart_id=chart_id, ranking_date=day, date_raw="x"))
            conn.execute(insert(ChartRankingEntry), [{"ranking_id": rid, "track_id": t, "position": p,
                                                      "entry_state": states.get(t)} for t, p in positions.items()])
        conn.execute(ChartRankingEntry.__table__.update().where(ChartRankingEntry.ranking_id == 3,
                                                                ChartRankingEntry.track_id == 1).values(old_position=5))
        conn.execute(insert(ChartRankingDropout).values(ranking_id=5, track_id=3, old_position=9))
        conn.execute(insert(ChartRanking).values(id=99, chart_id=1, ranking_date=D + timedelta(days=1), date_raw="x",
                                                 status="failed"))
    return engine


def test_day_movers(db):
    out = movers.day_movers(db)
    assert out["date"] == D and out["charts"] == 3  # "quiet" has none on D
    daily = out["moves"][out["moves"]["chart"] == "daily"]
    assert rows(daily, ["uuid", "position", "previous_position", "movement", "status", "status_from"]) == [
        [U[4], 1, 3, 2, "UP", "stored"], [U[1], 2, 5, 3, "UP", "api-derived"],  # 1: the API's oldPosition wins
        [U[3], 3, None, None, "RE-ENTRY", "stored"], [U[6], 4, None, None, "NEW", "stored"],
        [U[7], 5, None, None, "RE-ENTRY", "api"]]  # 7: the API says re-entry
    # "new" has no earlier ranking stored and the API sent nothing: its state is unknown, not NEW
    assert rows(out["moves"][out["moves"]["chart"] == "new"], ["uuid", "status"]) == [[U[1], None]]
    assert out["climbers"][["chart", "uuid", "movement"]].values.tolist() == [["daily", U[1], 3], ["daily", U[4], 2],
                                                                             ["weekly", U[2], 1]]
    assert out["fallers"][["chart", "uuid", "movement"]].values.tolist() == [["weekly", U[1], -1]]
    assert out["new_entries"]["uuid"].tolist() == [U[3], U[6], U[7]]
    assert rows(out["dropouts"], ["chart", "uuid", "previous_position", "date", "source"]) == [
        ["daily", U[2], 2, D, "stored history"], ["daily", U[5], 4, D, "stored history"],
        ["weekly", U[3], 9, D, "api"]]
    assert out["new_entries"]["artist"].tolist() == ["Band", "Band", ""]
    assert out["moves"].columns.tolist() == movers.MOVE_COLUMNS


def test_an_earlier_day_and_limits(db):
    out = movers.day_movers(db, D - timedelta(days=1), limit=1)
    assert out["charts"] == 2 and out["moves"]["chart"].unique().tolist() == ["daily", "quiet"]
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
    assert out["climbers"]["uuid"].tolist() == [U[1]] and out["fallers"]["uuid"].tolist() == [U[1]]


def test_ranking_pairs(db):
    with db.connect() as conn:
        pairs = trends.ranking_pairs(conn)
        one = trends.ranking_pairs(conn, chart="weekly", on=D - timedelta(days=1))
    assert rows(pairs, ["chart", "date", "current", "previous", "previous_date", "history_start"]) == [
        ["daily", D, 3, 2, D - timedelta(days=1), D - timedelta(days=2)], ["new", D, 6, None, None, D],
        ["quiet", D - timedelta(days=1), 7, None, None, D - timedelta(days=1)],
        ["weekly", D, 5, 4, D - timedelta(days=7), D - timedelta(days=7)]]
    assert rows(one, ["chart", "date", "previous"]) == [
        ["weekly", D - timedelta(days=7), None]]


def test_agrees_with_one_chart_trends(synced_sqlite_url):
    engine = make_engine(synced_sqlite_url, read_only=True)
    out = movers.day_movers(engine)
    assert out["charts"] > 10
    checked = 0
    for slug in sorted(out["moves"]["chart"].unique())[:6]:
        mine = out["moves"][out["moves"]["chart"] == slug]
        theirs = trends.chart_trends(engine, slug, out["date"])
        fields = ["position", "uuid", "previous_position", "movement", "status", "status_from"]
        assert rows(mine, fields) == rows(theirs, fields)
        gone = out["dropouts"][out["dropouts"]["chart"] == slug]
        assert rows(gone, trends.DROPOUT_COLUMNS) == rows(trends.chart_dropouts(engine, slug, out["date"]),
                                                          trends.DROPOUT_COLUMNS)
        checked += len(mine)
    assert checked > 100
    engine.dispose()
