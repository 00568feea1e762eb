"""Serving the dashboards and the JSON endpoints on one port of 127.0.0.1, idle kernels culled.

The server is :class:`soundcharts_lib.web.app.WorkbenchVoila` (Voila plus ``/soundcharts/...`` handlers); it
exposes no Jupyter REST API. Two ways to run it:

- viewers: ``dashboards/`` without ``admin/``, the database opened read-only, no API credentials in its
  environment (so none in its kernels), no token;
- admin: every page plus ``admin/``, behind a token; its kernels get the API credentials and a writable
  database.

The viewers' pages are preheated: Voila keeps ``POOL_SIZE`` kernels per page that started and ran the page's
imports before any request, so a visit skips kernel start-up and imports (~1 s). A pooled kernel waits for its
request's query string (:func:`soundcharts_lib.ui.params.request_query_string`) before reading anything, so its data
is never older than the request. Pooled kernels are never culled; one that served a page is an ordinary kernel,
culled after ``cull_idle_seconds`` idle, and the pool starts its replacement ``FILL_DELAY_SECONDS`` after it hands
it out, once that page has loaded (Voila's 1 s put ~0.8 s of the new kernel's CPU into that page's load on a 2-core
machine); the price: a second visit of the same page within those seconds waits for them and a kernel start.
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from soundcharts_lib.config import VARIABLES, Settings, environment
from soundcharts_lib.curation.audit import ACTOR_HEADER
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.home import dashboards_dir
from soundcharts_lib.web.processes import stop_on_signals, stop_started

DASHBOARDS = dashboards_dir()
TOKEN_ENV = VARIABLES["admin_token"].name
READONLY_ENV = VARIABLES["db_readonly"].name
MIN_TOKEN_LENGTH = 16
VIEWER_PORT = 8866
ADMIN_PORT = 8867
PREHEATED_PAGES = ("overview.ipynb", "chart.ipynb", "track.ipynb", "platform.ipynb", "labels.ipynb",
                   "compare.ipynb", "artist.ipynb")  # the viewer pages: they wait for their request
POOL_SIZE = 1
FILL_DELAY_SECONDS = 3  # the served page loads (~2 s) before its pool starts the next kernel (2-3 s of CPU)
API_CREDENTIALS = tuple(VARIABLES[name].name for name in ("app_id", "api_key", "client_id", "client_secret"))


def kernel_pools(folder=DASHBOARDS, pool_size: int = POOL_SIZE) -> dict:
    """Voila's ``kernel_pools_config``: ``pool_size`` preheated kernels for each of ``PREHEATED_PAGES`` in
    ``folder``, none for any other notebook (custom pages, ``admin/``); empty when nothing is to be preheated."""
    pages = [page for page in PREHEATED_PAGES if (Path(folder) / page).is_file()] if pool_size > 0 else []
    if not pages:
        return {}
    return {"default": {"pool_size": 0}, **{page: {"pool_size": pool_size} for page in pages}}


def voila_command(port: int, *, folder=DASHBOARDS, admin: bool = False, cull_idle_seconds: int = 600,
                  pool_size: int = POOL_SIZE) -> list[str]:
    """The server's command line. Idle kernels are culled after ``cull_idle_seconds``; the viewers' server keeps
    ``pool_size`` preheated kernels per page (the admin server none: its pages are for a few operators, and its
    pooled kernels would hold the credentials and a writable database while they wait)."""
    command = [
        sys.executable, "-m", "soundcharts_lib.web.app", str(folder), "--no-browser", f"--port={port}",
        "--Voila.ip=127.0.0.1", "--Voila.port_retries=0",
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_seconds}",
        f"--MappingKernelManager.cull_interval={min(60, cull_idle_seconds)}",
        "--MappingKernelManager.cull_connected=True",
        "--KernelManager.transport=ipc",  # kernels on private Unix sockets, not on TCP ports other users can reach
    ]
    pools = {} if admin else kernel_pools(folder, pool_size)
    if pools:
        command += ["--VoilaConfiguration.preheat_kernel=True",
                    f"--VoilaKernelManager.kernel_pools_config={json.dumps(pools)}",
                    f"--VoilaKernelManager.fill_delay={FILL_DELAY_SECONDS}"]
    if admin:  # the token cannot be swapped for a password; a proxy's user header reaches the kernel
        command += ["--WorkbenchVoila.admin=True", "--PasswordIdentityProvider.allow_password_change=False",
                    f"--VoilaConfiguration.http_header_envs={ACTOR_HEADER}"]
    return command


def server_env(base: dict, *, admin: bool = False, token: str | None = None) -> dict:
    """The server's environment: a viewer's has no credentials and opens the database read-only; an admin's
    carries ``token`` (the server removes it from its own environment at start).

    What a viewer must not have is set empty, not left out: the kernels load the project's ``.env`` without
    overriding what is set, so a key kept there would otherwise come back (empty means unset to the settings)."""
    env = dict(base)
    if admin:
        if not token or len(token) < MIN_TOKEN_LENGTH:
            raise ConfigError(f"{TOKEN_ENV} must have at least {MIN_TOKEN_LENGTH} characters")
        env[TOKEN_ENV] = token
        env.pop(READONLY_ENV, None)
    else:
        env.update(dict.fromkeys((*API_CREDENTIALS, TOKEN_ENV), ""))
        env[READONLY_ENV] = "1"
    return env


def admin_token(settings: Settings) -> tuple[str, bool]:
    """``(token, generated)``: the settings' (``SOUNDCHARTS_ADMIN_TOKEN``) when set, else a new random one."""
    given = settings.admin_token.get()
    return (given, False) if given else (secrets.token_urlsafe(32), True)


def start_voila(port: int, *, env: dict | None = None, log=None, admin: bool = False,
                token: str | None = None, folder=DASHBOARDS, **options) -> subprocess.Popen:
    """Start the dashboards + endpoints server on ``port``: the viewers' (read-only database) unless ``admin``
    (then ``token`` is required); ``options`` go to :func:`voila_command`.

    The server runs in a session of its own: a signal to the caller's process group (Ctrl-C, a closed terminal)
    reaches the caller only, which stops the server and its kernels in order (:func:`serve`). ``env`` (default:
    this process's environment) is trimmed by :func:`server_env`; the server and its kernels read their settings
    from it."""
    child_env = server_env(environment() if env is None else env, admin=admin, token=token)
    return subprocess.Popen(voila_command(port, folder=folder, admin=admin, **options), env=child_env,
                            cwd=str(folder), start_new_session=True,
                            stdout=log, stderr=subprocess.STDOUT if log else None)


def serve(port: int | None = None, *, settings: Settings, admin: bool = False) -> int:
    """``soundcharts serve [--admin]``: start the server, say where it is, wait. Ctrl-C, SIGTERM and SIGHUP stop
    it and every kernel it started (:mod:`soundcharts_lib.web.processes`), as does the server ending by itself.
    The server's exit code, or 0 when a signal stopped it."""
    port = port or (ADMIN_PORT if admin else VIEWER_PORT)
    base = f"http://127.0.0.1:{port}"
    stop_on_signals()  # before the server starts: no moment in which a signal would leave it running
    try:
        if admin:
            token, generated = admin_token(settings)
            proc = start_voila(port, env=settings.child_env(), admin=True, token=token)
            where = f"{base}/voila/render/admin/charts.ipynb"
            if generated:  # shown once, here only: the server never logs it
                print(f"Admin area on {where}?token={token}\n"
                      "(a token made for this run; set SOUNDCHARTS_ADMIN_TOKEN to choose one)", flush=True)
            else:
                print(f"Admin area on {where} (log in with SOUNDCHARTS_ADMIN_TOKEN)", flush=True)
            print("Ctrl-C stops", flush=True)
        else:
            proc = start_voila(port, env=settings.child_env())
            print(f"Dashboards on {base}/voila/render/overview.ipynb\n"
                  f"JSON endpoints on {base}/soundcharts/audience/chart/<track_uuid>/[<platform>/] "
                  f"(OpenAPI: {base}/soundcharts/openapi.json)  Ctrl-C stops", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop_started()


def refuse_writable_db(db_url: str) -> None:
    """``ConfigError`` (one line) when the viewers' PostgreSQL connection may change any table: their read-only
    transactions (``default_transaction_read_only``) can be switched off by any SQL a kernel runs, a role's
    privileges cannot. SQLite's read-only mode is the file's: nothing to check."""
    from sqlalchemy.engine import make_url

    from soundcharts_lib.db import make_engine
    from soundcharts_lib.db.privileges import writable_tables

    if make_url(db_url).get_backend_name() != "postgresql":
        return
    engine = make_engine(db_url, read_only=True)
    try:
        role, tables = writable_tables(engine)
    finally:
        engine.dispose()
    if tables:
        shown = ", ".join(tables[:3]) + (", ..." if len(tables) > 3 else "")
        raise ConfigError(f"the database role {role!r} can write to {len(tables)} tables ({shown}): viewers must "
                          "connect as a read-only role (README: A read-only PostgreSQL role), "
                          "or pass --allow-writable-db")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(proc: subprocess.Popen, port: int, timeout: float = 40.0) -> str:
    """Wait until the server answers its static files; its base URL. ``RuntimeError`` if it exits or hangs."""
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/voila/static/voila.js", timeout=2) as resp:
                if resp.status == 200:
                    return url
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer on {url} within {timeout:.0f}s")
