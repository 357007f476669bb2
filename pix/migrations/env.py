"""Alembic environment of the PIX Manager: always run from ``xds.db.migrate`` with an open connection.

Its own version table, since all actors may share one database under ``xds up`` and the registry uses
Alembic's default one.
"""

from alembic import context

from pix.migrations_info import VERSION_TABLE
from pix.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    version_table=VERSION_TABLE,
    include_name=lambda name, type_, _parent: type_ != "table" or str(name).startswith("pix_"),
)
with context.begin_transaction():
    context.run_migrations()
