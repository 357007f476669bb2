"""The statements of an ITI-42 registration on PostgreSQL, sent on the driver (psycopg) connection of the
open SQLAlchemy transaction (registry/store.py chooses them on PostgreSQL).

Through SQLAlchemy Core a statement costs the registry more CPU than it costs PostgreSQL, and a
multi-row INSERT ... VALUES has another text for every row count, so psycopg never prepares it. Here
every text is fixed, so psycopg prepares it on each connection (after prepare_threshold uses; PostgreSQL
then neither parses nor plans it again), and a whole submission is one INSERT:
the rows of each table travel as one JSON array, expanded by json_populate_recordset / json_to_recordset,
the attribute rows joined to the registry_object rows the same statement inserts. Driver errors are
raised as SQLAlchemy's DBAPIError subclasses (IntegrityError ...), as the Core statements raise them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import Connection

from registry.rows import ObjectRow
from registry.tables import patient, registry_object
from xds.db import driver_error

_SELECT = ", ".join(c.name for c in registry_object.c)
_COLUMNS = ", ".join(c.name for c in registry_object.c if c.name != "seq")

_PATIENT = f"SELECT {', '.join(c.name for c in patient.c)} FROM patient WHERE pid = %s"
# lists of keys travel as JSON arrays too: psycopg dumps a str for a fraction of what a list costs it
_KEYS = "SELECT json_array_elements_text(%s::json)"
# transaction-level advisory locks, taken in the order of the (sorted) array, and the patient's row (its
# columns NULL when there is none) in the same round trip. The row is read as of the statement's start, so
# a merge (ITI-8 A40) committed while the locks were awaited is not seen; the registration then races the
# merge as it would one statement later
_LOCK_AND_PATIENT = (
    f"SELECT {', '.join('p.' + c.name for c in patient.c)} FROM ("
    f"SELECT count(pg_advisory_xact_lock(hashtextextended(lock_key, 0))) FROM ({_KEYS}) AS locked(lock_key)"
    ") AS locks LEFT JOIN patient AS p ON p.pid = %s"
)
_NAMED = (
    f"SELECT {_SELECT} FROM registry_object "
    f"WHERE id = ANY(ARRAY({_KEYS})) OR unique_id = ANY(ARRAY({_KEYS})) ORDER BY seq"
)
# json_populate_recordset yields the rows in array order, so their seqs follow the submission's order
_INSERT = f"""
WITH stored AS (
    INSERT INTO registry_object ({_COLUMNS})
    SELECT {_COLUMNS} FROM json_populate_recordset(NULL::registry_object, %s::json)
    RETURNING seq, id
), codes AS (
    INSERT INTO object_code (object_seq, attribute, code)
    SELECT stored.seq, v.attribute, v.code
    FROM json_to_recordset(%s::json) AS v(id text, attribute text, code text) JOIN stored USING (id)
), authors AS (
    INSERT INTO object_author (object_seq, person)
    SELECT stored.seq, v.person
    FROM json_to_recordset(%s::json) AS v(id text, person text) JOIN stored USING (id)
)
INSERT INTO object_reference (object_seq, reference)
SELECT stored.seq, v.reference
FROM json_to_recordset(%s::json) AS v(id text, reference text) JOIN stored USING (id)
"""


def _execute(conn: Connection, statement: str, params: Sequence[Any], *, rows: bool = False) -> list[Any]:
    """Run one statement in the connection's transaction; with ``rows`` its rows, as named tuples."""
    try:
        with conn.connection.driver_connection.cursor(row_factory=namedtuple_row) as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if rows else []
    except psycopg.Error as exc:
        raise driver_error(conn, statement, params, exc) from exc


def get_patient(conn: Connection, pid: str) -> Any | None:
    found = _execute(conn, _PATIENT, [pid], rows=True)
    return found[0] if found else None


def lock_and_get_patient(conn: Connection, keys: list[str], pid: str | None) -> Any | None:
    found = _execute(conn, _LOCK_AND_PATIENT, [_json(keys), pid], rows=True)[0]
    return found if found.pid is not None else None


def objects_named(conn: Connection, ids: list[str], unique_ids: list[str]) -> list[Any]:
    return _execute(conn, _NAMED, [_json(ids), _json(unique_ids)], rows=True)


def insert_objects(conn: Connection, rows: Sequence[ObjectRow]) -> None:
    codes = [{"id": r.values["id"], "attribute": a, "code": c} for r in rows for a, c in r.codes]
    authors = [{"id": r.values["id"], "person": p} for r in rows for p in r.authors]
    references = [{"id": r.values["id"], "reference": ref} for r in rows for ref in r.references]
    objects = [r.values for r in rows]
    _execute(conn, _INSERT, [_json(v) for v in (objects, codes, authors, references)])


def _json(value: list[Any]) -> str:
    # characters as they are, not as \u escapes, which PostgreSQL reads only in a UTF8 database
    return json.dumps(value, ensure_ascii=False)
