"""Persistence of the registry: patients and registry objects, on SQLite or PostgreSQL (xds.db).

The functions below take an open connection so that one ITI-42 or one feed message is one transaction:
all of it is stored or none of it (ITI TF-2b 3.42.4.1.3). ``RegistryStore`` opens those transactions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TypeVar

from sqlalchemy import Connection, Engine, Row, insert, or_, select, update
from sqlalchemy.exc import DBAPIError

from registry import pgstore
from registry.rows import ObjectRow, StoredObject
from registry.tables import (
    ASSOCIATION,
    object_author,
    object_code,
    object_reference,
    patient,
    registry_object,
)
from xds.db import make_engine, migrate, reader, writer

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

T = TypeVar("T")
ACTIVE = "active"
MERGED = "merged"


def now_dtm() -> str:
    """The current time as an XDS DTM (UTC, to the second; ITI TF-3 Table 4.2.3.1.7-2)."""
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S")


class RegistryStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = writer(engine)
        self._reader = reader(engine)

    @classmethod
    def open(cls, database_url: str) -> RegistryStore:
        """Connect and bring the schema up to date. A pooled connection is tested only after it sat idle:
        ITI-42, ITI-18 and ITI-8 run again when theirs broke (xds.db)."""
        engine = make_engine(database_url, ping_busy=False)
        migrate(engine, MIGRATIONS)
        return cls(engine)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back when it raises."""
        with self._writer.begin() as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads of one statement each (ITI-18 answers with one SELECT; xds.db.reader)."""
        with self._reader.connect() as connection:
            yield connection

    def transact(self, work: Callable[[Connection], T]) -> T:
        """``work(conn)`` in one write transaction, once more on a new connection when its pooled one broke
        before the COMMIT (a database restart, xds.db: nothing was stored); a connection lost in the COMMIT
        may have stored it all, so that error is raised."""
        return _once_more_if_broken(self.write, work)

    def query(self, work: Callable[[Connection], T]) -> T:
        """``work(conn)`` on a read connection (``read``), once more on a new one when it broke."""
        return _once_more_if_broken(self.read, work)

    def close(self) -> None:
        self.engine.dispose()


def _once_more_if_broken(
    block: Callable[[], AbstractContextManager[Connection]], work: Callable[[Connection], T]
) -> T:
    """``work(conn)`` in ``block``, run a second time in a new one when the connection broke before the
    block's end; not when it broke at the end (a transaction's COMMIT), where the outcome is unknown."""
    ending = False
    try:
        with block() as conn:
            result = work(conn)
            ending = True
        return result
    except DBAPIError as exc:
        if ending or not exc.connection_invalidated:
            raise
    with block() as conn:
        return work(conn)


def _on_postgresql(conn: Connection) -> bool:
    """PostgreSQL: the statements of an ITI-42 registration run on the driver (registry/pgstore.py)."""
    return conn.dialect.name == "postgresql"


# --- patients ---------------------------------------------------------------------------------------------


class KnownPatient(Protocol):
    """A patient row (a SQLAlchemy Row, or the driver's named tuple on PostgreSQL): the columns read."""

    @property
    def status(self) -> str: ...
    @property
    def merged_into(self) -> str | None: ...


def get_patient(conn: Connection, pid: str) -> KnownPatient | None:
    if _on_postgresql(conn):
        return pgstore.get_patient(conn, pid)
    return conn.execute(select(patient).where(patient.c.pid == pid)).first()


def save_patient(
    conn: Connection, pid: str, *, name: str | None, birth_date: str | None, sex: str | None
) -> bool:
    """Create the patient or update its demographics; True when it was new."""
    values = {"name": name, "birth_date": birth_date, "sex": sex, "updated": now_dtm()}
    changed = conn.execute(update(patient).where(patient.c.pid == pid).values(**values)).rowcount
    if changed:
        return False
    conn.execute(insert(patient).values(pid=pid, status=ACTIVE, merged_into=None, **values))
    return True


def mark_merged(conn: Connection, subsumed: str, survivor: str) -> None:
    values = {"status": MERGED, "merged_into": survivor, "updated": now_dtm()}
    if not conn.execute(update(patient).where(patient.c.pid == subsumed).values(**values)).rowcount:
        conn.execute(insert(patient).values(pid=subsumed, **values))


# --- registry objects -------------------------------------------------------------------------------------


_OBJECT_COLUMNS = tuple(c.name for c in registry_object.c if c.name != "seq")
# one statement for all rows of a submission; the generated seqs come back in parameter order
_INSERT_OBJECTS = insert(registry_object).returning(registry_object.c.seq, sort_by_parameter_order=True)


def insert_objects(conn: Connection, rows: Sequence[ObjectRow]) -> None:
    if not rows:
        return
    if _on_postgresql(conn):
        pgstore.insert_objects(conn, rows)
        return
    params = [{name: row.values.get(name) for name in _OBJECT_COLUMNS} for row in rows]
    seqs = conn.execute(_INSERT_OBJECTS, params).scalars().all()
    codes, authors, references = [], [], []
    for seq, row in zip(seqs, rows, strict=True):
        codes += [{"object_seq": seq, "attribute": a, "code": c} for a, c in row.codes]
        authors += [{"object_seq": seq, "person": p} for p in row.authors]
        references += [{"object_seq": seq, "reference": r} for r in row.references]
    for table, values in ((object_code, codes), (object_author, authors), (object_reference, references)):
        if values:
            conn.execute(insert(table), values)


def objects_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, Row]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(select(registry_object).where(registry_object.c.id.in_(wanted)))
    return {row.id: row for row in rows}


def objects_named(conn: Connection, ids: Iterable[str], unique_ids: Iterable[str]) -> list[StoredObject]:
    """The objects with one of these ids or one of these uniqueIds (one look-up), in registration order."""
    wanted_ids, wanted_unique_ids = sorted(set(ids)), sorted(set(unique_ids))
    if _on_postgresql(conn):
        return pgstore.objects_named(conn, wanted_ids, wanted_unique_ids)
    named = or_(registry_object.c.id.in_(wanted_ids), registry_object.c.unique_id.in_(wanted_unique_ids))
    return list(conn.execute(select(registry_object).where(named).order_by(registry_object.c.seq)))


def objects_by_unique_id(conn: Connection, kind: str | None, unique_ids: Iterable[str]) -> list[Row]:
    """The objects with these uniqueIds, of one kind or (None) of every kind."""
    wanted = sorted(set(unique_ids))
    if not wanted:
        return []
    query = select(registry_object).where(registry_object.c.unique_id.in_(wanted))
    if kind is not None:
        query = query.where(registry_object.c.kind == kind)
    return list(conn.execute(query.order_by(registry_object.c.seq)))


def objects_of_patient(conn: Connection, pid: str) -> list[Row]:
    return list(
        conn.execute(
            select(registry_object).where(registry_object.c.patient_id == pid).order_by(registry_object.c.seq)
        )
    )


def associations(
    conn: Connection, *, types: Iterable[str], sources: Iterable[str] = (), targets: Iterable[str] = ()
) -> list[Row]:
    """Associations of the given types whose sourceObject is one of ``sources`` or whose targetObject is
    one of ``targets``, in registration order."""
    wanted_sources, wanted_targets = sorted(set(sources)), sorted(set(targets))
    if not wanted_sources and not wanted_targets:
        return []
    ends = or_(registry_object.c.source.in_(wanted_sources), registry_object.c.target.in_(wanted_targets))
    query = select(registry_object).where(
        registry_object.c.kind == ASSOCIATION, registry_object.c.object_type.in_(sorted(set(types))), ends
    )
    return list(conn.execute(query.order_by(registry_object.c.seq)))


def lock_and_get_patient(conn: Connection, keys: Iterable[str], pid: str | None) -> KnownPatient | None:
    """Serialise transactions that touch the same keys (e.g. a document uniqueId) until they end, and read
    the patient ``pid`` (None: no patient to read) in the same round trip.

    PostgreSQL: transaction-level advisory locks, taken in sorted order so two writers cannot deadlock.
    SQLite needs nothing: its write transactions already run one at a time (BEGIN IMMEDIATE, xds.db).
    """
    if _on_postgresql(conn):
        return pgstore.lock_and_get_patient(conn, sorted(set(keys)), pid)
    return None if pid is None else get_patient(conn, pid)


def replace_object(conn: Connection, row: ObjectRow, *, expected_status: str | None = None) -> bool:
    """Rewrite the columns of an existing object (status change, new lastUpdateTime, merged patient).

    With ``expected_status`` the update only happens while the object still has that status, so two
    concurrent replacements of one document cannot both deprecate it; False when nothing was updated.
    """
    condition = registry_object.c.id == row.values["id"]
    if expected_status is not None:
        condition &= registry_object.c.status == expected_status
    values = {k: v for k, v in row.values.items() if k != "id"}
    return bool(conn.execute(update(registry_object).where(condition).values(**values)).rowcount)
