"""The repository's first schema: the document_blob table.

Revision ID: repository_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "repository_0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "document_blob",
        sa.Column("repository_unique_id", sa.String(), nullable=False),
        sa.Column("document_unique_id", sa.String(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("hash", sa.String(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mime_type", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("created", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("repository_unique_id", "document_unique_id", name="pk_document_blob"),
    )
    op.create_index("ix_document_blob_state", "document_blob", ["repository_unique_id", "state"])
