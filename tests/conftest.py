"""Shared fixtures: Jupyter state kept in a temp dir, the local API, fresh SQLite / PostgreSQL databases."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "test-output"

# Jupyter, IPython and papermill's kernels write under $HOME unless told otherwise (jupyter-notes.md).
_STATE = Path(tempfile.mkdtemp(prefix="scw-jupyter-"))
for _var, _sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                   ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython")):
    os.environ.setdefault(_var, str(_STATE / _sub))
os.environ.setdefault("SOUNDCHARTS_LOG_FILE", str(_STATE / "soundcharts.log"))
# Never let a developer's .env or real credentials reach a test.
for _var in ("SOUNDCHARTS_API_URL", "SOUNDCHARTS_APP_ID", "SOUNDCHARTS_API_KEY", "SOUNDCHARTS_CLIENT_ID",
             "SOUNDCHARTS_CLIENT_SECRET", "SOUNDCHARTS_DB_URL", "SOUNDCHARTS_DB_READONLY"):
    os.environ.pop(_var, None)

PG_URL_VAR = "SOUNDCHARTS_TEST_PG_URL"
PG_REQUIRED_VAR = "SOUNDCHARTS_TEST_REQUIRE_PG"  # set by `make test`: no PostgreSQL there is a failure, not a skip
POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)
BACKENDS = ["sqlite", POSTGRES]  # a test or fixture parametrised by database: PostgreSQL's case carries the marker


def pytest_collection_modifyitems(config, items):
    """Without a PostgreSQL test server (and unless `make test` requires one), skip what is marked ``postgres``."""
    if os.environ.get(PG_URL_VAR) or os.environ.get(PG_REQUIRED_VAR) == "1":
        return
    skip = pytest.mark.skip(reason=f"needs PostgreSQL: `make test` starts one (or set {PG_URL_VAR})")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def localapi():
    """The local SoundCharts-compatible server on a free loopback port (default seed, today's date)."""
    from soundcharts_lib.localapi import LocalApiConfig, running

    with running(LocalApiConfig(seed=7)) as srv:
        yield srv


FAST = 600_000  # client-side calls per minute in tests: the local server is not rate limited unless a test says so


def local_client(srv, **kw):
    """A client for the local server with its sandbox credentials, no cache, no client-side throttle."""
    from soundcharts_lib.api.client import SoundchartsClient

    kw.setdefault("cache", None)
    kw.setdefault("rate_limit_per_minute", FAST)
    return SoundchartsClient(srv.base_url, "soundcharts", "soundcharts", **kw)


@pytest.fixture
def api_settings(localapi, tmp_path):
    """Settings that point at the local server with its sandbox credentials."""
    from soundcharts_lib.config import Settings

    env = {"SOUNDCHARTS_API_URL": localapi.base_url, "SOUNDCHARTS_APP_ID": "soundcharts",
           "SOUNDCHARTS_API_KEY": "soundcharts", "SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'unused.db'}",
           "SOUNDCHARTS_CACHE_BACKEND": "memory", "SOUNDCHARTS_RUNS_DIR": str(tmp_path / "runs"),
           "SOUNDCHARTS_RATE_LIMIT": str(FAST)}
    return Settings.from_env(env)


@pytest.fixture
def api_env(localapi, monkeypatch, tmp_path):
    """The process environment pointing at the local server (for CLI calls and papermill kernels)."""
    monkeypatch.setenv("SOUNDCHARTS_API_URL", localapi.base_url)
    monkeypatch.setenv("SOUNDCHARTS_APP_ID", "soundcharts")
    monkeypatch.setenv("SOUNDCHARTS_API_KEY", "soundcharts")
    monkeypatch.setenv("SOUNDCHARTS_CACHE_BACKEND", "memory")
    monkeypatch.setenv("SOUNDCHARTS_RATE_LIMIT", str(FAST))
    monkeypatch.setenv("SOUNDCHARTS_RUNS_DIR", str(tmp_path / "runs"))
    return localapi


def _pg_admin_url() -> str:
    url = os.environ.get(PG_URL_VAR)
    if url:
        return url
    if os.environ.get(PG_REQUIRED_VAR) == "1":
        pytest.fail(f"{PG_REQUIRED_VAR}=1 but {PG_URL_VAR} is not set: the PostgreSQL test server was not reached")
    pytest.fail(f"this test uses PostgreSQL but is not marked `postgres` (@pytest.mark.postgres, or conftest.POSTGRES "
                f"as its database parameter): without {PG_URL_VAR} it must skip")


def _fresh_pg_database() -> tuple[str, callable]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = make_url(_pg_admin_url()).set(drivername="postgresql+psycopg")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """A fresh, empty database URL: SQLite file, then the real PostgreSQL server (same tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    url, drop = _fresh_pg_database()
    yield url
    drop()


@pytest.fixture
def pg_url():
    """A fresh database on the real PostgreSQL server only (a test using it is marked ``postgres``)."""
    url, drop = _fresh_pg_database()
    yield url
    drop()


@pytest.fixture
def engine(db_url):
    """A migrated engine on the fresh database."""
    from soundcharts_lib.db import make_engine, upgrade

    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


def sql(db_url: str, query: str, *params) -> list[tuple]:
    """Rows of a plain SQLite query: the tests' own arithmetic, independent of the library."""
    conn = sqlite3.connect(make_url(db_url).database)
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


def copy_db(db_url: str, path: Path) -> str:
    """A copy of a SQLite database (the online backup API) at ``path``; its URL."""
    src, dst = sqlite3.connect(make_url(db_url).database), sqlite3.connect(path)
    src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite:///{path}"


def migrated_copies(folder: Path):
    """``new()`` -> the URL of a new, migrated SQLite database in ``folder``: a copy of one migrated once (property
    tests make one per example)."""
    import itertools
    import shutil

    from soundcharts_lib.db import make_engine, upgrade

    template, count = folder / "template.db", itertools.count()
    engine = make_engine(f"sqlite:///{template}")
    upgrade(engine)
    engine.dispose()

    def new() -> str:
        path = folder / f"example-{next(count)}.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    return new


@pytest.fixture(scope="session")
def synced_sqlite_url(tmp_path_factory):
    """A SQLite database synced by the real sync from the local server: 14 days of every chart."""
    from soundcharts_lib.db import make_engine, upgrade
    from soundcharts_lib.jobs.sync import ChartSync
    from soundcharts_lib.localapi import LocalApiConfig, running

    url = f"sqlite:///{tmp_path_factory.mktemp('synced') / 'synced.db'}"
    eng = make_engine(url)
    upgrade(eng)
    with running(LocalApiConfig(seed=7)) as srv, local_client(srv) as client:
        result = ChartSync(client, eng, progress=False).run(backfill_days=14)
    assert result.status == "success", result.errors
    eng.dispose()
    return url
