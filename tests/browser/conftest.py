"""Voila on a free loopback port per database, and headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from soundcharts_lib.serve import start_voila

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}
READY_TIMEOUT = 40.0
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


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
    """``voila(db_url)`` -> base URL of a Voila serving ``dashboards/`` on that database (one per URL)."""
    state = tmp_path_factory.mktemp("voila-state")
    (OUTPUT / "logs").mkdir(parents=True, exist_ok=True)
    servers: dict[str, tuple[str, subprocess.Popen]] = {}
    logs = []

    def start(db_url: str) -> str:
        if db_url in servers:
            return servers[db_url][0]
        port = free_port()
        env = dict(os.environ, SOUNDCHARTS_DB_URL=db_url)
        for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
            env[var] = str(state / var.lower())
        log_path = OUTPUT / "logs" / f"voila-{len(servers) + 1}.log"
        log = log_path.open("w")
        logs.append(log)
        proc = start_voila(port, env=env, log=log)
        url = f"http://127.0.0.1:{port}"
        servers[db_url] = (url, proc)
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
    height = tab.evaluate("document.querySelector('.sc-page').getBoundingClientRect().bottom")
    tab.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], int(height) + 24)})
    tab.screenshot(path=str(path))
    return path


@pytest.fixture(scope="session")
def empty_db_url(tmp_path_factory) -> str:
    """A migrated database with no rows."""
    from soundcharts_lib.db import make_engine, upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('empty') / 'empty.db'}"
    eng = make_engine(url)
    upgrade(eng)
    eng.dispose()
    return url
