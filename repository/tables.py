"""The repository's one table (SQLAlchemy Core); ``repository/migrations`` creates exactly this.

``document_blob`` maps a document's uniqueId to its file in the blob store, with the hash, size and mimeType
the repository computed and sent to the registry. ``state`` is ``pending`` from the moment the bytes are
stored until the registry has accepted the ITI-42 that names them, then ``registered``; only registered
documents are visible to ITI-43. Rows are keyed by repositoryUniqueId as well, so that repositories with
different ids can share one database (``xds up`` puts every actor in one).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, MetaData, String, Table

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

PENDING = "pending"
REGISTERED = "registered"

document_blob = Table(
    "document_blob",
    metadata,
    Column("repository_unique_id", String(), primary_key=True),
    Column("document_unique_id", String(), primary_key=True),
    Column("path", String(), nullable=False),  # relative to the repository's blob folder
    Column("hash", String(), nullable=False),  # SHA-1, lower-case hex (ITI TF-3 4.2.3.2.10)
    Column("size", BigInteger(), nullable=False),
    Column("mime_type", String(), nullable=False),
    Column("state", String(), nullable=False),
    Column("created", String(), nullable=False),  # UTC, YYYYMMDDHHMMSS
    Index("ix_document_blob_state", "repository_unique_id", "state"),
)
