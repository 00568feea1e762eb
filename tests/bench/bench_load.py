"""Many visitors opening the same dashboard at once: the time until each has the page's first figure, failures, and
the server's memory, process count and CPU while they wait.

    python tests/bench/bench_load.py [--db PATH] [--pages overview,platform,chart,track] [--visitors 1,5,10,25,50]
                                     [--browser 10] [--mode snapshot|voila|live|both] [--timeout 120]
                                     [--live-kernels N] [--pool N]

``soundcharts serve``'s server runs on the database (``--db``: a synced SQLite file; default: the demo database,
built as ``make demo`` builds it: the local API and a 28-day sync) with ``SOUNDCHARTS_SNAPSHOTS`` set by ``--mode``
(``snapshot``: on, light snapshot pages; ``voila``: snapshot pages drawn by Voila's front end; ``live``: off, a
kernel per visit; ``both``: snapshot and live; ``--live-kernels`` sets ``SOUNDCHARTS_LIVE_KERNELS``, ``--pool`` the
preheated kernels per page: a candidate for live pages). Before each round the server is idle (its preheated kernels
started, the snapshots it renders ahead rendered); then N visitors open the same page at the same moment. Snapshot
pages: one server per page, whose first visit (``cold``: the page was not rendered ahead, so that visit waits for
its render) is reported apart. A kernel per visit: a fresh server per round, since a round's kernels stay until
culled. Two clients, reported apart:

- **light**: the page's protocol without drawing anything, all visitors in this one asyncio process (a few % of a
  core): GET the page as a browser does (a "busy, retrying" answer is retried after its ``Retry-After``, as the
  page itself does); a light page carries its states, so that is all; otherwise the kernel model, then the kernel
  websocket (``v1.kernel.websocket.jupyter.org``) as Voila's front end speaks it: ``kernel_info_request``, then the
  widget control comm's ``request_states``. The visitor has its figure when the states hold the page's first figure
  (a bqplot ``FigureModel`` and the card it sits in; on the chart page, which draws none, its ranking table) and no
  error state.
- **chromium**: headless Chromium on the same cores, one context per visitor (nothing cached, as separate people),
  from navigation until the overview's figure is visible: the end-to-end figure, scripts and widgets drawn (the
  browser's own CPU per page included: ~1.3 s with Voila's front end).

Per N: median, p95 and max seconds, failures (no figure within ``--timeout`` s, an error, an error state), busy
answers retried, the server's peak memory (RSS summed over the server and every process it started) and process
count, the CPU seconds they used, the median's ratio to one visitor's, and the load average before and after.
:class:`PageClient` is the light client; ``quick()`` is the small variant tests/web/test_load_bench.py runs.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil  # noqa: E402
from page_client import CONFIG, PageClient, run_apart  # noqa: E402, F401  (CONFIG: for the tests, with the client)

from soundcharts_lib.web.launch import FILL_DELAY_SECONDS, free_port, start_voila, wait_ready  # noqa: E402

# The page's first figure: the card holding it, in the states (light client) and in the page (Chromium).
FIRST = {"overview": ("rankings-per-day", True), "platform": ("platform-rankings", True),
         "chart": ("chart-ranking", False), "track": ("chart-history", True)}
BROWSER_FIRST = {"overview": ".rankings-per-day svg.svg-figure", "platform": ".platform-rankings svg.svg-figure",
                 "chart": ".chart-ranking tbody tr", "track": ".chart-history svg.svg-figure"}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
SETTLE_TIMEOUT = 300.0


@dataclass
class Visit:
    """One visitor: seconds until its figure (None: failed), why it failed, busy answers it retried."""

    seconds: float | None = None
    error: str = ""
    busy: int = 0
    kernel_id: str = ""


@dataclass
class Round:
    page: str
    visitors: int
    client: str
    visits: list[Visit] = field(default_factory=list)
    peak_mb: float = 0.0
    peak_processes: int = 0
    cpu: float = 0.0  # CPU seconds the server and its processes used during the round
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after

    @property
    def times(self) -> list[float]:
        return sorted(v.seconds for v in self.visits if v.seconds is not None)

    @property
    def failures(self) -> int:
        return sum(v.seconds is None for v in self.visits)

    def stat(self, name: str) -> float:
        times = self.times
        if not times:
            return math.nan
        if name == "median":
            return statistics.median(times)
        if name == "p95":
            return times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)]
        return times[-1]

    def line(self, single: float) -> str:
        ratio = self.stat("median") / single if single and self.times else math.nan
        errors = sorted({v.error for v in self.visits if v.error})
        return (f"{self.page:<9} {self.client:<8} N={self.visitors:<3} median {self.stat('median'):6.2f} s  "
                f"p95 {self.stat('p95'):6.2f} s  max {self.stat('max'):6.2f} s  failures {self.failures:<3} "
                f"busy {sum(v.busy for v in self.visits):<4} peak {self.peak_mb:6.0f} MB {self.peak_processes:>3} "
                f"processes  server CPU {self.cpu:5.1f} s  x{ratio:5.2f}  load {self.load[0]:.2f}->{self.load[1]:.2f}"
                + (f"  errors: {'; '.join(errors)[:200]}" if errors else ""))


# -- the server ------------------------------------------------------------------------------------------------------

def tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def footprint(pid: int) -> tuple[float, int]:
    """(MB of resident memory summed over the server's process tree, processes in it)."""
    total, count = 0, 0
    for process in tree(pid):
        try:
            total += process.memory_info().rss
            count += 1
        except psutil.Error:
            pass
    return total / 2**20, count


class Sampler:
    """The server tree's peak memory and process count, sampled every 0.2 s in a thread."""

    def __init__(self, pid: int):
        self.pid, self.peak_mb, self.peak_processes = pid, 0.0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            mb, count = footprint(self.pid)
            self.peak_mb, self.peak_processes = max(self.peak_mb, mb), max(self.peak_processes, count)
            self._stop.wait(0.2)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for process in tree(pid):
        try:
            times = process.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
        except psutil.Error:
            pass
    return total


def settle(pid: int, log: Path, pools: int, timeout: float = SETTLE_TIMEOUT) -> None:
    """Wait until the server's preheated pools are filled (``pools`` of them) and its whole tree has used under 5 %
    of a core for longer than a pool waits before it refills, in a row: kernels started and waiting, snapshots
    rendered."""
    deadline = time.monotonic() + timeout
    while log.read_text(errors="replace").count("is filled with") < pools:
        if time.monotonic() > deadline:
            raise SystemExit(f"the server's kernel pools were not filled within {timeout:.0f} s")
        time.sleep(0.2)
    quiet, used = 0, cpu_seconds(pid)
    while quiet < FILL_DELAY_SECONDS + 2:
        time.sleep(1.0)
        used, before = cpu_seconds(pid), used
        quiet = quiet + 1 if used - before < 0.05 else 0
        if time.monotonic() > deadline:
            raise SystemExit("the server did not settle")


SNAPSHOTS = {"snapshot": "on", "voila": "voila", "live": "off"}  # --mode: SOUNDCHARTS_SNAPSHOTS
TITLES = {"snapshot": "light snapshot pages", "voila": "snapshot pages drawn by Voila's front end",
          "live": "a kernel per visit"}


@contextmanager
def server(db_url: str, mode: str, state: Path, extra: dict | None = None, pool: int | None = None):
    """A fresh server (its own Jupyter folders; ``extra`` variables on top; ``pool`` preheated kernels per viewer
    page instead of the server's own number) on a free port: yields (base URL, pid, log path)."""
    env = dict(os.environ, SOUNDCHARTS_DB_URL=db_url, SOUNDCHARTS_SNAPSHOTS=SNAPSHOTS[mode],
               SOUNDCHARTS_LOG_FILE="off", **(extra or {}))
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[var] = str(state / var.lower())
    port = free_port()
    log_path = state / f"voila-{port}.log"
    with log_path.open("w") as log:
        proc = start_voila(port, env=env, log=log, **({} if pool is None else {"pool_size": pool}))
        try:
            yield wait_ready(proc, port, timeout=120), proc.pid, log_path
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except Exception:  # noqa: BLE001  (a hung server: make sure it goes)
                proc.kill()
            for process in tree(proc.pid):  # kernels left by a killed server
                process.kill()


# -- the light client ------------------------------------------------------------------------------------------------

def has_first_figure(states: dict, page: str) -> str:
    """Why ``states`` (model id -> model) do not hold ``page``'s first figure, or an empty string when they do."""
    card, figure = FIRST[page]
    classes = [set(model["state"].get("_dom_classes") or ()) for model in states.values()]
    if any(c & {"error-state", "notfound-state"} for c in classes):
        return "the page shows an error state"
    if not any(card in c for c in classes):
        return f"no {card} card"
    if figure and not any(model["model_name"] == "FigureModel" for model in states.values()):
        return "no bqplot figure"
    return ""


async def visit(base: str, path: str, page: str, timeout: float) -> Visit:
    """One visitor of ``base + path`` with the light client (module docstring), until the page's first figure."""
    done = Visit()
    started = time.perf_counter()
    client = PageClient(base, started + timeout)
    try:
        await client.open(path)
        done.kernel_id = client.kernel_id
        await client.connect()
        done.error = has_first_figure(await client.states(), page)
        if not done.error:
            done.seconds = time.perf_counter() - started
    except TimeoutError:
        done.error = f"no figure within {timeout:.0f} s"
    except (RuntimeError, ConnectionError, OSError) as exc:
        done.error = f"{type(exc).__name__}: {exc}"[:120]
    finally:
        done.busy = client.busy
        client.close()
    return done


def run_light(base: str, path: str, page: str, visitors: int, timeout: float) -> list[Visit]:
    """``visitors`` light clients opening ``path`` at the same moment."""
    from tornado.httpclient import AsyncHTTPClient

    async def everyone() -> list[Visit]:
        AsyncHTTPClient.configure(None, max_clients=visitors + 10)
        return list(await asyncio.gather(*(visit(base, path, page, timeout) for _ in range(visitors))))

    return run_apart(everyone())


# -- headless Chromium -----------------------------------------------------------------------------------------------

def run_browser(base: str, path: str, page: str, visitors: int, timeout: float) -> list[Visit]:
    """``visitors`` Chromium contexts opening ``path`` at the same moment, each until its first figure shows."""
    from playwright.async_api import async_playwright

    async def one(browser) -> Visit:
        done = Visit()
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            tab = await context.new_page()
            started = time.perf_counter()
            await tab.goto(base + path, timeout=timeout * 1000)
            await tab.locator(BROWSER_FIRST[page]).first.wait_for(state="visible", timeout=timeout * 1000)
            done.seconds = time.perf_counter() - started
            if await tab.locator(".error-state, .notfound-state").count():
                done.seconds, done.error = None, "the page shows an error state"
        except Exception as exc:  # noqa: BLE001  (Playwright's timeouts and errors: the visitor failed)
            done.error = str(exc).splitlines()[0][:120]
        finally:
            await context.close()
        return done

    async def everyone() -> list[Visit]:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            try:
                return list(await asyncio.gather(*(one(browser) for _ in range(visitors))))
            finally:
                await browser.close()

    return run_apart(everyone())


# -- the database and the rounds -------------------------------------------------------------------------------------

def demo_database(path: Path, backfill_days: int = 28) -> str:
    """What ``make demo`` builds: the local API (seed 1) and a ``backfill_days`` chart sync, alerts evaluated."""
    from soundcharts_lib.api.client import SoundchartsClient
    from soundcharts_lib.curation import alerts
    from soundcharts_lib.db import make_engine, upgrade
    from soundcharts_lib.jobs.sync import ChartSync
    from soundcharts_lib.localapi import LocalApiConfig, running

    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    with running(LocalApiConfig(seed=1)) as srv:
        client = SoundchartsClient(srv.base_url, "soundcharts", "soundcharts", cache=None,
                                   rate_limit_per_minute=600_000)
        ChartSync(client, engine, progress=False).run(backfill_days=backfill_days)
        alerts.after_sync(engine, deliver=False)
    engine.dispose()
    return url


def page_paths(db_url: str) -> dict[str, str]:
    """Each viewer page's address on this database: the overview, the platform and the chart with most rankings,
    the most-charted track."""
    from sqlalchemy import text

    from soundcharts_lib.db import make_engine

    engine = make_engine(db_url, read_only=True)
    with engine.connect() as conn:
        platform, chart = conn.execute(text(
            "SELECT p.slug, c.slug FROM chart_ranking r JOIN chart c ON c.id = r.chart_id JOIN platform p "
            "ON p.id = c.platform_id GROUP BY c.id ORDER BY COUNT(*) DESC, c.slug LIMIT 1")).one()
        track = conn.execute(text("SELECT t.uuid FROM chart_ranking_entry e JOIN track t ON t.id = e.track_id "
                                  "GROUP BY t.id ORDER BY COUNT(*) DESC, t.uuid LIMIT 1")).scalar_one()
    engine.dispose()
    return {"overview": "/voila/render/overview.ipynb", "platform": f"/voila/render/platform.ipynb?slug={platform}",
            "chart": f"/voila/render/chart.ipynb?slug={chart}", "track": f"/voila/render/track.ipynb?uuid={track}"}


def measured(result: Round, pid: int, run) -> Round:
    """``result`` with the visits ``run()`` makes, the server's peak footprint meanwhile and the load around it."""
    before, used = os.getloadavg()[0], cpu_seconds(pid)
    with Sampler(pid) as sampler:
        result.visits = run()
        time.sleep(0.5)  # kernels the visits started are counted
    result.peak_mb, result.peak_processes = sampler.peak_mb, sampler.peak_processes
    result.cpu = cpu_seconds(pid) - used
    result.load = (before, os.getloadavg()[0])
    return result


def page_rounds(db_url: str, mode: str, page: str, path: str, visitors: list[int], timeout: float, state: Path,
                env: dict, out, pool: int | None = None) -> list[Round]:
    """Every count of light visitors of one page. Snapshot pages: one server, whose first visit of the page (after
    a start or a sync, when the page is not among those rendered ahead) waits for its render, reported as
    ``cold``; then each count on the settled server. A kernel per visit: a fresh server each count (the kernels of a
    round stay until culled, as they do for visitors who close the page)."""
    rounds = []
    if mode != "live":
        with server(db_url, mode, state, env, pool) as (base, pid, log):
            settle(pid, log, pools=4)
            cold = measured(Round(page, 1, "cold"), pid, lambda: run_light(base, path, page, 1, timeout))
            out(cold.line(math.nan))
            for n in visitors:
                settle(pid, log, pools=4)
                rounds.append(measured(Round(page, n, "light"), pid,
                                       lambda n=n: run_light(base, path, page, n, timeout)))
                out(rounds[-1].line(rounds[0].stat("median")))
        return rounds
    for n in visitors:
        with server(db_url, mode, state, env, pool) as (base, pid, log):
            settle(pid, log, pools=4)
            rounds.append(measured(Round(page, n, "light"), pid, lambda n=n: run_light(base, path, page, n, timeout)))
            out(rounds[-1].line(rounds[0].stat("median")))
    return rounds


def browser_round(db_url: str, mode: str, path: str, visitors: int, timeout: float, state: Path, env: dict,
                  pool: int | None = None) -> Round:
    """``visitors`` Chromium visitors of the overview on a fresh, settled server (its snapshot rendered ahead)."""
    with server(db_url, mode, state, env, pool) as (base, pid, log):
        settle(pid, log, pools=4)
        return measured(Round("overview", visitors, "chromium"), pid,
                        lambda: run_browser(base, path, "overview", visitors, timeout))


def run(db_url: str, *, modes: list[str], pages: list[str], visitors: list[int], browser: int, timeout: float,
        env: dict | None = None, pool: int | None = None, out=print) -> list[Round]:
    paths = page_paths(db_url)
    rounds = []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        for mode in modes:
            out(f"== {mode}: {TITLES[mode]}; "
                f"light = the page's protocol in one asyncio process, chromium = headless Chromium end to end")
            for page in pages:
                rounds += page_rounds(db_url, mode, page, paths[page], visitors, timeout, Path(tmp), env or {}, out,
                                      pool)
            if browser:
                rounds.append(browser_round(db_url, mode, paths["overview"], browser, timeout, Path(tmp), env or {},
                                            pool))
                out(rounds[-1].line(math.nan))
    return rounds


def quick(db_url: str, visitors: int = 3, timeout: float = 60) -> list[Round]:
    """The overview with 1 and ``visitors`` light visitors, snapshot mode (tests/web/test_load_bench.py)."""
    return run(db_url, modes=["snapshot"], pages=["overview"], visitors=[1, visitors], browser=0, timeout=timeout,
               out=lambda _line: None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, help="a synced SQLite database (default: build the demo database)")
    ap.add_argument("--pages", default="overview,platform,chart,track")
    ap.add_argument("--visitors", default="1,5,10,25,50", help="visitor counts, comma-separated")
    ap.add_argument("--browser", type=int, default=10, help="Chromium visitors of the overview (0: none)")
    ap.add_argument("--mode", choices=(*SNAPSHOTS, "both"), default="snapshot")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds a visitor waits for its figure")
    ap.add_argument("--live-kernels", type=int, help="SOUNDCHARTS_LIVE_KERNELS for the server (default: its own)")
    ap.add_argument("--pool", type=int, help="preheated kernels per viewer page (default: the server's, 1)")
    args = ap.parse_args()
    pages = [p for p in args.pages.split(",") if p]
    unknown = sorted(set(pages) - set(FIRST))
    if unknown:
        ap.error(f"unknown pages {unknown}; choose from {sorted(FIRST)}")
    modes = ["snapshot", "live"] if args.mode == "both" else [args.mode]
    with tempfile.TemporaryDirectory(prefix="bench-load-db-") as tmp:
        if args.db:
            db_url = f"sqlite:///{args.db.resolve()}"
        else:
            print("building the demo database (local API, 28-day sync) ...", flush=True)
            db_url = demo_database(Path(tmp) / "demo.db")
        print(f"{os.cpu_count()} cores; load {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        env = {} if args.live_kernels is None else {"SOUNDCHARTS_LIVE_KERNELS": str(args.live_kernels)}
        run(db_url, modes=modes, pages=pages, visitors=[int(n) for n in args.visitors.split(",")],
            browser=args.browser, timeout=args.timeout, env=env, pool=args.pool,
            out=lambda line: print(line, flush=True))


if __name__ == "__main__":
    main()
