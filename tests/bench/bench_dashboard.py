"""Dashboard query times on a large SQLite warehouse, and the overview rendered in Chromium.

    python tests/bench/bench_dashboard.py [--entries 10000000] [--charts 100] [--per-ranking 100]
                                          [--db PATH [--reuse]] [--browser]

Builds the warehouse fast (the project's schema from ``soundcharts_lib.db.upgrade``, then raw sqlite3 executemany
with the entry indexes dropped and rebuilt, then the top-tracks and track-chart rollups built as a sync does):
daily charts spread over 8 platforms ending today, entries with their ranking's date and chart, tracks that stay on a
chart for weeks and move, one hit on every chart for the last year, 3 years of audience for one track per 10,000
entries (the hit on 5 platforms with 2 identifiers each), a run history with quota figures. Then times (warm, median
of 7) the queries behind the pages one by one, and every viewer page as its dashboard reads it
(``warehouse.viewer_pages``: the overview, a platform page, the latest ranking's chart page, the track page of the
hit and of a typical track), each with its wall time, the part of it spent in the database driver (statements
executed, rows fetched: ``driver_clock.py``), its goal (< 50 ms at 10M entries, on the wall time) and its ratio to the
seed's per-row loops reading the same data (``seed_pages.py``, one warm run); with ``--browser`` the overview in
headless Chromium through Voila (goal < 3 s warm). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import seed_pages  # noqa: E402
from driver_clock import DriverClock  # noqa: E402

from soundcharts_lib.db import chart_rollup, make_engine, rollup, upgrade  # noqa: E402
from soundcharts_lib.db.models import utcnow  # noqa: E402
from soundcharts_lib.jobs.sync import today_utc  # noqa: E402
from soundcharts_lib.ui.track import HISTORY_LINES  # noqa: E402
from soundcharts_lib.warehouse import analytics, health, trends  # noqa: E402

PLATFORMS = ["spotify", "apple-music", "deezer", "youtube", "shazam", "tiktok", "soundcloud", "airplay"]
AUDIENCE_PLATFORMS = [1, 4, 5, 6, 7]  # spotify, youtube, shazam, tiktok, soundcloud
TRACKS = 20_000
HIT = TRACKS + 1  # on every chart, every day of the last year
HIT_DAYS = 365
AUDIENCE_SHARE = 10_000  # one track with audience per 10,000 entries (1,000 at 10M)
AUDIENCE_DAYS = 3 * 365
ENTRY_INDEXES = ("ix_entry_ranking_track", "ix_entry_track")
BATCH = 200_000
RUNS = 7


def uuid_of(track_id: int) -> str:
    return f"00000000-0000-4000-8000-{track_id:012d}"


def track_at(chart: int, day: int, position: int) -> int:
    """The track at ``position`` of ``chart`` on day ``day``: a chart's tracks shift slowly (weekly) and move."""
    return (chart * 977 + position * 13 + (day // 7) * 29 + (day % 3) * (position % 5 == 0)) % TRACKS + 1


def track_for(chart: int, day: int, position: int, days: int) -> int:
    if day >= days - HIT_DAYS and position == 1 + (chart + day) % 10:
        return HIT
    return track_at(chart, day, position)


def _batched(rows: Iterator[tuple], size: int = BATCH) -> Iterator[list[tuple]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def build(path: Path, entries: int, charts: int, per_ranking: int) -> dict:
    """Create the warehouse at ``path``; returns its shape."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    days = math.ceil(entries / (charts * per_ranking))
    audience_tracks = max(20, entries // AUDIENCE_SHARE)
    end = today_utc()
    first = end - timedelta(days=days - 1)
    now = utcnow().replace(microsecond=0)
    con = sqlite3.connect(path)
    con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-400000; "
                      "PRAGMA temp_store=MEMORY;")
    index_sql = [sql for (sql,) in con.execute(
        f"SELECT sql FROM sqlite_master WHERE name IN {ENTRY_INDEXES}")]
    for name in ENTRY_INDEXES:
        con.execute(f"DROP INDEX {name}")
    with con:
        con.executemany("INSERT INTO platform (id, slug, name, supports_charts, supports_audience) VALUES "
                        "(?, ?, ?, 1, ?)",
                        [(i, slug, slug.title(), i in AUDIENCE_PLATFORMS) for i, slug in enumerate(PLATFORMS, 1)])
        con.executemany(
            "INSERT INTO chart (id, slug, name, platform_id, frequency, country_code, is_active, discovered_at, "
            "last_ranking_date, consecutive_failures, metric_type) VALUES (?, ?, ?, ?, 'daily', ?, 1, ?, ?, ?, "
            "'streams')",
            [(c, f"chart-{c}", f"Chart {c}", c % len(PLATFORMS) + 1, f"C{c % 40}", str(now), str(end),
              int(c % 37 == 0)) for c in range(1, charts + 1)])
        con.executemany(
            "INSERT INTO track (id, uuid, name, credit_name, first_seen_at) VALUES (?, ?, ?, ?, ?)",
            [(t, uuid_of(t), f"Song {t}", f"Artist {t % 3000}", str(now)) for t in range(1, HIT + 1)])
        con.executemany(
            "INSERT INTO chart_ranking (id, chart_id, ranking_date, date_raw, fetched_at, status, entry_count) "
            "VALUES (?, ?, ?, ?, ?, 'success', ?)",
            ((d * charts + c, c, str(first + timedelta(days=d)), str(first + timedelta(days=d)),
              str(now - timedelta(days=days - d)), per_ranking)
             for d in range(days) for c in range(1, charts + 1)))
    t0 = time.perf_counter()
    rows = ((d * charts + c, c, track_for(c, d, p, days), p, p + 1, 1_000_000 // p, str(first + timedelta(days=d)))
            for d in range(days) for c in range(1, charts + 1) for p in range(1, per_ranking + 1))
    stored = 0
    for batch in _batched(rows):
        if stored + len(batch) > entries:
            batch = batch[:entries - stored]
        with con:
            con.executemany("INSERT INTO chart_ranking_entry (ranking_id, chart_id, track_id, position, old_position, "
                            "metric, ranking_date) VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
        stored += len(batch)
        if stored >= entries:
            break
    insert_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for sql in index_sql:
        con.execute(sql)
    index_s = time.perf_counter() - t0
    with con:
        start = end - timedelta(days=AUDIENCE_DAYS - 1)
        con.executemany(
            "INSERT INTO track_audience (track_id, platform_id, platform_identifier, date, audience_value, "
            "fetched_at) VALUES (?, ?, ?, ?, ?, ?)",
            ((t, p, f"id-{t}-{p}-{k}", str(start + timedelta(days=i)), 1000 * t + 50 * i * p, str(now))
             for t in [*range(1, audience_tracks), HIT]
             for p in (AUDIENCE_PLATFORMS if t == HIT else AUDIENCE_PLATFORMS[:2])
             for k in range(2 if t == HIT else 1) for i in range(AUDIENCE_DAYS)))
        con.executemany(
            "INSERT INTO sync_run (kind, \"trigger\", started_at, finished_at, status, quota_remaining) VALUES "
            "(?, 'cron', ?, ?, ?, ?)",
            [(kind, str(now - timedelta(hours=8 * i)), str(now - timedelta(hours=8 * i) + timedelta(minutes=4)),
              "failed" if i % 29 == 0 else "success", 500_000 + 700 * i)
             for i in range(180) for kind in ("sync_charts",)])
        con.executemany("INSERT INTO artist (id, uuid, name) VALUES (?, ?, ?)",
                        [(a, f"artist-{a}", f"Artist {a}") for a in (1, 2)])
        con.executemany("INSERT INTO track_artist (track_id, artist_id, position) VALUES (?, ?, ?)",
                        [(HIT, 1, 0), (HIT, 2, 1)])
    con.close()
    t0 = time.perf_counter()
    engine = make_engine(f"sqlite:///{path}")
    rollup.refresh(engine)  # as the migration's backfill and every sync do
    engine.dispose()
    rollup_s = time.perf_counter() - t0
    return {"entries": stored, "charts": charts, "per_ranking": per_ranking, "days": days, "first": first,
            "last": end, "insert_s": insert_s, "index_s": index_s, "rollup_s": rollup_s,
            "size_mb": path.stat().st_size / 1e6}


def timed(call: Callable[[], object], repeat: int = RUNS, clock: DriverClock | None = None) -> tuple[float, ...]:
    """Median wall and CPU milliseconds of ``repeat`` calls after one warm-up call (CPU time is this process's:
    the query runs in it, so on a busy machine it is the fairer figure), and with ``clock`` the median
    milliseconds spent in the database driver (statements executed, rows fetched)."""
    call()
    wall, cpu, driver = [], [], []
    for _ in range(repeat):
        if clock:
            clock.reset()
        t0, c0 = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        driver.append(clock.ms if clock else 0.0)
    return statistics.median(wall), statistics.median(cpu), *([statistics.median(driver)] if clock else [])


def query_times(url: str, track_uuid: str, typical_uuid: str, chart: str) -> dict[str, tuple[float, float]]:
    """The queries behind the pages, one by one (warm, median of 7)."""
    engine = make_engine(url, read_only=True)
    a = analytics
    parts = {
        "overview: has_data": lambda: a.has_data(engine),
        "overview: rankings_per_day": lambda: a.rankings_per_day(engine, 7),
        "overview: week_comparison": lambda: a.week_comparison(engine),
        "overview: top_platforms": lambda: a.top_platforms(engine, 30),
        "overview: top_tracks": lambda: a.top_tracks(engine, 30),
        "overview: chart_health_summary": lambda: a.chart_health_summary(engine),
        "overview: charts_needing_attention": lambda: health.charts_needing_attention(engine),
        "overview: system_status": lambda: health.system_status(engine),
        "track: track_details": lambda: a.track_details(engine, track_uuid),
        "track: track_charts": lambda: a.track_charts(engine, track_uuid),
        "track: its charts, then positions_on the figure's charts": lambda: a.positions_on(
            engine, track_uuid, a.track_charts(engine, track_uuid, ids=True).head(HISTORY_LINES)),
        "track: track_charting_now": lambda: a.track_charting_now(engine, track_uuid),
        "track: track_audience": lambda: a.track_audience(engine, track_uuid),
        "track: every chart position (the history download)": lambda: a.track_chart_history(engine, track_uuid),
        "chart: chart_dates": lambda: a.chart_dates(engine, chart),
        "chart: chart_movers (ranking, trends, movers, drop-outs)": lambda: trends.chart_movers(engine, chart),
    }
    out = {name: timed(call)[:2] for name, call in parts.items()}
    engine.dispose()
    return out


def page_times(url: str, pages: dict) -> dict[str, tuple[float, float, float, float | None]]:
    """Per viewer page (``seed_pages.viewer_pages``): wall, database driver and CPU ms of ours (warm, median of 7)
    and wall ms of the seed's loops for the same data (one warm run; None for a page the seed did not have)."""
    engine = make_engine(url, read_only=True)
    clock = DriverClock.attach(engine)
    gc.freeze()  # as a dashboard's page does once its kernel's modules are loaded (ui.common.Page)
    out = {}
    for name, (ours, seed) in pages.items():
        wall, cpu, driver = timed(lambda ours=ours: ours(engine), clock=clock)
        out[name] = (wall, driver, cpu, timed(lambda seed=seed: seed(engine), repeat=1)[0] if seed else None)
    engine.dispose()
    return out


def browser_times(url: str, loads: int = 6) -> list[float]:
    """Seconds from navigation to the overview fully rendered (tables and figure, no loading state), per load;
    the first is cold (a fresh server, its kernel pool just filled), the others warm: the same server once its pool
    has a kernel for the page again (a visit takes the pooled kernel and Voila starts the next one). Each load is a
    first visit for the browser (a new context: nothing cached). Chromium itself refuses every host but 127.0.0.1:
    routing requests through Playwright would disable its cache and cost ~0.5 s of CPU per load in this process."""
    from playwright.sync_api import expect, sync_playwright

    from soundcharts_lib.web.launch import free_port, start_voila, wait_ready

    state = tempfile.mkdtemp(prefix="bench-jupyter-")
    env = dict(os.environ, SOUNDCHARTS_DB_URL=url)
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[var] = f"{state}/{var.lower()}"
    port = free_port()
    with open(f"{state}/voila.log", "w") as log:
        proc = start_voila(port, env=env, log=log)
        try:
            base = wait_ready(proc, port)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
                times = []
                for _ in range(loads):
                    _pool_filled(f"{state}/voila.log", len(times) + 1, proc.pid)
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    page = context.new_page()
                    t0 = time.perf_counter()
                    page.goto(f"{base}/voila/render/overview.ipynb")
                    expect(page.locator(".top-tracks tbody tr").first).to_be_visible(timeout=120_000)
                    expect(page.locator(".rankings-per-day svg.svg-figure")).to_be_visible(timeout=60_000)
                    expect(page.locator(".loading-state, .error-state")).to_have_count(0)
                    times.append(time.perf_counter() - t0)
                    context.close()
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return times


def _pool_filled(log: str, times: int, server: int, timeout: float = 120) -> None:
    """Wait until Voila's log says the overview's kernel pool was filled ``times`` times, then until the server
    process ``server`` and its kernels are idle. Voila logs "filled" as soon as the new kernel's process has
    started, while it still starts up and runs the page's imports (2-3 s of CPU); a visitor who finds the pool
    refilled finds that kernel waiting for its request."""
    import psutil

    deadline = time.monotonic() + timeout
    while Path(log).read_text(errors="replace").count("Kernel pool of overview.ipynb is filled") < times:
        if time.monotonic() > deadline:
            raise SystemExit("the overview's kernel pool was not filled")
        time.sleep(0.2)
    tree = psutil.Process(server)

    def cpu_seconds() -> float:
        total = 0.0
        for process in [tree, *tree.children(recursive=True)]:
            try:
                times_ = process.cpu_times()
                total += times_.user + times_.system
            except psutil.NoSuchProcess:
                pass
        return total

    used = cpu_seconds()
    while True:
        time.sleep(0.5)
        used, before = cpu_seconds(), used
        if used - before < 0.05:  # under 10 % of a core: every kernel waits
            return
        if time.monotonic() > deadline:
            raise SystemExit("the overview's preheated kernel did not settle")


def _typical_and_latest(con: sqlite3.Connection) -> tuple[int, date]:
    """The typical track (id) of a warehouse :func:`build` made, and the date of its first chart's latest ranking."""
    days = con.execute("SELECT COUNT(DISTINCT ranking_date) FROM chart_ranking").fetchone()[0]
    on = con.execute("SELECT MAX(ranking_date) FROM chart_ranking WHERE chart_id = 1").fetchone()[0]
    return track_at(1, days - 1, 50), date.fromisoformat(on)


def _pages(typical: int, on: date) -> dict:
    return seed_pages.viewer_pages(today_utc(), PLATFORMS[0], "chart-1", on, {
        "the year-long hit": uuid_of(HIT), "a typical track": uuid_of(typical)})


def pages_of(path: Path) -> dict:
    """The viewer pages (``seed_pages.viewer_pages``) of the warehouse at ``path``, which :func:`run` built."""
    con = sqlite3.connect(path)
    try:
        return _pages(*_typical_and_latest(con))
    finally:
        con.close()


def run(entries: int, *, charts: int = 100, per_ranking: int = 100, db: Path | None = None, reuse: bool = False,
        browser: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = db or Path(tmp) / "bench.db"
        shape = None
        url = f"sqlite:///{path}"
        if not (reuse and path.exists()):
            path.unlink(missing_ok=True)
            shape = build(path, entries, charts, per_ranking)
        else:  # a warehouse an earlier version built: migrated to the schema the pages read
            upgrade(engine := make_engine(url))
            engine.dispose()
        t0 = time.perf_counter()  # as every sync does after storing (built whole the first time)
        chart_refresh = (chart_rollup.refresh(engine := make_engine(url)), time.perf_counter() - t0)
        rollup.refresh(engine)  # as every sync does: the windows stamped (an earlier version's had none)
        engine.dispose()
        label_refresh_s = seed_pages.seed_new_pages(engine := make_engine(url), uuid_of(HIT), today_utc())
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        engine.dispose()
        con = sqlite3.connect(path)
        n_charts, n_entries = con.execute("SELECT (SELECT COUNT(*) FROM chart), "
                                          "(SELECT MAX(id) FROM chart_ranking_entry)").fetchone()
        def spread(track_id: int) -> tuple[int, int]:
            return con.execute("SELECT COUNT(*), COUNT(DISTINCT r.chart_id) FROM chart_ranking_entry e JOIN "
                               "chart_ranking r ON r.id = e.ranking_id WHERE e.track_id = ?", (track_id,)).fetchone()

        typical, on = _typical_and_latest(con)
        (track_entries, track_charts), (typical_entries, typical_charts) = spread(HIT), spread(typical)
        window = con.execute("SELECT COUNT(*) FROM chart_ranking_entry WHERE ranking_date >= ?",
                             (str(today_utc() - timedelta(days=29)),)).fetchone()[0]
        con.close()
        engine = make_engine(url, read_only=True)
        with engine.connect() as conn:
            current = rollup.is_current(conn, today_utc(), 30)
        engine.dispose()
        out = {"shape": shape, "rollup_current": current, "label_refresh_s": label_refresh_s,
               "chart_refresh": chart_refresh,
               "entries": n_entries, "charts": n_charts,
               "entries_30_days": window,
               "track_entries": track_entries, "track_charts": track_charts, "typical_entries": typical_entries,
               "typical_charts": typical_charts, "ms": query_times(url, uuid_of(HIT), uuid_of(typical), "chart-1"),
               "pages": page_times(url, _pages(typical, on))}
        if browser:
            out["browser_s"] = browser_times(url)
        return out


def report_pages(pages: dict[str, tuple[float, float, float, float]]) -> None:
    print(f"{f'viewer page (warm, median of {RUNS}; goal < {seed_pages.GOAL_MS} ms)':<48}{'wall ms':>9}"
          f"{'driver ms':>11}{'CPU ms':>8}{'goal':>6}{'seed loops ms':>15}{'ratio':>8}")
    for name, (wall, driver, cpu, seed) in pages.items():
        goal = "ok" if wall < seed_pages.GOAL_MS else "OVER"
        loops = f"{seed:>15,.0f}{wall / seed:>8.3f}  ({seed / wall:,.0f}x faster)" if seed else f"{'(a new page)':>15}"
        print(f"{name:<48}{wall:>9.1f}{driver:>11.1f}{cpu:>8.1f}{goal:>6}{loops}")
    print("wall: the page's whole read as its dashboard makes it; driver: its time in the database driver (statements "
          "executed, rows fetched), summed over the reads it runs side by side; the goal is checked on the wall time")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=10_000_000)
    ap.add_argument("--charts", type=int, default=100, help="daily charts (spread over 8 platforms)")
    ap.add_argument("--per-ranking", type=int, default=100, help="entries per ranking")
    ap.add_argument("--db", type=Path, help="build the database here (default: a temporary file)")
    ap.add_argument("--reuse", action="store_true", help="time an existing --db without rebuilding it (migrated first)")
    ap.add_argument("--browser", action="store_true", help="also time the overview in headless Chromium")
    args = ap.parse_args()
    r = run(args.entries, charts=args.charts, per_ranking=args.per_ranking, db=args.db, reuse=args.reuse,
            browser=args.browser)
    if r["shape"]:
        s = r["shape"]
        print(f"built {s['entries']:,} entries: {s['charts']} daily charts x {s['per_ranking']} entries x "
              f"{s['days']} days ({s['first']} .. {s['last']}), {s['size_mb']:,.0f} MB; entries inserted in "
              f"{s['insert_s']:.1f} s, indexes built in {s['index_s']:.1f} s, top-tracks rollup built in "
              f"{s['rollup_s']:.1f} s")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; this machine's speed: "
          f"{seed_pages.machine_ms():.1f} ms for seed_pages.machine_ms' fixed work (lower is faster)")
    print(f"{r['entries']:,} entries, {r['charts']} charts; {r['entries_30_days']:,} entries in the last 30 days; "
          f"track page of the hit: {r['track_entries']:,} entries on {r['track_charts']} charts; a typical track: "
          f"{r['typical_entries']:,} entries on {r['typical_charts']} charts; top tracks "
          f"{'read from the rollup' if r['rollup_current'] else 'counted (the rollup is not current)'}; label rollup "
          f"rebuilt in {r['label_refresh_s']:.1f} s after the seed's metadata write; "
          f"track-chart rollup: {', '.join(r['chart_refresh'][0]) or 'nothing stale'} in {r['chart_refresh'][1]:.1f} s")
    print(f"{f'query (warm, median of {RUNS})':<66}{'wall ms':>10}{'CPU ms':>10}")
    for name, (wall, cpu) in r["ms"].items():
        print(f"{name:<66}{wall:>10.1f}{cpu:>10.1f}")
    report_pages(r["pages"])
    print(f"load average {os.getloadavg()[0]:.1f} at the end; this machine's speed: {seed_pages.machine_ms():.1f} ms")
    if "browser_s" in r:
        cold, *warm = r["browser_s"]
        print(f"overview in Chromium: cold {cold:.2f} s, warm {', '.join(f'{t:.2f}' for t in warm)} s "
              f"(median {statistics.median(warm):.2f} s)")


if __name__ == "__main__":
    main()
