"""The Audit Record Repository's first schema: records, and the patients and users they name.

Revision ID: audit_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "audit_0001"
down_revision = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_record",
        sa.Column("seq", SEQ, autoincrement=True, nullable=False),
        sa.Column("received", sa.String(), nullable=False),
        sa.Column("peer", sa.String(), nullable=False),
        sa.Column("transport", sa.String(), nullable=False),
        sa.Column("syslog_host", sa.String(), nullable=True),
        sa.Column("source_id", sa.String(), nullable=True),
        sa.Column("event_code", sa.String(), nullable=True),
        sa.Column("event_name", sa.String(), nullable=True),
        sa.Column("event_type", sa.String(), nullable=True),
        sa.Column("action", sa.String(), nullable=True),
        sa.Column("outcome", sa.Integer(), nullable=True),
        sa.Column("event_time", sa.String(), nullable=True),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_record"),
    )
    op.create_index("ix_audit_record_event_time", "audit_record", ["event_time"])
    for table, column in (("audit_patient", "patient_id"), ("audit_user", "user_id")):
        op.create_table(
            table,
            sa.Column("record_seq", SEQ, nullable=False),
            sa.Column(column, sa.String(), nullable=False),
            sa.ForeignKeyConstraint(
                ["record_seq"], ["audit_record.seq"], name=f"fk_{table}_record_seq", ondelete="CASCADE"
            ),
            sa.PrimaryKeyConstraint("record_seq", column, name=f"pk_{table}"),
        )
        op.create_index(f"ix_{table}_{column}", table, [column])


def downgrade() -> None:
    op.drop_table("audit_user")
    op.drop_table("audit_patient")
    op.drop_table("audit_record")
