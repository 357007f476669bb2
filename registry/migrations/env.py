"""Alembic environment of the registry: always run from ``xds.db.migrate`` with an open connection."""

from alembic import context

from registry.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
