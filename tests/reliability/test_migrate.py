"""Several writing commands started at once on a brand-new database (SQLite file and PostgreSQL): each one migrates
it first, one at a time, so all of them succeed and the schema is created once, at the newest revision."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import create_engine, inspect, text

from soundcharts_lib.db.migrate import head
from soundcharts_lib.db.models import Base

pytestmark = pytest.mark.slow  # commands started at once

AT_ONCE = textwrap.dedent("""
    import sys
    from soundcharts_lib.cli import main as cli
    print("ready", flush=True)
    sys.stdin.readline()  # every process starts its command when told, all at the same moment
    sys.exit(cli.main(sys.argv[1:]))
""")
COMMANDS = [("init-db",), ("init-db",), ("maintenance", "check", "--repair"), ("maintenance", "cleanup"),
            ("init-db",), ("roster", "add", "--track", "11111111-2222-3333-4444-555555555555")]


@pytest.mark.parametrize("round_", range(2))
def test_commands_started_at_once_on_a_new_database_all_succeed(db_url, tmp_path, round_):
    env = dict(os.environ, SOUNDCHARTS_DB_URL=db_url, SOUNDCHARTS_LOG_FILE="off", SOUNDCHARTS_RUNS_DIR=str(tmp_path))
    procs = [subprocess.Popen([sys.executable, "-c", AT_ONCE, *command], env=env, text=True, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for command in COMMANDS]
    assert [proc.stdout.readline() for proc in procs] == ["ready\n"] * len(procs)
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outcomes = [(command, *proc.communicate(timeout=180)[1:], proc.returncode)
                for command, proc in zip(COMMANDS, procs, strict=True)]
    failed = [(command, code, err[-600:]) for command, err, code in outcomes if code != 0]
    assert failed == [], failed
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head()]
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    print(f"{len(COMMANDS)} commands started at the same moment on a new {db_url.split(':')[0]} database: "
          f"all exit 0, schema at {head()} once")
