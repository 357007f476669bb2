"""The PIX Manager's first schema: domains, master patients, identifiers, outbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SEARCH_COLUMNS = (
    "family",
    "given",
    "family_koelner",
    "family_soundex",
    "given_koelner",
    "given_soundex",
    "street",
    "city",
    "postal_code",
    "country",
)


def upgrade() -> None:
    op.create_table(
        "pix_domain",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("namespace_id", sa.String(), nullable=False),
        sa.Column("universal_id", sa.String(), nullable=False),
        sa.Column("universal_id_type", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_pix_domain"),
    )
    op.create_table(
        "pix_patient",
        sa.Column("id", SEQ, autoincrement=True, nullable=False),
        sa.Column("xad_pid", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("merged_into", sa.String(), nullable=True),
        sa.Column("names", sa.Text(), nullable=False),
        sa.Column("birth_date", sa.String(), nullable=False),
        sa.Column("sex", sa.String(), nullable=False),
        sa.Column("addresses", sa.Text(), nullable=False),
        *(sa.Column(name, sa.String(), nullable=False) for name in SEARCH_COLUMNS),
        sa.Column("updated", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pix_patient"),
        sa.UniqueConstraint("xad_pid", name="uq_pix_patient_xad_pid"),
    )
    for column in ("family", "family_koelner", "family_soundex", "birth_date"):
        op.create_index(f"ix_pix_patient_{column}", "pix_patient", [column])
    op.create_table(
        "pix_identifier",
        sa.Column("domain_key", sa.String(), nullable=False),
        sa.Column("id_number", sa.String(), nullable=False),
        sa.Column("patient_id", SEQ, nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["domain_key"], ["pix_domain.key"], name="fk_pix_identifier_domain_key"),
        sa.ForeignKeyConstraint(["patient_id"], ["pix_patient.id"], name="fk_pix_identifier_patient_id"),
        sa.PrimaryKeyConstraint("domain_key", "id_number", name="pk_pix_identifier"),
    )
    op.create_index("ix_pix_identifier_patient_id", "pix_identifier", ["patient_id"])
    op.create_table(
        "pix_outbox",
        sa.Column("seq", SEQ, autoincrement=True, nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("control_id", sa.String(), nullable=False),
        sa.Column("message", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created", sa.String(), nullable=False),
        sa.Column("result", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_pix_outbox"),
    )
    op.create_index("ix_pix_outbox_target_state_seq", "pix_outbox", ["target", "state", "seq"])


def downgrade() -> None:
    for name in ("pix_outbox", "pix_identifier", "pix_patient", "pix_domain"):
        op.drop_table(name)
