"""The database fixtures (tests/conftest.py, tests/pg_cluster.py) on SQLite and on a throwaway PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pg_cluster
import pytest
from pg_cluster import PostgresCluster, PostgresUnavailable
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, inspect, select, text

ROWS_PER_THREAD = 50


def _items_table(metadata: MetaData) -> Table:
    return Table(
        "items", metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("writer", String(16), nullable=False),
        Column("n", Integer, nullable=False),
    )


def test_two_connections_insert_concurrently(database_url: str) -> None:
    metadata = MetaData()
    items = _items_table(metadata)
    engine = create_engine(database_url)
    try:
        metadata.create_all(engine)
        both_connected = threading.Barrier(2, timeout=30)
        errors: list[BaseException] = []

        def writer(name: str) -> None:
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                    both_connected.wait()  # two connections open at the same time
                    for n in range(ROWS_PER_THREAD):
                        conn.execute(items.insert().values(writer=name, n=n))
                        conn.commit()
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
        assert errors == []
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(items)) == 2 * ROWS_PER_THREAD
            by_writer = select(items.c.writer, func.count()).group_by(items.c.writer)
            per_writer = dict(conn.execute(by_writer).all())
        assert per_writer == {"a": ROWS_PER_THREAD, "b": ROWS_PER_THREAD}
    finally:
        engine.dispose()


def test_each_test_gets_a_fresh_empty_database(database_url: str) -> None:
    # the test above created "items" in its own database; this one must not see it
    engine = create_engine(database_url)
    try:
        assert inspect(engine).get_table_names() == []
        metadata = MetaData()
        _items_table(metadata)
        metadata.create_all(engine)
        assert inspect(engine).get_table_names() == ["items"]
    finally:
        engine.dispose()


def test_postgresql_server_version_and_settings(postgres_cluster: PostgresCluster) -> None:
    engine = create_engine(postgres_cluster.url)
    try:
        with engine.connect() as conn:
            version = conn.scalar(text("SELECT version()"))
            settings = dict(
                conn.execute(
                    text(
                        "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit',"
                        " 'full_page_writes', 'listen_addresses', 'server_encoding', 'lc_collate')"
                    )
                ).all()
            )
            user = conn.scalar(text("SELECT current_user"))
        server_version_info = engine.dialect.server_version_info
    finally:
        engine.dispose()
    assert version is not None and version.startswith("PostgreSQL ")
    assert server_version_info is not None
    # the server is the one of the binaries the fixture found
    assert server_version_info[0] == int(postgres_cluster.version.split(".")[0])
    assert server_version_info[0] >= 13, version
    assert settings == {
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "listen_addresses": "127.0.0.1",
        "server_encoding": "UTF8",
        "lc_collate": "C",
    }
    assert user == "postgres"
    assert (postgres_cluster.socket_dir / f".s.PGSQL.{postgres_cluster.port}").exists()


def test_create_and_drop_database(postgres_cluster: PostgresCluster) -> None:
    url_a = postgres_cluster.create_database("fixture_check_a")
    url_b = postgres_cluster.create_database("fixture_check_b")
    engine_a, engine_b = create_engine(url_a), create_engine(url_b)
    try:
        with engine_a.begin() as conn:
            conn.execute(text("CREATE TABLE only_in_a (x integer)"))
        assert inspect(engine_b).get_table_names() == []
        engine_b.dispose()
        # a connection still open to the database does not prevent the drop (it is terminated)
        conn = engine_a.connect()
        conn.execute(text("SELECT 1"))
        conn.commit()
        postgres_cluster.drop_database("fixture_check_a")
        conn.invalidate()
        conn.close()
        postgres_cluster.drop_database("fixture_check_b")
    finally:
        engine_a.dispose()
        engine_b.dispose()
    admin = create_engine(postgres_cluster.url_for("postgres"))
    try:
        with admin.connect() as conn:
            names = set(conn.scalars(text("SELECT datname FROM pg_database")))
    finally:
        admin.dispose()
    assert not names & {"fixture_check_a", "fixture_check_b"}
    with pytest.raises(ValueError):
        postgres_cluster.create_database("bad name; DROP")


def test_stopped_and_removed_also_when_the_block_fails(postgres_cluster: PostgresCluster) -> None:
    # a second, short-lived cluster (needs PostgreSQL like the session one, hence that fixture)
    cluster = PostgresCluster()
    with pytest.raises(ZeroDivisionError), cluster:
        root = cluster.root
        assert root is not None and (root / "data" / "postmaster.pid").exists()
        1 / 0  # noqa: B018
    assert not root.exists()
    assert cluster.root is None and cluster.port is None


def test_missing_postgresql_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg_cluster.shutil, "which", lambda name: None)
    monkeypatch.setattr(pg_cluster.glob, "glob", lambda pattern: [])
    with pytest.raises(PostgresUnavailable, match="not installed"):
        PostgresCluster()


def test_newest_debian_version_is_preferred() -> None:
    dirs = ["/usr/lib/postgresql/9.6/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"]
    newest = sorted(dirs, key=pg_cluster._version_key, reverse=True)[0]
    assert Path(newest).parent.name == "16"
