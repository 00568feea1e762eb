"""A run's liveness (SQLite and PostgreSQL): a run whose process was killed (``kill -9``) reads "interrupted" and
is recorded so by the next run or a repair; a live run, in another process or in this one, never does."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import select

from soundcharts_lib.db.models import SyncRun
from soundcharts_lib.db.runs import INTERRUPTED_ERROR, finish_run, interrupt_dead_runs, start_run
from soundcharts_lib.warehouse import admin_pages as admin_data
from soundcharts_lib.warehouse.health import last_runs

HOLDER = textwrap.dedent("""
    import sys, time
    from soundcharts_lib.db import make_engine
    from soundcharts_lib.db.runs import start_run
    print(start_run(make_engine(sys.argv[1]), sys.argv[2], "cli", {}), flush=True)
    time.sleep(600)
""")


def hold_run(db_url: str, kind: str) -> tuple[subprocess.Popen, int]:
    """A real process that opens a run of ``kind`` and keeps it going: ``(process, run id)``."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, db_url, kind], stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline())


def kill_9(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.communicate()
    assert proc.returncode == -9


def runs(engine) -> dict[int, tuple[str, bool]]:
    """``{id: (status, finished)}``."""
    with engine.connect() as conn:
        return {r.id: (r.status, r.finished_at is not None)
                for r in conn.execute(select(SyncRun.id, SyncRun.status, SyncRun.finished_at))}


def test_a_killed_run_reads_interrupted_and_live_runs_keep_running(db_url, engine):
    alive_proc, alive = hold_run(db_url, "sync_charts")
    killed_proc, killed = hold_run(db_url, "fetch_audience")
    mine = start_run(engine, "maintenance", "cli", {})  # a run of this very process
    try:
        assert interrupt_dead_runs(engine) == []
        kill_9(killed_proc)
        assert runs(engine) == {alive: ("running", False), killed: ("running", False), mine: ("running", False)}
        shown = dict(last_runs(engine)[["kind", "status"]].values.tolist())  # read, nothing written
        assert shown == {"sync_charts": "running", "fetch_audience": "interrupted", "maintenance": "running"}
        assert admin_data.runs(engine, status="interrupted")["id"].tolist() == [killed]
        assert sorted(admin_data.runs(engine, status="running")["id"]) == [alive, mine]
        assert runs(engine)[killed] == ("running", False)

        assert interrupt_dead_runs(engine) == [killed]
        assert runs(engine) == {alive: ("running", False), killed: ("interrupted", True), mine: ("running", False)}
        with engine.connect() as conn:
            assert conn.execute(select(SyncRun.errors).where(SyncRun.id == killed)).scalar_one() == [INTERRUPTED_ERROR]
        assert interrupt_dead_runs(engine) == []
    finally:
        kill_9(alive_proc)
    finish_run(engine, mine, status="success", counts={}, errors=[])
    assert runs(engine)[alive] == ("running", False)
    new = start_run(engine, "sync_charts", "cli", {})  # a new run records the killed one first
    assert runs(engine) == {alive: ("interrupted", True), killed: ("interrupted", True), mine: ("success", True),
                            new: ("running", False)}
    finish_run(engine, new, status="success", counts={}, errors=[])
    if db_url.startswith("sqlite"):  # no lock file is left behind
        assert list(Path(f"{db_url.removeprefix('sqlite:///')}.runs").iterdir()) == []
    print(f"killed run {killed}: shown interrupted at once, recorded interrupted by the sweep; live runs {alive} "
          f"(another process) and {mine} (this one) kept running; killed run {alive} recorded by the next start")
