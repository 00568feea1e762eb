"""Serving the dashboards and the JSON endpoints on one port of 127.0.0.1, idle kernels culled.

The server is :class:`soundcharts_lib.web.app.WorkbenchVoila` (Voila plus ``/soundcharts/...`` handlers);
it exposes no Jupyter REST API. Its process opens the database read-only.
"""

from __future__ import annotations

import os
import subprocess
import sys

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
