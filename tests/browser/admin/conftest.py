"""The admin server (``soundcharts serve --admin``'s) on a copy of the synced database with its own local API,
a job run with an archived notebook, and browser tabs logged in with the token."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from conftest import FAST, copy_db
from playwright.sync_api import Page

from soundcharts_lib.localapi import LocalApiConfig, running
from soundcharts_lib.web.launch import free_port, start_voila, wait_ready

from ..conftest import OUTPUT, expect_rendered, sql

TOKEN = "admin-token-for-the-browser-tests"
ACTOR = "ana@label.example"
CHART = "spotify-top-200-global-daily"
RENDER = "/voila/render/admin/"


@pytest.fixture(scope="session")
def admin_api():
    """A local API of the admin tests' own (they slow it down or break it for a while)."""
    with running(LocalApiConfig(seed=7)) as srv:
        yield srv


@pytest.fixture(scope="session")
def admin_env(admin_api, synced_sqlite_url, tmp_path_factory) -> dict:
    """The admin server's environment: a writable copy of the synced database, the local API's credentials."""
    folder = tmp_path_factory.mktemp("admin")
    env = dict(os.environ, SOUNDCHARTS_DB_URL=copy_db(synced_sqlite_url, folder / "admin.db"),
               SOUNDCHARTS_API_URL=admin_api.base_url, SOUNDCHARTS_APP_ID="soundcharts",
               SOUNDCHARTS_API_KEY="soundcharts", SOUNDCHARTS_CACHE_BACKEND="memory",
               SOUNDCHARTS_RATE_LIMIT=str(FAST), SOUNDCHARTS_MAX_RETRIES="0",
               SOUNDCHARTS_RUNS_DIR=str(folder / "runs"), SOUNDCHARTS_LOG_FILE="off")
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[var] = str(folder / var.lower())
    return env


@pytest.fixture(scope="session")
def db_url(admin_env) -> str:
    return admin_env["SOUNDCHARTS_DB_URL"]


@pytest.fixture(scope="session")
def archived_run(admin_env, db_url) -> int:
    """A chart sync run by ``soundcharts run-job`` (papermill): its run id; the audience of one track fetched
    too, so the database knows the audience platforms."""
    cli = [sys.executable, "-m", "soundcharts_lib.cli"]
    subprocess.run([*cli, "run-job", "sync_charts", "-p", "charts", CHART], env=admin_env,
                   check=True, capture_output=True, timeout=300)
    track = sql(db_url, "SELECT uuid FROM track ORDER BY uuid DESC LIMIT 1")[0][0]
    subprocess.run([*cli, "fetch-audience", "--track-uuid", track, "-q"], env=admin_env, check=True,
                   capture_output=True, timeout=300)
    return sql(db_url, "SELECT id FROM sync_run WHERE notebook_path IS NOT NULL ORDER BY id DESC")[0][0]


@pytest.fixture(scope="session")
def admin_server(admin_env, archived_run) -> Iterator[str]:
    """The admin server's base URL."""
    (OUTPUT / "logs").mkdir(parents=True, exist_ok=True)
    port = free_port()
    with (OUTPUT / "logs" / "voila-admin.log").open("w") as log:
        proc = start_voila(port, env=admin_env, log=log, admin=True, token=TOKEN)
        try:
            yield wait_ready(proc, port)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@dataclass
class Admin:
    """A tab logged in to the admin server, sending ``X-Soundcharts-User: ana@label.example``."""

    page: Page
    base: str

    def open(self, path: str, ready: str) -> Page:
        self.page.goto(self.base + RENDER + path)
        expect_rendered(self.page, ready)
        return self.page


@pytest.fixture
def admin(page, admin_server) -> Admin:
    page.context.set_extra_http_headers({"X-Soundcharts-User": ACTOR})
    page.goto(f"{admin_server}/?token={TOKEN}")  # the token in the address logs the tab in (a cookie)
    return Admin(page, admin_server)
