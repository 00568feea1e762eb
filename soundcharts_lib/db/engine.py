"""Database URL -> SQLAlchemy engine: SQLite pragmas, PostgreSQL driver, read-only mode."""

from __future__ import annotations

import os
import sqlite3
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from ..errors import ConfigError
from ..logs import mask

SQLITE_BUSY_TIMEOUT_MS = 30_000

# The formats SQLAlchemy's SQLite Date / DateTime types store, for the driver-level bulk insert (upsert.py);
# explicit because the sqlite3 module's own defaults are deprecated.
sqlite3.register_adapter(date, date.isoformat)
sqlite3.register_adapter(datetime, lambda v: v.isoformat(" "))


def _normalise(url: str):
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigError(f"SOUNDCHARTS_DB_URL is not a database URL: {mask(url)!r}") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")
    return parsed


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str, *, read_only: bool = False, echo: bool = False) -> Engine:
    """Build an engine. SQLite: WAL, busy timeout, foreign keys; ``read_only`` opens ``mode=ro``.

    PostgreSQL: psycopg 3; ``read_only`` makes every transaction read-only.
    """
    parsed = _normalise(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed, read_only=read_only, echo=echo)
        connect_args = {"options": "-c default_transaction_read_only=on"} if read_only else {}
        return create_engine(parsed, echo=echo, pool_pre_ping=True, connect_args=connect_args)
    except NoSuchModuleError as exc:
        raise ConfigError(f"database driver not installed: {exc}") from None


def _sqlite_engine(parsed, *, read_only: bool, echo: bool) -> Engine:
    db = parsed.database
    if db and db != ":memory:" and not db.startswith("file:"):
        path = Path(db)
        if read_only:
            if not path.exists():
                raise ConfigError(f"database file not found: {path} (run `soundcharts init-db`)")
            parsed = parsed.set(database=f"file:{path}?mode=ro", query={"uri": "true"})
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"cannot create the database folder {path.parent}: {exc.strerror}") from None
    engine = create_engine(parsed, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _sqlite_pragmas)
    if not read_only and db and db != ":memory:":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    return engine


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def engine_from_env(settings=None, *, read_only: bool | None = None) -> Engine:
    """The configured database; read-only when ``SOUNDCHARTS_DB_READONLY=1`` (set for dashboards)."""
    from ..config import Settings

    settings = settings or Settings.from_env()
    if read_only is None:
        read_only = os.environ.get("SOUNDCHARTS_DB_READONLY") == "1"
    return make_engine(settings.db_url, read_only=read_only)
