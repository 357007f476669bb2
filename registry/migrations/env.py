"""Alembic environment of the registry: always run from ``xds.db.migrate`` with an open connection."""

from registry.tables import metadata
from xds.db import run_migrations

run_migrations(metadata)
