"""Alembic environment of the Audit Record Repository, run from ``xds.db.migrate`` with an open connection.

Its own version table: ``xds up`` puts every actor in one database.
"""

from xds.audit.tables import metadata
from xds.db import run_migrations

run_migrations(metadata, "audit_alembic_version")
