"""Databases in the states a command may meet (current, behind the code, written by a newer release, another
application's, broken), a test module's fixtures for them, the real CLI run in this process, and a digest of
everything a command could write."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import traceback
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import _pg_admin_url
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

NEWER = "9001_from_a_newer_release"
BEHIND = "0003"  # a revision this release knows, older than its newest
TRACK = "11111111-2222-3333-4444-555555555555"
RULE = "probe-rule"

# every command that touches the database ("{tmp}": a folder of the test's own)
WRITING = {
    "init-db": ("init-db",),
    "sync-charts": ("sync-charts", "--platform", "spotify", "--backfill-days", "1", "--quiet"),
    "fetch-metadata": ("fetch-metadata", "--track-uuid", TRACK, "--quiet"),
    "fetch-audience": ("fetch-audience", "--track-uuid", TRACK, "--quiet"),
    "roster-add": ("roster", "add", "--track", TRACK),
    "roster-remove": ("roster", "remove", "--track", TRACK),
    "rules-add": ("alerts", "rules", "add", "probe", "--kind", "top_entry", "--top", "10"),
    "rules-remove": ("alerts", "rules", "remove", "probe"),
    "alerts-evaluate": ("alerts", "evaluate", "--no-deliver"),
    "annotations-add": ("annotations", "add", "--track", TRACK, "--date", "2026-01-01", "--text", "probe"),
    "annotations-remove": ("annotations", "remove", "1"),
    "cleanup": ("maintenance", "cleanup"),
    "check-repair": ("maintenance", "check", "--repair"),
    "run-job": ("run-job", "maintenance"),
}
READING = {
    "export": ("export", "overview-tracks"),
    "roster-list": ("roster", "list"),
    "rules-list": ("alerts", "rules", "list"),
    "alerts-list": ("alerts", "list"),
    "annotations-list": ("annotations", "list", "--track", TRACK),
    "check": ("maintenance", "check"),
    "cleanup-dry-run": ("maintenance", "cleanup", "--dry-run"),
    "backup": ("maintenance", "backup", "--to", "{tmp}/backup"),
    "health": ("health", "--skip-api"),
}
COMMANDS = {**WRITING, **READING}


@dataclass
class Outcome:
    code: int | None
    stdout: str
    stderr: str
    crash: str = ""  # the traceback of an exception the command let through

    def summary(self) -> str:
        crash = f", CRASH {self.crash[-300:]}" if self.crash else ""
        return f"exit {self.code}, stderr {self.stderr.strip()[:300]!r}{crash}"

    def one_line(self) -> str:
        """The single line a user reads on stderr (nothing else there, no traceback anywhere)."""
        assert not self.crash and "Traceback" not in self.stdout + self.stderr, self.summary()
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, self.summary()
        return lines[0]


def run_cli(argv: list[str], env: dict[str, str], monkeypatch, capfd) -> Outcome:
    """``soundcharts ARGV`` through ``cli.main`` in this process, with ``SOUNDCHARTS_*`` exactly ``env``."""
    from soundcharts_lib.cli import main as cli

    for key in [k for k in os.environ if k.startswith("SOUNDCHARTS_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    root, before = logging.getLogger(), list(logging.getLogger().handlers)
    crash = ""
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:  # argparse
        code = exc.code
    except Exception:  # noqa: BLE001  (what a user would see as a traceback)
        code, crash = None, traceback.format_exc()
    finally:  # the handlers main() set up write to this test's captured stderr: they end with it
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
            handler.close()
    out, err = capfd.readouterr()
    return Outcome(code, out, err, crash)


def run_server(argv: list[str], env: dict[str, str], timeout: float = 60) -> tuple[int | None, str, str]:
    """A command that would serve until stopped, as its own process: ``(exit code, or None if it kept running,
    stdout, stderr)``; whatever it started is stopped."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("SOUNDCHARTS_")} | env
    proc = subprocess.Popen([sys.executable, "-m", "soundcharts_lib.cli", *argv], env=full, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        return None, out, err


# --- states ------------------------------------------------------------------------------------------------------

def migrate(url: str, revision: str = "head") -> None:
    from soundcharts_lib.db import make_engine, upgrade

    engine = make_engine(url)
    try:
        upgrade(engine, revision)
    finally:
        engine.dispose()


def set_revision(url: str, revision: str) -> None:
    """Pretend another release wrote the database: its ``alembic_version`` now says ``revision``."""
    engine = create_engine(_driver(url))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


def make_foreign(url: str) -> None:
    """Another application's database: tables of its own, no ``alembic_version``."""
    engine = create_engine(_driver(url))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE customer (id INTEGER PRIMARY KEY, name VARCHAR(40))"))
        conn.execute(text("INSERT INTO customer (id, name) VALUES (1, 'Ada')"))
    engine.dispose()


def make_state(url: str, state: str) -> None:
    """``url`` (a new, empty database) brought into ``state``."""
    if state == "current":
        migrate(url)
    elif state == "behind":
        migrate(url, BEHIND)
    elif state == "newer":
        migrate(url)
        set_revision(url, NEWER)
    elif state == "filled":  # something for each list to show
        from soundcharts_lib.curation import alerts, roster
        from soundcharts_lib.db import make_engine, upgrade

        engine = make_engine(url)
        upgrade(engine)
        roster.add(engine, "track", TRACK, label="Probe song", actor="test")
        alerts.add_rule(engine, RULE, "top_entry", {"n": 10}, actor="test")
        engine.dispose()
    elif state == "foreign":
        make_foreign(url)
    elif state == "zero-byte":
        sqlite_path(url).write_bytes(b"")
    elif state == "corrupt":
        sqlite_path(url).write_bytes(os.urandom(64 * 1024))
    elif state == "directory":
        sqlite_path(url).mkdir()
    elif state not in ("missing", "empty"):
        raise ValueError(state)


def _driver(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def sqlite_path(url: str) -> Path:
    return Path(make_url(url).database)


# --- what a command may have written -------------------------------------------------------------------------------

def digest(url: str) -> str:
    """SQLite: the folder's files, names and bytes, but for SQLite's shared memory (``-shm``, which readers
    update) and an empty write-ahead log (which a reader may open); PostgreSQL: every table's rows and the list of
    tables. Equal digests: nothing was written."""
    h = hashlib.sha256()
    if url.startswith("sqlite"):
        folder = sqlite_path(url).parent
        for path in sorted(folder.rglob("*")):
            if path.name.endswith("-shm") or (path.name.endswith("-wal") and not path.stat().st_size):
                continue
            h.update(str(path.relative_to(folder)).encode() + b"\0")
            if path.is_file():
                h.update(path.read_bytes())
        return h.hexdigest()
    engine = create_engine(_driver(url))
    try:
        with engine.connect() as conn:
            for table in sorted(inspect(conn).get_table_names()):
                rows = conn.execute(text(f'SELECT md5(coalesce(string_agg(t::text, \',\' ORDER BY t::text), \'\')) '
                                         f'FROM "{table}" t')).scalar_one()
                h.update(f"{table}:{rows}\n".encode())
    finally:
        engine.dispose()
    return h.hexdigest()


# --- PostgreSQL: databases copied from prepared templates ----------------------------------------------------------

class PgDatabases:
    """Fresh PostgreSQL databases in a given state, each a copy of a template prepared once."""

    def __init__(self, admin_url: str):
        self.admin_url = make_url(admin_url).set(drivername="postgresql+psycopg")
        self.admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        self.made: list[str] = []
        self.templates: dict[str, str] = {}

    def url(self, name: str) -> str:
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def _create(self, template: str | None = None) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        self.made.append(name)
        return name

    def new(self, state: str) -> str:
        if state not in self.templates:
            name = self._create()
            make_state(self.url(name), state)
            self.templates[state] = name
        return self.url(self._create(self.templates[state]))

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


EVERYTHING = ("ALL TABLES IN SCHEMA public", "ALL SEQUENCES IN SCHEMA public")  # pg_dump reads sequences too


@contextmanager
def pg_reader(db_url: str, on: tuple[str, ...] = EVERYTHING) -> Iterator[str]:
    """A login role that may read ``on`` (every table and sequence) of the database at ``db_url`` and nothing else
    (``GRANT SELECT``, as the README tells operators to set one up); the URL that logs in as it."""
    name, password = f"reader_{uuid.uuid4().hex[:10]}", f"pw-{uuid.uuid4().hex}"
    url = make_url(_driver(db_url))
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'"))
        conn.execute(text(f'GRANT CONNECT ON DATABASE "{url.database}" TO {name}'))
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {name}"))
        for what in on:
            conn.execute(text(f"GRANT SELECT ON {what} TO {name}"))
    try:
        yield url.set(username=name, password=password).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{name}'"))
            conn.execute(text(f"DROP OWNED BY {name}"))
            conn.execute(text(f"DROP ROLE {name}"))
        engine.dispose()


class SqliteDatabases:
    """Fresh SQLite files in a given state, each in a folder of its own, copied from one prepared per state."""

    def __init__(self, root: Path):
        self.root = root
        self.templates: dict[str, Path] = {}
        self.count = 0

    def new(self, state: str, name: str = "soundcharts.db") -> str:
        self.count += 1
        folder = self.root / f"db{self.count}"
        folder.mkdir()
        url = f"sqlite:///{folder / name}"
        if state in ("missing", "empty", "zero-byte", "corrupt", "directory"):
            make_state(url, state)
            return url
        if state not in self.templates:
            source = self.root / f"template-{state}" / "soundcharts.db"
            source.parent.mkdir()
            make_state(f"sqlite:///{source}", state)
            with closing(sqlite3.connect(source)) as conn:  # one self-contained file to copy
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.templates[state] = source
        shutil.copyfile(self.templates[state], folder / name)
        return url


def database_fixtures(folder: str):
    """A test module's fixtures ``sqlite_dbs`` (SQLite databases under a temporary ``folder``), ``pg_dbs``
    (databases on the PostgreSQL test server, dropped after the module) and ``new_db(backend, state)`` (the URL of a
    new database in that state): ``sqlite_dbs, pg_dbs, new_db = database_fixtures("probes")``. A test using ``pg_dbs``
    is marked ``postgres``; one taking ``backend`` takes it from ``conftest.BACKENDS`` (its PostgreSQL case marked)."""

    @pytest.fixture(scope="module")
    def sqlite_dbs(tmp_path_factory) -> SqliteDatabases:
        return SqliteDatabases(tmp_path_factory.mktemp(folder))

    @pytest.fixture(scope="module")
    def pg_dbs() -> Iterator[PgDatabases]:
        dbs = PgDatabases(_pg_admin_url())
        yield dbs
        dbs.drop_all()

    @pytest.fixture
    def new_db(request, sqlite_dbs):
        def make(backend: str, state: str) -> str:
            return sqlite_dbs.new(state) if backend == "sqlite" else request.getfixturevalue("pg_dbs").new(state)
        return make

    return sqlite_dbs, pg_dbs, new_db
