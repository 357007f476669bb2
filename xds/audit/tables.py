"""The Audit Record Repository's tables (SQLAlchemy Core); ``xds/audit/migrations`` creates exactly these.

Every received record is kept whole (``xml``, as the node sent it) with the fields the "who saw my data"
questions filter on: the patients and users it names, the event, its time and outcome.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, MetaData, String, Table, Text

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
    }
)

SEQ = BigInteger().with_variant(Integer(), "sqlite")

audit_record = Table(
    "audit_record",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=True),
    Column("received", String(), nullable=False),  # UTC ISO 8601, when the repository stored it
    Column("peer", String(), nullable=False),  # address the syslog message came from
    Column("transport", String(), nullable=False),  # tls | tcp | udp
    Column("syslog_host", String()),
    Column("source_id", String()),  # AuditSourceIdentification/@AuditSourceID
    Column("event_code", String()),  # EventID csd-code, e.g. 110112
    Column("event_name", String()),  # EventID originalText, e.g. Query
    Column("event_type", String()),  # first EventTypeCode, e.g. ITI-18
    Column("action", String()),  # EventActionCode
    Column("outcome", Integer()),  # EventOutcomeIndicator
    Column("event_time", String()),  # EventDateTime as sent
    Column("valid", Boolean(), nullable=False),  # passed the DICOM audit message schema
    Column("xml", Text(), nullable=False),
    Index("ix_audit_record_event_time", "event_time"),
)

audit_patient = Table(
    "audit_patient",
    metadata,
    Column("record_seq", SEQ, ForeignKey("audit_record.seq", ondelete="CASCADE"), primary_key=True),
    Column("patient_id", String(), primary_key=True),
    Index("ix_audit_patient_patient_id", "patient_id"),
)

audit_user = Table(
    "audit_user",
    metadata,
    Column("record_seq", SEQ, ForeignKey("audit_record.seq", ondelete="CASCADE"), primary_key=True),
    Column("user_id", String(), primary_key=True),
    Index("ix_audit_user_user_id", "user_id"),
)
