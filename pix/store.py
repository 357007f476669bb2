"""Persistence of the PIX Manager on SQLite or PostgreSQL (xds.db), one transaction per message.

Functions take an open connection so that one ITI-8 message (patient, identifiers and the outbox rows it
produces) is stored whole or not at all: a feed that was acknowledged is never lost, and the registry
hears of exactly what was acknowledged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Row, insert, select, update
from sqlalchemy.exc import DBAPIError

from pix.batch import GroupCommit
from pix.model import Demographics, Domain, domain_key
from pix.tables import (
    ACTIVE,
    DELIVERED,
    MERGED,
    PENDING,
    RETIRED,
    domain,
    identifier,
    outbox,
    patient,
)
from xds.db import driver_error, make_engine, migrate, writer
from xds.hl7v2 import HD, XPN

T = TypeVar("T")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PATIENT_COLUMNS = tuple(c.name for c in patient.columns if c.name != "id")


@lru_cache(maxsize=128)
def _for(paramstyle: str, statement: str) -> str:
    return statement.replace("?", "%s") if paramstyle in ("format", "pyformat") else statement


def _sql(conn: Connection, statement: str, params: Sequence[object] = (), *, many: bool = False) -> Any:
    """Run a fixed SQL statement with ``?`` placeholders on SQLite and PostgreSQL alike; the DB-API cursor.

    The hot paths of a feed (a handful of statements per message, hundreds of messages per second) go to
    the DB-API cursor of the connection's transaction: SQLAlchemy's statement construction, compilation
    and result wrapping cost more than the database work.
    """
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    text = _for(conn.dialect.paramstyle, statement)
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        if many:
            cursor.executemany(text, params)
        else:
            cursor.execute(text, tuple(params))
    except dbapi_error as exc:
        # as SQLAlchemy would raise it (IntegrityError, OperationalError ...), for the callers' retries
        raise driver_error(conn, text, params, exc) from exc
    return cursor


def now_dtm() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S")


@dataclass(frozen=True, slots=True)
class Link:
    """A local identifier and the master patient it belongs to."""

    domain: Domain
    id_number: str
    patient_id: int
    status: str


class PixStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = writer(engine)
        self._domains: dict[str, Domain] = {}  # domains are only ever added: safe to cache
        # SQLite has one writer at a time; threads of this process queue here instead of in SQLite's busy
        # handler, which sleeps (milliseconds) between attempts
        self._write_lock = threading.Lock() if engine.dialect.name == "sqlite" else None
        # SQLite: concurrent feeds share transactions (one writer anyway); PostgreSQL runs them side by side
        self.group = GroupCommit(self._group_write, self.forget) if self._write_lock is not None else None
        self._group_connection: Connection | None = None  # used by the group-commit leader only

    @classmethod
    def open(cls, database_url: str) -> PixStore:
        """Connect and bring the PIX tables up to date (its own Alembic version table)."""
        engine = make_engine(database_url)
        migrate(engine, MIGRATIONS)
        return cls(engine)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back when it raises."""
        if self._write_lock is None:
            with self._writer.begin() as connection:
                yield connection
            return
        with self._write_lock, self._writer.begin() as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            yield connection

    @contextmanager
    def _group_write(self) -> Iterator[Connection]:
        """``write()`` on one long-lived connection (no pool round trip per transaction); only the
        group-commit leader uses it, one at a time. A connection the database dropped is replaced."""
        if self._group_connection is None or self._group_connection.closed:
            self._group_connection = self._writer.connect()
        conn = self._group_connection
        try:
            if self._write_lock is None:
                with conn.begin():
                    yield conn
                return
            with self._write_lock, conn.begin():
                yield conn
        except DBAPIError as exc:
            if exc.connection_invalidated:
                self._group_connection = None
                conn.close()
            raise

    def transact(self, work: Callable[[Connection], T]) -> T:
        """``work(conn)`` in a committed write transaction (shared with concurrent jobs on SQLite)."""
        if self.group is not None:
            return self.group.run(work)  # type: ignore[no-any-return]
        with self.write() as conn:
            return work(conn)

    def close(self) -> None:
        if self._group_connection is not None:
            self._group_connection.close()
            self._group_connection = None
        self.engine.dispose()

    # --- domains ------------------------------------------------------------------------------------------

    def _load_domains(self, conn: Connection) -> None:
        for row in conn.execute(select(domain)):
            self._domains.setdefault(
                row.key, Domain(row.key, row.namespace_id, row.universal_id, row.universal_id_type)
            )

    def find_domain(self, conn: Connection, hd: HD) -> Domain | None:
        """The known domain ``hd`` names: by its OID, else (no OID sent) by its namespace."""
        for attempt in range(2):
            if hd.universal_id:
                found = self._domains.get(hd.universal_id)
            else:
                found = next(
                    (
                        d
                        for d in tuple(self._domains.values())
                        if d.namespace_id == hd.namespace_id and hd.namespace_id
                    ),
                    None,
                )
            if found is not None or attempt:
                return found
            self._load_domains(conn)  # another process may have added it
        return None

    def ensure_domain(self, conn: Connection, hd: HD) -> Domain:
        found = self.find_domain(conn, hd)
        if found is not None:
            return found
        new = Domain(domain_key(hd), hd.namespace_id, hd.universal_id, hd.universal_id_type)
        conn.execute(
            insert(domain).values(
                key=new.key,
                namespace_id=new.namespace_id,
                universal_id=new.universal_id,
                universal_id_type=new.universal_id_type,
            )
        )
        # cached once the transaction commits; until then a rollback would leave a ghost, so no cache here
        return new

    def forget(self) -> None:
        """Drop the cache (after a rollback it may hold a domain that was never committed)."""
        self._domains = {}

    def remember(self, domains: Sequence[Domain]) -> None:
        """Cache domains created by a committed transaction."""
        for item in domains:
            self._domains.setdefault(item.key, item)

    def domain(self, conn: Connection, key: str) -> Domain:
        if key not in self._domains:
            self._load_domains(conn)
        return self._domains[key]


# --- identifiers ------------------------------------------------------------------------------------------


def find_link(store: PixStore, conn: Connection, dom: Domain, id_number: str) -> Link | None:
    row = _sql(
        conn,
        "SELECT patient_id, status FROM pix_identifier WHERE domain_key = ? AND id_number = ?",
        (dom.key, id_number),
    ).fetchone()
    return None if row is None else Link(dom, id_number, row[0], row[1])


def link(conn: Connection, dom: Domain, id_number: str, patient_id: int) -> None:
    link_all(conn, [(dom, id_number)], patient_id)


def link_all(conn: Connection, items: Sequence[tuple[Domain, str]], patient_id: int) -> None:
    if items:
        statement = (
            "INSERT INTO pix_identifier (domain_key, id_number, patient_id, status) VALUES (?, ?, ?, ?)"
        )
        rows = [(dom.key, id_number, patient_id, ACTIVE) for dom, id_number in items]
        _sql(conn, statement, rows, many=True)


def retire(conn: Connection, dom: Domain, id_number: str, patient_id: int) -> None:
    conn.execute(
        update(identifier)
        .where(identifier.c.domain_key == dom.key, identifier.c.id_number == id_number)
        .values(status=RETIRED, patient_id=patient_id)
    )


def move_identifiers(conn: Connection, source: int, target: int) -> None:
    conn.execute(update(identifier).where(identifier.c.patient_id == source).values(patient_id=target))


def identifiers_of(store: PixStore, conn: Connection, patient_ids: Sequence[int]) -> dict[int, list[Link]]:
    """The active identifiers of each patient, in a stable order (domain, id)."""
    found: dict[int, list[Link]] = {pid: [] for pid in patient_ids}
    if not patient_ids:
        return found
    marks = ", ".join("?" * len(patient_ids))
    rows = _sql(
        conn,
        f"SELECT domain_key, id_number, patient_id, status FROM pix_identifier WHERE patient_id IN ({marks})"
        " AND status = ? ORDER BY domain_key, id_number",
        (*patient_ids, ACTIVE),
    )
    for key, id_number, patient_id, status in rows.fetchall():
        found[patient_id].append(Link(store.domain(conn, key), id_number, patient_id, status))
    return found


# --- patients ---------------------------------------------------------------------------------------------


def get_patient(conn: Connection, patient_id: int) -> Row | None:
    return conn.execute(select(patient).where(patient.c.id == patient_id)).first()


def patients(conn: Connection, patient_ids: Sequence[int]) -> dict[int, Row]:
    if not patient_ids:
        return {}
    return {row.id: row for row in conn.execute(select(patient).where(patient.c.id.in_(patient_ids)))}


def create_patient(
    conn: Connection, demographics: Demographics, xad_pid: str | None, name: XPN | None = None
) -> int:
    values = {
        **demographics.columns(name),
        "xad_pid": xad_pid,
        "status": ACTIVE,
        "merged_into": None,
        "updated": now_dtm(),
    }
    marks = ", ".join("?" * len(_PATIENT_COLUMNS))
    statement = f"INSERT INTO pix_patient ({', '.join(_PATIENT_COLUMNS)}) VALUES ({marks}) RETURNING id"
    return int(_sql(conn, statement, [values[name] for name in _PATIENT_COLUMNS]).fetchone()[0])


def set_xad_pid(conn: Connection, patient_id: int, xad_pid: str) -> bool:
    """Give the patient ``xad_pid`` unless another patient has it; True when set."""
    statement = (
        "UPDATE pix_patient SET xad_pid = ? WHERE id = ?"
        " AND NOT EXISTS (SELECT 1 FROM pix_patient AS other WHERE other.xad_pid = ?)"
    )
    return _sql(conn, statement, (xad_pid, patient_id, xad_pid)).rowcount == 1


def update_demographics(conn: Connection, row: Row, demographics: Demographics) -> bool:
    """Store new demographics; True if anything changed."""
    if Demographics.of_row(row) == demographics:
        return False
    values = {**demographics.columns(), "updated": now_dtm()}
    conn.execute(update(patient).where(patient.c.id == row.id).values(**values))
    return True


def mark_merged(conn: Connection, patient_id: int, survivor_xad_pid: str) -> None:
    conn.execute(
        update(patient)
        .where(patient.c.id == patient_id)
        .values(status=MERGED, merged_into=survivor_xad_pid, updated=now_dtm())
    )


# --- outbox -----------------------------------------------------------------------------------------------


def enqueue(conn: Connection, target: str, event: str, control: str, message: bytes) -> None:
    _sql(
        conn,
        "INSERT INTO pix_outbox (target, event, control_id, message, state, attempts, created)"
        " VALUES (?, ?, ?, ?, ?, 0, ?)",
        (target, event, control, message, PENDING, now_dtm()),
    )


def pending(conn: Connection, target: str, limit: int = 100) -> list[Row]:
    return list(
        conn.execute(
            select(outbox.c.seq, outbox.c.event, outbox.c.control_id, outbox.c.message, outbox.c.attempts)
            .where(outbox.c.target == target, outbox.c.state == PENDING)
            .order_by(outbox.c.seq)
            .limit(limit)
        )
    )


def settle(conn: Connection, seq: int, state: str, result: str) -> None:
    conn.execute(
        update(outbox)
        .where(outbox.c.seq == seq)
        .values(state=state, result=result[:2000], attempts=outbox.c.attempts + 1)
    )


def count_attempt(conn: Connection, seq: int, result: str) -> None:
    conn.execute(
        update(outbox).where(outbox.c.seq == seq).values(attempts=outbox.c.attempts + 1, result=result[:2000])
    )


def purge_delivered(conn: Connection, target: str, before: str) -> int:
    """Delete the delivered messages of ``target`` created before DTM ``before``; how many."""
    query = "DELETE FROM pix_outbox WHERE target = ? AND state = ? AND created < ?"
    return int(_sql(conn, query, (target, DELIVERED, before)).rowcount)


def outbox_rows(conn: Connection, target: str | None = None) -> list[Row]:
    query = select(outbox).order_by(outbox.c.seq)
    if target is not None:
        query = query.where(outbox.c.target == target)
    return list(conn.execute(query))
