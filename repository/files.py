"""The repository's folders and durable file operations (blocking; callers run them in a worker thread).

Layout under ``<data_dir>/repository/<repositoryUniqueId>/``:
  ``blobs/ab/<hex>``  the stored documents, one file each, named by a random id (never by the uniqueId)
  ``tmp/``            files being written; whatever is found here at start-up is a leftover of a crash
  ``spool/``          the spool of the repository's SOAP endpoint (MTOM parts of requests in flight)

A document becomes a blob by write (or move) to a temporary name, fsync, rename, fsync of the folder: after
a crash the blob path holds either nothing or the whole document (DESIGN "crash at any moment").
"""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from xds.files import fsync_dir, fsync_file
from xds.model import Attachment

CHUNK_SIZE = 1 << 20


@dataclass(frozen=True)
class BlobFolders:
    root: Path  # <data_dir>/repository/<repositoryUniqueId>

    @classmethod
    def for_repository(cls, data_dir: Path, repository_unique_id: str) -> BlobFolders:
        # an OID holds digits and dots only; anything else is kept out of the path all the same
        safe = "".join(c if c.isalnum() or c in ".-_" else "_" for c in repository_unique_id) or "_"
        return cls(Path(data_dir) / "repository" / safe)

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def spool(self) -> Path:
        return self.root / "spool"

    def create(self) -> None:
        for folder in (self.blobs, self.tmp, self.spool):
            folder.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def new_name() -> str:
        """A fresh relative blob path, ``ab/abcdef...`` (two-level fan-out keeps folders small)."""
        name = uuid.uuid4().hex
        return f"{name[:2]}/{name}"

    def path_of(self, relative: str) -> Path:
        return self.blobs / relative

    def store(self, relative: str, content: Attachment) -> None:
        """Make ``content`` the blob at ``relative``, durably. A spooled file is moved (no copy of the bytes
        when spool and blobs share a file system); in-memory content is written. Raises OSError."""
        target = self.path_of(relative)
        folder = target.parent
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            fsync_dir(self.blobs)
        temporary = self.tmp / f"{uuid.uuid4().hex}.tmp"
        try:
            if content.path is not None:
                _move(content.path, temporary)
            else:
                assert content.data is not None
                with temporary.open("wb") as fh:
                    fh.write(content.data)
            fsync_file(temporary)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        fsync_dir(folder)

    def remove(self, relative: str) -> None:
        target = self.path_of(relative)
        target.unlink(missing_ok=True)

    def sweep_scratch(self) -> int:
        """Delete everything in tmp/ and spool/ (start-up only: nothing is in flight). Returns the count."""
        removed = 0
        for folder in (self.tmp, self.spool):
            if not folder.is_dir():
                continue
            for entry in folder.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
                removed += 1
        return removed

    def blob_files(self) -> set[str]:
        """Every blob on disk, as relative paths (for the sweep's orphan check)."""
        if not self.blobs.is_dir():
            return set()
        return {p.relative_to(self.blobs).as_posix() for p in self.blobs.glob("*/*") if p.is_file()}


def _move(source: Path, target: Path) -> None:
    try:
        os.replace(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        # the spool is on another file system: copy in chunks (memory stays flat), then drop the source
        with source.open("rb") as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK_SIZE)
        source.unlink(missing_ok=True)

