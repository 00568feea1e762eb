"""``soundcharts serve`` and ``serve --admin``: what each server's kernels may do (a viewer's cannot write,
has no credentials; an admin's can, and never sees the token), and how the token is made, shown once and
required."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy.exc
from sqlalchemy.engine import make_url

from soundcharts_lib.config import PROJECT_ROOT, Settings
from soundcharts_lib.db import make_engine, upgrade
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.web.launch import (
    API_CREDENTIALS,
    FILL_DELAY_SECONDS,
    PREHEATED_PAGES,
    TOKEN_ENV,
    admin_token,
    free_port,
    kernel_pools,
    server_env,
    start_voila,
    voila_command,
    wait_ready,
)

pytestmark = pytest.mark.slow  # Voila servers and their kernels

TOKEN = "serve-test-token-0123456789"
PROBE = """import os
from sqlalchemy import text
from soundcharts_lib.db import engine_from_env
print("ENV", sorted(k for k in os.environ if k.startswith("SOUNDCHARTS_") and os.environ[k]))
from soundcharts_lib.config import Settings
s = Settings.from_env()
print("CREDENTIALS", bool(s.api_key.get()), bool(s.admin_token.get()), "END")
try:
    with engine_from_env().begin() as conn:
        conn.execute(text("INSERT INTO audit_event (at, actor, action, outcome) "
                          "VALUES ('2026-01-01', 'probe', 'write', 'success')"))
    print("WROTE")
except Exception as exc:
    print("REFUSED", type(exc).__name__)"""


POOLED_PROBE = ["""import os, sys
from soundcharts_lib.ui.common import Page""", """page = Page("Probe")
print("SERVED", os.getpid(), os.environ.get("QUERY_STRING"), "voila" in sys.modules, os.environ["VOILA_PREHEAT"])"""]


def _probe_folder(tmp_path: Path, name: str = "probe.ipynb", cells: list[str] = [PROBE]) -> Path:  # noqa: B006
    folder = tmp_path / "pages"
    folder.mkdir()
    notebook = {"cells": [{"cell_type": "code", "execution_count": None, "id": f"cell{i}", "metadata": {},
                           "outputs": [], "source": source} for i, source in enumerate(cells)],
                "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                            "name": "python3"}},
                "nbformat": 4, "nbformat_minor": 5}
    (folder / name).write_text(json.dumps(notebook))
    return folder


def _env(db_url: str, tmp_path: Path) -> dict:
    env = dict(os.environ, SOUNDCHARTS_DB_URL=db_url, SOUNDCHARTS_APP_ID="app",
               SOUNDCHARTS_API_KEY="key-1234", SOUNDCHARTS_LOG_FILE="off")
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        env[var] = str(tmp_path / var.lower())
    return env


def _render_probe(db_url: str, tmp_path: Path, *, admin: bool) -> str:
    """The probe page's text as the viewers' (or the admin) server renders it."""
    port = free_port()
    with (tmp_path / f"server-{port}.log").open("w") as log:
        proc = start_voila(port, env=_env(db_url, tmp_path), log=log, admin=admin,
                           token=TOKEN if admin else None, folder=_probe_folder(tmp_path))
        try:
            base = wait_ready(proc, port, timeout=90)
            headers = {"Authorization": f"token {TOKEN}"} if admin else {}
            return requests.get(f"{base}/voila/render/probe.ipynb", headers=headers, timeout=120).text
        finally:
            proc.terminate()
            proc.wait(timeout=15)


def _audit_rows(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT COUNT(*) FROM audit_event").scalar_one()
    finally:
        engine.dispose()


def test_a_viewer_page_cannot_write_and_has_no_credentials(engine, db_url, tmp_path):
    page = _render_probe(db_url, tmp_path, admin=False)
    assert "REFUSED" in page and "WROTE" not in page
    names = re.search(r"ENV \[([^\]]*)\]", page)[1]
    assert "SOUNDCHARTS_DB_READONLY" in names
    assert not any(name in names for name in (*API_CREDENTIALS, TOKEN_ENV))  # set, they are empty
    assert "CREDENTIALS False False END" in page
    assert _audit_rows(db_url) == 0


def test_a_viewer_kernel_does_not_get_the_credentials_back_from_dotenv(tmp_path, monkeypatch):
    """A key kept in the project's .env must not come back in a viewer's kernel, which loads .env itself."""
    dotenv = tmp_path / ".env"
    dotenv.write_text("SOUNDCHARTS_API_KEY=from-dotenv-key-123\nSOUNDCHARTS_ADMIN_TOKEN=from-dotenv-token-12345678\n")
    monkeypatch.setattr("soundcharts_lib.home.env_file", lambda *a, **k: dotenv)
    for name, value in server_env({"PATH": "/bin"}).items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    assert not settings.api_key.get() and not settings.admin_token.get()
    assert settings.db_readonly
    monkeypatch.delenv("SOUNDCHARTS_API_KEY")  # the check can fail: left out, the key comes back from .env
    assert Settings.from_env().api_key.get() == "from-dotenv-key-123"


def test_an_admin_page_writes_with_the_credentials_but_never_sees_the_token(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'admin.db'}"
    upgrade(make_engine(db_url))
    page = _render_probe(db_url, tmp_path, admin=True)
    assert "WROTE" in page
    names = re.search(r"ENV \[([^\]]*)\]", page)[1]
    assert "SOUNDCHARTS_API_KEY" in names
    assert TOKEN_ENV not in names and "SOUNDCHARTS_DB_READONLY" not in names
    assert TOKEN not in page
    assert _audit_rows(db_url) == 1


QUERY_PROBE = 'import os\nprint("QUERY", os.environ["QUERY_STRING"] or "-", os.environ["VOILA_REQUEST_URL"], "END")'


def test_the_start_up_links_token_never_reaches_a_kernel(tmp_path):
    """``serve --admin`` prints a link with ``?token=``: it logs the browser in, and the page's kernel gets the
    query string and the request URL without it."""
    port = free_port()
    with (tmp_path / "server.log").open("w") as log:
        proc = start_voila(port, env=_env(f"sqlite:///{tmp_path / 'x.db'}", tmp_path), log=log, admin=True,
                           token=TOKEN, folder=_probe_folder(tmp_path, cells=[QUERY_PROBE]))
        try:
            base = wait_ready(proc, port, timeout=90)
            page = requests.get(f"{base}/voila/render/probe.ipynb?token={TOKEN}&slug=a%2Bb", timeout=120)
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    assert page.status_code == 200 and page.cookies  # the token logged the browser in
    assert re.search(r"QUERY (\S+) (\S+) END", page.text).groups() == (
        "slug=a%2Bb", f"{base}/voila/render/probe.ipynb?slug=a%2Bb")
    assert TOKEN not in page.text


def test_a_long_running_page_is_kept_alive_without_inline_script(tmp_path):
    """Voila sends ``<script>window.voila_heartbeat()</script>`` while a cell runs longer than
    ``http_keep_alive_timeout``; the pages' Content-Security-Policy would block it: an HTML comment instead."""
    env = _env(f"sqlite:///{tmp_path / 'x.db'}", tmp_path)
    Path(env["JUPYTER_CONFIG_DIR"]).mkdir(parents=True)
    (Path(env["JUPYTER_CONFIG_DIR"]) / "voila.json").write_text(
        json.dumps({"VoilaConfiguration": {"http_keep_alive_timeout": 1}}))
    port = free_port()
    with (tmp_path / "server.log").open("w") as log:
        proc = start_voila(port, env=env, log=log, folder=_probe_folder(
            tmp_path, cells=["import time\ntime.sleep(3.5)\nprint('SLEPT')"]))
        try:
            page = requests.get(f"{wait_ready(proc, port, timeout=90)}/voila/render/probe.ipynb", timeout=120)
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    assert "SLEPT" in page.text and page.text.count("<!-- the page is still running -->") >= 2
    assert "voila_heartbeat()" not in page.text
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]


def test_server_environments():
    base = {"SOUNDCHARTS_API_KEY": "k", "SOUNDCHARTS_APP_ID": "a", "SOUNDCHARTS_CLIENT_SECRET": "s",
            TOKEN_ENV: "left-over-token-from-the-shell", "SOUNDCHARTS_DB_READONLY": "1", "PATH": "/bin"}
    viewer = server_env(base)
    emptied = dict.fromkeys((*API_CREDENTIALS, TOKEN_ENV), "")
    assert viewer == {"PATH": "/bin", "SOUNDCHARTS_DB_READONLY": "1", **emptied}
    admin = server_env(base, admin=True, token=TOKEN)
    assert admin[TOKEN_ENV] == TOKEN and "SOUNDCHARTS_DB_READONLY" not in admin
    assert admin["SOUNDCHARTS_API_KEY"] == "k"
    with pytest.raises(ConfigError, match="at least 16 characters"):
        server_env(base, admin=True, token="short")
    assert base[TOKEN_ENV] == "left-over-token-from-the-shell"  # the caller's dict is not changed


def test_admin_token_from_the_environment_or_made():
    assert admin_token(Settings.from_env({TOKEN_ENV: TOKEN})) == (TOKEN, False)
    made, generated = admin_token(Settings.from_env({}))
    assert generated and len(made) >= 40 and made != admin_token(Settings.from_env({}))[0]


def test_commands():
    viewer, admin = voila_command(8866), voila_command(8867, admin=True)
    assert "--WorkbenchVoila.admin=True" not in viewer and "--WorkbenchVoila.admin=True" in admin
    assert "--PasswordIdentityProvider.allow_password_change=False" in admin
    assert not any(TOKEN in part for part in admin)  # the token travels in the environment, never in argv
    pools = json.loads(next(p for p in viewer if p.startswith("--VoilaKernelManager.kernel_pools_config=")
                            ).split("=", 1)[1])
    assert pools == {"default": {"pool_size": 0}, **{page: {"pool_size": 1} for page in PREHEATED_PAGES}}
    assert "--VoilaConfiguration.preheat_kernel=True" in viewer
    assert f"--VoilaKernelManager.fill_delay={FILL_DELAY_SECONDS}" in viewer  # the served page loads first
    assert not any("preheat" in part or "pools" in part for part in admin)  # no idle kernels holding credentials
    assert "--MappingKernelManager.cull_interval=5" in voila_command(1, cull_idle_seconds=5)


def test_only_the_dashboards_pages_are_preheated(tmp_path):
    assert kernel_pools(tmp_path) == {}  # none of the pages: no pool at all
    (tmp_path / "track.ipynb").write_text("{}")
    (tmp_path / "mine.ipynb").write_text("{}")
    assert kernel_pools(tmp_path, 2) == {"default": {"pool_size": 0}, "track.ipynb": {"pool_size": 2}}
    assert kernel_pools(tmp_path, 0) == {}
    assert not any("preheat" in part for part in voila_command(1, folder=tmp_path, pool_size=0))


def _wait_for_log(path: Path, line: str, count: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while path.read_text().count(line) < count:
        assert time.monotonic() < deadline, f"{line!r} not logged {count} times:\n{path.read_text()[-3000:]}"
        time.sleep(0.3)


def test_preheated_pages_get_their_request_and_culling_keeps_the_pool(tmp_path):
    """A pooled kernel ran the page's imports before the request, then gets the request's query string (without
    importing Voila); once it served, idle culling ends it, and the next visit gets the pool's next kernel."""
    folder = _probe_folder(tmp_path, "chart.ipynb", POOLED_PROBE)
    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        proc = start_voila(port, env=_env(f"sqlite:///{tmp_path / 'x.db'}", tmp_path), log=log, folder=folder,
                           cull_idle_seconds=2)
        try:
            base = wait_ready(proc, port, timeout=90)
            served = []
            for visit in ("one", "two"):
                _wait_for_log(log_path, "Kernel pool of chart.ipynb is filled", len(served) + 1)
                page = requests.get(f"{base}/voila/render/chart.ipynb?slug={visit}", timeout=120).text
                # The page's JavaScript comes once, ahead of the cells: the browser loads it while they run.
                assert page.count("/voila.js") == 1 and page.index("/voila.js") < page.index('cell-index="1"')
                served.append(re.search(r"SERVED (\d+) (\S+) (\w+) (\w+)", page).groups())
                _wait_for_log(log_path, "seconds of inactivity", len(served))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    text = log_path.read_text()
    assert served[0][1:] == ("slug=one", "False", "False") and served[1][1:] == ("slug=two", "False", "False")
    assert served[0][0] != served[1][0]
    assert text.count("Using pre-heated kernel") == 2
    used = re.findall(r"Using pre-heated kernel: (\S+) for chart.ipynb", text)
    culled = re.findall(r"Culling '\w+' kernel '\w+' \((\S+)\)", text)
    assert culled[:2] == used  # each kernel that served a visit, and no pooled one
    assert "Kernel started" in text and "over TCP" not in text  # kernels talk over private Unix sockets


def _serve(args: list[str], env: dict, out: Path) -> subprocess.Popen:
    with out.open("w") as sink:
        return subprocess.Popen([sys.executable, "-m", "soundcharts_lib.cli", "serve", *args], env=env,
                                stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    """Ctrl-C, as a person would: the command stops its server."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_serve_admin_prints_a_made_token_once_and_it_is_required(tmp_path):
    upgrade(make_engine(f"sqlite:///{tmp_path / 'x.db'}"))
    env = _env(f"sqlite:///{tmp_path / 'x.db'}", tmp_path)
    env.pop(TOKEN_ENV, None)
    port = free_port()
    out = tmp_path / "serve.out"
    proc = _serve(["--admin", "--port", str(port)], env, out)
    try:
        deadline = time.monotonic() + 90
        while "Admin area on" not in out.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, out.read_text()
            time.sleep(0.2)
        token = re.search(rf"http://127\.0\.0\.1:{port}/voila/render/admin/charts\.ipynb\?token=(\S+)",
                          out.read_text())[1]
        base = wait_ready(proc, port, timeout=90)
        assert requests.get(f"{base}/voila/tree", allow_redirects=False).status_code == 302
        authorized = {"Authorization": f"token {token}"}
        assert requests.get(f"{base}/voila/tree", headers=authorized).status_code == 200
    finally:
        _stop(proc)
    assert out.read_text().count(token) == 1


def test_serve_admin_with_a_short_token_refuses_to_start(tmp_path):
    upgrade(make_engine(f"sqlite:///{tmp_path / 'x.db'}"))
    env = dict(_env(f"sqlite:///{tmp_path / 'x.db'}", tmp_path), **{TOKEN_ENV: "short"})
    res = subprocess.run([sys.executable, "-m", "soundcharts_lib.cli", "serve", "--admin", "--port",
                          str(free_port())], env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert res.stderr.strip() == f"soundcharts serve: error: {TOKEN_ENV} must have at least 16 characters"


# --- PostgreSQL viewers connect as a role that cannot write ----------------------------------------------------------

def _readme_role_sql() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("\n## A read-only PostgreSQL role\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```sql\n(.*?)```", section, re.S)[1]


@pytest.fixture
def viewer_url(pg_url):
    """A migrated PostgreSQL database and a viewers' role made there by the README's own statements: its URL."""
    owner = make_engine(pg_url)
    upgrade(owner)
    url = make_url(pg_url)
    role, password = f"viewer_{uuid.uuid4().hex[:8]}", f"CANARY-viewer-{uuid.uuid4().hex[:8]}"
    sql = (_readme_role_sql().replace("soundcharts_viewer", role).replace("choose-a-password", password)
           .replace("DATABASE soundcharts ", f'DATABASE "{url.database}" '))
    with owner.begin() as conn:
        for statement in filter(None, (part.strip() for part in sql.split(";"))):
            conn.exec_driver_sql(statement)
    yield url.set(username=role, password=password).render_as_string(hide_password=False)
    with owner.begin() as conn:
        conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
        conn.exec_driver_sql(f'DROP ROLE "{role}"')
    owner.dispose()


def _serve_until_ready(args: list[str], db_url: str, tmp_path: Path) -> str:
    """``soundcharts serve ARGS`` started, a page rendered and the server stopped: its output."""
    port, out = free_port(), tmp_path / f"serve-{free_port()}.out"
    proc = _serve(["--port", str(port), *args], _env(db_url, tmp_path), out)
    try:
        base = wait_ready(proc, port, timeout=90)
        assert requests.get(f"{base}/voila/render/overview.ipynb", timeout=120).status_code == 200
    finally:
        _stop(proc)
    return out.read_text()


@pytest.mark.postgres
def test_serve_refuses_a_postgresql_role_that_can_write(pg_url, tmp_path):
    upgrade(make_engine(pg_url))
    res = subprocess.run([sys.executable, "-m", "soundcharts_lib.cli", "serve", "--port", str(free_port())],
                         env=_env(pg_url, tmp_path), capture_output=True, text=True, timeout=60)
    role, password = make_url(pg_url).username, make_url(pg_url).password
    assert res.returncode == 2 and res.stdout == "", res
    assert re.fullmatch(rf"soundcharts serve: error: the database role '{role}' can write to \d+ tables "
                        r"\(alembic_version, \w+, \w+, \.\.\.\): viewers must connect as a read-only "
                        r"role \(README: A read-only PostgreSQL role\), or pass --allow-writable-db\n", res.stderr)
    assert password not in res.stderr
    assert "Dashboards on" in _serve_until_ready(["--allow-writable-db"], pg_url, tmp_path)  # asked for


@pytest.mark.postgres
def test_the_readme_read_only_role_cannot_write_and_serves(viewer_url, tmp_path):
    viewer = make_engine(viewer_url)
    try:
        with pytest.raises(sqlalchemy.exc.ProgrammingError, match="permission denied for table audit_event"), \
                viewer.begin() as conn:
            conn.exec_driver_sql("SET default_transaction_read_only = off")  # what any SQL in a kernel may do
            conn.exec_driver_sql("SET transaction_read_only = off")
            conn.exec_driver_sql("INSERT INTO audit_event (at, actor, action, outcome) "
                                 "VALUES (now(), 'probe', 'write', 'success')")
    finally:
        viewer.dispose()
    shown = _serve_until_ready([], viewer_url, tmp_path)
    assert "Dashboards on" in shown and make_url(viewer_url).password not in shown
