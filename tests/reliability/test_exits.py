"""Clean exits: ``serve``, ``serve --admin``, ``demo`` and ``localapi``, each a real command in a process group of
its own, stop every process they started (Voila, every kernel, the sync's kernel, the local API) on SIGTERM and
SIGHUP as on Ctrl-C, within 10 s; a command whose reader leaves (``| head -1``) ends without a traceback; INFO
logs show the project's records, not Alembic's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
from cli.test_maintenance_cli import CHART, soundcharts, synced  # noqa: F401  (fixture)

from soundcharts_lib.db import make_engine, upgrade
from soundcharts_lib.web.launch import TOKEN_ENV, free_port

pytestmark = pytest.mark.slow  # servers and demo started and stopped

STOP_WITHIN = 10.0
TOKEN = "exits-test-token-0123456789"
KERNEL = "ipykernel_launcher"
OWN_FRAMES = [f'soundcharts_lib/{name}.py"' for name in ("cli", "serve", "demo", "processes")]


def _env(tmp_path: Path, **extra) -> dict:
    env = dict(os.environ, SOUNDCHARTS_DB_URL=f"sqlite:///{tmp_path / 'exits.db'}", SOUNDCHARTS_LOG_FILE="off",
               SOUNDCHARTS_RUNS_DIR=str(tmp_path / "runs"), SOUNDCHARTS_CACHE_BACKEND="memory")
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[var] = str(tmp_path / var.lower())
    env.update(extra)
    return env


def _database(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'exits.db'}")
    upgrade(engine)
    engine.dispose()


def _start(args: list[str], env: dict, out: Path) -> subprocess.Popen:
    with out.open("w") as sink:
        return subprocess.Popen([sys.executable, "-m", "soundcharts_lib.cli", *args], env=env, stdout=sink,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _get(url: str, timeout: float = 120) -> int:
    """The status of a GET (an HTTP error status counts: the server answered)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _wait_answer(proc: subprocess.Popen, url: str, out: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, out.read_text()[-3000:]
        try:
            _get(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"no answer from {url}: {out.read_text()[-3000:]}")


def _family(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _kernels(family: list[psutil.Process]) -> list[psutil.Process]:
    return [p for p in family if any(KERNEL in part for part in p.cmdline())]


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _in_group(pgid: int) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and _alive(process):
                found.append(process)
        except (ProcessLookupError, psutil.Error):
            pass
    return found


def _stop_and_check(proc: subprocess.Popen, sig: signal.Signals, *, group: bool, min_kernels: int,
                    out: Path) -> float:
    """Send ``sig`` (to the whole group, as a closed terminal does, or to the command); every process of the
    command's tree and group is gone within ``STOP_WITHIN`` seconds. The seconds it took."""
    family = _family(proc.pid)
    assert len(_kernels(family)) >= min_kernels, [p.cmdline() for p in family]
    sent = time.monotonic()
    if group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    try:
        proc.wait(timeout=STOP_WITHIN)
        while time.monotonic() - sent < STOP_WITHIN and (any(map(_alive, family)) or _in_group(proc.pid)):
            time.sleep(0.1)
        took = time.monotonic() - sent
        survivors = [p.cmdline() for p in family if _alive(p)] + [p.cmdline() for p in _in_group(proc.pid)]
        assert not survivors, f"alive {took:.1f} s after {sig.name}: {survivors}\n{out.read_text()[-3000:]}"
        # the command itself ends without a traceback (a kernel Voila interrupts while it starts may print one)
        assert not [own for own in OWN_FRAMES if own in out.read_text()], out.read_text()[-3000:]
        return took
    finally:
        for process in family:  # whatever a failure left behind
            if _alive(process):
                process.kill()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(("admin", "sig", "group"), [
    (False, signal.SIGTERM, False),
    (False, signal.SIGHUP, True),  # a closed terminal: the whole foreground group
    (True, signal.SIGTERM, False),
], ids=["viewers-SIGTERM", "viewers-SIGHUP-group", "admin-SIGTERM"])
def test_serve_stops_voila_and_every_kernel(tmp_path, admin, sig, group):
    _database(tmp_path)
    port, out = free_port(), tmp_path / "serve.out"
    env = _env(tmp_path, **{TOKEN_ENV: TOKEN}) if admin else _env(tmp_path)
    proc = _start(["serve", "--port", str(port), *(["--admin"] if admin else [])], env, out)
    base = f"http://127.0.0.1:{port}"
    _wait_answer(proc, f"{base}/voila/static/voila.js", out)
    page = f"{base}/voila/render/admin/charts.ipynb?token={TOKEN}" if admin else f"{base}/voila/render/overview.ipynb"
    assert _get(page) == 200  # the page's kernel exists (the viewers' server also keeps preheated ones)
    took = _stop_and_check(proc, sig, group=group, min_kernels=1 if admin else 2, out=out)
    print(f"serve{' --admin' if admin else ''}: everything gone {took:.1f} s after {sig.name}")


def test_demo_stops_its_sync_kernel_voila_its_kernels_and_the_local_api(tmp_path):
    port, api_port, out = free_port(), free_port(), tmp_path / "demo.out"
    proc = _start(["demo", "--port", str(port), "--api-port", str(api_port), "--backfill-days", "1"],
                  _env(tmp_path), out)
    _wait_answer(proc, f"http://127.0.0.1:{port}/voila/static/voila.js", out)
    assert _get(f"http://127.0.0.1:{port}/voila/render/overview.ipynb") == 200
    _stop_and_check(proc, signal.SIGTERM, group=False, min_kernels=2, out=out)
    with pytest.raises(OSError):  # the local API went with it
        _get(f"http://127.0.0.1:{api_port}/api/v2/chart/song/platforms", timeout=2)


def test_demo_stopped_during_its_sync_leaves_no_kernel(tmp_path):
    port, api_port, out = free_port(), free_port(), tmp_path / "demo.out"
    proc = _start(["demo", "--port", str(port), "--api-port", str(api_port), "--backfill-days", "28"],
                  _env(tmp_path), out)
    deadline = time.monotonic() + 120
    while not _kernels(_family(proc.pid)):  # the sync notebook's kernel is running
        assert proc.poll() is None and time.monotonic() < deadline, out.read_text()[-3000:]
        time.sleep(0.2)
    _stop_and_check(proc, signal.SIGTERM, group=False, min_kernels=1, out=out)
    assert "stopping ..." in out.read_text()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_localapi_stops_on_sigterm_and_sighup(tmp_path, sig):
    port, out = free_port(), tmp_path / "localapi.out"
    proc = _start(["localapi", "--port", str(port)], _env(tmp_path), out)
    _wait_answer(proc, f"http://127.0.0.1:{port}/api/v2/chart/song/platforms", out, timeout=60)
    _stop_and_check(proc, sig, group=False, min_kernels=0, out=out)
    assert proc.returncode == 0


@pytest.mark.parametrize("args", [["health", "--skip-api"], ["export", "chart-ranking", "--chart", CHART]])
def test_a_reader_that_leaves_ends_the_command_quietly(synced, args):  # noqa: F811
    """``soundcharts ... | head -1`` as a shell runs it, then a reader that closed its end before the command
    wrote anything (a broken pipe every time): no traceback, no "Exception ignored", exit 141 as after SIGPIPE."""
    env = dict(os.environ, SOUNDCHARTS_LOG_FILE="off", **synced[1])
    command = [sys.executable, "-m", "soundcharts_lib.cli", *args]
    piped = subprocess.run(["sh", "-c", " ".join(command) + " | head -1"], env=env, capture_output=True,
                           text=True, timeout=120)
    assert piped.returncode == 0 and piped.stderr == "" and len(piped.stdout.splitlines()) == 1, piped
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141 and err == ""


def test_info_logs_show_the_project_not_alembic(api_env, tmp_path):
    env = {"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'info.db'}", "SOUNDCHARTS_LOG_LEVEL": "INFO"}
    res = soundcharts("sync-charts", "--chart", CHART, "--quiet", env=env)
    assert res.returncode == 0, res.stderr
    assert "INFO soundcharts_lib.db.runs: run 1 started: sync_charts (cli)" in res.stderr
    assert "INFO soundcharts_lib.db.runs: run 1 finished: success" in res.stderr
    assert "Context impl" not in res.stderr and "Will assume" not in res.stderr and "alembic" not in res.stderr
    debug = soundcharts("init-db", env=dict(env, SOUNDCHARTS_DB_URL=f"sqlite:///{tmp_path / 'debug.db'}",
                                            SOUNDCHARTS_LOG_LEVEL="DEBUG"))
    assert "INFO alembic.runtime.migration: Context impl SQLiteImpl." in debug.stderr  # asked for everything
