"""Durable file operations shared by the actors that keep files (repository blobs, DICOM instances).

POSIX: data written to a file is durable once the file is fsynced; a create or rename is durable once the
folder that holds the entry is fsynced too.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import BinaryIO

import anyio.to_thread

# bytes read per worker-thread trip by read_blocks (a thread hop costs about as much as copying ~100 KB)
READ_BLOCK = 1 << 20


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename or create inside ``path`` durable (the directory entry lives in the folder)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _BlockReader:
    """Reads a file block by block: opened by the first ``next``, closed at end of file."""

    def __init__(self, open_file: Callable[[], BinaryIO], block: int) -> None:
        self.open_file = open_file
        self.block = block
        self.fh: BinaryIO | None = None
        self.done = False

    def next(self) -> bytes:
        if self.done:
            return b""
        if self.fh is None:
            self.fh = self.open_file()
        data = self.fh.read(self.block)
        if len(data) < self.block:  # end of file (a regular file reads short only there)
            self.close()
        return data

    def close(self) -> None:
        self.done = True
        if self.fh is not None:
            fh, self.fh = self.fh, None
            fh.close()


async def read_blocks(open_file: Callable[[], BinaryIO], block: int = READ_BLOCK) -> AsyncIterator[bytes]:
    """A file's content for the event loop, read in a worker thread one block per trip; the file is opened
    with the first read and closed with the last, so a file of up to one block costs one thread hop instead
    of four (open, read, the empty read, close)."""
    reader = _BlockReader(open_file, block)
    try:
        while data := await anyio.to_thread.run_sync(reader.next):
            yield data
    finally:
        reader.close()  # closing a file read from does not block; works in a cancelled task too
