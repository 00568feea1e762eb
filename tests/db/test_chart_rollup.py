"""The track-chart rollup never disagrees with the entries: hypothesis writes rankings (any 32-bit position, dates
before 1970 and far ahead, replaced, failed and deleted rankings, in any order), refreshes at random points, and
after every step a track's per-chart summary and where it charts now (the track page, the artist page's pairs) equal
what is counted here in Python from what was written. SQLite and PostgreSQL (also with monthly partitions)."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from soundcharts_lib.api.payloads import ChartInfo, Platform, Ranking, RankingEntry, SongRef
from soundcharts_lib.db import chart_rollup, make_engine, partition, store, upgrade
from soundcharts_lib.jobs import maintenance
from soundcharts_lib.warehouse import analytics, artist_pages, track_positions

pytestmark = pytest.mark.slow  # hypothesis writes and reads many rankings

DAYS = [date(1969, 12, 30), date(1970, 1, 1), date(2024, 2, 29), date(2026, 12, 4), date(2026, 12, 5),
        date(2099, 12, 31)]
POSITION = st.one_of(st.integers(1, 5), st.integers(-2**31, 2**31 - 1).filter(bool))
RANKING = st.tuples(st.integers(0, 2), st.sampled_from(DAYS),
                    st.lists(st.tuples(st.integers(0, 3), POSITION), max_size=4, unique_by=(lambda e: e[0],
                                                                                            lambda e: e[1])))
STEP = st.one_of(st.tuples(st.just("store"), RANKING, st.booleans()),
                 st.tuples(st.just("fail"), st.integers(0, 2), st.sampled_from(DAYS)),
                 st.tuples(st.just("delete"), st.integers(0, 2), st.sampled_from(DAYS)),
                 st.tuples(st.just("refresh")))
RUN = itertools.count()


def chart_info(slug: str) -> ChartInfo:
    return ChartInfo(slug=slug, name=slug, platform="spotify", type="top", frequency="daily", country_code=None,
                     country_name=None, city_name=None, max_results=None, web_url=None, metric_type=None,
                     metric_description=None)


def expected(written: dict, charts: list[str], uuid: str) -> list[list]:
    """The track's summary per chart, from the rankings written (``{(chart, day): (status, {uuid: position})}``):
    chart, first_date, last_date, appearances, peak_position, last_position, peak_date; as the page orders it."""
    rows = []
    for i, slug in enumerate(charts):
        seen = sorted((day, tracks[uuid]) for (c, day), (status, tracks) in written.items()
                      if c == i and status == "success" and uuid in tracks)
        if seen:
            peak = min(p for _, p in seen)
            rows.append([slug, seen[0][0], seen[-1][0], len(seen), peak, seen[-1][1],
                         min(d for d, p in seen if p == peak)])
    return sorted(rows, key=lambda r: (-r[3], r[4], r[0]))


def charting_now(written: dict, last: dict, charts: list[str], uuid: str) -> list[list]:
    """Where the track charts now: the charts whose latest stored ranking (``last``: each chart's newest date ever
    stored whole) is a success holding it; chart, date, position, by position."""
    rows = [[charts[c], day, written[(c, day)][1][uuid]] for c, day in last.items()
            if written.get((c, day), ("gone", {}))[0] == "success" and uuid in written[(c, day)][1]]
    return sorted(rows, key=lambda r: (r[2], r[0]))


def check(engine, written: dict, charts: list[str], uuids: list[str], last: dict) -> None:
    """The track page's per-chart summary and where it charts now, and the artist page's pairs of each track, equal
    :func:`expected` and :func:`charting_now`."""
    with engine.connect() as conn:
        ids = dict(conn.execute(text("select uuid, id from track")).all())
        slugs = dict(conn.execute(text("select id, slug from chart")).all())
        known = [ids[u] for u in uuids if u in ids]
        counted = track_positions.tracks_counted(conn, known) if known else []
        pairs = artist_pages._per_track_chart(conn, known, counted) if known else []
        current = chart_rollup.current(conn, list(slugs))  # their rows' rankings: each ranking holds a track once
        held = sorted((slugs[c], t, n) for t, c, n in conn.execute(text(
            "select track_id, chart_id, rankings from track_chart_rollup")) if c in current and t in known)
    assert held == sorted((r[0], ids[u], r[3]) for u in uuids if u in ids for r in expected(written, charts, u)
                          if r[0] in {slugs[c] for c in current})
    for uuid in uuids:
        want = expected(written, charts, uuid)
        if uuid not in ids:
            assert want == [] and charting_now(written, last, charts, uuid) == []
            continue
        now = analytics.track_charting_now(engine, uuid)
        assert now[["chart", "date", "position"]].values.tolist() == charting_now(written, last, charts, uuid)
        flagged = analytics.track_charts(engine, uuid, ids=True)  # the compare page's "charting now"
        assert sorted(c for c, n in zip(flagged["chart"], flagged["charting_now"], strict=True) if int(n)) \
            == sorted(r[0] for r in charting_now(written, last, charts, uuid))
        got = analytics.track_charts(engine, uuid)
        assert got[["chart", "first_date", "last_date", "appearances", "peak_position", "last_position"]] \
            .values.tolist() == [r[:6] for r in want]
        mine = sorted([slugs[c], first, last, n, best, peak[1]] for t, c, n, best, first, last, peak in pairs
                      if t == ids[uuid])
        assert mine == sorted([*r[:5], r[6]] for r in want)


def run_steps(engine, steps) -> None:
    run = next(RUN)
    charts = [f"rollup-{run}-{i}" for i in range(3)]
    uuids = [f"00000000-0000-4000-8000-{run:06d}{i:06d}" for i in range(4)]
    chart_ids = store.upsert_charts(engine, [chart_info(slug) for slug in charts])
    written: dict = {}
    last: dict = {}  # each chart's newest ranking date stored whole (chart.last_ranking_date)
    for step in steps:
        if step[0] == "store":
            (chart, day, items), force = step[1], step[2]
            tracks = {uuids[t]: p for t, p in items}
            entries = [RankingEntry(song=SongRef(uuid=u, name=u), position=p) for u, p in tracks.items()]
            stored = store.store_ranking(engine, chart_ids[charts[chart]], Ranking(
                chart=chart_info(charts[chart]), date=day, date_raw=day.isoformat(), entries=entries), force=force)
            if stored or (not entries and ((chart, day) not in written or written[(chart, day)][0] != "success"
                                           or force)):
                written[(chart, day)] = ("success", tracks)
                last[chart] = max(last.get(chart, day), day)
        elif step[0] == "fail":  # as the integrity repair marks a ranking for refetch
            with engine.begin() as conn:
                conn.execute(text("update chart_ranking set status = 'failed' where chart_id = :c and "
                                  "ranking_date = :d"), {"c": chart_ids[charts[step[1]]], "d": step[2]})
            if (step[1], step[2]) in written:
                written[(step[1], step[2])] = ("failed", written[(step[1], step[2])][1])
        elif step[0] == "delete":  # as the retention cleanup deletes a ranking
            with engine.connect() as conn:
                rid = conn.execute(text("select id from chart_ranking where chart_id = :c and ranking_date = :d"),
                                   {"c": chart_ids[charts[step[1]]], "d": step[2]}).scalar()
            if rid is not None:
                maintenance._delete_batches(engine, maintenance.R, maintenance.R.c.id == rid, 10)
            written.pop((step[1], step[2]), None)
        else:
            chart_rollup.refresh(engine)
        check(engine, written, charts, uuids, last)
    chart_rollup.refresh(engine)
    with engine.connect() as conn:
        assert chart_rollup.stale(conn) == []
    check(engine, written, charts, uuids, last)


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])


@given(steps=st.lists(STEP, max_size=10))
@SETTINGS
def test_the_track_chart_rollup_equals_the_entries_through_any_writes(engine, steps):
    run_steps(engine, steps)


@pytest.mark.postgres
@given(steps=st.lists(STEP, max_size=10))
@settings(SETTINGS, max_examples=15)
def test_the_track_chart_rollup_on_monthly_partitions(partitioned, steps):
    run_steps(partitioned, steps)


@pytest.fixture
def partitioned(pg_url):
    engine = make_engine(pg_url)
    upgrade(engine)
    partition.apply(engine, "monthly", today=date(2026, 12, 5))
    store.upsert_platforms(engine, [Platform(code="spotify", name="Spotify")], charts=True)
    yield engine
    engine.dispose()


def test_entries_left_without_their_ranking_count_nowhere(engine):
    """Entries whose ranking is gone (deleted by a tool that ignored the foreign keys) belong to no ranking: the
    rollup leaves them out, before and after the integrity repair deletes them."""
    day = date(2026, 12, 1)
    chart_id = store.upsert_charts(engine, [chart_info("orphans")])["orphans"]
    uuid = "00000000-0000-4000-8000-0000000000aa"
    for i in range(3):
        store.store_ranking(engine, chart_id, Ranking(chart=chart_info("orphans"), date=day + timedelta(days=i),
                                                      date_raw="x", entries=[RankingEntry(
                                                          song=SongRef(uuid=uuid, name="Orphaned"), position=i + 1)]))
    with engine.connect() as conn:  # the ranking row only; PostgreSQL's replica role also skips the trigger
        off, on = (("set session_replication_role = replica", "reset session_replication_role")
                   if conn.dialect.name == "postgresql" else ("PRAGMA foreign_keys=OFF", "PRAGMA foreign_keys=ON"))
        conn.exec_driver_sql(off)
        conn.execute(text("delete from chart_ranking where chart_id = :c and ranking_date = :d"), {"c": chart_id,
                                                                                                  "d": day})
        conn.commit()
        conn.exec_driver_sql(on)
    assert chart_rollup.refresh(engine) == ["1 chart rebuilt"]
    summary = ["first_date", "appearances", "peak_position"]
    assert analytics.track_charts(engine, uuid)[summary].values.tolist() == [[day + timedelta(days=1), 2, 2]]
    report = maintenance.check_database(engine, repair=True)
    assert "entries whose ranking is missing" in " ".join(report.lines())
    assert analytics.track_charts(engine, uuid)[summary].values.tolist() == [[day + timedelta(days=1), 2, 2]]


def test_a_statement_writing_thousands_of_rankings_changes_each_chart_once(engine):
    """A backfill or a retention cleanup writes thousands of rankings in one statement: each chart's version
    changes (its rollup rows stop being read) and, on PostgreSQL, the chart rows are written once per statement,
    not once per ranking, so the chart table stays a page or two (bumped per row, 5,000 rankings in one
    transaction left 5,000 dead versions of the chart rows)."""
    ids = store.upsert_charts(engine, [chart_info("bulk-a"), chart_info("bulk-b")])
    a, b = ids["bulk-a"], ids["bulk-b"]
    pg = engine.dialect.name == "postgresql"
    days = ("select date '2010-01-01' + n as day from generate_series(0, 2499) n" if pg else
            "with recursive s(n) as (select 0 union all select n + 1 from s where n < 2499) "
            "select date('2010-01-01', '+' || n || ' days') as day from s")
    versions = text("select id, rankings_version from chart where id in (:a, :b)")
    with engine.begin() as conn:
        before = dict(conn.execute(versions, {"a": a, "b": b}).all())
        for chart in (a, b):
            conn.execute(text("insert into chart_ranking (chart_id, ranking_date, date_raw, fetched_at, status, "
                              f"entry_count) select :c, day, 'x', '2026-12-01', 'success', 0 from ({days}) d"),
                         {"c": chart})
        conn.execute(text("update chart_ranking set status = 'failed' where chart_id in (:a, :b)"), {"a": a, "b": b})
        conn.execute(text("delete from chart_ranking where chart_id = :a"), {"a": a})
        after = dict(conn.execute(versions, {"a": a, "b": b}).all())
    assert after[a] > before[a] and after[b] > before[b]
    chart_rollup.refresh(engine)
    with engine.connect() as conn:
        assert chart_rollup.stale(conn) == []
        if pg:
            assert after == {a: before[a] + 3, b: before[b] + 2}
            pages = conn.execute(text("select pg_relation_size('chart') / current_setting('block_size')::int"))
            assert pages.scalar() <= 2


@pytest.mark.postgres
def test_a_statement_over_several_charts_takes_them_in_id_order(pg_url):
    """The version trigger takes a statement's charts in id order, as a store takes them (``lock_charts``): a
    repair marking two charts' rankings failed waits for the store holding the first chart without holding the
    second, so the store then takes the second (in table order the second chart's row comes first here, and
    taking it first was a deadlock)."""
    engine = make_engine(pg_url)
    upgrade(engine)
    ids = store.upsert_charts(engine, [chart_info("order-a"), chart_info("order-b")])
    a, b = sorted(ids.values())
    day = date(2026, 12, 1)
    for slug in ids:
        store.store_ranking(engine, ids[slug], Ranking(chart=chart_info(slug), date=day, date_raw="x", entries=[
            RankingEntry(song=SongRef(uuid="00000000-0000-4000-8000-0000000000bb", name="Both"), position=1)]))
    with engine.begin() as conn:  # the first chart's row moves after the second's in the table
        conn.execute(text("update chart set name = name where id = :a"), {"a": a})
        assert [r[0] for r in conn.execute(text("select id from chart where id in (:a, :b)"), {"a": a, "b": b})] \
            == [b, a]
    errors = []

    def repair():
        try:
            with engine.begin() as conn:
                conn.execute(text("set local deadlock_timeout = '200ms'"))
                conn.execute(text("update chart_ranking set status = 'failed' where chart_id in (:a, :b)"),
                             {"a": a, "b": b})
        except Exception as exc:  # noqa: BLE001 - the deadlock, if any, is the failure
            errors.append(exc)

    with engine.connect() as holder:
        holder.execute(text("set deadlock_timeout = '200ms'"))
        chart_rollup.lock_charts(holder, [a])
        worker = threading.Thread(target=repair)
        worker.start()
        time.sleep(0.5)  # the repair waits for the first chart
        try:
            chart_rollup.lock_charts(holder, [b])
            time.sleep(0.5)  # a deadlock would be found by now
            holder.commit()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
            holder.rollback()
        worker.join(10)
    engine.dispose()
    assert errors == [] and not worker.is_alive()
