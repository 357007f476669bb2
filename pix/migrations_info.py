"""Where the PIX Manager's Alembic revision is kept: its own version table, since all actors may share one
database under ``xds up`` and the registry uses Alembic's default ``alembic_version``."""

VERSION_TABLE = "pix_alembic_version"
