"""Migration 0007: every entry carries its ranking's chart and date, backfilled when an existing database is upgraded
(SQLite, PostgreSQL, and monthly partitions an older release made), written by the sync's store and by any insert
that leaves them out; the track pages read them from ``ix_entry_track``, never counting a failed ranking's entries."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import insert, inspect, text

from soundcharts_lib.db import chart_rollup, make_engine, partition, store, upgrade
from soundcharts_lib.db.migrate import alembic_config
from soundcharts_lib.db.models import ChartRanking, ChartRankingEntry
from soundcharts_lib.warehouse import analytics, trends

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
from bench_store import build_rankings  # noqa: E402

DAY = date(2026, 2, 20)  # rankings on 5 days around a month's end: two monthly partitions
TRACK = "00000000-0000-4000-8000-00000000000{}"
# chart id -> {ranking id: (days after DAY, status, [track ids by position])}; ranking 6 is failed but holds entries
# (what an integrity repair leaves), ranking 7 is a failed fetch without any
RANKINGS = {1: {1: (0, "success", [1, 2, 3, 4]), 2: (1, "success", [2, 1]), 3: (8, "success", [3, 1])},
            2: {4: (0, "success", [1, 3]), 6: (5, "failed", [2, 1]), 5: (9, "success", [3, 2, 1]),
                7: (11, "failed", [])}}
NEW_INDEX = ["track_id", "chart_id", "ranking_date", "position"]
OLD_INDEX = ["track_id", "ranking_id", "position"]
MATCHING = ("select count(*) from chart_ranking_entry e join chart_ranking r on r.id = e.ranking_id "
            "where e.chart_id = r.chart_id and e.ranking_date = r.ranking_date")


def seed_0006(engine) -> int:
    """Charts, tracks, rankings and entries as a database at revision 0006 holds them (entries without their chart;
    one stored without its date, as a hand-written insert before 0003's backfill left it); returns the entries."""
    entries = 0
    with engine.begin() as conn:
        conn.execute(text("insert into platform (id, slug, name, supports_charts, supports_audience) "
                          "values (1, 'spotify', 'Spotify', true, false)"))
        for chart, rankings in RANKINGS.items():
            last = max(DAY + timedelta(days=ago) for ago, status, _ in rankings.values() if status == "success")
            conn.execute(text("insert into chart (id, slug, name, platform_id, is_active, discovered_at, "
                              "consecutive_failures, last_ranking_date) values (:c, :s, :s, 1, true, '2026-01-01', 0, "
                              ":last)"), {"c": chart, "s": f"chart-{chart}", "last": last})
        conn.execute(text("insert into track (id, uuid, name, first_seen_at) values (:i, :u, :n, '2026-01-01')"),
                     [{"i": i, "u": TRACK.format(i), "n": f"Song {i}"} for i in (1, 2, 3, 4)])
        for chart, rankings in RANKINGS.items():
            for rid, (after, status, tracks) in rankings.items():
                day = DAY + timedelta(days=after)
                conn.execute(text("insert into chart_ranking (id, chart_id, ranking_date, date_raw, fetched_at, "
                                  "status, entry_count) values (:r, :c, :d, :raw, :d, :s, :n)"),
                             {"r": rid, "c": chart, "d": day, "raw": str(day), "s": status, "n": len(tracks)})
                for position, track in enumerate(tracks, start=1):
                    dated = None if (rid, position) == (3, 2) and engine.dialect.name == "sqlite" else day
                    conn.execute(text("insert into chart_ranking_entry (ranking_id, ranking_date, track_id, position) "
                                      "values (:r, :d, :t, :p)"), {"r": rid, "d": dated, "t": track, "p": position})
                    entries += 1
    return entries


def index_columns(engine, table: str, name: str) -> list[str]:
    return next(i["column_names"] for i in inspect(engine).get_indexes(table) if i["name"] == name)


def expected_charts(track: int) -> list[list]:
    """Track ``track``'s per-chart summary, counted here from RANKINGS: chart, first_date, last_date, appearances,
    peak_position, last_position (successful rankings only), most appearances first."""
    rows = []
    for chart, rankings in RANKINGS.items():
        seen = sorted((DAY + timedelta(days=after), tracks.index(track) + 1)
                      for after, status, tracks in rankings.values() if status == "success" and track in tracks)
        if seen:
            rows.append([f"chart-{chart}", seen[0][0], seen[-1][0], len(seen), min(p for _, p in seen), seen[-1][1]])
    return sorted(rows, key=lambda r: (-r[3], r[4], r[0]))


def check_pages(engine) -> None:
    """The track pages and a chart's stored history, read through the new index, are RANKINGS counted by hand."""
    for track in (1, 2, 3, 4):
        charts = analytics.track_charts(engine, TRACK.format(track))
        assert charts[["chart", "first_date", "last_date", "appearances", "peak_position", "last_position"]] \
            .values.tolist() == expected_charts(track)
        history = analytics.track_chart_history(engine, TRACK.format(track))
        assert len(history) == sum(r[3] for r in expected_charts(track))  # the failed ranking's entries count nowhere
    now = analytics.track_charting_now(engine, TRACK.format(1))  # chart 2's failed rankings are not its latest
    assert now[["chart", "date", "position"]].values.tolist() == [["chart-1", DAY + timedelta(days=8), 2],
                                                                   ["chart-2", DAY + timedelta(days=9), 3]]
    gone = analytics.track_charting_now(engine, TRACK.format(4))  # on no chart's latest ranking
    assert gone.empty and list(gone.columns) == analytics.NOW_COLUMNS
    ranking = trends.chart_trends(engine, "chart-2")  # ranking 5, after 4: the failed one between is no ranking
    assert ranking[["uuid", "stored_peak_position", "stored_streak"]].values.tolist() == [
        [TRACK.format(3), 1, 2], [TRACK.format(2), 2, 1], [TRACK.format(1), 1, 2]]


def test_upgrade_backfills_every_entrys_chart_and_date_and_downgrade_restores_0006(db_url):
    engine = make_engine(db_url)
    upgrade(engine, "0006")
    entries = seed_0006(engine)
    assert index_columns(engine, "chart_ranking_entry", "ix_entry_track") == OLD_INDEX
    assert upgrade(engine, "0007") == "0007"
    with engine.connect() as conn:
        assert conn.execute(text(MATCHING)).scalar_one() == entries  # every entry, the undated one included
    assert index_columns(engine, "chart_ranking_entry", "ix_entry_track") == NEW_INDEX
    assert index_columns(engine, "chart_ranking", "ix_ranking_unsuccessful") == ["chart_id", "ranking_date"]
    assert index_columns(engine, "chart_ranking", "ix_ranking_success") == ["chart_id", "ranking_date"]
    assert index_columns(engine, "track_audience", "ix_audience_series") == ["track_id", "platform_id", "date",
                                                                             "audience_value"]
    upgrade(engine)  # the pages of this release: 0010's charts holding rankings are read from the entries
    with engine.connect() as conn:
        assert chart_rollup.stale(conn) == [1, 2]
    check_pages(engine)
    assert chart_rollup.refresh(engine) == ["2 charts rebuilt"]
    check_pages(engine)  # from the track-chart rollup
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0006")
    assert "chart_id" not in {c["name"] for c in inspect(engine).get_columns("chart_ranking_entry")}
    assert index_columns(engine, "chart_ranking_entry", "ix_entry_track") == OLD_INDEX
    assert upgrade(engine, "0007") == "0007"
    upgrade(engine)
    check_pages(engine)
    engine.dispose()


@pytest.mark.postgres
def test_upgrade_of_monthly_partitions_an_older_release_made(pg_url, monkeypatch):
    engine = make_engine(pg_url)
    upgrade(engine, "0006")
    entry_layout = replace(partition.LAYOUTS[0], indexes={"ix_entry_ranking_track": ("ranking_id", "track_id"),
                                                          "ix_entry_track": tuple(OLD_INDEX)})
    with monkeypatch.context() as older:  # the layout that release converted to
        older.setattr(partition, "LAYOUTS", (entry_layout, replace(partition.LAYOUTS[1], indexes={})))
        assert partition.apply(engine, "monthly", today=DAY)
    entries = seed_0006(engine)
    upgrade(engine)
    assert partition.apply(engine, "monthly", today=DAY) == []
    with engine.connect() as conn:
        assert conn.execute(text(MATCHING)).scalar_one() == entries
        indexes = conn.execute(text(
            "select pg_get_indexdef(i.indexrelid) from pg_inherits h join pg_index i on i.indrelid = h.inhrelid "
            "where h.inhparent = 'chart_ranking_entry'::regclass")).scalars().all()
        partitions = conn.execute(text("select count(*) from pg_inherits where "
                                       "inhparent = 'chart_ranking_entry'::regclass")).scalar_one()
    by_track = [ddl for ddl in indexes if "(track_id, " in ddl]
    assert partitions >= 3 and len(by_track) == partitions  # one each, by chart and date
    assert all("(track_id, chart_id, ranking_date, " in ddl for ddl in by_track)
    check_pages(engine)
    engine.dispose()


def test_the_store_and_inserts_that_leave_them_out_carry_the_rankings_chart_and_date(engine):
    charts, rankings = build_rankings(2_000)
    ids = store.upsert_charts(engine, charts)
    assert sum(store.store_rankings(engine, [(ids[r.chart.slug], r) for r in rankings])) == 2_000
    with engine.begin() as conn:  # a Core / ORM insert by hand, as tests and tools write them
        ranking = conn.execute(insert(ChartRanking).returning(ChartRanking.id), [{
            "chart_id": ids[charts[0].slug], "ranking_date": date(2025, 1, 1), "date_raw": "2025-01-01",
            "status": "success", "entry_count": 2}]).scalar_one()
        track = conn.execute(text("select min(id) from track")).scalar_one()
        conn.execute(insert(ChartRankingEntry), [{"ranking_id": ranking, "track_id": track, "position": p}
                                                 for p in (1, 2)])
        assert conn.execute(text(MATCHING)).scalar_one() == 2_002


def test_an_entry_written_without_its_chart_and_date_counts_on_no_chart_and_breaks_no_page(db_url):
    """A hand-written statement after 0007 that leaves out an entry's chart and date (the store and Core inserts
    fill them; raw SQL does not): the track's pages answer, that entry on no chart, the others as stored."""
    engine = make_engine(db_url)
    upgrade(engine)
    entries = seed_0006(engine)
    with engine.begin() as conn:  # every entry backfilled but track 3's on ranking 1 (track 3 is on no failed ranking)
        conn.execute(text("update chart_ranking_entry set chart_id = (select chart_id from chart_ranking r where "
                          "r.id = ranking_id), ranking_date = (select ranking_date from chart_ranking r where "
                          "r.id = ranking_id) where not (ranking_id = 1 and track_id = 3)"))
        conn.execute(text("update chart_ranking_entry set ranking_date = null where ranking_id = 1 and track_id = 3"))
        assert conn.execute(text(MATCHING)).scalar_one() == entries - 1
    history = analytics.track_chart_history(engine, TRACK.format(3))
    assert len(history) == sum(r[3] for r in expected_charts(3)) - 1
    seen = set(zip(history["date"], history["chart"], strict=True))
    assert history["date"].notna().all() and (DAY, "chart-1") not in seen
    page = analytics.track_page(engine, TRACK.format(3))
    assert sorted(page["charts"]["chart"]) == ["chart-1", "chart-2"]
    assert len(page["history"]) == len(history)
    engine.dispose()
