"""PostgreSQL: the dashboard pages and a month's retention cleanup, unpartitioned vs monthly partitions.

    python tests/bench/bench_partition.py --pg-url postgresql://... [--months 24 --charts 100 --entries 100]
        [--convert | --reuse]

Builds two databases with the same generated history (server-side ``generate_series``) ending today: charts x days
rankings of ``entries`` entries each (days = 30 x months), 20,000 tracks, the year-long hit of ``bench_dashboard.py``
(on every day of the last year of each of the first 100 charts), and 1,000 tracks x 5 platforms of daily audience
over the same days (the hit: 5 platforms x 2 identifiers). One keeps the layout the migrations make; the other gets
monthly partitions (``db.partition``): by default the empty tables are partitioned first and then loaded; with
``--convert`` the partitioned database is a copy of the plain one converted by ``partition.apply`` (the migration
path, timed; it needs twice the disk while it runs). Rows are loaded with the tables' indexes and constraints
dropped, then recreated (checked identical to what the migrations made), vacuumed and analyzed, and the top-tracks
and track-chart rollups refreshed.
Prints the build speed, and for every viewer page as its dashboard reads it (``seed_pages.viewer_pages``) and some of
their queries alone, the median of 7 runs on both databases (taking turns): the wall time and the part of it spent in
the database driver (statements executed, rows fetched: ``driver_clock.py``), with the ratio partitioned /
unpartitioned (below 1: partitions are faster), the goal (< 50 ms, on the wall time) and one warm run of the seed's
per-row loops reading the same data with our ratio to it; then the time to drop a month of entries (``--reuse``: the
databases a previous run built are measured again, and left whole).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import seed_pages  # noqa: E402
from bench_store import fresh_pg_database  # noqa: E402
from driver_clock import DriverClock  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Connection, make_url  # noqa: E402

from soundcharts_lib.db import chart_rollup, make_engine, partition, rollup, upgrade  # noqa: E402
from soundcharts_lib.warehouse import analytics, audience_series  # noqa: E402
from soundcharts_lib.warehouse import viewer_pages as viewer_data  # noqa: E402
from soundcharts_lib.warehouse.trends import chart_trends  # noqa: E402

TRACKS = 20_000
AUDIENCE_TRACKS = 1_000
PLATFORMS = ("spotify", "youtube", "shazam", "tiktok", "soundcloud")
TRACK = "00000000-0000-4000-8000-000000000007"  # charts (~1/20,000 of the entries) and has audience
HIT = TRACKS + 1  # the year-long hit, as bench_dashboard's: every day of the last year on each of HIT_CHARTS charts
HIT_CHARTS, HIT_DAYS, HIT_IDENTIFIERS = 100, 365, 2
HIT_UUID = f"00000000-0000-4000-8000-{HIT:012d}"
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
                          "now() FROM generate_series(1, :n) g"), {"n": HIT})
        # day by day, as syncs store them (the entries follow their ranking's order)
        conn.execute(text("INSERT INTO chart_ranking (chart_id, ranking_date, date_raw, fetched_at, status, "
                          "entry_count) SELECT c, d::date, d::date || 'T00:00:00+00:00', d, 'success', :e "
                          "FROM generate_series(CAST(:s AS date), CAST(:t AS date), interval '1 day') d, "
                          "generate_series(1, :c) c ORDER BY 2, 1"),
                     {"c": charts, "e": entries, "s": start, "t": today})
        with bare(conn, "chart_ranking_entry"), bare(conn, "track_audience"):
            conn.execute(text("INSERT INTO chart_ranking_entry (ranking_id, ranking_date, chart_id, track_id, "
                              "position, metric) SELECT r.id, r.ranking_date, r.chart_id, CASE WHEN r.chart_id <= :hc "
                              "AND r.ranking_date > CAST(:today AS date) - :hd "
                              "AND p = 1 + (r.chart_id + (r.ranking_date - DATE '2000-01-01')) % 10 THEN :hit ELSE "
                              "1 + (r.chart_id * 7919 + p * 104729 + (r.ranking_date - DATE '2000-01-01') / 7 * 31) "
                              "% :t END, p, 1000000 - p * 1000 "
                              "FROM chart_ranking r, LATERAL generate_series(1, r.entry_count) p ORDER BY r.id"),
                         {"t": TRACKS, "hit": HIT, "hc": HIT_CHARTS, "hd": HIT_DAYS, "today": today})
            conn.execute(text("INSERT INTO track_audience (track_id, platform_id, platform_identifier, date, "
                              "audience_value, fetched_at) SELECT t, p, 'id-' || t, d::date, "
                              "(t * 1000 + (d::date - CAST(:s AS date)) * 5000)::bigint, now() "
                              "FROM generate_series(1, :a) t, generate_series(1, 5) p, "
                              "generate_series(CAST(:s AS date), CAST(:t AS date), interval '1 day') d"),
                         {"a": audience_tracks, "s": start, "t": today})
            conn.execute(text("INSERT INTO track_audience (track_id, platform_id, platform_identifier, date, "
                              "audience_value, fetched_at) SELECT :hit, p, 'id-' || :hit || '-' || p || '-' || k, "
                              "d::date, (k * 1000 + (d::date - CAST(:s AS date)) * 50 * p)::bigint, now() "
                              "FROM generate_series(1, 5) p, generate_series(1, :k) k, "
                              "generate_series(CAST(:s AS date), CAST(:t AS date), interval '1 day') d"),
                         {"hit": HIT, "k": HIT_IDENTIFIERS, "s": start, "t": today})
            took["load_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
        took["index_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    vacuum(engine)
    rollup.refresh(engine, today=today)
    took["vacuum_rollup_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    chart_rollup.refresh(engine)
    took["track_chart_rollup_s"] = time.perf_counter() - t0
    engine.dispose()
    return took


def vacuum(engine) -> None:
    """VACUUM ANALYZE, as autovacuum would leave the tables (visibility map set for index-only scans, statistics)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def pages(today: date, start: date) -> dict[str, tuple[Callable, Callable | None]]:
    """What each measured page or query runs, given an engine: ``{name: (ours, the seed's loops or None)}``. The
    viewer pages as their dashboards read them (``seed_pages.viewer_pages``; the chart page of a date in the middle
    of the history, then of its latest ranking, as a visitor first sees it), then some of their queries alone."""
    middle = start + (today - start) / 2
    viewer = seed_pages.viewer_pages(today, PLATFORMS[0], "chart-1", middle,
                                     {"the year-long hit": HIT_UUID, "a typical track": TRACK})
    pages: dict[str, tuple[Callable, Callable | None]] = {}
    for name, read in viewer.items():
        if name != "chart page":
            pages[name] = read
            continue
        pages["chart page, a date in the middle"] = read
        pages["chart page, its latest ranking"] = (lambda e: viewer_data.chart_page(e, "chart-1"),
                                                   lambda e: seed_pages.chart_page(e, "chart-1", today))
    return {**pages,
            "top tracks, 30 days": (lambda e: analytics.top_tracks(e, 30, today), None),
            "chart trends (latest, whole history)": (lambda e: chart_trends(e, "chart-1"), None),
            "the hit's audience, 5 platforms x 2 ids": (lambda e: audience_series.audience_by_platform(e, HIT_UUID),
                                                        None)}


def measure(urls: dict[str, str], today: date, start: date, runs: int = RUNS,
            seed_loops: bool = True) -> dict[str, dict[str, dict]]:
    """Per database, the median ms of each page (``ms``), the median ms of it spent in the database driver
    (``driver_ms``: statements executed, rows fetched) and one warm run of the seed's loops for it (``seed_ms``,
    unless not ``seed_loops``); the databases take turns, so both see the same machine load."""
    engines = {name: make_engine(url, read_only=True) for name, url in urls.items()}  # as the viewers open it
    clocks = {name: DriverClock.attach(engine) for name, engine in engines.items()}
    gc.freeze()  # as a dashboard's page does once its kernel's modules are loaded (ui.common.Page)
    out = {key: {name: {} for name in urls} for key in ("ms", "driver_ms", "seed_ms")}
    for page, (fn, seed) in pages(today, start).items():
        times = {name: [] for name in urls}
        driver = {name: [] for name in urls}
        for engine in engines.values():
            fn(engine)  # warm
        for _ in range(runs):
            for name, engine in engines.items():
                clocks[name].reset()
                t0 = time.perf_counter()
                fn(engine)
                times[name].append((time.perf_counter() - t0) * 1000)
                driver[name].append(clocks[name].ms)
        for name in urls:
            out["ms"][name][page] = statistics.median(times[name])
            out["driver_ms"][name][page] = statistics.median(driver[name])
        for name, engine in engines.items() if seed and seed_loops else ():
            t0 = time.perf_counter()
            seed(engine)
            out["seed_ms"][name][page] = (time.perf_counter() - t0) * 1000
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
        convert: bool = False, reuse: bool = False, seed_loops: bool = True) -> dict:
    """Build both databases (``reuse``: measure the ones a previous run built, migrated to the current schema and
    otherwise left whole), measure the pages, then (unless ``reuse``) the cleanup of a month."""
    today = date.today()
    start = today - timedelta(days=30 * months - 1)
    urls = {name: make_url(pg_url).set(drivername="postgresql+psycopg", database=f"bench_{name}")
            .render_as_string(hide_password=False) for name in ("plain", "parted")}
    out = {"load": [os.getloadavg()[0]]}
    if not reuse:
        out |= build_both(pg_url, today, months, charts, entries, audience_tracks, convert)
    for name, url in urls.items():  # migrated to the schema the pages read (an earlier version's), the new pages' data
        upgrade(engine := make_engine(url))
        t0 = time.perf_counter()
        out[f"track_chart_rollup_s_{name}"] = (chart_rollup.refresh(engine), time.perf_counter() - t0)
        rollup.refresh(engine, today=today)  # as every sync does: the windows stamped (an earlier version's had none)
        vacuum(engine)  # statistics for the label rollup's refresh, then for the pages
        out[f"label_refresh_s_{name}"] = seed_pages.seed_new_pages(engine, HIT_UUID, today)
        vacuum(engine)
        engine.dispose()
    engine = make_engine(urls["plain"])
    with engine.connect() as conn:
        out["entries"] = conn.execute(text("SELECT count(*) FROM chart_ranking_entry")).scalar_one()
        out["audience"] = conn.execute(text("SELECT count(*) FROM track_audience")).scalar_one()
        out["hit_entries"], out["hit_charts"] = conn.execute(text(
            "SELECT count(*), count(DISTINCT chart_id) FROM chart_ranking_entry WHERE track_id = :t"),
            {"t": HIT}).one()
    engine.dispose()
    out["load"].append(os.getloadavg()[0])
    out["machine_ms"] = [seed_pages.machine_ms()]
    out |= measure(urls, today, start, seed_loops=seed_loops)
    out["load"].append(os.getloadavg()[0])
    out["machine_ms"].append(seed_pages.machine_ms())
    if not reuse:
        first_full = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        out |= {"cleanup_plain": cleanup_ms(urls["plain"], first_full, False),
                "cleanup_parted": cleanup_ms(urls["parted"], first_full, True)}
    return out


def build_both(pg_url: str, today: date, months: int, charts: int, entries: int, audience_tracks: int,
               convert: bool) -> dict:
    """The plain database, then the partitioned one (loaded, or with ``convert`` a converted copy of the plain one)."""
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
    return out


def report(r: dict) -> None:
    print(f"{r['entries']:,} entries and {r['audience']:,} audience rows per database; the year-long hit: "
          f"{r['hit_entries']:,} entries on {r['hit_charts']} charts")
    for layout in ("plain", "parted") if "plain_build" in r else ():
        b = r[f"{layout}_build"]
        steps = ", ".join(f"{k[:-2].replace('_', ' + ')} {v:.0f} s" for k, v in b.items() if k != "total_s")
        print(f"{layout}: built in {b['total_s']:.0f} s ({r['entries'] / b['total_s']:,.0f} entries/s"
              f"{'; ' + steps if steps else ''})")
    if "convert_s" in r:
        print(f"parted: copy of plain converted by partition.apply in {r['convert_s']:.1f} s")
    print("track-chart rollup refreshed after the migrations: " + "; ".join(
        f"{name} {', '.join(r[f'track_chart_rollup_s_{name}'][0]) or 'nothing stale'} in "
        f"{r[f'track_chart_rollup_s_{name}'][1]:.1f} s" for name in ("plain", "parted")))
    print(f"label rollup rebuilt after the seed's metadata write (as a sync or metadata fetch does): plain "
          f"{r['label_refresh_s_plain']:.1f} s, partitioned {r['label_refresh_s_parted']:.1f} s")
    print(f"load average {' / '.join(f'{x:.1f}' for x in r['load'])} on {os.cpu_count()} cores (start / before "
          "measuring / after)")
    print(f"this machine's speed: {' / '.join(f'{x:.1f}' for x in r['machine_ms'])} ms for seed_pages.machine_ms' "
          "fixed work (before / after measuring; lower is faster)")
    ms, driver, seed = r["ms"], r["driver_ms"], r["seed_ms"]
    print(f"{f'query (median of {RUNS}; goal < {seed_pages.GOAL_MS} ms)':42} {'unpartitioned':>20} {'partitioned':>20} "
          f"{'ratio':>6} {'goal':>5}   seed loops: unpartitioned (ratio), partitioned (ratio)")
    print(f"{'':42} {'wall ms':>10}{'driver':>10} {'wall ms':>10}{'driver':>10}")
    for name, plain in ms["plain"].items():
        parted = ms["parted"][name]
        goal = "ok" if max(plain, parted) < seed_pages.GOAL_MS else "OVER"
        loops = (f"   {seed['plain'][name]:>10,.0f} ms ({plain / seed['plain'][name]:.3f}), "
                 f"{seed['parted'][name]:>8,.0f} ms ({parted / seed['parted'][name]:.3f})"
                 if name in seed["plain"] else "")
        print(f"{name:42} {plain:>10.1f}{driver['plain'][name]:>10.1f} {parted:>10.1f}{driver['parted'][name]:>10.1f} "
              f"{parted / plain:>6.2f} {goal:>5}{loops}")
    print("wall: the page's whole read as its dashboard makes it; driver: its time in the database driver (statements "
          "executed, rows fetched), summed over the reads it runs side by side; the goal is checked on the wall time")
    if "cleanup_plain" in r:
        print(f"{'drop one month of entries':42} {r['cleanup_plain']:>11.1f} ms {r['cleanup_parted']:>9.1f} ms "
              f"{r['cleanup_parted'] / r['cleanup_plain']:>6.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg-url", required=True)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--charts", type=int, default=100)
    ap.add_argument("--entries", type=int, default=100)
    ap.add_argument("--convert", action="store_true",
                    help="partition a copy of the plain database with partition.apply (timed) instead of loading")
    ap.add_argument("--reuse", action="store_true",
                    help="measure the databases a previous run built (same --months), without the cleanup")
    ap.add_argument("--no-seed-loops", action="store_true",
                    help="skip the seed's loops (minutes at 64.8M entries): no ratio to them is printed")
    args = ap.parse_args()
    print(f"started {datetime.now():%H:%M:%S}", flush=True)
    report(run(args.pg_url, args.months, args.charts, args.entries, convert=args.convert, reuse=args.reuse,
               seed_loops=not args.no_seed_loops))


if __name__ == "__main__":
    main()
