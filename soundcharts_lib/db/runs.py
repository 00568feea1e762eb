"""``SyncRun`` records: every job run leaves one, with its parameters (never secrets) and outcome.

A run holds a lock of its own while its process lives: a PostgreSQL session advisory lock (``RUN_LOCK_CLASS``,
run id), or, with SQLite, an ``flock`` on ``<database>.runs/<id>.lock``. The system frees it when the process
dies, however it dies (``kill -9``, a crash, the machine stopping), so a run recorded as "running" whose lock is
free is dead: :func:`interrupt_dead_runs` records it as "interrupted" (each new run does so first) and
:func:`dead_runs` tells readers which ones are, without writing.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import select, text, update
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from soundcharts_lib.db.engine import sqlite_file
from soundcharts_lib.db.models import utcnow
from soundcharts_lib.db.tables import RUN

log = logging.getLogger(__name__)
SECRET_WORDS = ("key", "secret", "token", "password")
RUNNING, INTERRUPTED = "running", "interrupted"
INTERRUPTED_ERROR = "interrupted: its process ended without recording an outcome (killed, crashed or stopped)"
RUN_LOCK_CLASS = 0x53435255  # first key of the two-key advisory locks; job locks use one 64-bit key
_held: dict[int, Callable[[], None]] = {}  # run id -> what releases its lock, for the runs of this process


def clean_params(params: dict) -> dict:
    """Parameters as JSON-safe values, with anything that looks like a secret left out."""
    out = {}
    for name, value in params.items():
        if any(w in name.lower() for w in SECRET_WORDS):
            continue
        if isinstance(value, (list, tuple, set)):
            value = [str(v) for v in value]
        elif value is not None and not isinstance(value, (int, float, bool, str)):
            value = str(value)
        out[name] = value
    return out


def start_run(engine: Engine, kind: str, trigger: str, params: dict, *, notebook_path: str | None = None) -> int:
    """Open a run started by ``trigger`` (see :data:`soundcharts_lib.config.TRIGGERS`), holding its lock until
    :func:`finish_run`; runs found dead are recorded as interrupted first. ``notebook_path``: the archived job
    notebook the run writes, for a run of ``run-job``."""
    interrupt_dead_runs(engine)
    conn = engine.connect()
    release = None
    try:
        with conn.begin():  # the lock is taken before the run is visible: no one sees it running without it
            run_id = conn.execute(RUN.insert().values(
                kind=kind, trigger=trigger, started_at=utcnow(), status=RUNNING, params=clean_params(params),
                notebook_path=notebook_path or None).returning(RUN.c.id)).scalar_one()
            release = _lock(conn, run_id)
    except BaseException:
        if release is not None:  # the run was not recorded: its lock goes too
            release()
        conn.close()
        raise
    if conn.dialect.name != "postgresql":  # PostgreSQL's lock lives in this session: it stays open
        conn.close()
    _held[run_id] = release
    log.info("run %d started: %s (%s)", run_id, kind, trigger)
    return run_id


def finish_run(engine: Engine, run_id: int, *, status: str, counts: dict, errors: list[str],
               quota_remaining: int | None = None, **extra) -> None:
    try:
        with engine.begin() as conn:
            conn.execute(update(RUN).where(RUN.c.id == run_id).values(
                finished_at=utcnow(), status=status, counts=counts, errors=errors[:200],
                quota_remaining=quota_remaining, **extra))
        log.info("run %d finished: %s %s", run_id, status, counts)
    finally:
        release = _held.pop(run_id, None)
        if release is not None:
            release()


def _lock(conn: Connection, run_id: int) -> Callable[[], None]:
    """Take run ``run_id``'s lock on ``conn``; return what releases it (and closes ``conn`` on PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({RUN_LOCK_CLASS}, {int(run_id)})")

        def release() -> None:
            try:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({RUN_LOCK_CLASS}, {int(run_id)})")
                conn.commit()
            except SQLAlchemyError:  # the session is gone, and its lock with it
                conn.invalidate()
            finally:
                conn.close()
        return release
    path = _lock_file(conn.engine.url, run_id)
    if path is None:  # an in-memory database lives and dies with this process
        return lambda: None
    path.parent.mkdir(exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a new id: no one else holds it

    def release_file() -> None:
        path.unlink(missing_ok=True)
        os.close(fd)
    return release_file


def _lock_file(url: URL, run_id: int) -> Path | None:
    """``<database>.runs/<id>.lock`` beside a SQLite file (read-only ``file:`` URIs included)."""
    database = sqlite_file(url)
    return None if database is None else Path(f"{database}.runs") / f"{int(run_id)}.lock"


def _file_held(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    except OSError:  # not readable here: assume its run is alive
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def dead_runs(conn: Connection, run_ids: Sequence[int]) -> set[int]:
    """Of ``run_ids`` (runs recorded as running), those whose lock no process holds any more. Reads only."""
    if not run_ids:
        return set()
    if conn.dialect.name == "postgresql":
        alive = set(conn.execute(text(
            "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND granted "
            "AND classid = :cls AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
            {"cls": RUN_LOCK_CLASS}).scalars())
        return {i for i in run_ids if i not in alive}
    paths = {i: _lock_file(conn.engine.url, i) for i in run_ids}
    return {i for i, path in paths.items() if path is not None and not _file_held(path)}


def interrupt_dead_runs(engine: Engine) -> list[int]:
    """Record every dead "running" run (see :func:`dead_runs`) as interrupted; return their ids."""
    with engine.connect() as conn:
        running = conn.execute(select(RUN.c.id).where(RUN.c.status == RUNNING)).scalars().all()
        dead = sorted(dead_runs(conn, running))
    if not dead:
        return []
    with engine.begin() as conn:  # a run that finished meanwhile keeps its own outcome
        dead = sorted(conn.execute(update(RUN).where(RUN.c.id.in_(dead), RUN.c.status == RUNNING).values(
            status=INTERRUPTED, finished_at=utcnow(), errors=[INTERRUPTED_ERROR]).returning(RUN.c.id)).scalars())
    for run_id in dead:
        path = _lock_file(engine.url, run_id)
        if path is not None:
            path.unlink(missing_ok=True)
    return dead


def as_int(value) -> int | None:
    """A quota figure as an int, or None when the API sent something else."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
