"""The registry's tables (SQLAlchemy Core). Migrations in ``registry/migrations`` create exactly these.

Every registry object (DocumentEntry, SubmissionSet, Folder, Association) is one row of ``registry_object``
holding the columns the stored queries filter on and ``ebrim``, the object's LeafClass XML as the registry
holds it (ids resolved, status, logicalID, version), so a LeafClass answer is assembled, not recomputed.
Multi-valued attributes get their own tables (codes, author persons, referenceIdList).

Codes are stored as ``code^^scheme``, the form stored-query parameters use (ITI TF-2a 3.18.4.1.2.3.5);
times as the DTM sent, and as ``*_key`` columns padded to 14 digits for range comparisons.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
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

# kinds of registry_object rows
DOCUMENT_ENTRY = "DocumentEntry"
SUBMISSION_SET = "SubmissionSet"
FOLDER = "Folder"
ASSOCIATION = "Association"

patient = Table(
    "patient",
    metadata,
    Column("pid", String, primary_key=True),  # id^^^&OID&ISO of the affinity domain (XAD-PID)
    Column("status", String, nullable=False),  # active | merged
    Column("merged_into", String, nullable=True),  # the surviving pid of an A40 merge
    Column("name", String, nullable=True),  # PID-5 as received
    Column("birth_date", String, nullable=True),  # PID-7
    Column("sex", String, nullable=True),  # PID-8
    Column("updated", String, nullable=False),  # when the last feed message for it arrived (UTC DTM)
)

registry_object = Table(
    "registry_object",
    metadata,
    Column("seq", SEQUENCE, primary_key=True, autoincrement=True),  # registration order
    Column("id", String, nullable=False, unique=True),  # entryUUID (urn:uuid:...)
    Column("kind", String, nullable=False),
    Column("patient_id", String, nullable=True),  # null for associations
    Column("status", String, nullable=False),
    Column("unique_id", String, nullable=True),
    Column("logical_id", String, nullable=True),
    Column("version", Integer, nullable=True),
    Column("home_community_id", String, nullable=True),
    # DocumentEntry: objectType (stable / on-demand); Association: associationType
    Column("object_type", String, nullable=True),
    Column("class_code", String, nullable=True),
    Column("type_code", String, nullable=True),
    Column("format_code", String, nullable=True),
    Column("practice_setting_code", String, nullable=True),
    Column("healthcare_facility_type_code", String, nullable=True),
    Column("creation_time_key", String, nullable=True),
    Column("service_start_time_key", String, nullable=True),
    Column("service_stop_time_key", String, nullable=True),
    Column("hash", String, nullable=True),
    Column("size", BigInteger, nullable=True),
    Column("repository_unique_id", String, nullable=True),
    # SubmissionSet
    Column("source_id", String, nullable=True),
    Column("submission_time_key", String, nullable=True),
    Column("content_type_code", String, nullable=True),
    # Folder
    Column("last_update_time_key", String, nullable=True),
    # Association
    Column("source", String, nullable=True),
    Column("target", String, nullable=True),
    Column("ebrim", Text, nullable=False),
)

# ITI TF-2b 3.42.4.1.3.3.7, ITI TF-3 Table 4.2.4.1-2: a SubmissionSet or Folder uniqueId is used once; a
# DocumentEntry uniqueId may repeat (an identical document registered again, ITI TF-3 4.2.3.2.26)
Index(
    "uq_registry_object_package_unique_id",
    registry_object.c.kind,
    registry_object.c.unique_id,
    unique=True,
    postgresql_where=text("kind IN ('SubmissionSet', 'Folder')"),
    sqlite_where=text("kind IN ('SubmissionSet', 'Folder')"),
)
Index("ix_registry_object_unique_id", registry_object.c.unique_id)
Index(
    "ix_registry_object_patient",
    registry_object.c.patient_id,
    registry_object.c.kind,
    registry_object.c.status,
)
Index("ix_registry_object_logical_id", registry_object.c.logical_id)
Index("ix_registry_object_source", registry_object.c.source, registry_object.c.object_type)
Index("ix_registry_object_target", registry_object.c.target, registry_object.c.object_type)
for _name in (
    "class_code",
    "type_code",
    "format_code",
    "practice_setting_code",
    "healthcare_facility_type_code",
    "creation_time_key",
    "service_start_time_key",
    "service_stop_time_key",
    "submission_time_key",
    "last_update_time_key",
    "source_id",
    "content_type_code",
    "home_community_id",
):
    Index(f"ix_registry_object_{_name}", registry_object.c[_name])


def _attribute_table(name: str, lookup: Index, *columns: Column) -> Table:
    """A multi-valued attribute: rows of (object_seq, value columns), found by value and by object."""
    return Table(
        name,
        metadata,
        Column("object_seq", SEQUENCE, ForeignKey("registry_object.seq", ondelete="CASCADE"), nullable=False),
        *columns,
        lookup,
        Index(f"ix_{name}_object_seq", "object_seq"),
    )


# confidentialityCode, eventCodeList (DocumentEntry) and codeList (Folder): several per object
object_code = _attribute_table(
    "object_code",
    Index("ix_object_code_lookup", "attribute", "code", "object_seq"),
    Column("attribute", String, nullable=False),  # confidentialityCode | eventCodeList | folderCodeList
    Column("code", String, nullable=False),  # code^^scheme
)
# authorPerson of DocumentEntries and SubmissionSets (matched with LIKE, ITI TF-2a 3.18.4.1.2.3.7.1)
object_author = _attribute_table(
    "object_author", Index("ix_object_author_person", "person"), Column("person", String, nullable=False)
)
# referenceIdList (ITI TF-3 4.2.3.2.28), CXi values as sent
object_reference = _attribute_table(
    "object_reference",
    Index("ix_object_reference_reference", "reference"),
    Column("reference", String, nullable=False),
)
