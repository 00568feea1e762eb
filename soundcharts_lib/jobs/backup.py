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
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError

from soundcharts_lib import vocab
from soundcharts_lib.config import Settings, environment
from soundcharts_lib.db import make_engine, upgrade
from soundcharts_lib.db.engine import database_url, read_only_uri, sqlite_file
from soundcharts_lib.db.models import Base
from soundcharts_lib.db.schema import INIT_DB, ForeignDatabase, NotReady, checked, known, stored_revision
from soundcharts_lib.errors import ConfigError, SoundchartsError
from soundcharts_lib.jobs.params import Params, flag, param
from soundcharts_lib.jobs.result import RunResult
from soundcharts_lib.logs import mask

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


def backup_suffix(url: str | URL) -> str:
    return ".dump" if database_url(url).get_backend_name() == "postgresql" else ".db"


def _initialised(conn: Connection) -> None:
    if stored_revision(conn) is None:
        raise NotReady(f"not initialised: the database has no soundcharts schema to back up ({INIT_DB})")


@dataclass(frozen=True)
class BackupParams(Params):
    """The ``maintenance backup`` command's parameters: the file to write, and whether to overwrite it."""

    JOB = "backup"
    to: str = param(vocab.file_path, required=True)
    force: bool = param(flag, False)


def backup(settings: Settings, params: BackupParams | Mapping) -> RunResult:
    """The backup job: the configured database backed up to ``params.to`` (see :func:`write_backup`). It only reads
    the database, so it leaves no run record."""
    params = BackupParams.of(params)
    written = write_backup(settings.db_url, params.to, force=params.force)
    return RunResult(BackupParams.JOB, "success", written.summary(),
                     {"backup": str(written.path), "bytes": written.size})


def write_backup(url: str | URL, to: str | Path, *, force: bool = False) -> BackupResult:
    """Back up the database at ``url`` to the file ``to`` (an existing file only with ``force``).

    Only a soundcharts database this release knows (it may be behind it): never another application's, nor one a
    newer release wrote (:mod:`soundcharts_lib.db.schema`)."""
    url = database_url(url)
    dest = Path(to)
    if dest.exists() and not force:
        raise ConfigError(f"{dest} already exists (add --force to overwrite it)")
    if dest.is_dir():
        raise ConfigError(f"{dest} is a folder: give a file name")
    source = _sqlite_file(url) if url.get_backend_name() == "sqlite" else None
    if source is not None and not source.exists():
        raise NotReady(f"database file not found: {source} ({INIT_DB})")
    if source is not None and dest.resolve() == source.resolve():
        raise ConfigError("the backup file is the database itself")
    checked(make_engine(url, read_only=True), _initialised).dispose()
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
    path = sqlite_file(url)
    if path is None or url.database.startswith("file:"):
        raise ConfigError(f"not a SQLite database file: {url.database!r}")
    return path


def _sqlite_backup(source: Path, dest: Path) -> str:
    with (closing(sqlite3.connect(read_only_uri(source), uri=True, timeout=30)) as src,
          closing(sqlite3.connect(dest)) as dst):
        try:
            src.backup(dst)
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{source} is not a readable SQLite database: {exc}") from None
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
    env = environment(PGPASSWORD=str(url.password)) if url.password else environment()
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

    The target must be empty unless ``force`` (which replaces its contents; stop jobs and dashboards first). The
    backup is checked before the target is touched: a soundcharts backup of the target's kind, at a revision this
    release knows; a SQLite target file the restore created is removed again when it fails.
    """
    source = Path(source)
    kind = backup_kind(source)
    url = database_url(url)
    postgres = url.get_backend_name() == "postgresql"
    if (kind == "pg_dump") != postgres:
        raise ConfigError(f"{source} is a {kind} backup but SOUNDCHARTS_DB_URL is a "
                          f"{'PostgreSQL' if postgres else 'SQLite'} database")
    if postgres:
        _check_dump(source)
    else:
        _check_sqlite_backup(source)
    target = None if postgres else _sqlite_file(url)
    created = target is not None and not target.exists()
    engine = make_engine(url)
    try:
        tables = inspect(engine).get_table_names()
        if tables and not force:
            raise ConfigError(f"the target database already has {len(tables)} tables: restore into an empty "
                              "database, or add --force to replace its contents (stop jobs and dashboards first)")
        engine.dispose()
        if postgres:
            uri, env = _libpq(engine.url)
            clean = ["--clean", "--if-exists"] if tables else []
            _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                  *clean, "--dbname", uri, str(source)], env)
            method = "pg_restore"
        else:
            with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target, timeout=30)) as dst:
                src.backup(dst)
            method = "sqlite online backup"
        revision = upgrade(engine)
        return RestoreResult(source, method, revision, row_counts(engine))
    except BaseException:
        engine.dispose()
        if created:
            for path in (target, *(target.with_name(target.name + end) for end in ("-wal", "-shm", "-journal"))):
                path.unlink(missing_ok=True)
        raise
    finally:
        engine.dispose()


def _check_sqlite_backup(source: Path) -> None:
    """A SQLite backup must be readable, whole, a soundcharts database and not a newer release's."""
    def readable_soundcharts(conn: Connection) -> None:
        ok = conn.exec_driver_sql("PRAGMA quick_check").scalar()
        if ok != "ok":
            raise BackupError(f"{source} failed SQLite's integrity check: {ok}")
        try:
            revision = stored_revision(conn)
        except ForeignDatabase:
            revision = None
        if revision is None:
            raise ConfigError(f"{source} is a SQLite database but not a soundcharts one")

    try:
        checked(make_engine(URL.create("sqlite", database=str(source)), read_only=True), readable_soundcharts).dispose()
    except DBAPIError as exc:
        raise ConfigError(f"{source} is not a readable SQLite database: {str(exc.orig).splitlines()[0]}") from None


def _check_dump(source: Path) -> None:
    """A pg_dump backup must hold a soundcharts schema this release knows (its ``alembic_version`` rows, read from
    the file: no server needed)."""
    proc = subprocess.run([_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-", str(source)],
                          capture_output=True, text=True)
    if proc.returncode:
        raise ConfigError(f"{source} is not a readable pg_dump file: {mask(proc.stderr.strip().splitlines()[-1])}")
    lines = proc.stdout.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("COPY ") and "alembic_version" in line), None)
    stored = lines[start + 1:lines.index("\\.", start)] if start is not None else []
    if known(stored) is None:
        raise ConfigError(f"{source} is a pg_dump file but not a soundcharts backup")


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table of the schema."""
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables}
