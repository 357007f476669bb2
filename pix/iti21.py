"""ITI-21 Patient Demographics Query (QBP^Q22 / RSP^K22), PDQ Supplier side (ITI TF-2a 3.21.4.1, 3.21.4.2).

QPD-3 holds the search parameters as ``@<field>^<value>`` repetitions (ITI TF-2a 3.21.4.1.2.2): family and
given name (PID.5.1.1, PID.5.2), birth date (PID.7), sex (PID.8), address (PID.11.1.1 street, .3 city,
.5 postal code, .6 country) and identifier (PID.3.1 with PID.3.4.1/.2). Names and addresses compare
case-insensitively; a ``*`` in a value is a wildcard; names can also match phonetically (Kölner Phonetik or
Soundex), by configuration (``pdq_matching``) or per query with our extension parameter ``@PHONETIC^KOELNER``
(``SOUNDEX``, ``EXACT``). Several parameters must all match. QPD-8 "What Domains Returned" limits the
identifiers returned (and the patients to those having one there).

Hits: at most ``pdq_max_hits`` patients; more is an error asking to narrow the search (IHE-DE Cookbook:
no browsing through the patient index). Within the cap, RCP-2 (``n^RD``) asks for increments: DSC carries a
continuation pointer, a follow-up QBP with that pointer in DSC-1 gets the next increment (ITI TF-2a
3.21.4.1.3), QCN^J01 ends it (``cancel``).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, and_, exists, func, select

from pix import hl7
from pix import store as db
from pix.config import PixConfig
from pix.model import Demographics, Domain, fold
from pix.phonetics import koelner, soundex
from pix.query import Query, QueryError, QuerySupplier
from pix.tables import ACTIVE, identifier, patient
from xds.hl7v2 import (
    CX,
    HD,
    ErrorCondition,
    ErrorLocation,
    Hl7Error,
    MessageHeader,
    UnescapedSeparatorError,
    unescape,
)

MESSAGE_TYPE = "RSP^K22^RSP_K21"
QUERY_NAME = "IHE PDQ Query"
TOO_MANY = "TOO_MANY_MATCHES"  # ERR-5 (HL7 Table 0533, user-defined) of the hit-cap error

# ITI TF-2a 3.21.4.1.2.2: the QIP field names a PDQ Supplier searches on -> what we compare
_FIELDS = {
    "PID.3": "id",
    "PID.3.1": "id",
    "PID.3.4": "id_domain",
    "PID.3.4.1": "id_namespace",
    "PID.3.4.2": "id_oid",
    "PID.5": "family",
    "PID.5.1": "family",
    "PID.5.1.1": "family",
    "PID.5.2": "given",
    "PID.7": "birth_date",
    "PID.7.1": "birth_date",
    "PID.8": "sex",
    "PID.11.1": "street",
    "PID.11.1.1": "street",
    "PID.11.3": "city",
    "PID.11.5": "postal_code",
    "PID.11.6": "country",
    "PHONETIC": "phonetic",
}
_PHONETIC = {"EXACT": "exact", "KOELNER": "koelner", "KÖLNER": "koelner", "SOUNDEX": "soundex"}
_NAMES = {
    "family": (patient.c.family, patient.c.family_koelner, patient.c.family_soundex),
    "given": (patient.c.given, patient.c.given_koelner, patient.c.given_soundex),
}


@dataclass
class _Increment:
    tag: str
    remaining: list[int]
    domain_keys: tuple[str, ...]
    total: int
    expires: float


class Continuations:
    """Continuation pointers of incremental answers, in memory (thread-safe; they expire)."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._lock = threading.Lock()
        self._items: dict[str, _Increment] = {}

    def put(self, tag: str, remaining: list[int], domain_keys: tuple[str, ...], total: int) -> str:
        pointer = uuid.uuid4().hex
        with self._lock:
            now = time.monotonic()
            self._items = {k: v for k, v in self._items.items() if v.expires > now}
            self._items[pointer] = _Increment(tag, remaining, domain_keys, total, now + self._seconds)
        return pointer

    def take(self, pointer: str, tag: str) -> _Increment | None:
        with self._lock:
            item = self._items.pop(pointer, None)
        if item is None or item.tag != tag or item.expires < time.monotonic():
            return None
        return item

    def cancel(self, tag: str) -> int:
        with self._lock:
            gone = [k for k, v in self._items.items() if v.tag == tag]
            for key in gone:
                del self._items[key]
        return len(gone)


def _like(column: ColumnElement[str], value: str) -> ColumnElement[bool]:
    pattern = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%")
    return column.like(pattern, escape="\\")


def _text_condition(column: ColumnElement[str], value: str) -> ColumnElement[bool]:
    folded = fold(value)
    return _like(column, folded) if "*" in folded else column == folded


def _error(condition: ErrorCondition, text: str, field_no: int, repetition: int | None = None) -> Hl7Error:
    return Hl7Error(condition, text, hl7.location("QPD", field_no, repetition))


class PdqQuery(QuerySupplier):
    message_type = MESSAGE_TYPE
    query_name = QUERY_NAME

    def __init__(self, store: db.PixStore, config: PixConfig) -> None:
        super().__init__(store, config)
        self.continuations = Continuations(config.continuation_seconds)

    def cancel(self, tag: str) -> int:
        """QCN^J01 (HL7 v2.5 5.4.3): forget the continuation of query ``tag``."""
        return self.continuations.cancel(tag)

    # --- the query ---------------------------------------------------------------------------------------

    def _domains(self, conn: Connection, query: Query) -> list[Domain]:
        domains: list[Domain] = []
        errors: list[Hl7Error] = []
        for number, text in enumerate(query.field(8), start=1):
            if not text:
                continue
            try:
                hd = CX.parse(text).assigning_authority
            except UnescapedSeparatorError:
                hd = None
            found = self.store.find_domain(conn, hd) if hd is not None else None
            if found is None:
                # ITI TF-2a 3.21.4.2.2, expected actions (case 3): unknown QPD-8 domain -> AE, QPD^1^8^n, 204
                errors.append(
                    _error(ErrorCondition.UNKNOWN_KEY_IDENTIFIER, "domain of QPD-8 not known", 8, number)
                )
            else:
                domains.append(found)
        if errors:
            raise _Errors(errors)
        return domains

    def _conditions(self, conn: Connection, query: Query) -> list[ColumnElement[bool]]:
        criteria: list[tuple[int, str, str]] = []
        matching = self.config.pdq_matching
        for number, text in enumerate(query.field(3), start=1):
            if not text:
                continue
            path, _, value = text.partition("^")
            kind = _FIELDS.get(path.lstrip("@").upper())
            value = unescape(value.split("^")[0]).strip()
            if kind is None:
                raise _error(ErrorCondition.TABLE_VALUE_NOT_FOUND, f"cannot search on {path!r}", 3, number)
            if not value:
                raise _error(ErrorCondition.REQUIRED_FIELD_MISSING, f"{path} has no value", 3, number)
            if kind == "phonetic":
                if value.upper() not in _PHONETIC:
                    raise _error(
                        ErrorCondition.TABLE_VALUE_NOT_FOUND, f"no phonetic algorithm {value!r}", 3, number
                    )
                matching = _PHONETIC[value.upper()]
                continue
            criteria.append((number, kind, value))
        if not criteria:
            # ITI TF-2a 3.21.4.1.2.2: at least one search parameter
            raise _error(ErrorCondition.REQUIRED_FIELD_MISSING, "QPD-3 holds no search parameter", 3)
        conditions: list[ColumnElement[bool]] = []
        identifier_terms: list[ColumnElement[bool]] = []
        for _number, kind, value in criteria:
            if kind.startswith("id"):
                identifier_terms.append(self._identifier_term(conn, kind, value))
            else:
                conditions.append(self._condition(kind, value, matching))
        if identifier_terms:
            # PID.3.1 and PID.3.4 describe one identifier: all must hold for the same one
            conditions.append(
                exists().where(
                    identifier.c.patient_id == patient.c.id, identifier.c.status == ACTIVE, *identifier_terms
                )
            )
        return conditions

    def _condition(self, kind: str, value: str, matching: str) -> ColumnElement[bool]:
        if kind in _NAMES:
            plain, by_koelner, by_soundex = _NAMES[kind]
            if "*" in value or matching == "exact":
                return _text_condition(plain, value)
            code = koelner(value) if matching == "koelner" else soundex(value)
            if not code:
                return plain == fold(value)
            return (by_koelner if matching == "koelner" else by_soundex) == code
        if kind == "birth_date":
            # HL7 TS: a date matches every time stamp of that day (prefix), or a wildcard pattern
            return _like(patient.c.birth_date, value if "*" in value else value + "*")
        if kind == "sex":
            return func.upper(patient.c.sex) == value.upper()
        return _text_condition(patient.c[kind], value)  # street, city, postal_code, country

    def _identifier_term(self, conn: Connection, kind: str, value: str) -> ColumnElement[bool]:
        if kind == "id":
            return identifier.c.id_number == value
        if kind == "id_oid":
            hd = HD(universal_id=value)
        elif kind == "id_namespace" or "&" not in value:
            hd = HD(namespace_id=value)
        else:
            hd = HD.parse_subcomponents(value)
        dom = self.store.find_domain(conn, hd)
        return identifier.c.domain_key == (dom.key if dom else "")  # "" is no domain key

    def _answer(self, conn: Connection, header: MessageHeader, query: Query) -> bytes:
        try:
            domains = self._domains(conn, query)
        except _Errors as errors:
            return self._respond(header, query, "AE", errors=errors.errors)
        keys = tuple(d.key for d in domains)
        if query.pointer:
            return self._next_increment(conn, header, query)
        conditions = self._conditions(conn, query)
        if keys:
            conditions.append(
                exists().where(
                    identifier.c.patient_id == patient.c.id,
                    identifier.c.status == ACTIVE,
                    identifier.c.domain_key.in_(keys),
                )
            )
        cap = self.config.pdq_max_hits
        rows = conn.execute(
            select(patient.c.id)
            .where(patient.c.status == ACTIVE, and_(*conditions))
            .order_by(patient.c.family, patient.c.given, patient.c.id)
            .limit(cap + 1)
        )
        ids = [row.id for row in rows]
        if len(ids) > cap:
            # IHE-DE Cookbook (PDQ): more hits than allowed is an error asking for a narrower search
            error = QueryError(
                ErrorCondition.APPLICATION_INTERNAL_ERROR,
                f"more than {cap} patients match; narrow the search",
                ErrorLocation("QPD", 1, 3),
                query=query,
                application_code=TOO_MANY,
            )
            return self._respond(header, query, "AE", errors=[error])
        if not ids:
            # ITI TF-2a 3.21.4.2.2, expected actions (case 2): no match -> AA, QAK-2 NF
            return self._respond(header, query, "NF", hits=(0, 0, 0))
        return self._increment(conn, header, query, ids, keys, len(ids))

    def _next_increment(self, conn: Connection, header: MessageHeader, query: Query) -> bytes:
        item = self.continuations.take(query.pointer, query.tag)
        if item is None:
            raise QueryError(
                ErrorCondition.UNKNOWN_KEY_IDENTIFIER,
                "unknown or expired continuation pointer",
                ErrorLocation("DSC", 1, 1),
                query=query,
            )
        return self._increment(conn, header, query, item.remaining, item.domain_keys, item.total)

    def _increment(
        self,
        conn: Connection,
        header: MessageHeader,
        query: Query,
        ids: list[int],
        keys: tuple[str, ...],
        total: int,
    ) -> bytes:
        size = query.quantity or len(ids)
        now, rest = ids[:size], ids[size:]
        pointer = self.continuations.put(query.tag, rest, keys, total) if rest else ""
        body = self._pids(conn, now, keys)
        # ITI TF-2a 3.21.4.2.2, expected actions (case 1): AA, QAK-2 OK, one PID per patient
        return self._respond(
            header, query, "OK", body=body, hits=(total, len(now), len(rest)), pointer=pointer
        )

    def _pids(self, conn: Connection, ids: Sequence[int], keys: tuple[str, ...]) -> list[str]:
        rows = db.patients(conn, ids)
        links = db.identifiers_of(self.store, conn, ids)
        segments: list[str] = []
        for number, patient_id in enumerate(ids, start=1):
            demographics = Demographics.of_row(rows[patient_id])
            identifiers = [
                item.domain.cx(item.id_number).render()
                for item in links[patient_id]
                if not keys or item.domain.key in keys
            ]
            segments.append(
                hl7.pid(
                    identifiers,
                    demographics.names,
                    demographics.birth_date,
                    demographics.sex,
                    demographics.addresses,
                    set_id=str(number),
                )
            )
        return segments


class _Errors(Exception):
    def __init__(self, errors: list[Hl7Error]) -> None:
        super().__init__(errors[0].text)
        self.errors = errors
