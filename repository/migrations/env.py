"""Alembic environment of the repository, run from ``xds.db.migrate`` with an open connection.

The repository keeps its own version table: ``xds up`` puts every actor in one database, and the registry's
history uses Alembic's default ``alembic_version``.
"""

from alembic import context

from repository.tables import metadata

VERSION_TABLE = "repository_alembic_version"

connection = context.config.attributes["connection"]
context.configure(
    connection=connection, target_metadata=metadata, render_as_batch=True, version_table=VERSION_TABLE
)
with context.begin_transaction():
    context.run_migrations()
