"""Canary secrets: an API key, an OAuth client secret and a database password set in the environment are found
nowhere a user, an operator or a viewer could read them.

Everything runs for real with the canaries in its environment: the ``soundcharts`` command (verbose, succeeding
and failing, legacy key and OAuth, SQLite and PostgreSQL), scheduled jobs (archived notebooks and their logs),
and the ``serve`` server (JSON endpoints, dashboard HTML). An API that echoes the key it received in its error
messages is part of it. Then every output, every file written (logs, archives, databases, caches) and every
HTTP response is searched for each canary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from conftest import FAST
from reliability.test_snapshot import migrated
from sqlalchemy.engine import make_url

from soundcharts_lib.localapi import LocalApiConfig, running
from soundcharts_lib.web.launch import free_port, start_voila, wait_ready

pytestmark = pytest.mark.slow  # every command run with canaries

ROOT = Path(__file__).resolve().parents[2]
KEY = f"CANARY-key-{uuid.uuid4().hex}"
CLIENT_SECRET = f"CANARY-secret-{uuid.uuid4().hex}"


class _Echo(BaseHTTPRequestHandler):
    """An API that quotes the credentials it received in its error message (as some gateways do)."""

    def do_GET(self) -> None:
        message = f"invalid request for app {self.headers.get('x-app-id')} with key {self.headers.get('x-api-key')}"
        data = json.dumps({"errors": [{"key": "request", "code": 400, "message": message}]}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def echo_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def found_in(texts: dict[str, str | bytes], secrets: list[str]) -> list[str]:
    """``where: which canary`` for every text holding one."""
    out = []
    for where, content in texts.items():
        raw = content if isinstance(content, bytes) else content.encode("utf-8", "replace")
        out += [f"{where}: {secret[:14]}…" for secret in secrets if secret.encode() in raw]
    return out


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def command_env(tmp: Path, api_url: str, db_url: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOUNDCHARTS_")}
    env.update(SOUNDCHARTS_API_URL=api_url, SOUNDCHARTS_APP_ID="workbench", SOUNDCHARTS_API_KEY=KEY,
               SOUNDCHARTS_DB_URL=db_url, SOUNDCHARTS_RATE_LIMIT=str(FAST), SOUNDCHARTS_MAX_RETRIES="1",
               SOUNDCHARTS_CACHE_BACKEND="sqlite", SOUNDCHARTS_CACHE_PATH=str(tmp / "cache" / "http"),
               SOUNDCHARTS_RUNS_DIR=str(tmp / "runs"), SOUNDCHARTS_LOG_FILE=str(tmp / "logs" / "soundcharts.log"),
               SOUNDCHARTS_LOG_LEVEL="DEBUG")
    env.update(extra)
    return env


def soundcharts_all(runs: list[tuple[list[str], dict]]) -> tuple[dict[str, str], list[int]]:
    """Run the commands, 3 at a time: their stdout and stderr by run, and their exit codes."""
    def one(numbered):
        n, (args, env) = numbered
        res = subprocess.run([sys.executable, "-m", "soundcharts_lib.cli", *args], capture_output=True, text=True,
                             env=env, cwd=ROOT, timeout=300)
        name = f"run {n} ({' '.join(args[:3])}, exit {res.returncode})"
        return {f"{name} stdout": res.stdout, f"{name} stderr": res.stderr}, res.returncode

    out, codes = {}, []
    with ThreadPoolExecutor(3) as pool:
        for texts, code in pool.map(one, enumerate(runs)):
            out.update(texts)
            codes.append(code)
    return out, codes


def test_canaries_are_found_nowhere(tmp_path):
    """SQLite: commands (legacy key and OAuth, succeeding and failing), jobs, endpoints and dashboards."""
    config = LocalApiConfig(seed=7, app_id="workbench", api_key=KEY, client_id="workbench-oauth",
                            client_secret=CLIENT_SECRET)
    db_url = f"sqlite:///{tmp_path / 'secrets.db'}"
    with migrated(db_url), running(config) as srv:  # created first, as `soundcharts init-db` does
        env = command_env(tmp_path, srv.base_url, db_url)
        oauth = command_env(tmp_path, srv.base_url, db_url, SOUNDCHARTS_CLIENT_ID="workbench-oauth",
                            SOUNDCHARTS_CLIENT_SECRET=CLIENT_SECRET, SOUNDCHARTS_AUTH_URL=f"{srv.base_url}/oauth/token")
        wrong = dict(oauth, SOUNDCHARTS_API_KEY=KEY + "-wrong", SOUNDCHARTS_CLIENT_SECRET=CLIENT_SECRET + "-wrong")
        gone = dict(env, SOUNDCHARTS_API_URL="http://127.0.0.1:9")
        song = next(s for s in srv.catalog.song_list if s.identifiers_on("spotify"))
        outputs, codes = soundcharts_all([
            (["-v", "sync-charts", "--platform", "deezer", "--backfill-days", "2", "-q"], env),
            (["-v", "sync-charts", "--platform", "tiktok", "--backfill-days", "7", "-q"], oauth),
            (["-v", "fetch-audience", "--track-uuid", song.uuid, "--platform", "spotify", "-q"], oauth),
            (["-v", "fetch-metadata", "--track-uuid", song.uuid, "-q"], env),
            (["-v", "sync-charts", "--platform", "deezer", "-q"], wrong),
            (["-v", "sync-charts", "--platform", "deezer", "-q"], gone),
            (["run-job", "sync_charts", "-p", "platforms", "shazam", "-p", "backfill_days", "1"], env),
            (["run-job", "fetch_audience", "-p", "start_date", "2026-02-30"], env)])
        assert codes == [0, 0, 0, 0, 1, 1, 0, 1], outputs
        http = served(db_url, tmp_path, env, song.uuid)
    stored = files_under(tmp_path)
    assert sum(p.endswith(".ipynb") for p in stored) == 2 and any(p.endswith("soundcharts.log") for p in stored)
    secrets = [KEY, CLIENT_SECRET]
    assert found_in(outputs, secrets) + found_in(http, secrets) + found_in(stored, secrets) == []
    print(f"canaries: 2, places searched: {len(outputs)} outputs, {len(http)} HTTP responses, {len(stored)} files "
          f"(logs, archived notebooks, database, HTTP cache); found: none")


@pytest.mark.postgres
def test_canaries_and_the_database_password_with_postgresql(pg_url, tmp_path):
    """PostgreSQL: its password is a secret too, in what runs print, archive and store, and when unreachable."""
    password = make_url(pg_url).password
    unreachable = make_url(pg_url).set(port=9).render_as_string(hide_password=False)
    with migrated(pg_url), running(LocalApiConfig(seed=7, app_id="workbench", api_key=KEY)) as srv:
        env = command_env(tmp_path, srv.base_url, pg_url)
        outputs, codes = soundcharts_all([
            (["-v", "sync-charts", "--platform", "deezer", "--backfill-days", "2", "-q"], env),
            (["run-job", "sync_charts", "-p", "platforms", "shazam", "-p", "backfill_days", "1"], env),
            (["-v", "sync-charts", "--platform", "deezer", "-q"], dict(env, SOUNDCHARTS_DB_URL=unreachable))])
    assert codes == [0, 0, 2], outputs
    stored = {**files_under(tmp_path), "database rows": database_text(pg_url)}
    assert found_in(outputs, [KEY, password]) + found_in(stored, [KEY, password]) == []
    print(f"canaries: 2 (API key, database password), places searched: {len(outputs)} outputs, "
          f"{len(stored)} files and every database row; found: none")


def test_an_api_that_echoes_the_key_does_not_make_it_leak(echo_api, tmp_path):
    env = command_env(tmp_path, echo_api, f"sqlite:///{tmp_path / 'echo.db'}")
    outputs, codes = soundcharts_all([(["-v", "sync-charts", "--platform", "deezer", "-q"], env),
                                      (["-v", "fetch-audience", "--track-uuid", str(uuid.uuid4()), "-q"], env)])
    assert codes == [1, 1], outputs
    assert found_in(outputs, [KEY]) + found_in(files_under(tmp_path), [KEY]) == []


def served(db_url: str, tmp: Path, env: dict, track: str) -> dict[str, str]:
    """Bodies and headers of the ``serve`` server's answers (JSON endpoints, dashboards), canaries in its env."""
    port = free_port()
    with (tmp / "serve.log").open("w") as log:
        proc = start_voila(port, env=dict(env, SOUNDCHARTS_LOG_FILE=str(tmp / "logs" / "serve.log")), log=log)
        try:
            base = wait_ready(proc, port)
            paths = [f"/soundcharts/audience/chart/{track}/", f"/soundcharts/audience/chart/{track}/spotify/?limit=3",
                     "/soundcharts/audience/chart/not-a-uuid/", "/soundcharts/openapi.json",
                     "/voila/render/overview.ipynb", f"/voila/render/track.ipynb?uuid={track}",
                     "/voila/render/chart.ipynb?slug=%3Cbad%3E"]
            out = {}
            for path in paths:
                resp = requests.get(base + path, timeout=120)
                assert resp.status_code in (200, 400), (path, resp.status_code)
                out[f"GET {path} body"] = resp.text
                out[f"GET {path} headers"] = json.dumps(dict(resp.headers))
            return out
        finally:
            proc.terminate()
            proc.wait(timeout=15)


def database_text(db_url: str) -> str:
    """Every row of every table as text (PostgreSQL keeps its files elsewhere)."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return "\n".join(repr(row) for table in inspect(engine).get_table_names()
                             for row in conn.execute(text(f'SELECT * FROM "{table}"')))
    finally:
        engine.dispose()
