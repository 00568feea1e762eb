"""The top-tracks rollup gives exactly what counting the entries gives (SQLite + PostgreSQL, also with monthly
partitions): after a sync, a second sync (new dates and a forced re-store), a deleted and a failed ranking, and the
migration's backfill."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
from alembic import command
from conftest import local_client
from sqlalchemy import event, text

from soundcharts_lib.db import make_engine, partition, rollup
from soundcharts_lib.db.migrate import alembic_config, upgrade
from soundcharts_lib.jobs import maintenance
from soundcharts_lib.jobs.sync import ChartSync, today_utc
from soundcharts_lib.warehouse import analytics

pytestmark = pytest.mark.slow  # several syncs

PLATFORMS = ["spotify", "deezer"]
ENTRIES = ("select r.ranking_date, r.status, c.platform_id, r.chart_id, e.position, t.uuid, t.name, t.credit_name "
           "from chart_ranking_entry e join chart_ranking r on r.id = e.ranking_id "
           "join chart c on c.id = r.chart_id join track t on t.id = e.track_id")


def expected(engine, end, days=30, platform_id=None) -> list[list]:
    """The top tracks counted here, in Python, from every stored entry: uuid, name, artist, appearances,
    best_position, charts; ordered as the pages order them."""
    start = end - timedelta(days=days - 1)
    tracks = defaultdict(lambda: {"n": 0, "best": None, "charts": set()})
    with engine.connect() as conn:
        rows = conn.execute(text(ENTRIES)).all()
    for day, status, platform, chart, position, uuid, name, credit in rows:
        day = day if not isinstance(day, str) else type(start).fromisoformat(day)
        if status != "success" or not start <= day <= end or platform_id not in (None, platform):
            continue
        t = tracks[(uuid, name, credit or "")]
        t["n"] += 1
        t["best"] = position if t["best"] is None else min(t["best"], position)
        t["charts"].add(chart)
    out = [[uuid, name, artist, t["n"], t["best"], len(t["charts"])] for (uuid, name, artist), t in tracks.items()]
    by_position = platform_id is not None
    return sorted(out, key=lambda r: (-r[3], r[4] if by_position else 0, r[1], r[0]))


def platform_ids(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(text("select slug, id from platform where supports_charts")).all())


def check(engine, end, *, current: bool) -> None:
    """The pages' top tracks (every platform and each one, limited or not) equal the Python count, and the rollup
    is (or is not) what they read."""
    every = expected(engine, end)
    assert every, "no entries in the window"
    with engine.connect() as conn:
        assert rollup.is_current(conn, end, 30) is current
    assert analytics.top_tracks(engine, 30, end, limit=None).values.tolist() == [r[:4] for r in every]
    assert analytics.top_tracks(engine, 30, end).values.tolist() == [r[:4] for r in every[:10]]
    with engine.connect() as conn:  # the overview's platforms, counted here from the rankings
        counted = conn.execute(text(
            "select p.slug, p.name, count(*) from chart_ranking r join chart c on c.id = r.chart_id join platform p "
            "on p.id = c.platform_id where r.status = 'success' and r.ranking_date between :start and :end "
            "group by p.slug, p.name"), {"start": end - timedelta(days=29), "end": end}).all()
    assert analytics.top_platforms(engine, 30, end).values.tolist() == sorted(
        ([slug, name, n] for slug, name, n in counted), key=lambda r: (-r[2], r[0]))
    for slug, pid in platform_ids(engine).items():
        mine = expected(engine, end, platform_id=pid)
        assert analytics.platform_top_tracks(engine, slug, 30, end, limit=None).values.tolist() == mine
        assert analytics.platform_top_tracks(engine, slug, 30, end).values.tolist() == mine[:20]
        assert analytics.platform_top_tracks(engine, slug, 30, end, limit=3).values.tolist() == mine[:3]


def delete_ranking(engine, day) -> None:
    """What a retention cleanup does to one ranking: its entries, then it."""
    with engine.begin() as conn:
        rid = conn.execute(text("select min(id) from chart_ranking where ranking_date = :d and status = 'success'"),
                           {"d": day}).scalar_one()
        conn.execute(text("delete from chart_ranking_entry where ranking_id = :r"), {"r": rid})
        conn.execute(text("delete from chart_ranking where id = :r"), {"r": rid})


def test_the_rollup_equals_counting_the_entries_through_syncs_and_deletions(localapi, engine):
    today = today_utc()
    with local_client(localapi) as client:
        sync = ChartSync(client, engine, progress=False)
        first = sync.run(platforms=PLATFORMS, start=today - timedelta(days=12), end=today - timedelta(days=4))
        assert first.failures == 0 and first.rankings_stored > 0
        check(engine, today, current=True)
        check(engine, today + timedelta(days=1), current=True)  # read past midnight before the next sync
        assert rollup.refresh(engine) == []  # nothing changed since the sync's refresh

        # a second sync: newer dates, and one chart's rankings replaced (new ids, same dates)
        second = sync.run(platforms=PLATFORMS, backfill_days=4)
        assert second.failures == 0 and second.rankings_stored > 0
        slug = client.charts_by_platform("deezer")[0].slug
        forced = sync.run(charts=[slug], start=today - timedelta(days=8), end=today - timedelta(days=6), force=True)
        assert forced.failures == 0 and forced.rankings_stored > 0
    check(engine, today, current=True)

    # rankings deleted or failed behind the rollup's back: the pages count the entries until a refresh
    day = today - timedelta(days=5)
    delete_ranking(engine, day)
    check(engine, today, current=False)
    done = rollup.refresh(engine, [day])
    assert done and all(str(today) in d or str(today + timedelta(days=1)) in d for d in done)
    check(engine, today, current=True)
    with engine.begin() as conn:
        conn.execute(text("update chart_ranking set status = 'failed' where id = (select max(id) from chart_ranking "
                          "where status = 'success')"))
    check(engine, today, current=False)
    assert rollup.refresh(engine, [today - timedelta(days=200)]) == []  # a date outside every window: untouched
    rollup.refresh(engine)
    check(engine, today, current=True)

    # a later day: yesterday's windows are dropped, the new ones built
    later = today + timedelta(days=3)
    rollup.refresh(engine, today=later)
    with engine.connect() as conn:
        ends = {d for (d,) in conn.execute(text("select distinct window_end from track_top_rollup"))}
        assert not rollup.is_current(conn, today, 30) and rollup.is_current(conn, later, 30)
    assert {str(e)[:10] for e in ends} == {str(later), str(later + timedelta(days=1))}


def test_cleanup_and_repair_leave_the_rollup_current(localapi, engine):
    today = today_utc()
    with local_client(localapi) as client:
        synced = ChartSync(client, engine, progress=False).run(platforms=PLATFORMS, start=today - timedelta(days=9),
                                                               end=today - timedelta(days=1))
    assert synced.failures == 0
    cleaned = maintenance.cleanup(engine, {"rankings": 5})  # drops rankings inside the 30-day window
    assert cleaned.deleted["rankings"] > 0
    check(engine, today, current=True)
    with engine.begin() as conn:  # a ranking missing one of its entries: the repair marks it failed
        conn.execute(text("delete from chart_ranking_entry where position = 1 and ranking_id = "
                          "(select max(id) from chart_ranking where status = 'success')"))
    report = maintenance.check_database(engine, repair=True)
    assert [f.repaired for f in report.findings if f.check == "entry_counts"] == [1]
    check(engine, today, current=True)


def test_the_migration_backfills_the_rollup(localapi, engine):
    today = today_utc()
    with local_client(localapi) as client:
        ChartSync(client, engine, progress=False).run(platforms=["spotify"], backfill_days=6)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0003")  # the rollup tables are gone, the entries stay
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from chart_ranking_entry")).scalar_one() > 0
    upgrade(engine, "0004")
    upgrade(engine)  # no later migration touches the rollup: what the pages of this release read is 0004's backfill
    with engine.connect() as conn:
        assert set(conn.execute(text("select charts_stamp from track_top_rollup_window")).scalars()) == {None}
    check(engine, today, current=True)  # summed up, the stamps not recorded yet
    rollup.refresh(engine)
    check(engine, today, current=True)


@pytest.mark.postgres
def test_the_rollup_on_monthly_partitions(localapi, pg_url):
    engine = make_engine(pg_url)
    upgrade(engine)
    assert partition.apply(engine, "monthly")
    today = today_utc()
    with local_client(localapi) as client:
        sync = ChartSync(client, engine, progress=False)
        assert sync.run(platforms=["deezer"], backfill_days=5).rankings_stored > 0
    check(engine, today, current=True)
    delete_ranking(engine, today - timedelta(days=2))
    check(engine, today, current=False)
    assert rollup.refresh(engine)
    check(engine, today, current=True)
    engine.dispose()


def ranking_reads(engine, read) -> list[str]:
    """The statements ``read()`` sends that read the rankings."""
    sent: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        read()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return [s for s in sent if "chart_ranking" in s]


def test_a_refreshed_window_is_checked_by_the_charts_stamp_alone(localapi, engine):
    """After a sync's refresh the pages check the charts' stamp, not a month of rankings; any write of a ranking, in
    the window or not, or a chart moved to another platform, sends them back to summing up the rankings, and the
    next refresh stamps the windows again."""
    today = today_utc()
    with local_client(localapi) as client:
        synced = ChartSync(client, engine, progress=False).run(platforms=PLATFORMS, start=today - timedelta(days=6),
                                                               end=today - timedelta(days=1))
    assert synced.failures == 0

    def current(platform_id=None) -> tuple[bool, int]:
        with engine.connect() as conn:
            found: list[bool] = []
            reads = ranking_reads(engine, lambda: found.append(rollup.is_current(conn, today, 30, platform_id)))
        return found[0], len(reads)

    assert current() == (True, 0)
    assert analytics.top_tracks(engine, 30, today).values.tolist() == [r[:4] for r in expected(engine, today)[:10]]
    old = today - timedelta(days=400)  # a ranking outside every window: the stamp changes, the sums do not
    with engine.begin() as conn:
        conn.execute(text("insert into chart_ranking (chart_id, ranking_date, date_raw, fetched_at, status, "
                          "entry_count) select min(id), :d, :raw, :d, 'success', 0 from chart"),
                     {"d": old, "raw": str(old)})
    assert current() == (True, 1)  # summed up: still current
    assert rollup.refresh(engine, [old]) == []  # no window holds it: nothing rebuilt, the windows stamped again
    assert current() == (True, 0)
    ids = platform_ids(engine)
    with engine.begin() as conn:  # a chart moved to the other platform, no ranking written
        conn.execute(text("update chart set platform_id = :to where id = (select min(r.chart_id) from "
                          "chart_ranking r join chart c on c.id = r.chart_id where r.ranking_date >= :start "
                          "and c.platform_id = :from)"),
                     {"to": ids["deezer"], "from": ids["spotify"], "start": today - timedelta(days=6)})
    assert current() == (False, 1) and current(ids["spotify"]) == (False, 1)
    rollup.refresh(engine)
    check(engine, today, current=True)
    assert current() == (True, 0)
