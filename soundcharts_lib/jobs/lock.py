"""One run of a job at a time: a PostgreSQL advisory lock (works across hosts) or a file lock (one host)."""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from soundcharts_lib.config import Settings
from soundcharts_lib.errors import SoundchartsError


class JobLocked(SoundchartsError):
    """Another run of the same job holds its lock."""


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock`` (the same on every host)."""
    digest = hashlib.sha256(f"soundcharts-job:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def job_lock(name: str, settings: Settings):
    """Hold the job's lock for the ``with`` block, or raise :class:`JobLocked` at once.

    With a PostgreSQL database the lock is a session advisory lock on that database, so workers on several hosts
    (cron on two machines, Airflow workers) exclude each other; it is released when the block ends or the
    process dies. With SQLite the database is on one host, and a file lock beside the archived runs is enough.
    """
    if settings.db_url.startswith("postgres"):
        from soundcharts_lib.db import make_engine

        engine = make_engine(settings.db_url)
        with engine.connect() as conn:
            key = advisory_key(name)
            if not conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({key})").scalar():
                raise JobLocked(f"job {name!r} is already running (PostgreSQL advisory lock {key})")
            conn.commit()
            try:
                yield
            finally:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({key})")
                conn.commit()
        engine.dispose()
        return
    lock_dir = Path(settings.runs_dir) / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_dir / f"{name}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise JobLocked(f"job {name!r} is already running (lock {lock.lock_file})") from None
    try:
        yield
    finally:
        lock.release()
