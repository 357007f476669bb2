"""The Imaging Document Source's first schema: study/series/instance index and manifests.

Revision ID: imaging_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "imaging_0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "imaging_study",
        sa.Column("study_uid", sa.String(64), nullable=False),
        sa.Column("patient_id", sa.String(), nullable=False),
        sa.Column("issuer", sa.String(), nullable=False),
        sa.Column("patient_name", sa.String(), nullable=False),
        sa.Column("birth_date", sa.String(), nullable=False),
        sa.Column("sex", sa.String(), nullable=False),
        sa.Column("study_date", sa.String(), nullable=False),
        sa.Column("study_time", sa.String(), nullable=False),
        sa.Column("accession", sa.String(), nullable=False),
        sa.Column("study_id", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("referring", sa.String(), nullable=False),
        sa.Column("last_received", sa.Float(), nullable=False),
        sa.Column("dirty", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("study_uid", name="pk_imaging_study"),
    )
    op.create_index("ix_imaging_study_patient", "imaging_study", ["patient_id"])
    op.create_table(
        "imaging_series",
        sa.Column("series_uid", sa.String(64), nullable=False),
        sa.Column("study_uid", sa.String(64), nullable=False),
        sa.Column("modality", sa.String(), nullable=False),
        sa.Column("series_number", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("body_part", sa.String(), nullable=False),
        sa.Column("anatomic_region", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_uid"], ["imaging_study.study_uid"], name="fk_imaging_series_study_uid"
        ),
        sa.PrimaryKeyConstraint("series_uid", name="pk_imaging_series"),
    )
    op.create_index("ix_imaging_series_study", "imaging_series", ["study_uid"])
    op.create_table(
        "imaging_instance",
        sa.Column("sop_instance_uid", sa.String(64), nullable=False),
        sa.Column("series_uid", sa.String(64), nullable=False),
        sa.Column("study_uid", sa.String(64), nullable=False),
        sa.Column("sop_class_uid", sa.String(64), nullable=False),
        sa.Column("transfer_syntax_uid", sa.String(64), nullable=False),
        sa.Column("instance_number", sa.Integer(), nullable=True),
        sa.Column("has_pixels", sa.Boolean(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("received", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_uid"], ["imaging_series.series_uid"], name="fk_imaging_instance_series_uid"
        ),
        sa.PrimaryKeyConstraint("sop_instance_uid", name="pk_imaging_instance"),
    )
    op.create_index("ix_imaging_instance_series", "imaging_instance", ["series_uid"])
    op.create_index("ix_imaging_instance_study", "imaging_instance", ["study_uid"])
    op.create_table(
        "imaging_manifest",
        sa.Column("kos_uid", sa.String(64), nullable=False),
        sa.Column("study_uid", sa.String(64), nullable=False),
        sa.Column("entry_uuid", sa.String(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("instance_count", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("replaces", sa.String(), nullable=True),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("kos_uid", name="pk_imaging_manifest"),
    )
    op.create_index("ix_imaging_manifest_study", "imaging_manifest", ["study_uid", "state"])
