"""Database engines and migrations shared by the actors that persist (registry, repository, pix).

One code path for SQLite (the embedded default) and PostgreSQL (production, psycopg 3). SQLite runs in WAL
mode so readers never wait for the writer, and a write transaction starts with ``BEGIN IMMEDIATE`` so two
writers queue up instead of failing half-way with "database is locked". Schemas are created and upgraded
by Alembic from the actor's own ``migrations`` folder.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError

_SQLITE_BEGIN = "xds_sqlite_begin"
_IDLE_SINCE = "xds_idle_since"
IDLE_PING_SECONDS = 2.0


def make_engine(url: str, *, pool_size: int = 8, ping_busy: bool = True) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``).

    A pooled PostgreSQL connection is tested before use (SQLAlchemy's pool_pre_ping, one more round trip
    per transaction), so a database restart costs no request. With ``ping_busy`` False only one that sat
    idle for IDLE_PING_SECONDS is (for callers that run a transaction again when its connection broke).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=ping_busy)
        if not ping_busy:
            _ping_when_idle(engine)
        return engine
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


def _ping_when_idle(engine: Engine) -> None:
    """Test a pooled connection before use when it sat idle for IDLE_PING_SECONDS: a server restarted or a
    connection dropped meanwhile (a firewall's idle timeout) costs no request, and a busy connection is
    not tested before every transaction.

    A connection that breaks while in use fails its statement, which invalidates it and every connection
    the pool opened before it (SQLAlchemy's disconnect handling; ``driver_error`` on the driver paths).
    """

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # the pool replaces this connection with a new one
            raise DisconnectionError(f"a pooled connection no longer answers: {exc}") from exc


def driver_error(conn: Connection, statement: str, params: Any, exc: Exception) -> DBAPIError:
    """An error of a statement sent on ``conn``'s DB-API connection (the hot paths that bypass Core), as
    SQLAlchemy raises it (IntegrityError, OperationalError ...), so the callers' retries and error codes
    stay the same; a lost connection is handled as SQLAlchemy handles one: it and every connection its
    pool opened before are invalidated, and the error says ``connection_invalidated``."""
    dialect = conn.dialect
    lost = not conn.invalidated and dialect.is_disconnect(exc, conn.connection.dbapi_connection, None)
    if lost:
        conn.engine.pool._invalidate(conn.connection, exc)  # noqa: SLF001 - as Connection does on a disconnect
        conn.invalidate(exc)
    return DBAPIError.instance(
        statement, params, exc, dialect.loaded_dbapi.Error, hide_parameters=True,
        connection_invalidated=lost, dialect=dialect,
    )


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
