"""Monthly partitioning on PostgreSQL: the conversion keeps every row, and the code works the same on it."""

from datetime import date, timedelta

import pytest
from conftest import local_client
from sqlalchemy import insert, select, text

from soundcharts_lib.db import make_engine, partition, upgrade
from soundcharts_lib.db.tables import TA, A, T
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.jobs.audience import AudienceDataProcessor
from soundcharts_lib.jobs.sync import ChartSync, today_utc
from soundcharts_lib.warehouse import analytics, compare_pages
from soundcharts_lib.warehouse.trends import chart_trends

ENTRIES = ("select c.slug, r.ranking_date, e.ranking_date, e.position, t.uuid, e.metric from chart_ranking_entry e "
           "join chart_ranking r on r.id = e.ranking_id join chart c on c.id = r.chart_id "
           "join track t on t.id = e.track_id")
AUDIENCE = ("select t.uuid, p.slug, a.platform_identifier, a.date, a.audience_value from track_audience a "
            "join track t on t.id = a.track_id join platform p on p.id = a.platform_id")


def _rows(engine, sql):
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(text(sql)))


@pytest.mark.postgres
def test_monthly_partitioning_keeps_rows_and_the_code_keeps_working(localapi, pg_url):
    engine = make_engine(pg_url)
    upgrade(engine)
    with local_client(localapi) as client:
        sync = ChartSync(client, engine, progress=False)
        sync.run(platforms=["spotify"], start=today_utc() - timedelta(days=45), end=today_utc() - timedelta(days=3))
        uuids = [r[0] for r in _rows(engine, "select uuid from track order by id limit 3")]
        AudienceDataProcessor(client, engine, progress=False).run(
            track_uuids=uuids, platforms=["spotify"], start=today_utc() - timedelta(days=120), end=today_utc())
        before = {"entries": _rows(engine, ENTRIES), "audience": _rows(engine, AUDIENCE)}
        top_before = analytics.top_tracks(engine, days=60)
        slug = _rows(engine, "select slug from chart order by id limit 1")[0][0]
        trends_before = chart_trends(engine, slug)
        artist = "00000000-0000-4000-8000-0000000000a1"  # the first track's, another artist on the other tracks
        with engine.begin() as conn:
            ids = conn.execute(insert(A).returning(A.c.id, sort_by_parameter_order=True),
                               [{"uuid": artist, "name": "One"}, {"uuid": artist[:-1] + "2", "name": "Two"}]).scalars()
            ids = ids.all()
            tracks = conn.execute(select(T.c.id).order_by(T.c.id)).scalars().all()
            conn.execute(insert(TA), [{"track_id": t, "artist_id": ids[n > 0], "position": 0}
                                      for n, t in enumerate(tracks)])
        candidates = [compare_pages.track_candidates(engine, uuids[0]), compare_pages.artist_candidates(engine, artist)]
        assert all(len(c) > 0 for c in candidates)  # read by ranking alone on one table, by month on partitions

        done = partition.apply(engine, "monthly")
        assert any("chart_ranking_entry: partitioned" in d for d in done)
        assert any("track_audience: partitioned" in d for d in done)
        with engine.connect() as conn:
            assert partition.is_partitioned(conn, "chart_ranking_entry")
            parts = conn.execute(text("select count(*) from pg_inherits i join pg_class c on c.oid = i.inhparent "
                                      "where c.relname = 'chart_ranking_entry'")).scalar_one()
        assert parts >= 3  # at least two months of data plus the default partition
        keys = {r[0] for r in _rows(engine, "select pg_get_constraintdef(oid) from pg_constraint where contype = 'f' "
                                            "and conrelid = 'chart_ranking_entry'::regclass")}
        assert keys == {"FOREIGN KEY (ranking_id) REFERENCES chart_ranking(id) ON DELETE CASCADE"}  # as 0005 left it
        assert {"entries": _rows(engine, ENTRIES), "audience": _rows(engine, AUDIENCE)} == before
        assert partition.apply(engine, "monthly") == []  # nothing left to do
        assert analytics.top_tracks(engine, days=60).equals(top_before)
        assert chart_trends(engine, slug).equals(trends_before)
        assert compare_pages.track_candidates(engine, uuids[0]).equals(candidates[0])
        assert compare_pages.artist_candidates(engine, artist).equals(candidates[1])

        # new rankings, a forced re-store and new audience points land in the partitions
        latest = sync.run(platforms=["spotify"], backfill_days=3)
        assert latest.failures == 0 and latest.rankings_stored > 0
        assert sync.run(platforms=["spotify"], charts=[slug], backfill_days=3, force=True).failures == 0
        AudienceDataProcessor(client, engine, progress=False).run(track_uuids=uuids[:1], platforms=["spotify"],
                                                                  force=True)
    with engine.connect() as conn:
        bad = conn.execute(text("select count(*) from chart_ranking r where r.status = 'success' and r.entry_count <> "
                                "(select count(*) from chart_ranking_entry e where e.ranking_id = r.id)")).scalar()
        in_default = conn.execute(text("select count(*) from chart_ranking_entry_default")).scalar()
        dupes = conn.execute(text("select count(*) from (select ranking_id, position from chart_ranking_entry "
                                  "group by 1, 2 having count(*) > 1) d")).scalar()
    assert bad == 0 and in_default == 0 and dupes == 0
    with pytest.raises(ConfigError, match="merging partitions back"):
        partition.apply(engine, "")
    engine.dispose()


def test_partitioning_is_refused_where_it_does_not_apply(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    upgrade(engine)
    assert partition.apply(engine, "") == []
    with pytest.raises(ConfigError, match="PostgreSQL databases only"):
        partition.apply(engine, "monthly")
    with pytest.raises(ConfigError, match="monthly"):
        partition.check_mode("weekly")


def test_month_arithmetic():
    assert partition._next_month(date(2026, 12, 1)) == date(2027, 1, 1)
    assert partition._month(date(2026, 2, 17)) == date(2026, 2, 1)
