"""The registry's first schema: patients, registry objects and their multi-valued attributes.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# registry_object's optional columns, in table order (registry/tables.py says what each holds)
OPTIONAL_COLUMNS = (
    ("patient_id", sa.String()),
    ("unique_id", sa.String()),
    ("logical_id", sa.String()),
    ("version", sa.Integer()),
    ("home_community_id", sa.String()),
    ("object_type", sa.String()),
    ("class_code", sa.String()),
    ("type_code", sa.String()),
    ("format_code", sa.String()),
    ("practice_setting_code", sa.String()),
    ("healthcare_facility_type_code", sa.String()),
    ("creation_time_key", sa.String()),
    ("service_start_time_key", sa.String()),
    ("service_stop_time_key", sa.String()),
    ("hash", sa.String()),
    ("size", sa.BigInteger()),
    ("repository_unique_id", sa.String()),
    ("source_id", sa.String()),
    ("submission_time_key", sa.String()),
    ("content_type_code", sa.String()),
    ("last_update_time_key", sa.String()),
    ("source", sa.String()),
    ("target", sa.String()),
)
INDEXED = (
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
)


def _child(name: str, value_column: str, *values: str) -> None:
    """A table of one multi-valued attribute: (object_seq, value columns), indexed both ways."""
    op.create_table(
        name,
        sa.Column("object_seq", SEQ, nullable=False),
        *(sa.Column(v, sa.String(), nullable=False) for v in values),
        sa.ForeignKeyConstraint(
            ["object_seq"], ["registry_object.seq"], name=f"fk_{name}_object_seq", ondelete="CASCADE"
        ),
    )
    op.create_index(f"ix_{name}_object_seq", name, ["object_seq"])
    op.create_index(*value_column)


def upgrade() -> None:
    op.create_table(
        "patient",
        sa.Column("pid", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("merged_into", sa.String(), nullable=True),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("birth_date", sa.String(), nullable=True),
        sa.Column("sex", sa.String(), nullable=True),
        sa.Column("updated", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("pid", name="pk_patient"),
    )
    op.create_table(
        "registry_object",
        sa.Column("seq", SEQ, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        *(sa.Column(name, type_, nullable=True) for name, type_ in OPTIONAL_COLUMNS),
        sa.Column("ebrim", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_registry_object"),
        sa.UniqueConstraint("id", name="uq_registry_object_id"),
    )
    op.create_index(
        "uq_registry_object_package_unique_id",
        "registry_object",
        ["kind", "unique_id"],
        unique=True,
        postgresql_where=sa.text("kind IN ('SubmissionSet', 'Folder')"),
        sqlite_where=sa.text("kind IN ('SubmissionSet', 'Folder')"),
    )
    op.create_index("ix_registry_object_unique_id", "registry_object", ["unique_id"])
    op.create_index("ix_registry_object_patient", "registry_object", ["patient_id", "kind", "status"])
    op.create_index("ix_registry_object_logical_id", "registry_object", ["logical_id"])
    op.create_index("ix_registry_object_source", "registry_object", ["source", "object_type"])
    op.create_index("ix_registry_object_target", "registry_object", ["target", "object_type"])
    for column in INDEXED:
        op.create_index(f"ix_registry_object_{column}", "registry_object", [column])
    _child("object_code", ("ix_object_code_lookup", "object_code", ["attribute", "code", "object_seq"]),
           "attribute", "code")
    _child("object_author", ("ix_object_author_person", "object_author", ["person"]), "person")
    _child("object_reference", ("ix_object_reference_reference", "object_reference", ["reference"]),
           "reference")
