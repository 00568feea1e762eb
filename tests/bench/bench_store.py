"""Storing parsed rankings vs the raw driver ceiling, on SQLite (and PostgreSQL when a URL is given).

    python tests/bench/bench_store.py [--entries 1000000] [--pg-url postgresql://...]

Prints entries per second of ``store.store_rankings`` (the sync's real path: batches of whole rankings, each
batch one transaction with the track upsert, the UUID -> id lookup and the entry insert) and its ratio to a
reference measured in the same run on the same rows: raw ``sqlite3`` executemany in one transaction (goal >= 0.5)
and psycopg COPY (goal >= 0.3), both into a table with the entry table's unique constraint and indexes (as the
models declare them) and no foreign keys (the real table has two on SQLite, one on PostgreSQL since migration 0005).
Building the parsed records is not timed. Then the same rankings stored one day per sync, each sync followed by the
track-chart rollup's refresh (``db/chart_rollup.py``), with the same reference.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from soundcharts_lib.api.payloads import ChartInfo, Ranking, RankingEntry, SongRef  # noqa: E402
from soundcharts_lib.db import chart_rollup, make_engine, store, upgrade  # noqa: E402
from soundcharts_lib.jobs.sync import RANKING_BATCH  # noqa: E402

ENTRIES_PER_RANKING = 200
ENTRY_COLUMNS = store.ENTRY_COLUMNS
REFERENCE_COLUMNS = ("ranking_id INT, ranking_date DATE, chart_id INT, track_id INT, position INT, old_position INT, "
                     "position_evolution INT, entry_state TEXT, entry_date DATE, rank_date DATE, time_on_chart INT, "
                     "time_on_chart_unit TEXT, metric BIGINT, UNIQUE (ranking_id, position)")


def build_rankings(n_entries: int, n_tracks: int = 5000) -> tuple[list[ChartInfo], list[Ranking]]:
    n_rankings = max(1, n_entries // ENTRIES_PER_RANKING)
    n_charts = max(1, min(300, n_rankings // 10))
    charts = [ChartInfo(slug=f"bench-{i}", name=f"Bench {i}", platform="spotify", type="top", frequency="daily",
                        country_code="US", country_name="United States", city_name=None, max_results=200,
                        web_url=None, metric_type="streams", metric_description="Streams")
              for i in range(n_charts)]
    songs = [SongRef(uuid=f"00000000-0000-4000-8000-{i:012d}", name=f"Song {i}", credit_name=f"Artist {i % 700}",
                     image_url=None) for i in range(n_tracks)]
    start = date(2024, 1, 1)
    rankings = []
    for r in range(n_rankings):
        chart = charts[r % n_charts]
        day = start + timedelta(days=r // n_charts)
        offset = (r * 37) % n_tracks
        entries = [RankingEntry(song=songs[(offset + p) % n_tracks], position=p + 1, position_evolution=1,
                                metric=3_000_000_000 - p * 1000, entry_state="up", entry_date=start, rank_date=day,
                                old_position=p + 2, time_on_chart=10, time_on_chart_unit="day")
                   for p in range(ENTRIES_PER_RANKING)]
        rankings.append(Ranking(chart=chart, date=day, date_raw=f"{day}T00:00:00+00:00", entries=entries))
    return charts, rankings


def store_rate(url: str, charts, rankings, *, daily_refresh: bool = False) -> float:
    """Entries per second through ``store.store_rankings`` into an empty, migrated database at ``url``; with
    ``daily_refresh``, one sync per day of rankings, each followed by the track-chart rollup's refresh (as
    ``rollups.catch_up`` runs it after a sync; the first builds it, the others add their day)."""
    engine = make_engine(url)
    upgrade(engine)
    ids = store.upsert_charts(engine, charts)
    days = {}
    for r in rankings:
        days.setdefault(r.date if daily_refresh else None, []).append((ids[r.chart.slug], r))
    total = 0
    t0 = time.perf_counter()
    for batch in days.values():
        for i in range(0, len(batch), RANKING_BATCH):  # the batches a backfill stores (sync.RANKING_BATCH)
            total += sum(store.store_rankings(engine, batch[i:i + RANKING_BATCH]))
        if daily_refresh:
            chart_rollup.refresh(engine)
    elapsed = time.perf_counter() - t0
    engine.dispose()
    return total / elapsed


def per_row_rate(url: str, charts, rankings) -> float:
    """The seed's pattern: per entry, get-or-create the track through the ORM, then add the entry; one
    transaction per ranking."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from soundcharts_lib.db.models import ChartRanking, ChartRankingEntry, Track

    engine = make_engine(url)
    upgrade(engine)
    ids = store.upsert_charts(engine, charts)
    total = 0
    t0 = time.perf_counter()
    with Session(engine) as session:
        for ranking in rankings:
            r = ChartRanking(chart_id=ids[ranking.chart.slug], ranking_date=ranking.date, date_raw=ranking.date_raw,
                             status="success", entry_count=len(ranking.entries))
            session.add(r)
            session.flush()
            for e in ranking.entries:
                track = session.scalars(select(Track).where(Track.uuid == e.song.uuid)).first()
                if track is None:
                    track = Track(uuid=e.song.uuid, name=e.song.name, credit_name=e.song.credit_name)
                    session.add(track)
                    session.flush()
                session.add(ChartRankingEntry(ranking_id=r.id, track_id=track.id, position=e.position,
                                              metric=e.metric, entry_state=e.entry_state))
                total += 1
            session.commit()
    elapsed = time.perf_counter() - t0
    engine.dispose()
    return total / elapsed


def _raw_rows(rankings) -> list[tuple]:
    track_ids: dict[str, int] = {}
    chart_ids: dict[str, int] = {}
    rows = []
    for rid, ranking in enumerate(rankings, start=1):
        cid = chart_ids.setdefault(ranking.chart.slug, len(chart_ids) + 1)
        for e in ranking.entries:
            tid = track_ids.setdefault(e.song.uuid, len(track_ids) + 1)
            rows.append((rid, ranking.date, cid, tid, e.position, e.old_position, e.position_evolution, e.entry_state,
                         e.entry_date, e.rank_date, e.time_on_chart, e.time_on_chart_unit, e.metric))
    return rows


def sqlite_reference(path: Path, rankings) -> float:
    """Raw sqlite3 executemany of the same entry rows into the same table, one transaction."""
    rows = [tuple(str(v) if isinstance(v, date) else v for v in r) for r in _raw_rows(rankings)]
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute(f"CREATE TABLE e (id INTEGER PRIMARY KEY, {REFERENCE_COLUMNS})")
    con.execute("CREATE INDEX e1 ON e (ranking_id, track_id)")
    con.execute("CREATE INDEX e2 ON e (track_id, chart_id, ranking_date, position)")
    t0 = time.perf_counter()
    with con:
        marks = ", ".join("?" * len(ENTRY_COLUMNS))
        con.executemany(f"INSERT INTO e ({', '.join(ENTRY_COLUMNS)}) VALUES ({marks})", rows)
    elapsed = time.perf_counter() - t0
    con.close()
    return len(rows) / elapsed


def copy_reference(url: str, rankings) -> float:
    """psycopg COPY of the same entry rows into an unlogged-free plain table with the same indexes."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    rows = _raw_rows(rankings)
    with psycopg.connect(host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database) as con:
        con.execute("DROP TABLE IF EXISTS bench_e")
        con.execute(f"CREATE TABLE bench_e (id BIGSERIAL PRIMARY KEY, {REFERENCE_COLUMNS})")
        con.execute("CREATE INDEX ON bench_e (ranking_id, track_id)")
        con.execute("CREATE INDEX ON bench_e (track_id, chart_id, ranking_date, position)")
        con.commit()
        t0 = time.perf_counter()
        with con.cursor().copy(f"COPY bench_e ({', '.join(ENTRY_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        con.commit()
        elapsed = time.perf_counter() - t0
        con.execute("DROP TABLE bench_e")
    return len(rows) / elapsed


def fresh_pg_database(admin_url: str, name: str, template: str | None = None) -> str:
    """Drop and create database ``name`` on the server of ``admin_url`` (a file copy of database ``template`` when
    given: nobody may be connected to it); return its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(admin_url).set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def run(entries: int, pg_url: str | None = None) -> dict:
    charts, rankings = build_rankings(entries)
    n = sum(len(r.entries) for r in rankings)
    out = {"entries": n}
    with tempfile.TemporaryDirectory() as tmp:
        out["sqlite_store"] = store_rate(f"sqlite:///{tmp}/store.db", charts, rankings)
        out["sqlite_synced"] = store_rate(f"sqlite:///{tmp}/synced.db", charts, rankings, daily_refresh=True)
        out["sqlite_raw"] = sqlite_reference(Path(tmp) / "raw.db", rankings)
        few = rankings[:max(1, len(rankings) // 20)]  # the per-row loop is slow: a twentieth of the rows
        out["sqlite_per_row"] = per_row_rate(f"sqlite:///{tmp}/per_row.db", charts, few)
    out["sqlite_ratio"] = out["sqlite_store"] / out["sqlite_raw"]
    if pg_url:
        out["pg_store"] = store_rate(fresh_pg_database(pg_url, "bench_store"), charts, rankings)
        out["pg_synced"] = store_rate(fresh_pg_database(pg_url, "bench_store"), charts, rankings, daily_refresh=True)
        out["pg_copy"] = copy_reference(pg_url, rankings)
        out["pg_ratio"] = out["pg_store"] / out["pg_copy"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--pg-url", help="an empty PostgreSQL database (e.g. from scripts/pg-cluster.sh)")
    args = ap.parse_args()
    r = run(args.entries, args.pg_url)
    print(f"entries stored: {r['entries']:,}")
    print(f"SQLite  per-row get-or-create (the seed's loop) {r['sqlite_per_row']:>9,.0f}/s   store_rankings is "
          f"{r['sqlite_store'] / r['sqlite_per_row']:.0f}x faster")
    print(f"SQLite   store_rankings{r['sqlite_store']:>10,.0f}/s   raw sqlite3 executemany {r['sqlite_raw']:>10,.0f}/s"
          f"   ratio {r['sqlite_ratio']:.2f} (goal >= 0.5)")
    print(f"SQLite   + a daily sync's track-chart rollup refresh {r['sqlite_synced']:>10,.0f}/s   ratio "
          f"{r['sqlite_synced'] / r['sqlite_raw']:.2f}")
    if "pg_ratio" in r:
        print(f"Postgres store_rankings{r['pg_store']:>9,.0f}/s   psycopg COPY {r['pg_copy']:>19,.0f}/s"
              f"   ratio {r['pg_ratio']:.2f} (goal >= 0.3)")
        print(f"Postgres + a daily sync's track-chart rollup refresh {r['pg_synced']:>9,.0f}/s   ratio "
              f"{r['pg_synced'] / r['pg_copy']:.2f}")


if __name__ == "__main__":
    main()
