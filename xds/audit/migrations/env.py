"""Alembic environment of the Audit Record Repository, run from ``xds.db.migrate`` with an open connection.

Its own version table: ``xds up`` puts every actor in one database.
"""

from alembic import context

from xds.audit.tables import metadata

VERSION_TABLE = "audit_alembic_version"

connection = context.config.attributes["connection"]
context.configure(
    connection=connection, target_metadata=metadata, render_as_batch=True, version_table=VERSION_TABLE
)
with context.begin_transaction():
    context.run_migrations()
