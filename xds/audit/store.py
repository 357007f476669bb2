"""Persistence of the Audit Record Repository: each received record with the fields it is searched by."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree
from sqlalchemy import Row, insert, select

from xds.audit.schema import schema_errors
from xds.audit.tables import audit_patient, audit_record, audit_user
from xds.db import make_engine, migrate, writer
from xds.errors import SoapFault
from xds.soap.xmlparser import parse_xml

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MAX_XML_BYTES = 1 << 20


@dataclass(frozen=True)
class Received:
    peer: str
    transport: str  # tls | tcp | udp
    syslog_host: str | None
    xml: bytes


def record_values(document: etree._Element | None) -> tuple[dict[str, object], list[str], list[str]]:
    """The searchable columns of a record, its patients and its users (PS3.15 A.5.1 element names)."""
    if document is None or document.tag != "AuditMessage":
        return {}, [], []
    event = document.find("EventIdentification")
    event_id = event.find("EventID") if event is not None else None
    event_type = event.find("EventTypeCode") if event is not None else None
    source = document.find("AuditSourceIdentification")
    outcome = event.get("EventOutcomeIndicator") if event is not None else None
    values = {
        "source_id": source.get("AuditSourceID") if source is not None else None,
        "event_code": event_id.get("csd-code") if event_id is not None else None,
        "event_name": event_id.get("originalText") if event_id is not None else None,
        "event_type": event_type.get("csd-code") if event_type is not None else None,
        "action": event.get("EventActionCode") if event is not None else None,
        "outcome": int(outcome) if outcome is not None and outcome.isdigit() else None,
        "event_time": event.get("EventDateTime") if event is not None else None,
    }
    # RFC 3881 5.5.1/5.5.2: a participant object of type Person in role Patient carries the patient ID
    patients = [
        o.get("ParticipantObjectID", "")
        for o in document.findall("ParticipantObjectIdentification")
        if o.get("ParticipantObjectTypeCode") == "1" and o.get("ParticipantObjectTypeCodeRole") == "1"
    ]
    participants = document.findall("ActiveParticipant")
    users = [p.get(name) for p in participants for name in ("UserID", "AlternativeUserID")]
    return values, sorted(set(filter(None, patients))), sorted(set(filter(None, users)))


class AuditStore:
    def __init__(self, database_url: str) -> None:
        self.engine = make_engine(database_url)
        migrate(self.engine, MIGRATIONS)
        self._writer = writer(self.engine)

    def add(self, received: Received) -> int:
        """Store one record, valid or not (an ARR keeps what it was sent); its sequence number."""
        try:
            document = parse_xml(received.xml, max_bytes=MAX_XML_BYTES)
        except SoapFault:
            document = None
        valid = document is not None and not schema_errors(document)
        values, patients, users = record_values(document)
        row = {
            "received": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "peer": received.peer,
            "transport": received.transport,
            "syslog_host": received.syslog_host,
            "valid": valid,
            "xml": received.xml.decode("utf-8", errors="replace"),
            **values,
        }
        with self._writer.begin() as conn:
            seq = conn.execute(insert(audit_record).values(row).returning(audit_record.c.seq)).scalar_one()
            if patients:
                conn.execute(insert(audit_patient), [{"record_seq": seq, "patient_id": p} for p in patients])
            if users:
                conn.execute(insert(audit_user), [{"record_seq": seq, "user_id": u} for u in users])
        return int(seq)

    def find(
        self,
        *,
        patient: str | None = None,
        user: str | None = None,
        since: str | None = None,
        until: str | None = None,
        event: str | None = None,
    ) -> Sequence[Row]:
        """Records in time order; ``event`` matches the EventID code or name or the transaction code."""
        query = select(audit_record).order_by(audit_record.c.event_time, audit_record.c.seq)
        if patient is not None:
            query = query.where(
                audit_record.c.seq.in_(
                    select(audit_patient.c.record_seq).where(audit_patient.c.patient_id == patient)
                )
            )
        if user is not None:
            query = query.where(
                audit_record.c.seq.in_(select(audit_user.c.record_seq).where(audit_user.c.user_id == user))
            )
        if since is not None:
            query = query.where(audit_record.c.event_time >= since)
        if until is not None:
            query = query.where(audit_record.c.event_time <= until)
        if event is not None:
            query = query.where(
                (audit_record.c.event_code == event)
                | (audit_record.c.event_name == event)
                | (audit_record.c.event_type == event)
            )
        with self.engine.connect() as conn:
            return conn.execute(query).all()

    def close(self) -> None:
        self.engine.dispose()
