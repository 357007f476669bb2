"""Shared fixtures. Test modules that want both database backends take ``database_url``."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_cluster import PostgresCluster, PostgresUnavailable

_database_numbers = itertools.count(1)


def _under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster for the whole session, started on first use.

    Without PostgreSQL the tests using it skip, but under CI (``CI`` set) they fail: CI must not pass silently
    without PostgreSQL.
    """
    try:
        cluster = PostgresCluster()
    except PostgresUnavailable as exc:
        if _under_ci():
            pytest.fail(f"CI is set but PostgreSQL is unusable: {exc}", pytrace=False)
        pytest.skip(str(exc))
    with cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty database for one test, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    name = f"t{next(_database_numbers)}_{re.sub(r'[^a-z0-9_]+', '_', request.node.name.lower())}"[:63]
    url = cluster.create_database(name)
    yield url
    cluster.drop_database(name)
