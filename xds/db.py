"""Database engines and migrations shared by the actors that persist (registry, repository, pix).

One code path for SQLite (the embedded default) and PostgreSQL (production, psycopg 3). SQLite runs in WAL
mode so readers never wait for the writer, and a write transaction starts with ``BEGIN IMMEDIATE`` so two
writers queue up instead of failing half-way with "database is locked". Schemas are created and upgraded
by Alembic from the actor's own ``migrations`` folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url

_SQLITE_BEGIN = "xds_sqlite_begin"


def make_engine(url: str, *, pool_size: int = 8) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql(f"BEGIN {connection.get_execution_options().get(_SQLITE_BEGIN, '')}")

    return engine


def writer(engine: Engine) -> Engine:
    """The engine to open write transactions with: on SQLite they take the write lock at BEGIN."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"})
    return engine


def reader(engine: Engine) -> Engine:
    """The engine for reads of one statement each: on PostgreSQL in autocommit, so a query is one round
    trip instead of BEGIN, the query and ROLLBACK. (Several statements in one block then do not share a
    snapshot; a reader that needs one opens a transaction.)"""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


def run_migrations(metadata: MetaData, version_table: str = "alembic_version", **options: Any) -> None:
    """The body of an actor's Alembic ``env.py``, run by ``migrate`` with its open connection: the actor's
    tables and its own version table (``xds up`` puts every actor in one database); ``options`` go to
    ``context.configure``."""
    context.configure(
        connection=context.config.attributes["connection"],
        target_metadata=metadata,
        render_as_batch=True,
        version_table=version_table,
        **options,
    )
    with context.begin_transaction():
        context.run_migrations()


def migrate(engine: Engine, migrations: Path) -> None:
    """Bring the database to the newest revision in ``migrations`` (an Alembic script folder)."""
    config = Config()
    config.set_main_option("script_location", str(migrations))
    if engine.dialect.name != "sqlite":
        with writer(engine).begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        return
    # SQLite "ALTER TABLE" (sqlite.org/lang_altertable.html, section 7): a migration that rebuilds a table
    # (Alembic batch mode: copy, drop, rename) runs with foreign keys off, or dropping the old table would
    # cascade into the rows that point at it; the keys are checked before the migration commits
    with writer(engine).connect() as connection:
        raw = connection.connection.dbapi_connection
        raw.execute("PRAGMA foreign_keys=OFF")  # outside any transaction: inside one it does nothing
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left rows without their parent: {broken[:5]}")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")
