"""What every job needs: settings, a migrated engine and a client, built from the environment; what a reading
command needs: the database at this release's revision, read-only, never created nor migrated."""

from __future__ import annotations

from contextlib import contextmanager

from soundcharts_lib.config import Settings
from soundcharts_lib.errors import ConfigError


def require_credentials(settings: Settings) -> None:
    if not settings.has_credentials:
        raise ConfigError("no SoundCharts credentials: set SOUNDCHARTS_APP_ID and SOUNDCHARTS_API_KEY "
                          "(or SOUNDCHARTS_CLIENT_ID and SOUNDCHARTS_CLIENT_SECRET)")


def migrated_engine(settings: Settings):
    """The configured database, migrated to the current schema (and partitioned if configured) first."""
    from soundcharts_lib.db import make_engine, partition, upgrade

    engine = make_engine(settings.db_url)
    upgrade(engine)
    partition.apply(engine, settings.pg_partitioning)
    return engine


def reading_engine(settings: Settings):
    """The configured database opened read-only (see :func:`soundcharts_lib.db.schema.open_current`)."""
    from soundcharts_lib.db.schema import open_current

    return open_current(settings.db_url)


@contextmanager
def job_context(settings: Settings):
    """``(client, engine)`` for a job: credentials checked before the database is created or migrated; the client
    is closed and the engine disposed afterwards."""
    from soundcharts_lib.api.client import SoundchartsClient

    require_credentials(settings)
    engine = migrated_engine(settings)
    try:
        with SoundchartsClient.from_settings(settings) as client:
            yield client, engine
    finally:
        engine.dispose()
