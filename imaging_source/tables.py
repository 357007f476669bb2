"""The Imaging Document Source's tables (SQLAlchemy Core); ``imaging_source/migrations`` creates them.

``imaging_study`` / ``imaging_series`` / ``imaging_instance`` index the instances held on disk (the DICOM
information model of PS3.3 and the Q/R levels of PS3.4 C.6); ``imaging_manifest`` holds each KOS built for a
study and whether the repository accepted it (RAD-68). ``dirty`` marks a study that received instances
since its last published manifest.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
    }
)

# manifest states
PENDING = "pending"  # built, not (yet) accepted by the repository
PUBLISHED = "published"
FAILED = "failed"  # the repository refused it; the study stays dirty and is tried again

study = Table(
    "imaging_study",
    metadata,
    Column("study_uid", String(64), primary_key=True),
    Column("patient_id", String(), nullable=False),
    Column("issuer", String(), nullable=False),  # IssuerOfPatientID (or its UniversalEntityID), may be ""
    Column("patient_name", String(), nullable=False),
    Column("birth_date", String(), nullable=False),
    Column("sex", String(), nullable=False),
    Column("study_date", String(), nullable=False),
    Column("study_time", String(), nullable=False),
    Column("accession", String(), nullable=False),
    Column("study_id", String(), nullable=False),
    Column("description", String(), nullable=False),
    Column("referring", String(), nullable=False),
    Column("last_received", Float(), nullable=False),  # epoch seconds of the newest new instance
    Column("dirty", Boolean(), nullable=False),
    Index("ix_imaging_study_patient", "patient_id"),
)

series = Table(
    "imaging_series",
    metadata,
    Column("series_uid", String(64), primary_key=True),
    Column("study_uid", String(64), ForeignKey("imaging_study.study_uid"), nullable=False),
    Column("modality", String(), nullable=False),
    Column("series_number", String(), nullable=False),
    Column("description", String(), nullable=False),
    Column("body_part", String(), nullable=False),
    # AnatomicRegionSequence code when the instances carry one: "value^scheme designator^meaning"
    Column("anatomic_region", String(), nullable=False),
    Index("ix_imaging_series_study", "study_uid"),
)

instance = Table(
    "imaging_instance",
    metadata,
    Column("sop_instance_uid", String(64), primary_key=True),
    Column("series_uid", String(64), ForeignKey("imaging_series.series_uid"), nullable=False),
    Column("study_uid", String(64), nullable=False),
    Column("sop_class_uid", String(64), nullable=False),
    Column("transfer_syntax_uid", String(64), nullable=False),
    Column("instance_number", Integer(), nullable=True),
    Column("has_pixels", Boolean(), nullable=False),
    Column("path", String(), nullable=False),  # relative to <data_dir>/imaging/instances
    Column("size", BigInteger(), nullable=False),
    Column("received", Float(), nullable=False),
    Index("ix_imaging_instance_series", "series_uid"),
    Index("ix_imaging_instance_study", "study_uid"),
)

manifest = Table(
    "imaging_manifest",
    metadata,
    Column("kos_uid", String(64), primary_key=True),  # SOP Instance UID = DocumentEntry.uniqueId
    Column("study_uid", String(64), nullable=False),
    Column("entry_uuid", String(), nullable=False),  # urn:uuid of its DocumentEntry (target of a later RPLC)
    Column("path", String(), nullable=False),  # relative to <data_dir>/imaging/manifests
    Column("instance_count", Integer(), nullable=False),
    Column("state", String(), nullable=False),
    Column("replaces", String(), nullable=True),  # kos_uid of the manifest this one replaced
    Column("created", Float(), nullable=False),
    Column("error", String(), nullable=True),
    Index("ix_imaging_manifest_study", "study_uid", "state"),
)
