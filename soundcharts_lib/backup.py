"""Backup and restore of the whole database.

SQLite: the online backup API (a consistent copy while jobs and dashboards keep running), written to a temporary
name, checked, then renamed; the copy is a single self-contained file (rollback journal, no WAL).
PostgreSQL: ``pg_dump --format=custom`` (password passed in the environment, never on the command line);
restore with ``pg_restore`` in one transaction. A restore goes into an empty database unless ``force``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError

from .db import is_postgres, make_engine, upgrade
from .db.models import Base
from .errors import ConfigError, SoundchartsError
from .logs import mask

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(SoundchartsError):
    """A backup or restore tool failed; the message is its last line, secrets masked."""


@dataclass
class BackupResult:
    path: Path
    size: int
    method: str
    seconds: float

    def summary(self) -> str:
        return f"backup written: {self.path} ({self.size / 1e6:.1f} MB, {self.method}, {self.seconds:.1f} s)"


@dataclass
class RestoreResult:
    source: Path
    method: str
    revision: str
    rows: dict[str, int]

    def summary(self) -> str:
        counts = ", ".join(f"{n} {table}" for table, n in self.rows.items() if n)
        return f"restored {self.source} ({self.method}) at revision {self.revision}: {counts or 'no rows'}"


def _parse(url: str | URL) -> URL:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigError("SOUNDCHARTS_DB_URL is not a database URL") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql://")
    return parsed


def backup_suffix(url: str | URL) -> str:
    return ".dump" if _parse(url).get_backend_name() == "postgresql" else ".db"


def backup(url: str | URL, to: str | Path, *, force: bool = False) -> BackupResult:
    """Back up the database at ``url`` to the file ``to`` (an existing file only with ``force``)."""
    url = _parse(url)
    dest = Path(to)
    if dest.exists() and not force:
        raise ConfigError(f"{dest} already exists (add --force to overwrite it)")
    if dest.is_dir():
        raise ConfigError(f"{dest} is a folder: give a file name")
    source = None if url.get_backend_name() == "postgresql" else _sqlite_file(url)
    if source is not None and not source.is_file():
        raise ConfigError(f"database file not found: {source}")
    if source is not None and dest.resolve() == source.resolve():
        raise ConfigError("the backup file is the database itself")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    started = time.monotonic()
    try:
        method = _sqlite_backup(source, partial) if source is not None else _pg_dump(url, partial)
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(dest, dest.stat().st_size, method, time.monotonic() - started)


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise ConfigError(f"not a SQLite database file: {url.database!r}")
    return Path(url.database)


def _sqlite_backup(source: Path, dest: Path) -> str:
    with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(dest)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
        _quick_check(dst, dest)
    return "sqlite online backup"


def _quick_check(conn: sqlite3.Connection, path: Path) -> None:
    try:
        result = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{path} is not a readable SQLite database: {exc}") from None
    if result != "ok":
        raise BackupError(f"{path} failed SQLite's integrity check: {result}")


def _libpq(url: URL) -> tuple[str, dict]:
    """A libpq URI without the password, and the environment carrying it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise ConfigError(f"{name} not found: install the PostgreSQL client tools (apt-get install "
                          "postgresql-client) at a version at least the server's")
    return path


def _run(cmd: list[str], env: dict) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode:
        name = Path(cmd[0]).name
        lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
        first = next((line for line in lines if "error:" in line), lines[0] if lines else f"exit {proc.returncode}")
        raise BackupError(f"{name} failed: {mask(first.split('error:', 1)[-1].strip())}")


def _pg_dump(url: URL, dest: Path) -> str:
    uri, env = _libpq(url)
    _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(dest),
          "--dbname", uri], env)
    return "pg_dump custom format"


def backup_kind(path: str | Path) -> str:
    """``sqlite`` or ``pg_dump``, from the file's first bytes."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"backup file not found: {path}")
    with path.open("rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "pg_dump"
    raise ConfigError(f"{path} is neither a SQLite backup nor a pg_dump custom-format file")


def restore(url: str, source: str | Path, *, force: bool = False) -> RestoreResult:
    """Restore the backup ``source`` into the database at ``url``, then migrate it to the current schema.

    The target must be empty unless ``force`` (which replaces its contents; stop jobs and dashboards first).
    """
    source = Path(source)
    kind = backup_kind(source)
    engine = make_engine(url)
    try:
        if (kind == "pg_dump") != is_postgres(engine):
            backend = "PostgreSQL" if is_postgres(engine) else "SQLite"
            raise ConfigError(f"{source} is a {kind} backup but SOUNDCHARTS_DB_URL is a {backend} database")
        tables = inspect(engine).get_table_names()
        if tables and not force:
            raise ConfigError(f"the target database already has {len(tables)} tables: restore into an empty "
                              "database, or add --force to replace its contents (stop jobs and dashboards first)")
        engine.dispose()
        if kind == "pg_dump":
            uri, env = _libpq(engine.url)
            clean = ["--clean", "--if-exists"] if tables else []
            _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                  *clean, "--dbname", uri, str(source)], env)
            method = "pg_restore"
        else:
            _sqlite_restore(source, _sqlite_file(engine.url))
            method = "sqlite online backup"
        revision = upgrade(engine)
        return RestoreResult(source, method, revision, row_counts(engine))
    finally:
        engine.dispose()


def _sqlite_restore(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(source)) as src:
        _quick_check(src, source)
        if not src.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone():
            raise ConfigError(f"{source} is a SQLite database but not a soundcharts one")
        with closing(sqlite3.connect(target, timeout=30)) as dst:
            src.backup(dst)


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table of the schema."""
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables}
