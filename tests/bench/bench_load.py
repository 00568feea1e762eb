"""Many visitors opening the same dashboard at once: the time until each has the page's first figure, failures, and
the server's memory and process count while they wait.

    python tests/bench/bench_load.py [--db PATH] [--pages overview,platform,chart,track] [--visitors 1,5,10,25,50]
                                     [--browser 10] [--mode snapshot|live|both] [--timeout 120]

Each round starts ``soundcharts serve``'s server afresh on the database (``--db``: a synced SQLite file; default:
the demo database, built as ``make demo`` builds it: the local API and a 28-day sync), waits until it is idle (its
preheated kernels started, its snapshots rendered), then lets N visitors open the same page at the same moment.
Two clients, reported apart:

- **light**: the page's protocol without drawing anything, all visitors in this one asyncio process (a few % of a
  core): GET the page as a browser does (a "busy, retrying" answer is retried after its ``Retry-After``, as the
  page itself does), the kernel model, then the kernel websocket (``v1.kernel.websocket.jupyter.org``) as Voila's
  front end speaks it: ``kernel_info_request``, then the widget control comm's ``request_states``; the visitor has
  its figure when the states arrive holding the page's first figure (a bqplot ``FigureModel`` and the card it sits
  in; on the chart page, which draws none, its ranking table) and no error state.
- **chromium**: headless Chromium, one context per visitor (nothing cached, as separate people), from navigation
  until the first figure is visible (the end-to-end figure: scripts, widgets drawn, the browser's own CPU on the
  same cores).

Per N: median, p95 and max seconds, failures (no figure within ``--timeout`` s, an error, an error state), busy
answers retried, the server's peak memory (RSS summed over the server and every process it started) and process
count, and the median's ratio to one visitor's. ``--mode`` sets ``SOUNDCHARTS_SNAPSHOTS`` for the server (``on``:
snapshot pages, ``off``: a kernel per visit). ``run_light(...)`` is importable; ``quick()`` is the small variant
tests/web/test_load_bench.py runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from soundcharts_lib.web.launch import free_port, start_voila, wait_ready  # noqa: E402

V1 = "v1.kernel.websocket.jupyter.org"
CONFIG = re.compile(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', re.S)
VIEW = re.compile(r'"application/vnd\.jupyter\.widget-view\+json": \{"model_id": "([^"]+)"')
# The page's first figure: the card holding it, in the states (light client) and in the page (Chromium).
FIRST = {"overview": ("rankings-per-day", True), "platform": ("platform-rankings", True),
         "chart": ("chart-ranking", False), "track": ("chart-history", True)}
BROWSER_FIRST = {"overview": ".rankings-per-day svg.svg-figure", "platform": ".platform-rankings svg.svg-figure",
                 "chart": ".chart-ranking tbody tr", "track": ".chart-history svg.svg-figure"}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
CONTROL_VERSION = {"version": "1.0.0"}  # the widget control comm's protocol (ipywidgets 8)
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
                f"processes  x{ratio:5.2f}  load {self.load[0]:.2f}->{self.load[1]:.2f}"
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
    of a core for 2 s in a row: kernels started and waiting, snapshots rendered."""
    deadline = time.monotonic() + timeout
    while log.read_text(errors="replace").count("is filled with") < pools:
        if time.monotonic() > deadline:
            raise SystemExit(f"the server's kernel pools were not filled within {timeout:.0f} s")
        time.sleep(0.2)
    quiet, used = 0, cpu_seconds(pid)
    while quiet < 2:
        time.sleep(1.0)
        used, before = cpu_seconds(pid), used
        quiet = quiet + 1 if used - before < 0.05 else 0
        if time.monotonic() > deadline:
            raise SystemExit("the server did not settle")


@contextmanager
def server(db_url: str, mode: str, state: Path):
    """A fresh server (its own Jupyter folders) on a free port: yields (base URL, pid, log path)."""
    env = dict(os.environ, SOUNDCHARTS_DB_URL=db_url, SOUNDCHARTS_SNAPSHOTS="on" if mode == "snapshot" else "off",
               SOUNDCHARTS_LOG_FILE="off")
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[var] = str(state / var.lower())
    port = free_port()
    log_path = state / f"voila-{port}.log"
    with log_path.open("w") as log:
        proc = start_voila(port, env=env, log=log)
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

def _message(msg_type: str, content: dict, session: str, metadata: dict | None = None) -> tuple[str, bytes]:
    """``(msg_id, v1 frame)`` of a shell message as Voila's front end sends it."""
    from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1

    header = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "bench", "session": session,
              "date": datetime.now(UTC).isoformat(), "version": "5.3"}
    parts = [json.dumps(part).encode() for part in (header, {}, metadata or {}, content)]
    return header["msg_id"], serialize_msg_to_ws_v1(parts, "shell")


def _parse(frame: bytes) -> tuple[str, dict, dict, list[bytes]]:
    """(channel, header, content, buffers) of a v1 frame from the server."""
    from jupyter_server.services.kernels.connection.base import deserialize_msg_from_ws_v1

    channel, parts = deserialize_msg_from_ws_v1(frame)
    return channel, json.loads(parts[0]), json.loads(parts[3]), parts[4:]


class Busy(Exception):
    """The server answered the busy page past the visitor's deadline."""


class PageClient:
    """One visitor speaking a Voila page's protocol without drawing: the page over HTTP (the busy page retried after
    its ``Retry-After``), the kernel model, then the kernel websocket (v1) as Voila's front end uses it."""

    def __init__(self, base: str, deadline: float):
        from tornado.httpclient import AsyncHTTPClient

        self.base, self.deadline, self.http = base, deadline, AsyncHTTPClient()
        self.busy, self.kernel_id, self.html, self.socket = 0, "", "", None
        self.session = uuid.uuid4().hex

    def left(self) -> float:
        left = self.deadline - time.perf_counter()
        if left <= 0:
            raise TimeoutError
        return left

    async def open(self, path: str) -> None:
        """GET the page (retrying busy answers) and the kernel model it names; ``RuntimeError`` for anything else."""
        while True:
            response = await self.http.fetch(self.base + path, raise_error=False, request_timeout=self.left())
            if response.code == 503 and "Retry-After" in response.headers:
                self.busy += 1
                await asyncio.sleep(min(float(response.headers["Retry-After"]), self.left()))
                continue
            if response.code != 200:
                raise RuntimeError(f"HTTP {response.code} for the page")
            break
        self.html = response.body.decode()
        found = CONFIG.search(self.html)
        if not found or not VIEW.search(self.html):
            raise RuntimeError("the page has no kernel or no widget")
        self.kernel_id = json.loads(found.group(1))["kernelId"]
        model = await self.http.fetch(f"{self.base}/api/kernels/{self.kernel_id}", raise_error=False)
        if model.code != 200:
            raise RuntimeError(f"HTTP {model.code} for the kernel model")

    async def connect(self) -> None:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        url = f"{self.base.replace('http://', 'ws://', 1)}/api/kernels/{self.kernel_id}/channels?session_id=" \
              f"{self.session}"
        self.socket = await websocket_connect(HTTPRequest(url, request_timeout=self.left()), subprotocols=[V1],
                                              max_message_size=256 * 2**20)

    async def send(self, msg_type: str, content: dict, metadata: dict | None = None) -> str:
        msg_id, frame = _message(msg_type, content, self.session, metadata)
        await self.socket.write_message(frame, binary=True)
        return msg_id

    async def read(self) -> tuple[str, dict, dict, list[bytes]]:
        """The next message; ``ConnectionError`` when the socket closed."""
        frame = await asyncio.wait_for(self.socket.read_message(), self.left())
        if frame is None:
            raise ConnectionError(f"the kernel websocket closed ({self.socket.close_code})")
        return _parse(frame)

    async def states(self) -> dict:
        """``kernel_info``, then the widget control comm's ``request_states``: ``{model id: model}``."""
        control = uuid.uuid4().hex
        await self.send("kernel_info_request", {})
        await self.send("comm_open", {"comm_id": control, "data": {}, "target_name": "jupyter.widget.control"},
                        CONTROL_VERSION)
        await self.send("comm_msg", {"comm_id": control, "data": {"method": "request_states"}})
        while True:
            _channel, header, content, _buffers = await self.read()
            data = content.get("data") or {}
            if header["msg_type"] == "comm_msg" and content.get("comm_id") == control \
                    and data.get("method") == "update_states":
                return data["states"]

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()


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

    return asyncio.run(everyone())


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

    return asyncio.run(everyone())


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


def one_round(db_url: str, mode: str, page: str, path: str, visitors: int, client: str, timeout: float,
              state: Path) -> Round:
    result = Round(page, visitors, client)
    with server(db_url, mode, state) as (base, pid, log):
        settle(pid, log, pools=4)
        before = os.getloadavg()[0]
        with Sampler(pid) as sampler:
            runner = run_light if client == "light" else run_browser
            result.visits = runner(base, path, page, visitors, timeout)
            time.sleep(0.5)  # kernels the visits started are counted
        result.peak_mb, result.peak_processes = sampler.peak_mb, sampler.peak_processes
        result.load = (before, os.getloadavg()[0])
    return result


def run(db_url: str, *, modes: list[str], pages: list[str], visitors: list[int], browser: int, timeout: float,
        out=print) -> list[Round]:
    paths = page_paths(db_url)
    rounds = []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        for mode in modes:
            out(f"== {mode}: {'snapshot pages' if mode == 'snapshot' else 'a kernel per visit'}; "
                f"light = the page's protocol in one asyncio process, chromium = headless Chromium end to end")
            for page in pages:
                single = None
                for n in visitors:
                    result = one_round(db_url, mode, page, paths[page], n, "light", timeout, Path(tmp))
                    single = single if single is not None else result.stat("median")
                    out(result.line(single))
                    rounds.append(result)
            if browser:
                result = one_round(db_url, mode, "overview", paths["overview"], browser, "chromium", timeout,
                                   Path(tmp))
                out(result.line(math.nan))
                rounds.append(result)
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
    ap.add_argument("--mode", choices=("snapshot", "live", "both"), default="snapshot")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds a visitor waits for its figure")
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
        run(db_url, modes=modes, pages=pages, visitors=[int(n) for n in args.visitors.split(",")],
            browser=args.browser, timeout=args.timeout, out=lambda line: print(line, flush=True))


if __name__ == "__main__":
    main()
