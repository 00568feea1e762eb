"""Voila on a free loopback port per database, and headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import sql  # noqa: F401  (the browser tests take it from here)
from sqlalchemy.engine import make_url

from soundcharts_lib.web.launch import start_voila

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}
READY_TIMEOUT = 40.0
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
PAYLOAD_NAME = "<script>window.__pwned = 1</script><b>Robert'); DROP TABLE track;--</b>"
PAYLOAD_ARTIST = '<img src=x onerror="window.__pwned = 2"> & Co'
PAGE_TIMEOUT_MS = 60_000  # a page's kernel start and notebook run, on a busy 2-core machine
# Any expectation's wait: the first control with Python behind it takes a snapshot page live, and the page loads
# again (web/light_page.py), which takes seconds more than a live page's answer on a busy machine.
EXPECT_TIMEOUT_MS = 15_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _wait_ready(proc: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"voila exited with code {proc.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/voila/static/voila.js", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    pytest.fail(f"voila not ready after {READY_TIMEOUT:.0f}s:\n{_tail(log)}")


@pytest.fixture(scope="session")
def voila(tmp_path_factory) -> Iterator[Callable[[str], str]]:
    """``voila(db_url)`` -> base URL of a Voila serving ``dashboards/`` on that database (one per URL);
    ``voila(db_url, {"VoilaConfiguration": {...}})`` another one with that configuration (its voila.json);
    ``voila(db_url, env={"SOUNDCHARTS_SNAPSHOTS": "off"})`` another one with those variables."""
    state = tmp_path_factory.mktemp("voila-state")
    (OUTPUT / "logs").mkdir(parents=True, exist_ok=True)
    servers: dict[tuple, tuple[str, subprocess.Popen]] = {}
    logs = []

    def start(db_url: str, configuration: dict | None = None, env: dict | None = None) -> str:
        key = (db_url, json.dumps(configuration, sort_keys=True), json.dumps(env, sort_keys=True))
        if key in servers:
            return servers[key][0]
        port = free_port()
        env = dict(os.environ, SOUNDCHARTS_DB_URL=db_url, **(env or {}))
        for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
            env[var] = str(state / var.lower())
        if configuration:
            config_dir = state / f"config-{len(servers) + 1}"
            config_dir.mkdir()
            (config_dir / "voila.json").write_text(json.dumps(configuration))
            env["JUPYTER_CONFIG_DIR"] = str(config_dir)
        log_path = OUTPUT / "logs" / f"voila-{len(servers) + 1}.log"
        log = log_path.open("w")
        logs.append(log)
        proc = start_voila(port, env=env, log=log)
        url = f"http://127.0.0.1:{port}"
        servers[key] = (url, proc)
        _wait_ready(proc, url, log_path)
        return url

    yield start
    for _, proc in servers.values():
        proc.terminate()
    for _, proc in servers.values():
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    for log in logs:
        log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh context per test: fixed viewport, every off-host request blocked (no internet needed)."""
    context = browser.new_context(viewport=VIEWPORT)
    blocked: list[str] = []

    def only_local(route):
        if urlparse(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    tab.blocked = blocked
    yield tab
    context.close()


def screenshot(tab, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # Voila scrolls inside a panel, so a "full page" shot is one viewport: grow the viewport instead.
    tab.evaluate("document.querySelector('.sc-page').scrollIntoView()")
    height = tab.evaluate("document.querySelector('.sc-page').getBoundingClientRect().bottom")
    tab.set_viewport_size({"width": tab.viewport_size["width"], "height": max(VIEWPORT["height"], int(height) + 24)})
    tab.screenshot(path=str(path))
    return path


def cells(page, selector: str) -> list[list[str]]:
    """The text of every body cell of the tables under ``selector``, row by row."""
    return page.eval_on_selector_all(
        f"{selector} tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")


def hrefs(page, selector: str, links: str = "a:not(.artist-link)") -> list[str]:
    """The addresses of the ``links`` in the table bodies under ``selector`` (default: all but artist names, see
    :func:`artist_hrefs`)."""
    return page.eval_on_selector_all(f"{selector} tbody {links}", "found => found.map(a => a.getAttribute('href'))")


def artist_hrefs(page, selector: str) -> list[str]:
    """The artist links (``ui.credits``) in the table bodies under ``selector``."""
    return hrefs(page, selector, "a.artist-link")


def download_csv(page, selector: str) -> tuple[str, list[dict]]:
    """Click the CSV link under ``selector``; the suggested file name and the rows read back."""
    with page.expect_download() as info:
        page.locator(f"{selector} a.download-csv").first.click()
    download = info.value
    body = Path(download.path()).read_text(encoding="utf-8")
    return download.suggested_filename, list(csv.DictReader(io.StringIO(body)))


def expect_rendered(page, selector: str) -> None:
    """The page shows ``selector`` and no loading, error or not-found state (never Voila's own error)."""
    from playwright.sync_api import expect

    expect(page.locator(selector).first).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.locator(".error-state, .notfound-state, .loading-state")).to_have_count(0)
    assert "Traceback" not in page.inner_text("body")


@pytest.fixture(scope="session")
def dashboard_db(synced_sqlite_url, localapi, tmp_path_factory) -> str:
    """The synced database plus metadata and audience for its two most-charted tracks, fetched from the local API;
    the most-charted one then gets markup in its name and artist. A run history for the system status: quota
    falling over three days, a failed sync 2 h ago and a chart whose last fetch failed."""
    from conftest import copy_db, local_client

    from soundcharts_lib.db import make_engine
    from soundcharts_lib.db.models import utcnow
    from soundcharts_lib.jobs.audience import AudienceDataProcessor
    from soundcharts_lib.jobs.metadata import store_metadata

    url = copy_db(synced_sqlite_url, tmp_path_factory.mktemp("dashboard") / "dashboard.db")
    top = [uuid for (uuid,) in sql(url, "SELECT t.uuid FROM chart_ranking_entry e JOIN track t ON t.id = e.track_id "
                                        "GROUP BY t.id ORDER BY COUNT(*) DESC, t.uuid LIMIT 2")]
    engine = make_engine(url)
    with local_client(localapi) as client:
        store_metadata(client, engine, top, progress=False)
        AudienceDataProcessor(client, engine, progress=False).run(track_uuids=top)
    engine.dispose()
    now = utcnow()
    conn = sqlite3.connect(make_url(url).database)
    conn.execute("UPDATE track SET name = ?, credit_name = ? WHERE uuid = ?", (PAYLOAD_NAME, PAYLOAD_ARTIST, top[0]))
    for kind, ago, quota in (("sync_charts", timedelta(days=3), 9000), ("fetch_metadata", timedelta(days=2), 8600),
                             ("fetch_audience", timedelta(days=1), 8300)):
        conn.execute("UPDATE sync_run SET started_at = ?, finished_at = ?, quota_remaining = ? WHERE kind = ?",
                     (str(now - ago), str(now - ago + timedelta(seconds=42)), quota, kind))
    conn.execute("INSERT INTO sync_run (kind, trigger, started_at, finished_at, status, errors, quota_remaining) "
                 "VALUES ('sync_charts', 'cron', ?, ?, 'failed', ?, 8000)",
                 (str(now - timedelta(hours=2)), str(now - timedelta(hours=2) + timedelta(seconds=5)),
                  '["deezer-top-100-fr-daily: HTTP 500 <server>"]'))
    chart_id = conn.execute("SELECT id FROM chart WHERE slug = 'deezer-top-100-fr-daily'").fetchone()[0]
    conn.execute("UPDATE chart SET consecutive_failures = 2, last_error = 'HTTP 500 <server>' WHERE id = ?",
                 (chart_id,))
    conn.execute("INSERT INTO chart_ranking (chart_id, ranking_date, date_raw, fetched_at, status, error, "
                 "entry_count) VALUES (?, '2020-01-01', '2020-01-01', ?, 'failed', 'HTTP 500', 0)",
                 (chart_id, str(now - timedelta(hours=1))))
    conn.commit()
    conn.close()
    return url


@pytest.fixture(scope="session")
def empty_db_url(tmp_path_factory) -> str:
    """A migrated database with no rows."""
    from soundcharts_lib.db import make_engine, upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('empty') / 'empty.db'}"
    eng = make_engine(url)
    upgrade(eng)
    eng.dispose()
    return url


@pytest.fixture(scope="session", autouse=True)
def _expectations_wait_for_a_page_going_live():
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
