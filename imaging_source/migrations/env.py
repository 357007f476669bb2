"""Alembic environment of the Imaging Document Source, run from ``xds.db.migrate`` with an open connection.

Its own version table: ``xds up`` puts every actor in one database (the registry uses ``alembic_version``).
"""

from imaging_source.tables import metadata
from xds.db import run_migrations

run_migrations(metadata, "imaging_alembic_version")
