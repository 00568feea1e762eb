"""PostgreSQL: the dashboard pages and a month's retention cleanup, unpartitioned vs monthly partitions.

    python tests/bench/bench_partition.py --pg-url postgresql://... [--months 24 --charts 100 --entries 100]
        [--convert]

Builds two databases with the same generated history (server-side ``generate_series``) ending today: charts x days
rankings of ``entries`` entries each (days = 30 x months), 20,000 tracks, and 1,000 tracks x 5 platforms of daily
audience over the same days. One keeps the layout the migrations make; the other gets monthly partitions
(``db.partition``): by default the empty tables are partitioned first and then loaded; with ``--convert`` the
partitioned database is a copy of the plain one converted by ``partition.apply`` (the migration path, timed; it
needs twice the disk while it runs). Rows are loaded with the tables' indexes and constraints dropped, then recreated
(checked identical to what the migrations made), vacuumed and analyzed, and the top-tracks rollup refreshed.
Prints the build speed, and the median of 7 runs of each page's queries on both databases (taking turns) with
the ratio partitioned / unpartitioned (below 1: partitions are faster).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_store import fresh_pg_database  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Connection  # noqa: E402

from soundcharts_lib.db import make_engine, partition, rollup, upgrade  # noqa: E402
from soundcharts_lib.warehouse import analytics, audience_series  # noqa: E402
from soundcharts_lib.warehouse.trends import chart_trends  # noqa: E402

TRACKS = 20_000
AUDIENCE_TRACKS = 1_000
PLATFORMS = ("spotify", "youtube", "shazam", "tiktok", "soundcloud")
TRACK = "00000000-0000-4000-8000-000000000007"  # charts (~1/20,000 of the entries) and has audience
RUNS = 7
MAINTENANCE_MEM = "1GB"  # index builds sort in memory (the session's setting, whatever the server's)

_TREE = "SELECT relid FROM pg_partition_tree(CAST(:t AS regclass))"


def schema(conn: Connection, table: str) -> tuple[list, list]:
    """The constraints and indexes of ``table`` and its partitions, by name."""
    constraints = conn.execute(text(f"SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                                    f"FROM pg_constraint WHERE conrelid IN ({_TREE}) ORDER BY 1, 2"), {"t": table})
    indexes = conn.execute(text(f"SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                                f"WHERE indrelid IN ({_TREE}) ORDER BY 1"), {"t": table})
    return constraints.all(), indexes.all()


@contextmanager
def bare(conn: Connection, table: str):
    """Load ``table`` without its indexes and constraints: drop them, then recreate them as they were (checked)."""
    before = schema(conn, table)
    constraints = conn.execute(text("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                                    "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('f', 'p', 'u') "
                                    "ORDER BY contype = 'f' DESC"), {"t": table}).all()
    indexes = conn.execute(text("SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
                                "WHERE indrelid = CAST(:t AS regclass) AND NOT EXISTS (SELECT 1 FROM pg_constraint "
                                "WHERE conindid = i.indexrelid AND conrelid = i.indrelid)"), {"t": table}).all()
    for name, _ in constraints:
        conn.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))
    for name, _ in indexes:
        conn.execute(text(f"DROP INDEX {name}"))
    conn.execute(text(f"TRUNCATE {table}"))  # a new file: with wal_level=minimal the load skips the WAL
    yield
    for _, ddl in indexes:  # a partitioned table's index is shown ON ONLY the parent: build it on every partition
        conn.execute(text(ddl.replace(" ON ONLY ", " ON ")))
    for name, ddl in reversed(constraints):
        conn.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT {name} {ddl}"))
    after = schema(conn, table)
    if after != before:
        raise RuntimeError(f"{table}: recreated indexes or constraints differ: {before} != {after}")


def build(url: str, today: date, months: int, charts: int, entries: int, audience_tracks: int,
          partitioned: bool) -> dict:
    """Fill an empty database with a generated history ending ``today``, in the layout the migrations make
    (then monthly partitions when ``partitioned``); return the seconds each step took."""
    engine = make_engine(url)
    upgrade(engine)
    start = today - timedelta(days=30 * months - 1)
    took = {}
    t0 = time.perf_counter()
    if partitioned:
        partition.apply(engine, "monthly", today=today)
    with engine.begin() as conn:
        if partitioned:
            for layout in partition.LAYOUTS:
                partition.ensure_partitions(conn, layout, start, today)
        conn.execute(text(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_MEM}'"))
        conn.execute(text("INSERT INTO platform (slug, name, supports_charts, supports_audience) "
                          "SELECT s, s, true, true FROM unnest(CAST(:p AS varchar[])) s"), {"p": list(PLATFORMS)})
        conn.execute(text("INSERT INTO chart (slug, name, platform_id, frequency, is_active, consecutive_failures, "
                          "discovered_at, last_ranking_date, last_success_at) SELECT 'chart-' || g, 'Chart ' || g, "
                          "1 + g % 5, 'daily', true, 0, now(), CAST(:t AS date), now() "
                          "FROM generate_series(1, :n) g"), {"n": charts, "t": today})
        conn.execute(text("INSERT INTO track (uuid, name, credit_name, first_seen_at) SELECT "
                          "'00000000-0000-4000-8000-' || lpad(g::text, 12, '0'), 'Song ' || g, 'Artist ' || g % 900, "
                          "now() FROM generate_series(1, :n) g"), {"n": TRACKS})
        # day by day, as syncs store them (the entries follow their ranking's order)
        conn.execute(text("INSERT INTO chart_ranking (chart_id, ranking_date, date_raw, fetched_at, status, "
                          "entry_count) SELECT c, d::date, d::date || 'T00:00:00+00:00', d, 'success', :e "
                          "FROM generate_series(CAST(:s AS date), CAST(:t AS date), interval '1 day') d, "
                          "generate_series(1, :c) c ORDER BY 2, 1"),
                     {"c": charts, "e": entries, "s": start, "t": today})
        with bare(conn, "chart_ranking_entry"), bare(conn, "track_audience"):
            conn.execute(text("INSERT INTO chart_ranking_entry (ranking_id, ranking_date, chart_id, track_id, "
                              "position, metric) SELECT r.id, r.ranking_date, r.chart_id, "
                              "1 + (r.chart_id * 7919 + p * 104729 + (r.ranking_date - DATE '2000-01-01') / 7 * 31) "
                              "% :t, p, 1000000 - p * 1000 "
                              "FROM chart_ranking r, LATERAL generate_series(1, r.entry_count) p ORDER BY r.id"),
                         {"t": TRACKS})
            conn.execute(text("INSERT INTO track_audience (track_id, platform_id, platform_identifier, date, "
                              "audience_value, fetched_at) SELECT t, p, 'id-' || t, d::date, "
                              "(t * 1000 + (d::date - CAST(:s AS date)) * 5000)::bigint, now() "
                              "FROM generate_series(1, :a) t, generate_series(1, 5) p, "
                              "generate_series(CAST(:s AS date), CAST(:t AS date), interval '1 day') d"),
                         {"a": audience_tracks, "s": start, "t": today})
            took["load_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
        took["index_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    vacuum(engine)
    rollup.refresh(engine, today=today)
    took["vacuum_rollup_s"] = time.perf_counter() - t0
    engine.dispose()
    return took


def vacuum(engine) -> None:
    """VACUUM ANALYZE, as autovacuum would leave the tables (visibility map set for index-only scans, statistics)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def pages(today: date, start: date) -> dict:
    """What each measured page or query runs, given an engine."""
    middle = start + (today - start) / 2
    return {
        "overview (all queries)": lambda e: analytics.overview(e, today),
        "top tracks, 30 days": lambda e: analytics.top_tracks(e, 30, today),
        "platform page": lambda e: analytics.platform_page(e, PLATFORMS[0], today),
        "chart page, one date": lambda e: analytics.chart_page(e, "chart-1", middle),
        "chart trends (whole history)": lambda e: chart_trends(e, "chart-1"),
        "track page": lambda e: analytics.track_page(e, TRACK),
        "one track's audience, 5 platforms": lambda e: audience_series.audience_by_platform(e, TRACK),
    }


def measure(urls: dict[str, str], today: date, start: date, runs: int = RUNS) -> dict[str, dict[str, float]]:
    """Median ms of each page per database; the databases take turns, so both see the same machine load."""
    engines = {name: make_engine(url) for name, url in urls.items()}
    out = {name: {} for name in urls}
    for page, fn in pages(today, start).items():
        times = {name: [] for name in urls}
        for engine in engines.values():
            fn(engine)  # warm
        for _ in range(runs):
            for name, engine in engines.items():
                t0 = time.perf_counter()
                fn(engine)
                times[name].append((time.perf_counter() - t0) * 1000)
        for name in urls:
            out[name][page] = statistics.median(times[name])
    for engine in engines.values():
        engine.dispose()
    return out


def cleanup_ms(url: str, month: date, partitioned: bool) -> float:
    """Remove one month of entries: DELETE on the plain table, DROP of the partition when partitioned."""
    engine = make_engine(url)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        if partitioned:
            conn.execute(text(f"DROP TABLE chart_ranking_entry_{month:%Y%m}"))
        else:
            nxt = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
            conn.execute(text("DELETE FROM chart_ranking_entry WHERE ranking_date >= :a AND ranking_date < :b"),
                         {"a": month, "b": nxt})
    engine.dispose()
    return (time.perf_counter() - t0) * 1000


def run(pg_url: str, months: int, charts: int, entries: int, audience_tracks: int = AUDIENCE_TRACKS,
        convert: bool = False) -> dict:
    today = date.today()
    start = today - timedelta(days=30 * months - 1)
    plain = fresh_pg_database(pg_url, "bench_plain")
    t0 = time.perf_counter()
    out = {"plain_build": build(plain, today, months, charts, entries, audience_tracks, partitioned=False)}
    out["plain_build"]["total_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if convert:
        parted = fresh_pg_database(pg_url, "bench_parted", template="bench_plain")
        engine = make_engine(parted)
        t1 = time.perf_counter()
        partition.apply(engine, "monthly", today=today)
        out["convert_s"] = time.perf_counter() - t1
        vacuum(engine)  # the new tables have no statistics yet
        engine.dispose()
        out["parted_build"] = {}
    else:
        parted = fresh_pg_database(pg_url, "bench_parted")
        out["parted_build"] = build(parted, today, months, charts, entries, audience_tracks, partitioned=True)
    out["parted_build"]["total_s"] = time.perf_counter() - t0
    engine = make_engine(plain)
    with engine.connect() as conn:
        out["entries"] = conn.execute(text("SELECT count(*) FROM chart_ranking_entry")).scalar_one()
        out["audience"] = conn.execute(text("SELECT count(*) FROM track_audience")).scalar_one()
    engine.dispose()
    first_full = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    out |= measure({"plain": plain, "parted": parted}, today, start)
    out |= {"cleanup_plain": cleanup_ms(plain, first_full, False),
            "cleanup_parted": cleanup_ms(parted, first_full, True)}
    return out


def report(r: dict) -> None:
    print(f"{r['entries']:,} entries and {r['audience']:,} audience rows per database")
    for layout in ("plain", "parted"):
        b = r[f"{layout}_build"]
        steps = ", ".join(f"{k[:-2].replace('_', ' + ')} {v:.0f} s" for k, v in b.items() if k != "total_s")
        print(f"{layout}: built in {b['total_s']:.0f} s ({r['entries'] / b['total_s']:,.0f} entries/s"
              f"{'; ' + steps if steps else ''})")
    if "convert_s" in r:
        print(f"parted: copy of plain converted by partition.apply in {r['convert_s']:.1f} s")
    print(f"{f'query (median of {RUNS})':40} {'unpartitioned':>14} {'partitioned':>12} {'ratio':>6}")
    for name, ms in r["plain"].items():
        print(f"{name:40} {ms:>11.1f} ms {r['parted'][name]:>9.1f} ms {r['parted'][name] / ms:>6.2f}")
    print(f"{'drop one month of entries':40} {r['cleanup_plain']:>11.1f} ms {r['cleanup_parted']:>9.1f} ms "
          f"{r['cleanup_parted'] / r['cleanup_plain']:>6.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg-url", required=True)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--charts", type=int, default=100)
    ap.add_argument("--entries", type=int, default=100)
    ap.add_argument("--convert", action="store_true",
                    help="partition a copy of the plain database with partition.apply (timed) instead of loading")
    args = ap.parse_args()
    print(f"started {datetime.now():%H:%M:%S}", flush=True)
    report(run(args.pg_url, args.months, args.charts, args.entries, convert=args.convert))


if __name__ == "__main__":
    main()
