"""PostgreSQL: the dashboard queries and a month's retention cleanup, unpartitioned vs monthly partitions.

    python tests/bench/bench_partition.py --pg-url postgresql://... [--months 24 --charts 100 --entries 100]

Builds two databases with the same generated history (server-side ``generate_series``, so building is fast):
charts x days x entries chart entries and 1,000 tracks x 5 platforms of daily audience over the same days. One is
then converted with ``db.partition.apply(engine, "monthly")``. Prints the median of 5 runs of each query on both,
and the ratio partitioned / unpartitioned (below 1: partitions are faster).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_store import fresh_pg_database  # noqa: E402
from sqlalchemy import text  # noqa: E402

from soundcharts_lib import analytics, audience_series  # noqa: E402
from soundcharts_lib.db import make_engine, partition, upgrade  # noqa: E402
from soundcharts_lib.trends import chart_trends  # noqa: E402

TRACKS = 20_000
AUDIENCE_TRACKS = 1_000
PLATFORMS = ("spotify", "youtube", "shazam", "tiktok", "soundcloud")


def build(url: str, today: date, months: int, charts: int, entries: int, audience_tracks: int) -> None:
    """Fill an empty, migrated database with a generated history ending ``today``."""
    engine = make_engine(url)
    upgrade(engine)
    start = today - timedelta(days=30 * months - 1)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO platform (slug, name, supports_charts, supports_audience) "
                          "SELECT s, s, true, true FROM unnest(CAST(:p AS varchar[])) s"), {"p": list(PLATFORMS)})
        conn.execute(text("INSERT INTO chart (slug, name, platform_id, frequency, is_active, consecutive_failures, "
                          "discovered_at) SELECT 'chart-' || g, 'Chart ' || g, 1 + g % 5, 'daily', true, 0, now() "
                          "FROM generate_series(1, :n) g"), {"n": charts})
        conn.execute(text("INSERT INTO track (uuid, name, credit_name, first_seen_at) SELECT "
                          "'00000000-0000-4000-8000-' || lpad(g::text, 12, '0'), 'Song ' || g, 'Artist ' || g % 900, "
                          "now() FROM generate_series(1, :n) g"), {"n": TRACKS})
        conn.execute(text("INSERT INTO chart_ranking (chart_id, ranking_date, date_raw, fetched_at, status, "
                          "entry_count) SELECT c, d::date, d::date || 'T00:00:00+00:00', d, 'success', :e "
                          "FROM generate_series(1, :c) c, generate_series(CAST(:s AS date), CAST(:t AS date), "
                          "interval '1 day') d"), {"c": charts, "e": entries, "s": start, "t": today})
        conn.execute(text("INSERT INTO chart_ranking_entry (ranking_id, ranking_date, track_id, position, metric) "
                          "SELECT r.id, r.ranking_date, 1 + (r.chart_id * 7919 + p * 104729 + "
                          "(r.ranking_date - DATE '2000-01-01') / 7 * 31) % :t, p, 1000000 - p * 1000 "
                          "FROM chart_ranking r, generate_series(1, :e) p"), {"t": TRACKS, "e": entries})
        conn.execute(text("INSERT INTO track_audience (track_id, platform_id, platform_identifier, date, "
                          "audience_value, fetched_at) SELECT t, p, 'id-' || t, d::date, "
                          "(t * 1000 + (d::date - CAST(:s AS date)) * 5000)::bigint, now() "
                          "FROM generate_series(1, :a) t, generate_series(1, 5) p, "
                          "generate_series(CAST(:s AS date), CAST(:t AS date), interval '1 day') d"),
                     {"a": audience_tracks, "s": start, "t": today})
        conn.execute(text("ANALYZE"))
    engine.dispose()


def median_ms(fn, runs: int = 5) -> float:
    fn()  # warm
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def measure(url: str, today: date) -> dict:
    engine = make_engine(url)
    out = {
        "overview (all queries)": median_ms(lambda: analytics.overview(engine, today)),
        "top tracks, 30 days": median_ms(lambda: analytics.top_tracks(engine, 30, today)),
        "chart trends (whole history)": median_ms(lambda: chart_trends(engine, "chart-1")),
        "one track's audience, 5 platforms": median_ms(
            lambda: audience_series.audience_by_platform(engine, "00000000-0000-4000-8000-000000000007")),
    }
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


def run(pg_url: str, months: int, charts: int, entries: int, audience_tracks: int = AUDIENCE_TRACKS) -> dict:
    today = date.today()
    plain = fresh_pg_database(pg_url, "bench_plain")
    parted = fresh_pg_database(pg_url, "bench_parted")
    t0 = time.perf_counter()
    for url in (plain, parted):
        build(url, today, months, charts, entries, audience_tracks)
    built = time.perf_counter() - t0
    engine = make_engine(parted)
    t0 = time.perf_counter()
    partition.apply(engine, "monthly", today=today)
    converted = time.perf_counter() - t0
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM chart_ranking_entry")).scalar_one()
    engine.dispose()
    oldest = (today - timedelta(days=30 * months - 1)).replace(day=1)
    first_full = (oldest.replace(day=28) + timedelta(days=4)).replace(day=1)
    return {"entries": n, "build_s": built, "convert_s": converted, "plain": measure(plain, today),
            "parted": measure(parted, today), "cleanup_plain": cleanup_ms(plain, first_full, False),
            "cleanup_parted": cleanup_ms(parted, first_full, True)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg-url", required=True)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--charts", type=int, default=100)
    ap.add_argument("--entries", type=int, default=100)
    args = ap.parse_args()
    r = run(args.pg_url, args.months, args.charts, args.entries)
    print(f"{r['entries']:,} entries per database (built in {r['build_s']:.0f} s for both; "
          f"converted to monthly partitions in {r['convert_s']:.1f} s)")
    print(f"{'query':40} {'unpartitioned':>14} {'partitioned':>12} {'ratio':>6}")
    for name, ms in r["plain"].items():
        print(f"{name:40} {ms:>11.1f} ms {r['parted'][name]:>9.1f} ms {r['parted'][name] / ms:>6.2f}")
    print(f"{'drop one month of entries':40} {r['cleanup_plain']:>11.1f} ms {r['cleanup_parted']:>9.1f} ms "
          f"{r['cleanup_parted'] / r['cleanup_plain']:>6.2f}")


if __name__ == "__main__":
    main()
