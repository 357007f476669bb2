"""Alembic environment of the PIX Manager: always run from ``xds.db.migrate`` with an open connection.

Its own version table, since all actors may share one database under ``xds up`` and the registry uses
Alembic's default one.
"""

from pix.migrations_info import VERSION_TABLE
from pix.tables import metadata
from xds.db import run_migrations

# in a database shared with the other actors, only the pix_ tables are this one's
run_migrations(
    metadata,
    VERSION_TABLE,
    include_name=lambda name, type_, _parent: type_ != "table" or str(name).startswith("pix_"),
)
