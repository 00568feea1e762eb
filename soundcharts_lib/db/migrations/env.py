"""Alembic environment: runs on the connection handed over by ``soundcharts_lib.db.migrate``."""

from alembic import context

from soundcharts_lib.db.migrate import declared_on
from soundcharts_lib.db.models import Base

config = context.config
connection = config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  compare_type=True, include_object=declared_on(connection.dialect.name))
with context.begin_transaction():
    context.run_migrations()
