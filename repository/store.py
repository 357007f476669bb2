"""The blob store: document files (repository.files) and the ``document_blob`` table, kept in step.

Order of operations, so that a crash at any point leaves nothing visible that is not whole:
  stage:    row 'pending' committed -> file written (temp name, fsync, rename, fsync folder)
  register: (ITI-42 to the registry) -> row 'registered'
  discard:  file deleted -> row deleted
A 'pending' row is never served (ITI-43 reads 'registered' rows only); the start-up sweep settles it.
All methods block; the service calls them through anyio.to_thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Row, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from repository.files import BlobFolders
from repository.tables import PENDING, REGISTERED, document_blob
from xds.db import make_engine, migrate, writer
from xds.errors import ErrorCode, RegistryError, XdsError
from xds.model import Attachment

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def now_dtm() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S")


@dataclass(frozen=True)
class NewDocument:
    """A document of an ITI-41 to store: its uniqueId, mimeType and bytes (hash and size known)."""

    unique_id: str
    mime_type: str
    content: Attachment


@dataclass(frozen=True)
class StoredBlob:
    unique_id: str
    path: Path
    hash: str
    size: int
    mime_type: str
    state: str


@dataclass(frozen=True)
class Staged:
    """What one ITI-41 staged: the uniqueIds whose blob it created (and must register or discard)."""

    created: tuple[str, ...]


class BlobStore:
    def __init__(self, engine_url: str, folders: BlobFolders, repository_unique_id: str) -> None:
        self.engine = make_engine(engine_url)
        migrate(self.engine, MIGRATIONS)
        self._writer = writer(self.engine)
        self.folders = folders
        self.repository_unique_id = repository_unique_id
        folders.create()

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._writer.begin() as conn:
            yield conn

    def _mine(self, unique_ids: Iterable[str] | None = None):  # noqa: ANN202 - a SQLAlchemy clause
        clause = document_blob.c.repository_unique_id == self.repository_unique_id
        if unique_ids is not None:
            clause = and_(clause, document_blob.c.document_unique_id.in_(sorted(set(unique_ids))))
        return clause

    def _blob(self, row: Row) -> StoredBlob:
        path = self.folders.path_of(row.path)
        return StoredBlob(row.document_unique_id, path, row.hash, row.size, row.mime_type, row.state)

    # --- ITI-41 -------------------------------------------------------------------------------------------

    def stage(self, documents: Sequence[NewDocument]) -> Staged:
        """Reserve a 'pending' row per new document and write its file. A document whose uniqueId this
        repository already holds with the same hash is not stored twice (its blob stays as it is).

        ITI TF-3 Table 4.2.4.1-2: the same uniqueId with other bytes is XDSNonIdenticalHash; one that another
        submission is still registering is XDSRepositoryBusy (the sender may retry). On any failure nothing
        of this call is left behind."""
        try:
            planned = self._reserve(documents)
        except IntegrityError as exc:
            # PostgreSQL: another submission inserted one of these uniqueIds since we looked
            raise XdsError(ErrorCode.XDS_REPOSITORY_BUSY, "a document is being stored concurrently") from exc
        staged = Staged(tuple(doc.unique_id for doc, _ in planned))
        try:
            for doc, relative in planned:
                self.folders.store(relative, doc.content)
        except BaseException:
            self.discard(staged)
            raise
        return staged

    def _reserve(self, documents: Sequence[NewDocument]) -> list[tuple[NewDocument, str]]:
        planned: list[tuple[NewDocument, str]] = []
        with self._write() as conn:
            existing = {
                row.document_unique_id: row
                for row in conn.execute(
                    select(document_blob).where(self._mine(d.unique_id for d in documents))
                )
            }
            errors: list[RegistryError] = []
            for doc in documents:
                row = existing.get(doc.unique_id)
                if row is None:
                    planned.append((doc, self.folders.new_name()))
                elif row.hash != doc.content.sha1.lower():
                    errors.append(
                        RegistryError(
                            ErrorCode.XDS_NON_IDENTICAL_HASH,
                            f"document {doc.unique_id} is held with another hash ({row.hash})",
                            doc.unique_id,
                        )
                    )
                elif row.state == PENDING:
                    errors.append(
                        RegistryError(
                            ErrorCode.XDS_REPOSITORY_BUSY,
                            f"document {doc.unique_id} is being stored by another submission",
                            doc.unique_id,
                        )
                    )
            if errors:
                raise XdsError.collect(errors)
            if planned:
                created = now_dtm()
                conn.execute(
                    insert(document_blob),
                    [
                        {
                            "repository_unique_id": self.repository_unique_id,
                            "document_unique_id": doc.unique_id,
                            "path": relative,
                            "hash": doc.content.sha1.lower(),
                            "size": doc.content.size,
                            "mime_type": doc.mime_type,
                            "state": PENDING,
                            "created": created,
                        }
                        for doc, relative in planned
                    ],
                )
        return planned

    def mark_registered(self, unique_ids: Iterable[str]) -> None:
        wanted = list(unique_ids)
        if not wanted:
            return
        with self._write() as conn:
            conn.execute(
                update(document_blob)
                .where(self._mine(wanted), document_blob.c.state == PENDING)
                .values(state=REGISTERED)
            )

    def discard(self, staged: Staged | Iterable[str]) -> None:
        """Delete the files, then the rows, of pending documents (registered ones are never touched)."""
        wanted = list(staged.created if isinstance(staged, Staged) else staged)
        if not wanted:
            return
        with self.engine.connect() as conn:
            rows = list(
                conn.execute(
                    select(document_blob).where(self._mine(wanted), document_blob.c.state == PENDING)
                )
            )
        for row in rows:
            self.folders.remove(row.path)
        with self._write() as conn:
            conn.execute(delete(document_blob).where(self._mine(wanted), document_blob.c.state == PENDING))

    # --- ITI-43 and the sweep ------------------------------------------------------------------------------

    def registered(self, unique_ids: Iterable[str]) -> dict[str, StoredBlob]:
        wanted = list(unique_ids)
        if not wanted:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(document_blob).where(self._mine(wanted), document_blob.c.state == REGISTERED)
            )
            return {row.document_unique_id: self._blob(row) for row in rows}

    def pending(self) -> list[StoredBlob]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(document_blob)
                .where(self._mine(), document_blob.c.state == PENDING)
                .order_by(document_blob.c.created)
            )
            return [self._blob(row) for row in rows]

    def known_paths(self) -> set[str]:
        """The relative path of every row (pending or registered) of this repository."""
        with self.engine.connect() as conn:
            return set(conn.execute(select(document_blob.c.path).where(self._mine())).scalars())

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            states = conn.execute(select(document_blob.c.state).where(self._mine())).scalars().all()
        return {state: states.count(state) for state in (PENDING, REGISTERED)}
