"""Which schema revision a database is at, against the revisions this release ships, and the refusals.

- written by a newer release (a revision this release does not know): every command refuses it, init-db included;
- another application's database (tables, but no ``alembic_version``): nothing touches it;
- not initialised, or behind this release: reading commands say "run `soundcharts init-db`"; writing ones migrate.

The revisions are read from the migration scripts' ``revision`` / ``down_revision`` lines, without Alembic (the
dashboards' kernels and the JSON endpoints never import it).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Connection, Engine

from soundcharts_lib.config import Settings
from soundcharts_lib.db.engine import database_url, make_engine, sqlite_file
from soundcharts_lib.errors import ConfigError, SoundchartsError

VERSIONS = Path(__file__).with_name("migrations") / "versions"
INIT_DB = "run `soundcharts init-db`"


class SchemaTooNew(ConfigError):
    """The database was written by a newer release: this one must not read or write it."""

    def __init__(self, revision: str):
        super().__init__(f"written by a newer soundcharts-workbench (revision {revision}); upgrade")
        self.revision = revision


class ForeignDatabase(ConfigError):
    """The database holds another application's tables and no soundcharts schema."""


class NotReady(SoundchartsError):
    """A reading command met a database it cannot read yet (not initialised, or behind this release)."""


@cache
def known_revisions() -> dict[str, str | None]:
    """``{revision: down_revision}`` of every migration this release ships."""
    found = {}
    for script in VERSIONS.glob("*.py"):
        values = {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(script.read_text()).body
                  if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                  and node.targets[0].id in ("revision", "down_revision")}
        if "revision" in values:
            found[values["revision"]] = values.get("down_revision")
    return found


def head() -> str:
    """The newest revision this release ships (the one no other revises)."""
    revisions = known_revisions()
    (newest,) = set(revisions) - set(revisions.values())
    return newest


def stored_revision(conn: Connection) -> str | None:
    """The revision the database is at (None when not initialised).

    Raises :class:`SchemaTooNew` for a revision this release does not know and :class:`ForeignDatabase` for
    tables without ``alembic_version``.
    """
    tables = inspect(conn).get_table_names()
    if "alembic_version" not in tables:
        if tables:
            raise ForeignDatabase(f"the database is not a soundcharts database (it holds {len(tables)} other tables "
                                  "and no alembic_version): point SOUNDCHARTS_DB_URL at a new database")
        return None
    return known(conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all())


def known(stored: list[str]) -> str | None:
    """The revision of ``stored`` (an ``alembic_version`` table's rows; None when empty), if this release knows
    it: else :class:`SchemaTooNew`."""
    unknown = [revision for revision in stored if revision not in known_revisions()]
    if unknown:
        raise SchemaTooNew(unknown[0])
    return stored[0] if stored else None


def require_current(conn: Connection) -> str:
    """The revision, when it is this release's newest; else :class:`NotReady` (or a refusal of
    :func:`stored_revision`)."""
    revision, newest = stored_revision(conn), head()
    if revision is None:
        raise NotReady(f"not initialised: the database has no soundcharts schema yet ({INIT_DB})")
    if revision != newest:
        raise NotReady(f"the database is at revision {revision}, this release reads {newest}: {INIT_DB}")
    return revision


def checked(engine: Engine, check=stored_revision) -> Engine:
    """``engine`` once ``check`` passed on one of its connections (disposed of when it did not)."""
    try:
        with engine.connect() as conn:
            check(conn)
    except BaseException:
        engine.dispose()
        raise
    return engine


def open_current(url: str | URL) -> Engine:
    """``url`` opened read-only at this release's revision: never created nor migrated (:class:`NotReady` when it
    would have to be first)."""
    path = sqlite_file(database_url(url))
    if path is not None and not path.exists():
        raise NotReady(f"database file not found: {path} ({INIT_DB})")
    return checked(make_engine(url, read_only=True), require_current)


def engine_from_env(settings=None, *, read_only: bool | None = None) -> Engine:
    """The configured database; read-only when ``read_only``, by default when the settings say so
    (``SOUNDCHARTS_DB_READONLY=1``, set for the viewers' kernels). A database written by a newer release, or another
    application's, is refused (``ConfigError``)."""
    settings = settings or Settings.from_env()
    if read_only is None:
        read_only = settings.db_readonly
    return checked(make_engine(settings.db_url, read_only=read_only))
