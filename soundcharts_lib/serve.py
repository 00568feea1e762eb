"""Serving the dashboards with Voila on 127.0.0.1, idle kernels culled."""

from __future__ import annotations

import os
import subprocess
import sys

from .config import PROJECT_ROOT

DASHBOARDS = PROJECT_ROOT / "dashboards"


def voila_command(port: int, *, folder=DASHBOARDS, cull_idle_seconds: int = 600) -> list[str]:
    return [
        sys.executable, "-m", "voila", str(folder), "--no-browser", f"--port={port}",
        "--Voila.ip=127.0.0.1",
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_seconds}",
        "--MappingKernelManager.cull_interval=60",
        "--MappingKernelManager.cull_connected=True",
    ]


def start_voila(port: int, *, env: dict | None = None, log=None) -> subprocess.Popen:
    """Start Voila on ``port``; dashboards open the database read-only."""
    child_env = dict(os.environ if env is None else env)
    child_env["SOUNDCHARTS_DB_READONLY"] = "1"
    return subprocess.Popen(voila_command(port), env=child_env, cwd=str(DASHBOARDS),
                            stdout=log, stderr=subprocess.STDOUT if log else None)
