"""Database URL -> SQLAlchemy engine: SQLite pragmas, PostgreSQL driver, read-only mode."""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote, unquote

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, NoSuchModuleError

from soundcharts_lib.errors import ConfigError
from soundcharts_lib.logs import mask

SQLITE_BUSY_TIMEOUT_MS = 30_000

# The formats SQLAlchemy's SQLite Date / DateTime types store, for the driver-level bulk insert (upsert.py);
# explicit because the sqlite3 module's own defaults are deprecated.
sqlite3.register_adapter(date, date.isoformat)
sqlite3.register_adapter(datetime, lambda v: v.isoformat(" "))


def database_url(url: str | URL) -> URL:
    """``url`` parsed and checked: SQLite or PostgreSQL (psycopg 3 unless another driver is named), its driver
    installed; ``ConfigError`` otherwise."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigError(f"SOUNDCHARTS_DB_URL is not a database URL: {mask(str(url))!r}") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")
    if backend == "sqlite" and "?" in str(url) and not parsed.query:  # SQLAlchemy would drop the rest of the name
        raise ConfigError("a '?' in a SQLite file name is written %3F in SOUNDCHARTS_DB_URL ('#' %23, '%' %25)")
    try:
        parsed.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigError(f"database driver not installed: {exc}") from None
    return parsed


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a SQLite URL (a ``file:`` URI's too, unquoted); None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):
        database = unquote(database.removeprefix("file:").split("?")[0])
    return Path(database)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


# JIT compilation (on by default) costs 10-15 ms for any query whose estimate passes jit_above_cost, more than such
# a query of a page runs (measured at 64.8M entries: a track's "compare with" candidates 28 ms with it, 13 without)
PG_OPTIONS = "-c jit=off"
# a viewer's statements: read-only, and no parallel workers: a page's statements read indexed thousands of rows, and
# starting workers cost more than they share (the artist page's "compare with" count at 62.9M entries on partitions:
# 31 ms with 2 workers, a parallel plan scanning the rankings; 9 without), while a dashboard's visitors would compete
# for the server's few workers
PG_VIEWER_OPTIONS = "-c default_transaction_read_only=on -c max_parallel_workers_per_gather=0"
PG_POOL = 10  # connections kept open (the last used first): a page's reads run side by side, up to 8 at once
# a viewer's statement is prepared on its connection the second time it runs there (psycopg's default: the sixth),
# so that a page read again (a date picked, an auto-refresh) is neither parsed nor planned again (0.4-1.1 ms a
# statement); measured at 62.9M entries, reads 2-4 of a new engine: chart page 61.2 -> 57.5 ms, overview 58.4 -> 53.9
PG_PREPARE_AFTER = 1
# a viewer's connection is checked (a round trip) before use only when it has been idle this long: a page's reads
# take 5-8 connections in turn within milliseconds, and a check each cost the year-long hit's track page 2.7 ms of
# 48 (62.9M entries); after a server restart the first read finds every idle connection checked, and a dead one
# replaced
PG_CHECK_IDLE_S = 1.0


def make_engine(url: str | URL, *, read_only: bool = False, echo: bool = False) -> Engine:
    """Build an engine. SQLite: busy timeout, foreign keys (WAL once migrated); ``read_only`` opens ``mode=ro``.

    PostgreSQL: psycopg 3, JIT compilation off (:data:`PG_OPTIONS`); ``read_only`` makes every transaction
    read-only.
    """
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, read_only=read_only, echo=echo)
    if not read_only:
        return create_engine(parsed, echo=echo, pool_pre_ping=True, pool_size=PG_POOL, pool_use_lifo=True,
                             connect_args={"options": PG_OPTIONS})
    # every statement read-only and its own transaction: a page's reads send no BEGIN and no ROLLBACK (a round trip
    # each); under READ COMMITTED each statement took a snapshot of its own anyway
    engine = create_engine(parsed, echo=echo, pool_size=PG_POOL, pool_use_lifo=True, isolation_level="AUTOCOMMIT",
                           connect_args={"options": f"{PG_OPTIONS} {PG_VIEWER_OPTIONS}",
                                         "prepare_threshold": PG_PREPARE_AFTER})
    event.listen(engine, "connect", _idle_since)
    event.listen(engine, "checkin", _idle_since)
    event.listen(engine, "checkout", _checked_when_idle)
    return engine


def _idle_since(dbapi_connection, record) -> None:
    record.info["idle_since"] = time.monotonic()


def _checked_when_idle(dbapi_connection, record, proxy) -> None:
    """A pool connection idle for :data:`PG_CHECK_IDLE_S` or more is checked first; a dead one is replaced (the pool
    retries with a new connection on ``DisconnectionError``)."""
    if time.monotonic() - record.info["idle_since"] < PG_CHECK_IDLE_S:
        return
    try:
        dbapi_connection.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - whatever the driver raises for a connection that is gone
        raise DisconnectionError(str(exc)) from exc


def _sqlite_engine(parsed: URL, *, read_only: bool, echo: bool) -> Engine:
    db = parsed.database
    if db and db != ":memory:" and not db.startswith("file:"):
        path = Path(db)
        if path.is_dir():
            raise ConfigError(f"{path} is a folder, not a database file")
        if read_only:
            if not path.exists():
                raise ConfigError(f"database file not found: {path} (run `soundcharts init-db`)")
            parsed = parsed.set(database=read_only_uri(path), query={"uri": "true"})
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"cannot create the database folder {path.parent}: {exc.strerror}") from None
    engine = create_engine(parsed, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def read_only_uri(path: Path) -> str:
    """The SQLite URI opening ``path`` read-only (quoted: a ``#``, ``?`` or ``%`` in the name stays in the name):
    ``mode=ro``, plus ``immutable=1`` for a file no one can change (no write permission at all, no write-ahead log
    beside it) in a folder this process cannot write to, where ``mode=ro`` alone cannot open a WAL database (SQLite
    would create its shared-memory file there)."""
    unchangeable = not path.stat().st_mode & 0o222 and not path.with_name(f"{path.name}-wal").exists()
    immutable = unchangeable and not os.access(path.parent, os.W_OK)
    return f"file:{quote(str(path))}?mode=ro{'&immutable=1' if immutable else ''}"


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
