"""Hot write paths on the driver's own connection: SQLAlchemy statements compiled once for the engine's
dialect, executed with the DBAPI cursor in a transaction begun and ended here.

SQLAlchemy Core costs about 0.1 ms of Python per statement and as much again per transaction on top of the
driver (measured on the imaging intake: 0.6 ms of its 2 ms per instance). Where one transaction of a few
statements runs per received object, this keeps the statements' single source (the Core expression) and
drops that overhead. Cold paths keep using Core.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.sql import Executable


class Compiled:
    """One statement as the driver's SQL text and a function from named values to its parameters."""

    def __init__(self, statement: Executable, engine: Engine) -> None:
        compiled = statement.compile(dialect=engine.dialect)
        self.sql = str(compiled)
        self._positions = compiled.positiontup  # set for positional paramstyles (SQLite's qmark)
        self._fixed = {k: v for k, v in compiled.params.items() if v is not None}  # values in the statement

    def params(self, values: Mapping[str, Any]) -> Any:
        merged = {**self._fixed, **values} if self._fixed else values
        if self._positions is not None:
            return tuple(merged[name] for name in self._positions)
        return merged


class Transaction:
    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, statement: Compiled, values: Mapping[str, Any]) -> int:
        """Run ``statement``; the number of rows it changed."""
        self._cursor.execute(statement.sql, statement.params(values))
        return int(self._cursor.rowcount)


@contextmanager
def transaction(engine: Engine) -> Iterator[Transaction]:
    """A write transaction on a pooled connection, committed on leaving, rolled back on an exception. On
    SQLite it takes the write lock at BEGIN (IMMEDIATE), as xds.db.writer does."""
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        cursor = driver.cursor()
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            cursor.execute("BEGIN IMMEDIATE")  # xds.db leaves the sqlite3 module's own BEGIN off
        try:
            yield Transaction(cursor)
        except BaseException:
            if sqlite:
                cursor.execute("ROLLBACK")
            else:
                driver.rollback()
            raise
        else:
            if sqlite:
                cursor.execute("COMMIT")
            else:
                driver.commit()
        finally:
            cursor.close()
