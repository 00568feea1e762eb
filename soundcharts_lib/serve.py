"""Serving the dashboards and the JSON endpoints on one port of 127.0.0.1, idle kernels culled.

The server is :class:`soundcharts_lib.web.app.WorkbenchVoila` (Voila plus ``/soundcharts/...`` handlers);
it exposes no Jupyter REST API. Its process opens the database read-only.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

from .config import PROJECT_ROOT

DASHBOARDS = PROJECT_ROOT / "dashboards"


def voila_command(port: int, *, folder=DASHBOARDS, cull_idle_seconds: int = 600) -> list[str]:
    return [
        sys.executable, "-m", "soundcharts_lib.web.app", str(folder), "--no-browser", f"--port={port}",
        "--Voila.ip=127.0.0.1", "--Voila.port_retries=0",
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_seconds}",
        "--MappingKernelManager.cull_interval=60",
        "--MappingKernelManager.cull_connected=True",
    ]


def start_voila(port: int, *, env: dict | None = None, log=None) -> subprocess.Popen:
    """Start the dashboards + endpoints server on ``port``; it opens the database read-only."""
    child_env = dict(os.environ if env is None else env)
    child_env["SOUNDCHARTS_DB_READONLY"] = "1"
    return subprocess.Popen(voila_command(port), env=child_env, cwd=str(DASHBOARDS),
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
