"""The PIX Manager's tables (SQLAlchemy Core). ``pix/migrations`` creates exactly these.

- ``pix_domain``: the patient identification domains (assigning authorities) the PIX Manager knows;
- ``pix_patient``: one master patient each, with its affinity-domain ID (XAD-PID) and demographics, plus
  the folded and phonetic forms of name and address that PDQ searches on;
- ``pix_identifier``: every local identifier (ID + domain) and the master patient it is linked to; an
  identifier merged away by an A40 stays, ``retired``, so it can never be reused;
- ``pix_outbox``: ITI-8 / ITI-10 messages to the registry and the subscribers, in order, until delivered.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite autoincrements only an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity
SEQUENCE = BigInteger().with_variant(Integer(), "sqlite")

ACTIVE = "active"
MERGED = "merged"  # pix_patient: merged into another master patient (A40)
RETIRED = "retired"  # pix_identifier: the MRG-1 identifier of an A40
PENDING = "pending"  # pix_outbox states
DELIVERED = "delivered"
REJECTED = "rejected"

domain = Table(
    "pix_domain",
    metadata,
    Column("key", String, primary_key=True),  # the OID, or "ns:" + namespace when the domain has none
    Column("namespace_id", String, nullable=False),
    Column("universal_id", String, nullable=False),
    Column("universal_id_type", String, nullable=False),
)

patient = Table(
    "pix_patient",
    metadata,
    Column("id", SEQUENCE, primary_key=True, autoincrement=True),
    Column("xad_pid", String, nullable=True, unique=True),  # CX.1 in the affinity domain
    Column("status", String, nullable=False),
    Column("merged_into", String, nullable=True),  # XAD-PID of the surviving patient
    Column("names", Text, nullable=False),  # PID-5 repetitions (XPN, default encoding) joined by "~"
    Column("birth_date", String, nullable=False),
    Column("sex", String, nullable=False),
    Column("addresses", Text, nullable=False),  # PID-11 repetitions (XAD) joined by "~"
    # PDQ search keys, from the first name and the first address (upper case)
    Column("family", String, nullable=False),
    Column("given", String, nullable=False),
    Column("family_koelner", String, nullable=False),
    Column("family_soundex", String, nullable=False),
    Column("given_koelner", String, nullable=False),
    Column("given_soundex", String, nullable=False),
    Column("street", String, nullable=False),
    Column("city", String, nullable=False),
    Column("postal_code", String, nullable=False),
    Column("country", String, nullable=False),
    Column("updated", String, nullable=False),
    Index(None, "family"),
    Index(None, "family_koelner"),
    Index(None, "family_soundex"),
    Index(None, "birth_date"),
)

identifier = Table(
    "pix_identifier",
    metadata,
    Column("domain_key", String, ForeignKey("pix_domain.key"), primary_key=True),
    Column("id_number", String, primary_key=True),
    Column("patient_id", SEQUENCE, ForeignKey("pix_patient.id"), nullable=False),
    Column("status", String, nullable=False),
    Index(None, "patient_id"),
)

outbox = Table(
    "pix_outbox",
    metadata,
    Column("seq", SEQUENCE, primary_key=True, autoincrement=True),
    Column("target", String, nullable=False),  # "registry" or a subscriber's name
    Column("event", String, nullable=False),  # A01, A08, A40, A31
    Column("control_id", String, nullable=False),  # MSH-10, the same on every retry
    Column("message", LargeBinary, nullable=False),
    Column("state", String, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created", String, nullable=False),
    Column("result", String, nullable=True),  # the ACK's MSA/ERR when delivered or rejected
    Index(None, "target", "state", "seq"),
)
