"""Bulk loading of the Document Registry's PostgreSQL tables for the registry benchmarks (no HTTP).

The schema comes from the registry's own migrations (``RegistryStore.open``); rows are written with COPY
while the secondary indexes and foreign keys are dropped (``deferred_indexes`` recreates them from their
own definitions afterwards, as the migrations made them), then ``VACUUM ANALYZE``.

``load_submissions`` writes what ITI-42 would have stored for N submissions of one document each:
SubmissionSet + DocumentEntry + HasMember rows, the confidentialityCode, eventCode and authorPerson rows,
and the patients (the registry ``patient`` table). The ``ebrim`` column is the registry's own encoding
(registry.rows.object_row) of the tests/registry_helpers.single_document baseline, encoded once with
placeholders; per row the entryUUIDs, patient, uniqueIds, logicalID, creationTime and the
Classification/ExternalIdentifier ids derived from the entryUUID are filled in, so every row holds the
bytes the registry encodes for such an object (checked against ``object_row`` before every load; an
ITI-42 of our client stores its submitted elements, which differ from these only in those ids:
registry/submitted.py). The first
``query_patients`` patients hold ``QUERY_DOCUMENTS`` documents each, the others ``per_patient``.
"""

from __future__ import annotations

import math
import random
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT_DIR = Path(__file__).resolve().parents[1]
# the project root first: bench/registry.py would otherwise shadow the registry package
sys.path[:0] = [str(ROOT_DIR), str(ROOT_DIR / "tests")]

import psycopg  # noqa: E402

import xds.ebrim.xml as ebrim_xml  # noqa: E402
from registry.rows import ObjectRow, RegistryObject, object_row  # noqa: E402
from registry.store import RegistryStore  # noqa: E402
from xds.config import CONNECTATHON_DOMAIN_OID  # noqa: E402
from xds.ebrim.xml import derived_id  # noqa: E402
from xds.vocabulary import Status  # noqa: E402

DOMAIN = CONNECTATHON_DOMAIN_OID
UID_ROOT = "1.2.276.0.7230010.3.1"  # tests/sample_data.ROOT
QUERY_DOCUMENTS = 50
REGISTRY_TABLES = ("registry_object", "object_code", "object_author", "object_reference")
RO_COLUMNS = [
    *("seq", "id", "kind", "patient_id", "status", "unique_id", "logical_id", "version", "object_type"),
    *("class_code", "type_code", "format_code", "practice_setting_code", "healthcare_facility_type_code"),
    *("creation_time_key", "service_start_time_key", "service_stop_time_key", "hash", "size"),
    *("repository_unique_id", "source_id", "submission_time_key", "content_type_code", "source", "target"),
    "ebrim",
]
# binary COPY: the PostgreSQL type of each column above (varchar takes text's binary form)
_INTS = {"seq": "int8", "version": "int4", "size": "int8"}
RO_TYPES = [_INTS.get(c, "text") for c in RO_COLUMNS]
MARKER = "bench_registry_load"

# placeholders in the template ebRIM, replaced per row
T_SS = "urn:uuid:5505e7e7-0000-4000-8000-000000000001"
T_DE = "urn:uuid:d0c0e7e7-0000-4000-8000-000000000002"
T_HM = "urn:uuid:a550c7e7-0000-4000-8000-000000000003"
T_PID = "PTEMPLATE"
T_SS_UID, T_DE_UID = f"{UID_ROOT}.2.999999999", f"{UID_ROOT}.4.999999999"
T_CREATED = "20240115103000"
PLACEHOLDERS = (T_SS, T_DE, T_HM, T_PID, T_SS_UID, T_DE_UID, T_CREATED)


def pid(n: int) -> str:
    """The XAD-PID of the n-th loaded patient."""
    return f"P{n}^^^&{DOMAIN}&ISO"


def raw_url(url: str) -> str:
    """A SQLAlchemy URL as libpq takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def server_version(url: str) -> str:
    with psycopg.connect(raw_url(url)) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


@contextmanager
def deferred_indexes(cur: psycopg.Cursor[Any], tables: tuple[str, ...] = REGISTRY_TABLES) -> Iterator[None]:
    """Drop the secondary indexes, unique and foreign-key constraints of ``tables`` (primary keys stay) and
    recreate them from their own definitions when the block ends without error."""
    cur.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
        "WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('f', 'u') ORDER BY contype",
        (list(tables),),
    )
    constraints = cur.fetchall()  # 'f' before 'u': foreign keys are dropped first, added last
    cur.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        (list(tables),),
    )
    indexes = cur.fetchall()
    for table, name, _definition, _type in constraints:
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cur.execute(f"DROP INDEX {name}")
    yield
    cur.execute("SET maintenance_work_mem = '1GB'")
    for table, name, definition, kind in reversed(constraints):
        if kind == "u":
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for _name, definition in indexes:
        cur.execute(definition)
    for table, name, definition, kind in constraints:
        if kind == "f":
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


@dataclass(frozen=True)
class Layout:
    """Which patient each loaded document belongs to."""

    documents: int
    per_patient: int
    query_patients: int  # patients 0 .. query_patients-1 hold QUERY_DOCUMENTS documents each

    @classmethod
    def for_documents(cls, documents: int, per_patient: int) -> Layout:
        if documents < QUERY_DOCUMENTS * 2:
            raise ValueError(f"load at least {QUERY_DOCUMENTS * 2} documents")
        return cls(documents, per_patient, max(1, min(20, documents // 1000)))

    @property
    def query_documents(self) -> int:
        return self.query_patients * QUERY_DOCUMENTS

    @property
    def patients(self) -> int:
        return self.query_patients + math.ceil((self.documents - self.query_documents) / self.per_patient)

    def patient_of(self, d: int) -> int:
        if d < self.query_documents:
            return d // QUERY_DOCUMENTS
        return self.query_patients + (d - self.query_documents) // self.per_patient


class _Template:
    """One object's row, its ebRIM split at the placeholders: ``fill`` joins the literal parts with the
    values of one row in a single pass."""

    def __init__(self, row: ObjectRow, derived: dict[str, tuple[str, str]]) -> None:
        self.row = row
        xml = row.values["ebrim"]
        self.derived = {i: owner_role for i, owner_role in derived.items() if i in xml}
        placeholders = [*PLACEHOLDERS, *self.derived]
        pattern = re.compile("|".join(re.escape(p) for p in sorted(placeholders, key=len, reverse=True)))
        self.parts: list[str] = []
        self.names: list[str] = []
        pos = 0
        for match in pattern.finditer(xml):
            self.parts.append(xml[pos : match.start()])
            self.names.append(match.group())
            pos = match.end()
        self.tail = xml[pos:]

    def fill(self, values: dict[str, str]) -> str:
        """The ebRIM with ``values`` (placeholder -> value) and the ids derived from them filled in."""
        values = values | {i: derived_id(values[owner], role) for i, (owner, role) in self.derived.items()}
        out: list[str] = []
        for part, name in zip(self.parts, self.names, strict=True):
            out += (part, values[name])
        out.append(self.tail)
        return "".join(out)


def _objects(values: dict[str, str]) -> list[RegistryObject]:
    """SubmissionSet, DocumentEntry and HasMember of one loaded submission, as the registry stores them."""
    from registry_helpers import single_document

    sub = single_document("0", f"{values[T_PID]}^^^&{DOMAIN}&ISO")
    approved = Status.APPROVED
    ss_id, de_id = values[T_SS], values[T_DE]
    return [
        replace(
            sub.submission_sets[0], entry_uuid=ss_id, unique_id=values[T_SS_UID], availability_status=approved
        ),
        replace(
            sub.document_entries[0],
            entry_uuid=de_id,
            unique_id=values[T_DE_UID],
            logical_id=de_id,
            version="1",
            creation_time=values[T_CREATED],
            availability_status=approved,
        ),
        replace(
            sub.associations[0],
            entry_uuid=values[T_HM],
            source=ss_id,
            target=de_id,
            availability_status=approved,
        ),
    ]


def _templates() -> list[_Template]:
    """Templates of the three rows of a submission, checked against the registry's own encoding of one."""
    derived: dict[str, tuple[str, str]] = {}  # derived id in the template -> (owner placeholder, role)

    def recording(owner_id: str, role: str) -> str:
        result = derived_id(owner_id, role)
        derived[result] = (owner_id, role)
        return result

    # the codec derives the ids of Classifications and ExternalIdentifiers from their owner's id
    # (xds.ebrim.xml.derived_id); note which, so that each row gets the ids of its own entryUUIDs
    ebrim_xml.derived_id = recording
    try:
        rows = [object_row(obj) for obj in _objects({p: p for p in PLACEHOLDERS})]
    finally:
        ebrim_xml.derived_id = derived_id
    templates = [_Template(row, derived) for row in rows]
    sample = _values(Layout(100, 10, 1), 99, "20170412103000")
    for template, row in zip(templates, (object_row(obj) for obj in _objects(sample)), strict=True):
        if template.fill(sample) != row.values["ebrim"]:
            raise RuntimeError(f"the {row.values['kind']} template does not give the registry's own ebRIM")
    return templates


def _values(layout: Layout, d: int, created: str) -> dict[str, str]:
    """The placeholder values of the d-th loaded submission."""
    return {
        T_SS: _uuid(0x55, d),
        T_DE: _uuid(0xD0C, d),
        T_HM: _uuid(0xA55, d),
        T_PID: f"P{layout.patient_of(d)}",
        T_SS_UID: f"{UID_ROOT}.2.0.{d}",
        T_DE_UID: f"{UID_ROOT}.4.0.{d}",
        T_CREATED: created,
    }


def _uuid(kind: int, n: int) -> str:
    return f"urn:uuid:{kind:08x}-0000-4000-8000-{n:012x}"


@dataclass(frozen=True)
class LoadResult:
    layout: Layout
    seconds: float
    reused: bool = False


def loaded_layout(url: str) -> Layout | None:
    """The layout of an earlier ``load_submissions`` into this database (kept with --keep), if any."""
    with psycopg.connect(raw_url(url)) as conn:
        exists = conn.execute("SELECT to_regclass(%s)", (MARKER,)).fetchone()
        if not exists or exists[0] is None:
            return None
        row = conn.execute(f"SELECT documents, per_patient, query_patients FROM {MARKER}").fetchone()
    return Layout(*row) if row else None


def load_submissions(url: str, layout: Layout, *, progress: bool = True) -> LoadResult:
    """Create the schema in the (empty) database at ``url`` and COPY ``layout.documents`` submissions."""
    RegistryStore.open(url).close()  # the registry's migrations
    t0 = time.perf_counter()
    with psycopg.connect(raw_url(url)) as conn, conn.cursor() as cur:
        if cur.execute("SELECT count(*) FROM registry_object").fetchone() != (0,):
            raise RuntimeError("the database already holds registry objects: give an empty database")
        with deferred_indexes(cur):
            seq = _copy_rows(cur, layout, progress)
            if progress:
                print(f"  ... rows copied in {time.perf_counter() - t0:.0f} s, building indexes", flush=True)
        cur.execute("SELECT setval(pg_get_serial_sequence('registry_object', 'seq'), %s)", (seq,))
        cur.execute(
            "INSERT INTO patient (pid, status, name, birth_date, sex, updated) "
            "SELECT 'P' || n || '^^^&' || %s || '&ISO', 'active', 'DOE^P' || n, '19700101', 'F', "
            "'20240101000000' FROM generate_series(0, %s) n",
            (DOMAIN, layout.patients - 1),
        )
        cur.execute(f"CREATE TABLE {MARKER} (documents bigint, per_patient int, query_patients int)")
        cur.execute(
            f"INSERT INTO {MARKER} VALUES (%s, %s, %s)",
            (layout.documents, layout.per_patient, layout.query_patients),
        )
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE")
    return LoadResult(layout, time.perf_counter() - t0)


def _copy_rows(cur: psycopg.Cursor[Any], layout: Layout, progress: bool) -> int:
    """COPY the objects and their attribute rows; returns the last ``seq`` used."""
    ss_tpl, de_tpl, hm_tpl = _templates()
    rnd = random.Random(7)
    t0 = time.perf_counter()
    codes: list[tuple[int, str, str]] = []
    authors: list[tuple[int, str]] = []
    seq = 0
    with cur.copy(f"COPY registry_object ({', '.join(RO_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(RO_TYPES)
        for d in range(layout.documents):
            created = f"20{rnd.randint(10, 24)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}103000"
            values = _values(layout, d, created)
            patient = pid(layout.patient_of(d))
            ss_id, de_id = values[T_SS], values[T_DE]
            row = ss_tpl.row.values | {
                "seq": seq + 1,
                "id": ss_id,
                "patient_id": patient,
                "unique_id": values[T_SS_UID],
                "ebrim": ss_tpl.fill(values),
            }
            copy.write_row([row.get(c) for c in RO_COLUMNS])
            row = de_tpl.row.values | {
                "seq": seq + 2,
                "id": de_id,
                "patient_id": patient,
                "unique_id": values[T_DE_UID],
                "logical_id": de_id,
                "creation_time_key": created,
                "ebrim": de_tpl.fill(values),
            }
            copy.write_row([row.get(c) for c in RO_COLUMNS])
            row = hm_tpl.row.values | {
                "seq": seq + 3,
                "id": values[T_HM],
                "source": ss_id,
                "target": de_id,
                "ebrim": hm_tpl.fill(values),
            }
            copy.write_row([row.get(c) for c in RO_COLUMNS])
            codes += [(seq + 2, a, c) for a, c in de_tpl.row.codes]
            authors += [(seq + 1, p) for p in ss_tpl.row.authors]
            authors += [(seq + 2, p) for p in de_tpl.row.authors]
            seq += 3
            if progress and d and d % 100_000 == 0:
                print(f"  ... {d} submissions, {time.perf_counter() - t0:.0f} s", flush=True)
    with cur.copy("COPY object_code (object_seq, attribute, code) FROM STDIN") as copy:
        for code_row in codes:
            copy.write_row(code_row)
    with cur.copy("COPY object_author (object_seq, person) FROM STDIN") as copy:
        for author_row in authors:
            copy.write_row(author_row)
    return seq


def drop_loaded(url: str) -> None:
    """Remove what ``load_submissions`` and the registry's migrations created."""
    with psycopg.connect(raw_url(url), autocommit=True) as conn:
        for table in (MARKER, *reversed(REGISTRY_TABLES), "patient", "alembic_version"):
            conn.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
