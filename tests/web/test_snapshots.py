"""Snapshot pages drawn by Voila's front end (``SOUNDCHARTS_SNAPSHOTS=voila``; the light pages of the default,
which go live through the same sessions, are tests/web/test_light_pages.py) on the real viewers' server
(``soundcharts serve``'s Voila) and the page protocol as Voila's front end speaks it (``tests/bench/bench_load.py``'s
light client): visitors get a page's figure with no kernel of their own; a write the page shows renders it again
before it is served; a change to a control without Python stays in the browser; a page whose data changed reloads
when a control takes it live; past capacity a visitor gets the busy page, which retries. (A control taking such a
page live, and its kernel going when the page closes: tests/browser/test_snapshots.py, in both front ends.)"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
import requests
from conftest import copy_db, sql

from soundcharts_lib.curation import roster
from soundcharts_lib.db import make_engine
from soundcharts_lib.db.runs import finish_run, start_run
from soundcharts_lib.web.capacity import ORPHAN_SECONDS, RETRY_SECONDS
from soundcharts_lib.web.launch import free_port, start_voila, wait_ready
from soundcharts_lib.web.replay import RELOAD, VIRTUAL_ID

pytestmark = pytest.mark.slow  # Voila servers and their kernels


def _bench():
    path = Path(__file__).parent.parent / "bench" / "bench_load.py"
    spec = importlib.util.spec_from_file_location("bench_load", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _bench()


@contextmanager
def serving(db_url: str, state: Path, cull: int = 600, **env):
    """The viewers' server on ``db_url`` (``env`` on top of this process's; idle kernels culled after ``cull``
    seconds), settled: (base URL, pid, log path)."""
    environment = dict(os.environ, SOUNDCHARTS_DB_URL=db_url, SOUNDCHARTS_LOG_FILE="off", **env)
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        environment[var] = str(state / var.lower())
    port = free_port()
    log_path = state / f"voila-{port}.log"
    with log_path.open("w") as log:
        proc = start_voila(port, env=environment, log=log, cull_idle_seconds=cull)
        try:
            base = wait_ready(proc, port, timeout=120)
            bench.settle(proc.pid, log_path, pools=4)
            yield base, proc.pid, log_path
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def kernels(pid: int) -> set[int]:
    """The kernel processes the server runs (one that ended while it was listed is not one)."""
    return {p.pid for p in bench.tree(pid) if "ipykernel_launcher" in " ".join(_cmdline(p))}


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except (psutil.ZombieProcess, psutil.NoSuchProcess):
        return []


def with_class(states: dict, name: str) -> str:
    """The id of the one model with the CSS class ``name``."""
    found = [model_id for model_id, model in states.items() if name in (model["state"].get("_dom_classes") or ())]
    assert len(found) == 1, f"{len(found)} models with class {name}"
    return found[0]


async def opened(base: str, path: str, timeout: float = 120):
    client = bench.PageClient(base, time.perf_counter() + timeout)
    await client.open(path)
    await client.connect()
    return client, await client.states()


@pytest.fixture(scope="module")
def site(synced_sqlite_url, tmp_path_factory):
    """(database URL, base URL, server pid, log) of a server with snapshots drawn by Voila's front end, on a copy of
    the synced database."""
    state = tmp_path_factory.mktemp("snapshots")
    url = copy_db(synced_sqlite_url, state / "site.db")
    with serving(url, state, SOUNDCHARTS_SNAPSHOTS="voila") as (base, pid, log):
        yield url, base, pid, log


def test_visitors_of_a_snapshot_page_get_its_figure_with_no_kernel_of_their_own(site):
    _url, base, pid, log = site
    before = kernels(pid)
    visits = bench.run_light(base, "/voila/render/overview.ipynb", "overview", 5, 60)
    assert [v.error for v in visits] == [""] * 5 and all(v.seconds < 30 for v in visits)
    ids = {v.kernel_id for v in visits}
    assert len(ids) == 5 and all(re.fullmatch(VIRTUAL_ID, kernel_id) for kernel_id in ids)
    assert kernels(pid) == before  # the pooled kernels, untouched
    model = requests.get(f"{base}/api/kernels/{ids.pop()}", timeout=10).json()
    assert model["name"] == "python3" and model["execution_state"] == "idle"
    assert "snapshot of overview.ipynb rendered" in log.read_text()


def test_a_write_the_page_shows_renders_it_again_before_it_is_served(site):
    url, base, _pid, _log = site

    async def job_runs() -> str:
        client, states = await opened(base, "/voila/render/overview.ipynb")
        client.close()
        return states[with_class(states, "job-runs")]["state"]["value"]

    assert "fetch_metadata" not in bench.run_apart(job_runs())
    engine = make_engine(url)
    run = start_run(engine, "fetch_metadata", "cli", {})
    finish_run(engine, run, status="success", counts={}, errors=[])
    engine.dispose()
    assert "fetch_metadata" in bench.run_apart(job_runs())  # the very next visit


def _chart(url: str) -> tuple[str, str]:
    """The chart with most rankings and its last but one ranking date."""
    slug = sql(url, "SELECT c.slug FROM chart_ranking r JOIN chart c ON c.id = r.chart_id WHERE r.status = 'success' "
                    "GROUP BY c.slug ORDER BY COUNT(*) DESC, c.slug LIMIT 1")[0][0]
    days = sql(url, "SELECT r.ranking_date FROM chart_ranking r JOIN chart c ON c.id = r.chart_id WHERE c.slug = ? "
                    "AND r.status = 'success' ORDER BY r.ranking_date DESC LIMIT 2", slug)
    return slug, days[1][0]


async def _click(client, model_id: str) -> None:
    await client.send("comm_msg", {"comm_id": model_id, "data": {"method": "custom", "content": {"event": "click"}}})


def test_a_change_without_python_stays_in_the_browser(site):
    _url, base, pid, _log = site
    before = kernels(pid)

    async def switch_tab() -> list[str]:
        client, states = await opened(base, "/voila/render/overview.ipynb")
        try:
            tabs = with_class(states, "sc-tabs")
            sent = await client.send("comm_msg", {"comm_id": tabs, "data": {"method": "update",
                                                                            "state": {"selected_index": 1},
                                                                            "buffer_paths": []}})
            while True:
                _channel, header, content, _buffers = await client.read()
                if content.get("execution_state") == "idle" and header["msg_type"] == "status":
                    return [sent]
        finally:
            client.close()

    bench.run_apart(switch_tab())
    time.sleep(1)
    assert kernels(pid) == before


def test_a_page_whose_data_changed_reloads_when_it_goes_live(synced_sqlite_url, tmp_path):
    url = copy_db(synced_sqlite_url, tmp_path / "changing.db")
    slug, _previous = _chart(url)
    with serving(url, tmp_path, SOUNDCHARTS_SNAPSHOTS="voila") as (base, _pid, log):

        async def open_then_click() -> int:
            client, states = await opened(base, f"/voila/render/chart.ipynb?slug={slug}")
            engine = make_engine(url)  # a roster appears: the live page has its toggle, the snapshot does not
            roster.add(engine, "track", sql(url, "SELECT uuid FROM track LIMIT 1")[0][0], actor="test")
            engine.dispose()
            await _click(client, with_class(states, "prev-date"))
            with pytest.raises(ConnectionError):
                while True:
                    await client.read()
            return client.socket.close_code

        assert bench.run_apart(open_then_click()) == RELOAD
        assert "changed since it was served: reloading it" in log.read_text()


def test_past_capacity_a_visitor_gets_the_busy_page_which_retries_until_a_kernel_left_alone_goes(synced_sqlite_url,
                                                                                                  tmp_path):
    url = copy_db(synced_sqlite_url, tmp_path / "busy.db")
    with serving(url, tmp_path, SOUNDCHARTS_SNAPSHOTS="off", SOUNDCHARTS_LIVE_KERNELS="1") as (base, _pid, log):
        first = requests.get(f"{base}/voila/render/overview.ipynb", timeout=120)
        kernel_id = json.loads(bench.CONFIG.search(first.text).group(1))["kernelId"]
        assert first.status_code == 200 and not re.fullmatch(VIRTUAL_ID, kernel_id)  # live: its kernel runs
        busy = requests.get(f"{base}/voila/render/overview.ipynb?theme=dark", timeout=60)
        seconds = int(busy.headers["Retry-After"])
        assert busy.status_code == 503 and RETRY_SECONDS[0] <= seconds <= RETRY_SECONDS[1]
        assert "Busy, retrying" in busy.text and "<script" not in busy.text
        assert f'<meta http-equiv="refresh" content="{seconds}">' in busy.text
        assert 'href="/voila/render/overview.ipynb?theme=dark"' in busy.text
        # No page ever connected to the first kernel: it is shut down once idle for ORPHAN_SECONDS, and a retry
        # gets in (the 10-minute cull is far off).
        visits = bench.run_light(base, "/voila/render/overview.ipynb", "overview", 1, ORPHAN_SECONDS + 90)
        assert visits[0].error == "" and visits[0].busy >= 1, visits
        assert "shut down 1 kernel(s) no page is connected to" in log.read_text()


def test_the_busy_page_escapes_the_address():
    from soundcharts_lib.web.capacity import busy_page

    status, headers, body = busy_page('/voila/render/x.ipynb?a="><script>', 4)
    assert status == 503 and headers["Retry-After"] == "4" and "<script>" not in body
    assert json.dumps(body).count("&quot;&gt;&lt;script&gt;") == 1
