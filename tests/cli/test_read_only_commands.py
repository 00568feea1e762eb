"""Reading commands never write: they neither create nor migrate a database, and they work where nothing can be
written (a SQLite file and its folder read-only; a PostgreSQL role that may only SELECT). Writing commands and
``init-db`` migrate; a reading command on a database behind this release says "run `soundcharts init-db`".

Every command is the real one (``cli.main`` in this process; a subprocess where another user must run it, or for
``serve``); "nothing written" is the database's digest (SQLite: its folder's files; PostgreSQL: every table's rows)
before and after.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import BACKENDS
from db_states import (
    READING,
    RULE,
    TRACK,
    database_fixtures,
    digest,
    pg_reader,
    run_cli,
    run_server,
    sqlite_path,
)

from soundcharts_lib.db.schema import head
from soundcharts_lib.web.launch import free_port, wait_ready

INIT = "run `soundcharts init-db`"
WORKS = {  # a reading command on the filled database: what its output shows
    "export": "uuid,name,artist,appearances", "roster-list": TRACK, "rules-list": RULE,
    "alerts-list": "no alerts in the last 7 days",
    "annotations-list": f"no annotations on {TRACK}", "check": "no problems found", "cleanup-dry-run": "would delete",
    "backup": "backup written", "health": "healthy",
}
BYPASS = ",".join(f"-{cap}" for cap in ("dac_override", "dac_read_search"))  # capabilities passing file permissions


sqlite_dbs, pg_dbs, new_db = database_fixtures("read-only")


def environment(db_url: str, tmp: Path) -> dict[str, str]:
    return {"SOUNDCHARTS_DB_URL": db_url, "SOUNDCHARTS_LOG_FILE": "off", "SOUNDCHARTS_RUNS_DIR": str(tmp / "runs")}


@pytest.fixture
def cli(tmp_path, monkeypatch, capfd):
    """``cli(argv, db_url)`` through ``cli.main`` in this process; ``{tmp}`` in ``argv`` is a folder of the test."""
    def run(argv, db_url: str):
        argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
        return run_cli(argv, environment(db_url, tmp_path), monkeypatch, capfd)
    return run


def assert_works(command: str, outcome) -> None:
    assert outcome.code == 0 and not outcome.crash, outcome.summary()
    assert WORKS[command] in outcome.stdout + outcome.stderr, outcome.stdout


def assert_refused(command: str, outcome, check: str, line: str | None = None) -> None:
    """Exit 1 and, from ``health``, ``check`` as its failed database check; from any other command, its one line on
    stderr with ``line`` (default: ``check``) and "run `soundcharts init-db`"."""
    if command == "health":
        assert outcome.code == 1 and f"database  FAIL  {check}" in outcome.stdout, outcome.summary()
    else:
        said = outcome.one_line()
        assert outcome.code == 1 and (line or check) in said and INIT in said, said


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("command", list(READING))
def test_behind_this_release_a_reading_command_says_run_init_db_and_writes_nothing(command, backend, new_db, cli):
    db_url = new_db(backend, "behind")
    before = digest(db_url)
    outcome = cli(READING[command], db_url)
    if command == "health":
        assert outcome.code == 1 and "database  FAIL" in outcome.stdout and INIT in outcome.stdout, outcome.summary()
    elif command == "backup":  # a database behind this release is backed up as it is (before init-db migrates it)
        assert_works(command, outcome)
    else:
        line = outcome.one_line()
        assert outcome.code == 1 and INIT in line and f"at revision 0003, this release reads {head()}" in line, line
    assert digest(db_url) == before
    print(f"{command} [{backend}] behind this release: exit {outcome.code}, nothing written")


@pytest.mark.parametrize("command", list(READING))
def test_a_reading_command_never_creates_a_sqlite_database(command, sqlite_dbs, cli):
    db_url = sqlite_dbs.new("missing")
    assert_refused(command, cli(READING[command], db_url), "database file not found",
                   f"database file not found: {sqlite_path(db_url)} ({INIT})")
    assert list(sqlite_path(db_url).parent.iterdir()) == []


@pytest.mark.postgres
@pytest.mark.parametrize("command", list(READING))
def test_a_reading_command_never_initialises_an_empty_postgres_database(command, pg_dbs, cli):
    db_url = pg_dbs.new("empty")
    assert_refused(command, cli(READING[command], db_url), "not initialised")
    assert digest(db_url) == digest(pg_dbs.new("empty"))  # still no table at all


@pytest.mark.parametrize("backend", BACKENDS)
def test_writing_commands_migrate_a_database_behind_this_release(backend, new_db, cli):
    db_url = new_db(backend, "behind")
    outcome = cli(("roster", "add", "--track", TRACK), db_url)
    assert outcome.code == 0 and f"added track {TRACK}" in outcome.stdout, outcome.summary()
    assert cli(("roster", "list"), db_url).code == 0  # now at this release's revision


# --- where nothing can be written ----------------------------------------------------------------------------------

@pytest.fixture
def read_only_sqlite(sqlite_dbs):
    """The filled database in a folder of its own, then the file made 0444 and the folder 0555 (read-only for
    everyone but root: when the tests run as root, the commands run without root's file-permission capabilities).
    Its URL and a writable folder for output."""
    top = Path(tempfile.mkdtemp(prefix="scw-read-only-"))
    top.chmod(0o755)
    folder, out = top / "data", top / "out"
    folder.mkdir()
    out.mkdir(mode=0o777)
    out.chmod(0o777)
    db = folder / "soundcharts.db"
    shutil.copyfile(sqlite_path(sqlite_dbs.new("filled")), db)
    db.chmod(0o444)
    folder.chmod(0o555)
    yield f"sqlite:///{db}", out
    folder.chmod(0o755)
    shutil.rmtree(top)


def as_reader(argv, db_url: str, out: Path) -> subprocess.CompletedProcess:
    """The real command as its own process; when this runs as root (root writes anything), without the capabilities
    that let root pass file permissions: it can then write no file or folder without a write bit, as any user. (Not
    as another user: the checkout, its virtualenv included, may be a private folder another user cannot enter.)"""
    drop = ["setpriv", f"--bounding-set={BYPASS}", f"--inh-caps={BYPASS}"] if os.geteuid() == 0 else []
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOUNDCHARTS_")} | environment(db_url, out)
    env |= {"HOME": str(out), "PYTHONDONTWRITEBYTECODE": "1"}
    argv = [a.replace("{tmp}", str(out)) for a in argv]
    return subprocess.run([*drop, sys.executable, "-m", "soundcharts_lib.cli", *argv], env=env, cwd=out,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_the_read_only_sqlite_setup_really_refuses_writes(read_only_sqlite):
    db_url, out = read_only_sqlite
    res = as_reader(("roster", "add", "--track", TRACK), db_url, out)
    assert res.returncode == 2 and "readonly database" in res.stderr and "Traceback" not in res.stderr, res.stderr
    assert stat.S_IMODE(sqlite_path(db_url).stat().st_mode) == 0o444


@pytest.mark.slow
@pytest.mark.parametrize("command", list(READING))
def test_reading_commands_work_on_a_read_only_sqlite_file_in_a_read_only_folder(command, read_only_sqlite):
    db_url, out = read_only_sqlite
    before = digest(db_url)
    res = as_reader(READING[command], db_url, out)
    assert res.returncode == 0 and "Traceback" not in res.stderr, (res.stdout[-800:], res.stderr[-2000:])
    assert WORKS[command] in res.stdout + res.stderr, res.stdout
    assert digest(db_url) == before
    assert sorted(p.name for p in sqlite_path(db_url).parent.iterdir()) == ["soundcharts.db"]
    who = " as root without DAC override" if os.geteuid() == 0 else ""
    print(f"{command}: works on a 0444 file in a 0555 folder{who}")


@pytest.fixture
def select_only(pg_dbs):
    """The filled database on PostgreSQL and a URL logging in as a role that may only SELECT."""
    db_url = pg_dbs.new("filled")
    with pg_reader(db_url) as reader_url:
        yield db_url, reader_url


@pytest.mark.postgres
def test_the_select_only_role_really_cannot_write(select_only, cli):
    _db_url, reader_url = select_only
    outcome = cli(("roster", "add", "--track", TRACK), reader_url)
    assert outcome.code == 2 and "permission denied" in outcome.one_line(), outcome.summary()


@pytest.mark.postgres
@pytest.mark.parametrize("command", list(READING))
def test_reading_commands_work_for_a_postgres_role_that_may_only_select(command, select_only, cli):
    db_url, reader_url = select_only
    before = digest(db_url)
    outcome = cli(READING[command], reader_url)
    assert_works(command, outcome)
    assert digest(db_url) == before


# --- serve ---------------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_serve_on_a_database_behind_this_release_says_run_init_db(sqlite_dbs, tmp_path):
    db_url = sqlite_dbs.new("behind")
    before = digest(db_url)
    code, _out, err = run_server(["serve", "--port", str(free_port())], environment(db_url, tmp_path))
    assert code == 1 and [line for line in err.splitlines() if line.strip()] == [err.strip()] and INIT in err, err
    assert digest(db_url) == before


@pytest.mark.postgres
def test_serve_answers_from_a_postgres_role_that_may_only_select(select_only, tmp_path):
    db_url, reader_url = select_only
    before, port = digest(db_url), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOUNDCHARTS_")} | environment(reader_url, tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "soundcharts_lib.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = wait_ready(proc, port, timeout=90)
        with pytest.raises(urllib.error.HTTPError) as answer:  # read from the database: the track is not stored
            urllib.request.urlopen(f"{base}/soundcharts/audience/chart/{TRACK}/", timeout=30)
        assert answer.value.code == 404 and "error" in json.loads(answer.value.read())
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert digest(db_url) == before
