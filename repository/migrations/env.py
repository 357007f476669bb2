"""Alembic environment of the repository, run from ``xds.db.migrate`` with an open connection.

The repository keeps its own version table: ``xds up`` puts every actor in one database, and the registry's
history uses Alembic's default ``alembic_version``.
"""

from repository.tables import metadata
from xds.db import run_migrations

run_migrations(metadata, "repository_alembic_version")
