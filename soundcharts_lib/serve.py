"""Serving the dashboards and the JSON endpoints on one port of 127.0.0.1, idle kernels culled.

The server is :class:`soundcharts_lib.web.app.WorkbenchVoila` (Voila plus ``/soundcharts/...`` handlers); it
exposes no Jupyter REST API. Two ways to run it:

- viewers: ``dashboards/`` without ``admin/``, the database opened read-only, no API credentials in its
  environment (so none in its kernels), no token;
- admin: every page plus ``admin/``, behind a token; its kernels get the API credentials and a writable
  database.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request

from .audit import ACTOR_HEADER
from .config import PROJECT_ROOT
from .errors import ConfigError

DASHBOARDS = PROJECT_ROOT / "dashboards"
TOKEN_ENV = "SOUNDCHARTS_ADMIN_TOKEN"
MIN_TOKEN_LENGTH = 16
VIEWER_PORT = 8866
ADMIN_PORT = 8867
API_CREDENTIALS = ("SOUNDCHARTS_APP_ID", "SOUNDCHARTS_API_KEY", "SOUNDCHARTS_CLIENT_ID",
                   "SOUNDCHARTS_CLIENT_SECRET")


def voila_command(port: int, *, folder=DASHBOARDS, admin: bool = False,
                  cull_idle_seconds: int = 600) -> list[str]:
    command = [
        sys.executable, "-m", "soundcharts_lib.web.app", str(folder), "--no-browser", f"--port={port}",
        "--Voila.ip=127.0.0.1", "--Voila.port_retries=0",
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_seconds}",
        "--MappingKernelManager.cull_interval=60",
        "--MappingKernelManager.cull_connected=True",
    ]
    if admin:  # the token cannot be swapped for a password; a proxy's user header reaches the kernel
        command += ["--WorkbenchVoila.admin=True", "--PasswordIdentityProvider.allow_password_change=False",
                    f"--VoilaConfiguration.http_header_envs={ACTOR_HEADER}"]
    return command


def server_env(base: dict, *, admin: bool = False, token: str | None = None) -> dict:
    """The server's environment: a viewer's has no credentials and opens the database read-only; an admin's
    carries ``token`` (the server removes it from its own environment at start)."""
    env = dict(base)
    env.pop(TOKEN_ENV, None)
    if admin:
        if not token or len(token) < MIN_TOKEN_LENGTH:
            raise ConfigError(f"{TOKEN_ENV} must have at least {MIN_TOKEN_LENGTH} characters")
        env[TOKEN_ENV] = token
        env.pop("SOUNDCHARTS_DB_READONLY", None)
    else:
        for name in API_CREDENTIALS:
            env.pop(name, None)
        env["SOUNDCHARTS_DB_READONLY"] = "1"
    return env


def admin_token(env: dict | None = None) -> tuple[str, bool]:
    """``(token, generated)``: ``SOUNDCHARTS_ADMIN_TOKEN`` when set, else a new random one."""
    given = (os.environ if env is None else env).get(TOKEN_ENV, "")
    return (given, False) if given else (secrets.token_urlsafe(32), True)


def start_voila(port: int, *, env: dict | None = None, log=None, admin: bool = False,
                token: str | None = None, folder=DASHBOARDS) -> subprocess.Popen:
    """Start the dashboards + endpoints server on ``port``: the viewers' (read-only database) unless ``admin``
    (then ``token`` is required)."""
    child_env = server_env(os.environ if env is None else env, admin=admin, token=token)
    return subprocess.Popen(voila_command(port, folder=folder, admin=admin), env=child_env, cwd=str(folder),
                            stdout=log, stderr=subprocess.STDOUT if log else None)


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
