"""Checking what arrived: each file's own SOP Instance UID (read from its header, never trusted from a file
name or a response field alone) against the instances the manifests reference."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.errors import InvalidDicomError

from consumer.imaging.fetched import Fetched
from consumer.imaging.manifest import InstanceRef


def sop_instance_uid(path: Path) -> str | None:
    """The SOP Instance UID of a PS3.10 file (or of a bare data set), None if it is not DICOM."""
    try:
        ds = dcmread(path, stop_before_pixels=True, specific_tags=["SOPInstanceUID"], force=True)
    except (InvalidDicomError, OSError, ValueError, EOFError, KeyError, AttributeError):
        return None
    uid = ds.get("SOPInstanceUID")
    return str(uid).strip() if uid else None


@dataclass(frozen=True, slots=True)
class Missing:
    ref: InstanceRef
    reason: str


def check(refs: Iterable[InstanceRef], fetched: Fetched) -> list[Missing]:
    """The referenced instances without a file whose header names them; ``fetched.files`` loses entries
    whose file turns out to hold another instance."""
    missing = []
    for ref in refs:
        uid = ref.sop_instance_uid
        path = fetched.files.get(uid)
        if path is not None and sop_instance_uid(path) == uid:
            continue
        if path is not None:
            fetched.files.pop(uid)
            reason = f"the file received for it holds {sop_instance_uid(path) or 'no DICOM instance'}"
        else:
            reason = fetched.errors.get(uid) or fetched.errors.get("") or "the source did not send it"
        missing.append(Missing(ref, reason))
    return missing
