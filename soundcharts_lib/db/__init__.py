"""Persistence: models, engines, migrations, dialect-aware bulk writes.

``upgrade`` is imported on first use: it needs Alembic, which read-side code (dashboard kernels, endpoints) never
does, so importing this package does not load it.
"""

from soundcharts_lib.db.engine import is_postgres, make_engine
from soundcharts_lib.db.schema import engine_from_env

__all__ = ["engine_from_env", "is_postgres", "make_engine", "upgrade"]


def __getattr__(name: str):
    if name == "upgrade":
        from soundcharts_lib.db.migrate import upgrade

        return upgrade
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
