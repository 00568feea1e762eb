"""Persistence: models, engines, migrations, dialect-aware bulk writes."""

from .engine import engine_from_env, is_postgres, make_engine
from .migrate import upgrade

__all__ = ["engine_from_env", "is_postgres", "make_engine", "upgrade"]
