"""Apply Alembic migrations (``soundcharts init-db``); safe to run again."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from soundcharts_lib.db.engine import sqlite_file
from soundcharts_lib.db.schema import head, stored_revision

__all__ = ["alembic_config", "current_revision", "declared_on", "head", "revision", "upgrade"]
MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


MIGRATION_LOCK = 0x53434D49  # PostgreSQL advisory lock key held while a process migrates


def declared_on(dialect: str):
    """Alembic's ``include_object`` for ``dialect``: a foreign key the models create on another dialect only
    (``ddl_if``, e.g. the entry -> track key, SQLite only) is not expected there."""
    def declared(obj, _name, kind, reflected, _compare_to) -> bool:
        ddl_if = getattr(obj, "_ddl_if", None)
        return reflected or kind != "foreign_key_constraint" or ddl_if is None or ddl_if.dialect == dialect
    return declared


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Bring the schema to ``revision``; return the revision now applied.

    One process at a time: several commands started together on a new database would otherwise all create the
    same tables. On PostgreSQL a transaction-level advisory lock is taken first; on SQLite the migration runs in
    a ``BEGIN EXCLUSIVE`` transaction (which also makes it all or nothing). The others wait for it (SQLite: up to
    the busy timeout), then find the schema up to date.

    A database written by a newer release (``schema.SchemaTooNew``) or another application's
    (``schema.ForeignDatabase``) is refused before anything is written. A SQLite file is then in WAL mode (readers
    and one writer side by side; the setting stays with the file).
    """
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        else:
            conn.exec_driver_sql("BEGIN EXCLUSIVE")
        stored_revision(conn)
        command.upgrade(alembic_config(conn), revision)
        applied = current_revision(conn)
    if sqlite_file(engine.url) is not None:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    return applied


def current_revision(conn) -> str:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision() or ""


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration from the models (developer tool)."""
    with engine.begin() as conn:
        command.revision(alembic_config(conn), message=message, autogenerate=True)
