"""``pip install .`` (not editable) gives a working product anywhere. The wheel is built from the checkout, installed
with its dependencies (pinned by ``constraints.txt``) into a fresh virtualenv, and run as an operator would, from a
folder outside the checkout with ``SOUNDCHARTS_HOME`` set: ``init-db``, the local API, the chart-sync job, the
dashboards. What it writes lands in ``SOUNDCHARTS_HOME``; the installation is left as pip laid it out."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from soundcharts_lib.home import FOLDERS
from soundcharts_lib.web.launch import free_port, wait_ready

ROOT = Path(__file__).resolve().parent.parent
LEFT_OUT = re.compile(r"(^|/)(\.[^/]*|__pycache__)(/|$)|\.pyc$")  # what the wheel leaves out (setup.py's LEFT_OUT)

# a pip install of the whole stack: ~40 s here with pip's cache, more without
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


def _run(command: list, *, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=timeout,
                          **kwargs)
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder``: its size and modification time."""
    return {str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
            for path in folder.rglob("*") if path.is_file() or path.is_symlink()}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "-q", "-w", out], cwd=ROOT, timeout=300)
    (built,) = out.glob("soundcharts_workbench-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Iterator[SimpleNamespace]:
    """A fresh virtualenv with the wheel and its dependencies, and what its folder held right after pip."""
    prefix = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", prefix])
    python = prefix / "bin" / "python"
    _run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-c", ROOT / "constraints.txt", wheel],
         timeout=900)
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    yield SimpleNamespace(prefix=prefix, bin=prefix / "bin", site=site, installed=_files(prefix))
    shutil.rmtree(prefix, ignore_errors=True)  # ~450 MB


@pytest.fixture(scope="module")
def operator(venv, tmp_path_factory) -> SimpleNamespace:
    """An operator's shell: the venv's commands first on PATH, a home folder of their own, ``SOUNDCHARTS_HOME``
    set, nothing of the checkout's environment, working in a folder outside the checkout."""
    base = tmp_path_factory.mktemp("operator")
    cwd, user, home = base / "elsewhere", base / "user", base / "soundcharts-home"
    cwd.mkdir()
    user.mkdir()
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("SOUNDCHARTS_", "JUPYTER_", "XDG_", "PYTHON", "VIRTUAL_ENV"))
           and name != "IPYTHONDIR"}
    env.update(HOME=str(user), PATH=f"{venv.bin}{os.pathsep}{env.get('PATH', '')}", SOUNDCHARTS_HOME=str(home))
    assert not cwd.is_relative_to(ROOT) and not home.is_relative_to(ROOT)
    return SimpleNamespace(env=env, cwd=cwd, home=home, user=user)


def test_the_wheel_carries_the_notebook_folders_and_every_package_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = [str(path.relative_to(ROOT)) for top in (*FOLDERS, "soundcharts_lib") for path in (ROOT / top).rglob("*")
               if path.is_file()]
    expected = {name if name.startswith("soundcharts_lib/") else f"soundcharts_lib/_bundled/{name}"
                for name in shipped if not LEFT_OUT.search(name)}
    assert {"soundcharts_lib/_bundled/dashboards/admin/charts.ipynb",
            "soundcharts_lib/_bundled/scheduled/sync_charts.ipynb", "soundcharts_lib/web/templates/index.html.j2",
            "soundcharts_lib/web/static/workbench-page.js", "soundcharts_lib/web/openapi.yaml",
            "soundcharts_lib/db/migrations/script.py.mako"} <= expected
    assert not expected - names, f"missing from the wheel: {sorted(expected - names)}"
    assert not [name for name in names if LEFT_OUT.search(name)]


def test_the_installed_product_runs_from_the_venv_with_its_data_in_soundcharts_home(venv, operator):
    shown = _run([venv.bin / "python", "-c", "import soundcharts_lib, soundcharts_lib.home as h; "
                  "print(soundcharts_lib.__file__, h.checkout(), h.data_dir(), h.runs_dir(), h.dashboards_dir(), "
                  "h.scheduled_dir(), h.notebooks_dir(), sep='\\n')"], env=operator.env, cwd=operator.cwd)
    package, checkout, data, runs, *folders = shown.stdout.split("\n")[:7]
    assert Path(package).is_relative_to(venv.site) and checkout == "None"
    assert (data, runs) == (str(operator.home), str(operator.home / "runs"))
    assert folders == [str(venv.site / "soundcharts_lib" / "_bundled" / name) for name in FOLDERS]
    assert (Path(folders[0]) / "admin" / "charts.ipynb").is_file()
    assert (Path(folders[1]) / "sync_charts.ipynb").is_file()
    assert (Path(folders[2]) / "01_getting_started.ipynb").is_file()


def test_an_operator_syncs_and_serves_from_any_folder_writing_only_to_soundcharts_home(venv, operator):
    soundcharts, env, home = venv.bin / "soundcharts", operator.env, operator.home
    database = home / "soundcharts.db"
    ready = _run([soundcharts, "init-db"], env=env, cwd=operator.cwd).stdout
    assert f"sqlite:///{database}" in ready and database.is_file()

    api = subprocess.Popen([str(soundcharts), "localapi", "--port", "0", "--seed", "1"], env=env, cwd=operator.cwd,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        api_url = re.search(r"Local SoundCharts API on (http://127\.0\.0\.1:\d+)", api.stdout.readline())[1]
        job_env = dict(env, SOUNDCHARTS_API_URL=api_url, SOUNDCHARTS_APP_ID="soundcharts",
                       SOUNDCHARTS_API_KEY="soundcharts")
        job = _run([soundcharts, "run-job", "sync_charts", "-p", "platforms", "spotify"], env=job_env,
                   cwd=operator.cwd, timeout=300)
    finally:
        api.terminate()
        api.wait(timeout=15)
    archived = Path(re.search(r"job sync_charts done: (\S+\.ipynb)", job.stdout)[1])
    assert archived.is_relative_to(home / "runs") and archived.is_file() and archived.with_suffix(".log").is_file()
    with sqlite3.connect(database) as conn:
        entries = conn.execute("SELECT COUNT(*) FROM chart_ranking_entry").fetchone()[0]
        track, name = conn.execute("SELECT uuid, name FROM track ORDER BY uuid LIMIT 1").fetchone()
    assert entries > 0

    port = free_port()
    with (operator.user / "serve.log").open("w") as log:
        serve = subprocess.Popen([str(soundcharts), "serve", "--port", str(port)], env=env, cwd=operator.cwd,
                                 stdout=log, stderr=subprocess.STDOUT)
        try:
            base = wait_ready(serve, port, timeout=90)
            page = requests.get(f"{base}/voila/render/overview.ipynb", timeout=120)
            series = requests.get(f"{base}/soundcharts/audience/chart/{track}/", timeout=30)
        finally:
            serve.send_signal(signal.SIGTERM)  # stops Voila and its kernels too
            serve.wait(timeout=60)
    assert page.status_code == 200, page.text[-2000:]
    assert "<title>overview</title>" in page.text and 'id="cell-id=page"' in page.text
    assert "application/vnd.jupyter.widget-view+json" in page.text and "Traceback" not in page.text
    assert series.status_code == 200 and series.json()["track"]["name"] == name  # served from the same database

    assert (home / "logs" / "soundcharts.log").is_file() and (home / "http_cache.sqlite").is_file()
    assert not list(operator.cwd.iterdir()), "nothing is written into the folder the commands run from"
    changed = {path for path, stat in _files(venv.prefix).items() if venv.installed.get(path) != stat}
    assert not changed, f"written into the installation: {sorted(changed)[:20]}"
