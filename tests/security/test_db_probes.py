"""Hostile and careless database inputs, through the real ``soundcharts`` command: a database a newer release
wrote, a corrupted file, an empty file, a folder, another application's database, URLs of unknown drivers, a
PostgreSQL server that refuses or is not there, a restore of what is not a backup.

Each probe asserts the exit code, one line on stderr (no traceback) and that nothing was written: the database's
digest (SQLite: its folder's files; PostgreSQL: every table's rows) is the same before and after.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import BACKENDS, FAST, PG_URL_VAR
from db_states import (
    COMMANDS,
    NEWER,
    READING,
    SqliteDatabases,
    database_fixtures,
    digest,
    run_cli,
    run_server,
    sqlite_path,
)
from sqlalchemy.engine import make_url

from soundcharts_lib.web.launch import free_port

REFUSAL = f"written by a newer soundcharts-workbench (revision {NEWER}); upgrade"
INIT = "run `soundcharts init-db`"

PG_PASSWORD = "probe-Secret-pw-7781"


sqlite_dbs, pg_dbs, new_db = database_fixtures("probes")


def environment(db_url: str, api_url: str, tmp: Path) -> dict[str, str]:
    return {"SOUNDCHARTS_DB_URL": db_url, "SOUNDCHARTS_API_URL": api_url, "SOUNDCHARTS_APP_ID": "soundcharts",
            "SOUNDCHARTS_API_KEY": "soundcharts", "SOUNDCHARTS_CACHE_BACKEND": "none",
            "SOUNDCHARTS_RATE_LIMIT": str(FAST), "SOUNDCHARTS_RUNS_DIR": str(tmp / "runs"),
            "SOUNDCHARTS_LOG_FILE": "off", "SOUNDCHARTS_MAX_RETRIES": "1", "SOUNDCHARTS_TIMEOUT": "5"}


@pytest.fixture
def cli(localapi, tmp_path, monkeypatch, capfd):
    """``cli(command, db_url)``: the command's outcome (``restore`` takes ``source``)."""
    def run(command: str, db_url: str, source: Path | None = None):
        argv = ["maintenance", "restore", "--from", str(source)] if command == "restore" else COMMANDS[command]
        argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
        env = environment(db_url, localapi.base_url, tmp_path)
        if command == "health":  # no API check: no credentials, which its report would mask wherever they appear
            env = {k: v for k, v in env.items() if k not in ("SOUNDCHARTS_APP_ID", "SOUNDCHARTS_API_KEY")}
        return run_cli(argv, env, monkeypatch, capfd)
    return run


@pytest.fixture
def probe(cli):
    """``probe(command, db_url)``: the command's outcome and whether the database was left as it was."""
    def run(command: str, db_url: str):
        before = digest(db_url)
        outcome = cli(command, db_url)
        return outcome, digest(db_url) == before
    return run


# --- a database a newer release wrote ------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_database_of_a_newer_release_is_refused(command, backend, new_db, probe):
    outcome, unchanged = probe(command, new_db(backend, "newer"))
    if command == "health":  # a report on stdout, the database line failing
        assert outcome.code == 1 and not outcome.crash, outcome.summary()
        assert f"database  FAIL  {REFUSAL}" in outcome.stdout, outcome.stdout
    else:
        line = outcome.one_line()
        assert outcome.code == 2 and line == f"soundcharts {COMMANDS[command][0]}: error: {REFUSAL}", outcome.summary()
    assert unchanged, "the database was written"
    print(f"newer revision, {command} [{backend}]: exit {outcome.code}, one line, nothing written")


SERVERS = {"serve": ["serve", "--port", "{port}"], "serve-admin": ["serve", "--admin", "--port", "{port}"],
           "demo": ["demo", "--port", "{port}", "--api-port", "{api_port}", "--backfill-days", "1"]}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("server", list(SERVERS))
def test_servers_refuse_a_database_of_a_newer_release(server, backend, new_db, localapi, tmp_path):
    db_url = new_db(backend, "newer")
    before = digest(db_url)
    argv = [a.format(port=free_port(), api_port=free_port()) for a in SERVERS[server]]
    env = environment(db_url, localapi.base_url, tmp_path) | {"SOUNDCHARTS_ADMIN_TOKEN": "t" * 32}
    code, out, err = run_server(argv, env)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and lines == [f"soundcharts {argv[0]}: error: {REFUSAL}"], (code, out[-500:], err[-1500:])
    assert digest(db_url) == before
    print(f"newer revision, {server} [{backend}]: exit 2 before serving, one line, nothing written")


def test_the_json_endpoints_engine_refuses_a_database_of_a_newer_release(sqlite_dbs, monkeypatch):
    from soundcharts_lib.db import engine_from_env
    from soundcharts_lib.errors import ConfigError

    monkeypatch.setenv("SOUNDCHARTS_DB_URL", sqlite_dbs.new("newer"))
    with pytest.raises(ConfigError, match=REFUSAL.replace("(", r"\(").replace(")", r"\)")):
        engine_from_env(read_only=True)


# --- broken and foreign SQLite files -------------------------------------------------------------------------------

SOME = ["init-db", "sync-charts", "roster-add", "cleanup", "export", "roster-list", "check", "backup", "health"]
BROKEN = {  # state: (exit code of a command other than health, words of its line)
    "corrupt": (2, "file is not a database"),
    "directory": (2, "is a folder, not a database file"),
    "foreign": (2, "is not a soundcharts database"),
}


@pytest.mark.parametrize("command", SOME)
@pytest.mark.parametrize("state", list(BROKEN))
def test_a_broken_or_foreign_sqlite_file_is_one_line_and_never_written(state, command, sqlite_dbs, probe):
    outcome, unchanged = probe(command, sqlite_dbs.new(state))
    code, words = BROKEN[state]
    if command == "health":
        assert outcome.code == 1 and not outcome.crash, outcome.summary()
        assert "database  FAIL" in outcome.stdout and words in outcome.stdout, outcome.stdout
    else:
        line = outcome.one_line()
        assert outcome.code == code and words in line, outcome.summary()
    assert unchanged, "the file was written"
    print(f"{state} file, {command}: exit {outcome.code}, one line, nothing written")


@pytest.mark.parametrize("command", [c for c in SOME if c in READING])
def test_a_zero_byte_file_is_an_empty_database_a_reader_never_initialises(command, sqlite_dbs, probe):
    db_url = sqlite_dbs.new("zero-byte")
    outcome, unchanged = probe(command, db_url)
    if command == "health":
        assert outcome.code == 1 and "database  FAIL  not initialised" in outcome.stdout, outcome.summary()
    else:
        assert outcome.code == 1 and INIT in outcome.one_line(), outcome.summary()
    assert unchanged and sqlite_path(db_url).stat().st_size == 0


def test_init_db_initialises_a_zero_byte_file(sqlite_dbs, probe):
    db_url = sqlite_dbs.new("zero-byte")
    outcome, _ = probe("init-db", db_url)
    assert outcome.code == 0 and "database ready at revision" in outcome.stdout, outcome.summary()


# --- URLs ----------------------------------------------------------------------------------------------------------

def _pg(password: str = PG_PASSWORD, port: int | None = None, database: str | None = None) -> str:
    url = make_url(os.environ[PG_URL_VAR])
    return url.set(password=password, port=port or url.port, database=database or url.database).render_as_string(
        hide_password=False)


URLS = {  # name: (URL, exit code, words of the line)
    "mysql": ("mysql://user:" + PG_PASSWORD + "@127.0.0.1/db", 2, "unsupported database 'mysql'"),
    "oracle": ("oracle+oracledb://user:" + PG_PASSWORD + "@127.0.0.1/db", 2, "unsupported database 'oracle'"),
    "asyncpg": ("postgresql+asyncpg://user:" + PG_PASSWORD + "@127.0.0.1/db", 2, "database driver not installed"),
    "pysqlcipher": ("sqlite+pysqlcipher://:" + PG_PASSWORD + "@/x.db", 2, "database driver not installed"),
    "nonsense": ("nonsense", 2, "not a database URL"),
    "no-scheme-path": ("/srv/soundcharts.db", 2, "not a database URL"),
    "pg-wrong-password": (None, 2, "password authentication failed"),
    "pg-no-server": (None, 2, "Connection refused"),
    "pg-no-database": (None, 2, "does not exist"),
}
URL_COMMANDS = ["init-db", "roster-add", "export", "roster-list", "backup", "health"]


@pytest.mark.parametrize("command", URL_COMMANDS)
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.postgres) if n.startswith("pg-") else n
                                  for n in URLS])  # the pg- URLs are variations of the PostgreSQL test server's
def test_database_urls_that_cannot_work_are_one_line_without_the_password(name, command, cli, tmp_path, monkeypatch):
    url, code, words = URLS[name]
    admin = make_url(os.environ.get(PG_URL_VAR, "postgresql://x@127.0.0.1/x"))
    url = url or {"pg-wrong-password": lambda: _pg(),
                  "pg-no-server": lambda: _pg(port=free_port()),
                  "pg-no-database": lambda: _pg(password=admin.password, database="no_such_database_here")}[name]()
    cwd = tmp_path / "cwd"  # a relative file a driver might create would land here
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    outcome = cli(command, url)
    text = outcome.stdout + outcome.stderr
    assert PG_PASSWORD not in text and (not admin.password or admin.password not in text), text
    if command == "health":
        assert outcome.code == 1 and "database  FAIL" in outcome.stdout and words in outcome.stdout, outcome.summary()
    else:
        assert outcome.code == code and words in outcome.one_line(), outcome.summary()
    assert list(cwd.iterdir()) == [] and not (tmp_path / "backup").exists(), "a file was created"
    print(f"URL {name}, {command}: exit {outcome.code}, one line, no password shown, nothing created")


# --- restore of what is not a usable backup ------------------------------------------------------------------------

def _sqlite_source(kind: str, folder: Path, sqlite_dbs: SqliteDatabases) -> Path:
    path = folder / f"{kind}.db"
    if kind == "text":
        path.write_text("id,name\n1,Ada\n")
    elif kind == "zero-byte":
        path.write_bytes(b"")
    elif kind == "random":
        path.write_bytes(os.urandom(8192))
    elif kind == "sqlite-header-then-garbage":
        path.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    else:  # a whole database file: another application's, or a newer release's
        path = sqlite_path(sqlite_dbs.new(kind))
    return path


RESTORE_SOURCES = {  # kind: (exit code, words)
    "text": (2, "is neither a SQLite backup nor a pg_dump custom-format file"),
    "zero-byte": (2, "is neither a SQLite backup nor a pg_dump custom-format file"),
    "random": (2, "is neither a SQLite backup nor a pg_dump custom-format file"),
    "sqlite-header-then-garbage": (2, "is not a readable SQLite database"),
    "foreign": (2, "is a SQLite database but not a soundcharts one"),
    "newer": (2, REFUSAL),
}


@pytest.mark.parametrize("kind", list(RESTORE_SOURCES))
def test_restore_of_what_is_not_a_usable_backup_leaves_no_target_behind(kind, sqlite_dbs, cli, tmp_path):
    source = _sqlite_source(kind, tmp_path, sqlite_dbs)
    target = tmp_path / "target"
    target.mkdir()
    outcome = cli("restore", f"sqlite:///{target / 'restored.db'}", source=source)
    code, words = RESTORE_SOURCES[kind]
    assert outcome.code == code and words in outcome.one_line(), outcome.summary()
    assert list(target.iterdir()) == [], "restore left a target behind"
    print(f"restore of a {kind} file: exit {code}, one line, no target file")


@pytest.mark.postgres
def test_restore_of_a_newer_release_dump_leaves_the_postgres_target_empty(pg_dbs, cli, tmp_path):
    from soundcharts_lib.jobs.backup import _libpq

    newer = pg_dbs.new("newer")
    dump = tmp_path / "newer.dump"
    uri, env = _libpq(make_url(newer))
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dump), "--dbname", uri], env=env,
                   check=True)
    target = pg_dbs.new("empty")
    before = digest(target)
    outcome = cli("restore", target, source=dump)
    assert outcome.code == 2 and REFUSAL in outcome.one_line(), outcome.summary()
    assert digest(target) == before
