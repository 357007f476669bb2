"""The stored LeafClass XML becomes text: PostgreSQL sends text as it is, where bytea travels hex-encoded
and costs the decoding on every LeafClass answer.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    # the registry wrote the XML as UTF-8 (registry/rows.py), so the bytes convert without loss
    with op.batch_alter_table("registry_object") as batch:
        batch.alter_column(
            "ebrim",
            type_=sa.Text(),
            existing_type=sa.LargeBinary(),
            existing_nullable=False,
            postgresql_using="convert_from(ebrim, 'UTF8')",
        )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite keeps a value's own type across the table copy above: BLOBs stay BLOBs until cast
        op.execute("UPDATE registry_object SET ebrim = CAST(ebrim AS TEXT) WHERE typeof(ebrim) = 'blob'")


def downgrade() -> None:
    with op.batch_alter_table("registry_object") as batch:
        batch.alter_column(
            "ebrim",
            type_=sa.LargeBinary(),
            existing_type=sa.Text(),
            existing_nullable=False,
            postgresql_using="convert_to(ebrim, 'UTF8')",
        )
