"""Durable file operations shared by the actors that keep files (repository blobs, DICOM instances).

POSIX: data written to a file is durable once the file is fsynced; a create or rename is durable once the
folder that holds the entry is fsynced too.
"""

from __future__ import annotations

import os
from pathlib import Path


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
