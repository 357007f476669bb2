"""The bytes of a document, held in memory or spooled to a file, with SHA-1 and size known.

MTOM parts, inline base64 documents and files read from the blob store all become an ``Attachment``;
handlers never care where the bytes are (DESIGN principle 7: stream what can be large).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK_SIZE = 64 * 1024


@dataclass(frozen=True, slots=True)
class Attachment:
    size: int
    sha1: str  # lower-case hex, the form of the XDS hash slot (ITI TF-3 4.2.3.2.10)
    content_type: str = "application/octet-stream"
    path: Path | None = None
    data: bytes | None = None
    content_id: str | None = None  # MIME Content-ID without angle brackets, when it came as a part

    def __post_init__(self) -> None:
        if (self.path is None) == (self.data is None):
            raise ValueError("an Attachment holds either a path or data")

    @classmethod
    def from_bytes(cls, data: bytes, content_type: str = "application/octet-stream") -> Attachment:
        return cls(len(data), hashlib.sha1(data).hexdigest(), content_type, data=data)

    @classmethod
    def from_file(cls, path: Path, content_type: str = "application/octet-stream") -> Attachment:
        """Hash an existing file in chunks (memory stays flat whatever its size)."""
        digest = hashlib.sha1()
        size = 0
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK_SIZE):
                digest.update(chunk)
                size += len(chunk)
        return cls(size, digest.hexdigest(), content_type, path=path)

    def open(self) -> BinaryIO:
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.path is not None
        return self.path.open("rb")

    def iter_chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        with self.open() as fh:
            while chunk := fh.read(chunk_size):
                yield chunk

    def read(self) -> bytes:
        """All bytes at once: for small documents and tests only."""
        with self.open() as fh:
            return fh.read()
